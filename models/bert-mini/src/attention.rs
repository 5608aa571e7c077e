//! Multi-head scaled dot-product self-attention (Vaswani et al. 2017, §3.2) with BERT's post-LN
//! residual block. Written out rather than `burn::nn::MultiHeadAttention` so the parameters
//! carry Hugging Face's names (`query`, `key`, `value`, `output.dense`) and the attention
//! probabilities come back for the `attend` heatmaps.

use crate::config::BertConfig;
use crate::nn::{dense, layer_norm};
use burn::nn::{Dropout, DropoutConfig, LayerNorm, Linear};
use burn::prelude::*;
use kernels::softmax;

#[derive(Module, Debug)]
pub struct BertSelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub dropout: Dropout,
    pub num_heads: usize,
}

impl BertSelfAttention {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            query: dense(config, h, h, device),
            key: dense(config, h, h, device),
            value: dense(config, h, h, device),
            dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
            num_heads: config.num_attention_heads,
        }
    }

    /// `x`: `[batch, seq, hidden]`; `mask_bias`: `[batch, 1, 1, seq]`, 0 for tokens and a large
    /// negative number for padding. Returns the context `[batch, seq, hidden]` and the attention
    /// probabilities `[batch, heads, seq, seq]` (rows: queries, columns: keys).
    pub fn forward(&self, x: Tensor<3>, mask_bias: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let [batch, seq, hidden] = x.dims();
        let head_dim = hidden / self.num_heads;
        let split_heads = |t: Tensor<3>| {
            t.reshape([batch, seq, self.num_heads, head_dim])
                .swap_dims(1, 2) // [batch, heads, seq, head_dim]
        };
        let q = split_heads(kernels::linear(&self.query, x.clone()));
        let k = split_heads(kernels::linear(&self.key, x.clone()));
        let v = split_heads(kernels::linear(&self.value, x));
        let scores = q.matmul(k.swap_dims(2, 3)) / (head_dim as f64).sqrt() + mask_bias; // [batch, heads, seq, seq]
        let probs = softmax(scores, 3);
        let context = kernels::dropout(&self.dropout, probs.clone()).matmul(v); // [batch, heads, seq, head_dim]
        (context.swap_dims(1, 2).reshape([batch, seq, hidden]), probs)
    }
}

/// Projection of the attention output, dropout, residual, LayerNorm (post-LN).
#[derive(Module, Debug)]
pub struct BertSelfOutput {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl BertSelfOutput {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        let h = config.hidden_size;
        Self {
            dense: dense(config, h, h, device),
            layer_norm: layer_norm(config, device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
        }
    }

    pub fn forward(&self, hidden: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        self.layer_norm.forward(
            kernels::dropout(&self.dropout, kernels::linear(&self.dense, hidden)) + residual,
        )
    }
}

/// HF's `BertAttention`: `self` (here `self_attn`, a Rust keyword) and `output`.
#[derive(Module, Debug)]
pub struct BertAttention {
    pub self_attn: BertSelfAttention,
    pub output: BertSelfOutput,
}

impl BertAttention {
    pub fn new(config: &BertConfig, device: &Device) -> Self {
        Self {
            self_attn: BertSelfAttention::new(config, device),
            output: BertSelfOutput::new(config, device),
        }
    }

    pub fn forward(&self, x: Tensor<3>, mask_bias: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        let (context, probs) = self.self_attn.forward(x.clone(), mask_bias);
        (self.output.forward(context, x), probs)
    }
}
