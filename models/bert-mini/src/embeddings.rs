//! Input embeddings (Devlin et al. 2019, §3): the sum of a WordPiece embedding, a learned
//! absolute position embedding and a segment (token type) embedding, then LayerNorm and dropout.

use crate::config::BertConfig;
use crate::nn::{layer_norm, normal_embedding};
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::prelude::*;

#[derive(Module, Debug)]
pub struct BertEmbeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl BertEmbeddings {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            word_embeddings: normal_embedding(config, config.vocab_size, h, device),
            position_embeddings: normal_embedding(
                config,
                config.max_position_embeddings,
                h,
                device,
            ),
            token_type_embeddings: normal_embedding(config, config.type_vocab_size, h, device),
            layer_norm: layer_norm(config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    /// `input_ids`, `token_type_ids`: `[batch, seq]` → `[batch, seq, hidden]`.
    pub fn forward(&self, input_ids: Tensor<2, Int>, token_type_ids: Tensor<2, Int>) -> Tensor<3> {
        let [_, seq] = input_ids.dims();
        let device = input_ids.device();
        let positions = Tensor::<1, Int>::arange(0..seq as i64, &device).unsqueeze::<2>(); // [1, seq]
        let x = self.word_embeddings.forward(input_ids)
            + self.position_embeddings.forward(positions) // [1, seq, hidden], broadcast
            + self.token_type_embeddings.forward(token_type_ids);
        kernels::dropout(&self.dropout, self.layer_norm.forward(x))
    }
}
