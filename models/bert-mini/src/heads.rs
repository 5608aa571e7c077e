//! The task heads of Devlin et al. 2019: the masked-LM head (transform, then a decoder tied to
//! the word embeddings plus a bias), next-sentence prediction on the pooled [CLS] vector, and
//! sequence classification (pooler → dropout → linear), as HF's `BertForPreTraining`,
//! `BertForMaskedLM` and `BertForSequenceClassification`.

use crate::config::BertConfig;
use crate::model::{BertInput, BertModel, BertOutputs};
use crate::nn::{dense, layer_norm};
use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::prelude::*;
use kernels::gelu;

/// HF's `cls.predictions.transform`: dense → GELU → LayerNorm.
#[derive(Module, Debug)]
pub struct MlmTransform {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
}

/// HF's `cls.predictions`: the transform and the output bias; the decoder weight is the word
/// embedding matrix itself (tied), so it is not a parameter here.
#[derive(Module, Debug)]
pub struct MlmHead {
    pub transform: MlmTransform,
    pub bias: Param<Tensor<1>>,
}

impl MlmHead {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            transform: MlmTransform {
                dense: dense(config, h, h, device),
                layer_norm: layer_norm(config, device),
            },
            bias: Param::from_tensor(Tensor::zeros([config.vocab_size], device)),
        }
    }

    /// `hidden`: `[n, hidden]` (only the positions to predict) → logits `[n, vocab]`.
    pub fn forward(&self, hidden: Tensor<2>, word_embeddings: Tensor<2>) -> Tensor<2> {
        let h = self
            .transform
            .layer_norm
            .forward(gelu(kernels::linear(&self.transform.dense, hidden)));
        // The decoder is tied to the embedding table: [n, hidden] · Eᵀ [hidden, vocab].
        kernels::linear_with(h, word_embeddings.transpose(), Some(self.bias.val()))
    }
}

/// Masked-LM and (optionally) next-sentence prediction on one encoder. Without the NSP head
/// and pooler it is HF's `BertForMaskedLM`; with both, `BertForPreTraining`.
#[derive(Module, Debug)]
pub struct BertForPreTraining {
    pub bert: BertModel,
    pub mlm: MlmHead,
    /// `cls.seq_relationship`: [is next, is random] from the pooled output.
    pub nsp: Option<Linear>,
}

impl BertForPreTraining {
    pub fn new(config: &BertConfig, with_nsp: bool, device: &Device) -> Self {
        Self {
            bert: BertModel::new(config, with_nsp, device),
            mlm: MlmHead::new(config, device),
            nsp: with_nsp.then(|| dense(config, config.hidden_size, 2, device)),
        }
    }

    /// Encodes `input` and returns the MLM logits `[n, vocab]` at `positions` (flat indices
    /// `batch_index * seq + position`, `[n]`), the NSP logits `[batch, 2]` when the model has
    /// that head, and the encoder's outputs. Predicting only where a token was masked keeps the
    /// vocabulary projection at ~15% of the positions.
    pub fn forward(
        &self,
        input: &BertInput,
        positions: Tensor<1, Int>,
    ) -> (Tensor<2>, Option<Tensor<2>>, BertOutputs) {
        let outputs = self.bert.forward(input);
        let [batch, seq, hidden] = outputs.sequence_output.dims();
        let flat = outputs
            .sequence_output
            .clone()
            .reshape([batch * seq, hidden]);
        let picked = flat.select(0, positions); // [n, hidden]
        let logits = self.mlm.forward(picked, self.bert.word_embeddings());
        let nsp = match (&self.nsp, &outputs.pooled_output) {
            (Some(head), Some(pooled)) => Some(head.forward(pooled.clone())),
            _ => None,
        };
        (logits, nsp, outputs)
    }

    /// MLM logits at every position: `[batch, seq, vocab]` (fill-mask, parity).
    pub fn mlm_logits(&self, input: &BertInput) -> Tensor<3> {
        let [batch, seq] = input.dims();
        let all = Tensor::<1, Int>::arange(0..(batch * seq) as i64, &input.input_ids.device());
        let (logits, _, _) = self.forward(input, all);
        let vocab = logits.dims()[1];
        logits.reshape([batch, seq, vocab])
    }
}

/// The encoder with pooler, dropout and a linear classifier on the pooled [CLS] vector.
#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    pub bert: BertModel,
    pub dropout: Dropout,
    pub classifier: Linear,
}

impl BertForSequenceClassification {
    pub fn new(config: &BertConfig, num_labels: usize, device: &Device) -> Self {
        Self::from_encoder(
            BertModel::new(config, true, device),
            config,
            num_labels,
            device,
        )
    }

    /// Puts a fresh classifier (and a fresh pooler, if `bert` has none) on a pretrained encoder.
    pub fn from_encoder(
        mut bert: BertModel,
        config: &BertConfig,
        num_labels: usize,
        device: &Device,
    ) -> Self {
        if bert.pooler.is_none() {
            bert.pooler = Some(crate::model::BertPooler::new(config, device));
        }
        Self {
            bert,
            dropout: DropoutConfig::new(
                config
                    .classifier_dropout
                    .unwrap_or(config.hidden_dropout_prob),
            )
            .init(),
            classifier: dense(config, config.hidden_size, num_labels, device),
        }
    }

    /// Logits `[batch, num_labels]` and the encoder's outputs.
    pub fn forward(&self, input: &BertInput) -> (Tensor<2>, BertOutputs) {
        let outputs = self.bert.forward(input);
        let pooled = outputs
            .pooled_output
            .clone()
            .expect("from_encoder always adds a pooler");
        (
            self.classifier
                .forward(kernels::dropout(&self.dropout, pooled)),
            outputs,
        )
    }

    pub fn num_labels(&self) -> usize {
        self.classifier.weight.dims()[1]
    }
}
