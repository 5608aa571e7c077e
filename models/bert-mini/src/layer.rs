//! One transformer encoder layer as BERT has it: self-attention block, then the position-wise
//! feed-forward block (dense → GELU → dense), each closed by dropout, a residual and LayerNorm.

use crate::attention::BertAttention;
use crate::config::BertConfig;
use crate::nn::{dense, layer_norm};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::prelude::*;
use kernels::gelu;

/// The feed-forward expansion: `[.., hidden]` → `[.., intermediate]`, exact (erf) GELU.
#[derive(Module, Debug)]
pub struct BertIntermediate {
    pub dense: Linear,
}

/// The feed-forward contraction with its residual and LayerNorm.
#[derive(Module, Debug)]
pub struct BertOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

#[derive(Module, Debug)]
pub struct BertLayer {
    pub attention: BertAttention,
    pub intermediate: BertIntermediate,
    pub output: BertOutput,
}

impl BertLayer {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let (h, i) = (config.hidden_size, config.intermediate_size);
        Self {
            attention: BertAttention::new(config, device),
            intermediate: BertIntermediate {
                dense: dense(config, h, i, device),
            },
            output: BertOutput {
                dense: dense(config, i, h, device),
                layer_norm: layer_norm(config, device),
                dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            },
        }
    }

    /// `[batch, seq, hidden]` → the same, and this layer's attention `[batch, heads, seq, seq]`.
    pub fn forward(&self, x: Tensor<3>, mask_bias: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let (attended, probs) = self.attention.forward(x, mask_bias);
        let expanded = gelu(kernels::linear(&self.intermediate.dense, attended.clone()));
        let out = kernels::dropout(
            &self.output.dropout,
            kernels::linear(&self.output.dense, expanded),
        );
        (self.output.layer_norm.forward(out + attended), probs)
    }
}

/// The stack; `layer.N` as in Hugging Face.
#[derive(Module, Debug)]
pub struct BertEncoder {
    pub layer: Vec<BertLayer>,
}

impl BertEncoder {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            layer: (0..config.num_hidden_layers)
                .map(|_| BertLayer::new(config, device))
                .collect(),
        }
    }
}
