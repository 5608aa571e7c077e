//! The BERT encoder (Devlin et al. 2019, arXiv:1810.04805) as Hugging Face's `BertModel` computes
//! it: embeddings, a stack of post-LN transformer layers, and the pooler (dense + tanh on the
//! first token, [CLS]). Parameter names follow HF's so its weights load through one short map
//! (`crate::hf`).

use crate::config::BertConfig;
use crate::embeddings::BertEmbeddings;
use crate::layer::BertEncoder;
use crate::nn::dense;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::tanh;

/// Added to the attention scores of padding keys. BERT's original value: exp(-10000) is 0 in
/// f32 and f16, so padding gets exactly zero weight, and unlike `f32::MIN` it cannot overflow
/// in half precision.
pub const MASKED_SCORE: f32 = -10_000.0;

/// One batch of token ids, as `transformers` takes it.
#[derive(Clone, Debug)]
pub struct BertInput {
    /// `[batch, seq]`, [CLS] first, padded with `pad_token_id`.
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]`: 0 for segment A, 1 for segment B.
    pub token_type_ids: Tensor<2, Int>,
    /// `[batch, seq]`: 1.0 for tokens, 0.0 for padding.
    pub attention_mask: Tensor<2>,
}

impl BertInput {
    /// Builds a batch from rows of (ids, types), padding each to the longest with `pad_id`.
    pub fn from_rows(rows: &[(Vec<u32>, Vec<u32>)], pad_id: u32, device: &Device) -> Self {
        let batch = rows.len();
        let seq = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![pad_id as i64; batch * seq];
        let mut types = vec![0i64; batch * seq];
        let mut mask = vec![0f32; batch * seq];
        for (b, (row_ids, row_types)) in rows.iter().enumerate() {
            for (t, &id) in row_ids.iter().enumerate() {
                ids[b * seq + t] = id as i64;
                types[b * seq + t] = row_types.get(t).copied().unwrap_or(0) as i64;
                mask[b * seq + t] = 1.0;
            }
        }
        Self {
            input_ids: Tensor::from_data(TensorData::new(ids, [batch, seq]), device),
            token_type_ids: Tensor::from_data(TensorData::new(types, [batch, seq]), device),
            attention_mask: Tensor::from_data(TensorData::new(mask, [batch, seq]), device),
        }
    }

    pub fn dims(&self) -> [usize; 2] {
        self.input_ids.dims()
    }
}

/// What the encoder returns.
#[derive(Clone, Debug)]
pub struct BertOutputs {
    /// `[batch, seq, hidden]`: the last layer's hidden states.
    pub sequence_output: Tensor<3>,
    /// `[batch, hidden]`: the pooler's output, when the model has a pooler.
    pub pooled_output: Option<Tensor<2>>,
    /// Per layer: `[batch, heads, seq, seq]` attention probabilities.
    pub attentions: Vec<Tensor<4>>,
}

/// Dense + tanh on [CLS]: the sentence vector NSP and classification read.
#[derive(Module, Debug)]
pub struct BertPooler {
    pub dense: Linear,
}

impl BertPooler {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            dense: dense(config, h, h, device),
        }
    }

    /// `[batch, seq, hidden]` → `[batch, hidden]`.
    pub fn forward(&self, sequence: Tensor<3>) -> Tensor<2> {
        let [batch, _, hidden] = sequence.dims();
        let cls = sequence
            .slice([0..batch, 0..1, 0..hidden])
            .reshape([batch, hidden]);
        tanh(kernels::linear(&self.dense, cls))
    }
}

#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: BertEmbeddings,
    pub encoder: BertEncoder,
    /// Absent in `BertForMaskedLM` (HF's `add_pooling_layer=False`).
    pub pooler: Option<BertPooler>,
}

impl BertModel {
    pub fn new(config: &BertConfig, with_pooler: bool, device: &Device) -> Self {
        Self {
            embeddings: BertEmbeddings::new(config, device),
            encoder: BertEncoder::new(config, device),
            pooler: with_pooler.then(|| BertPooler::new(config, device)),
        }
    }

    pub fn forward(&self, input: &BertInput) -> BertOutputs {
        let [batch, seq] = input.dims();
        // [batch, 1, 1, seq]: 0 where a key is a token, MASKED_SCORE where it is padding.
        let mask_bias = (input.attention_mask.clone().neg() + 1.0)
            .mul_scalar(MASKED_SCORE)
            .reshape([batch, 1, 1, seq]);
        let mut x = self
            .embeddings
            .forward(input.input_ids.clone(), input.token_type_ids.clone());
        let mut attentions = Vec::with_capacity(self.encoder.layer.len());
        for layer in &self.encoder.layer {
            let (next, probs) = layer.forward(x, mask_bias.clone());
            x = next;
            attentions.push(probs);
        }
        BertOutputs {
            pooled_output: self.pooler.as_ref().map(|p| p.forward(x.clone())),
            sequence_output: x,
            attentions,
        }
    }

    /// The word embedding matrix `[vocab, hidden]` (the MLM decoder is tied to it).
    pub fn word_embeddings(&self) -> Tensor<2> {
        self.embeddings.word_embeddings.weight.val()
    }

    pub fn vocab_size(&self) -> usize {
        self.embeddings.word_embeddings.weight.dims()[0]
    }

    pub fn max_positions(&self) -> usize {
        self.embeddings.position_embeddings.weight.dims()[0]
    }
}
