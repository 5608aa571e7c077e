//! The layer builders every BERT module uses, with BERT's initialisation: weights from
//! N(0, `initializer_range`²), biases zero, LayerNorm at (1, 0) with the config's epsilon.

use crate::config::BertConfig;
use burn::module::Param;
use burn::nn::{
    Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig,
};
use burn::prelude::*;

/// A linear layer with BERT's initialisation: weights N(0, initializer_range), zero bias.
pub fn dense(config: &BertConfig, d_in: usize, d_out: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(d_in, d_out)
        .with_initializer(normal(config))
        .init(device);
    linear.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    linear
}

pub fn normal_embedding(config: &BertConfig, n: usize, d: usize, device: &Device) -> Embedding {
    EmbeddingConfig::new(n, d)
        .with_initializer(normal(config))
        .init(device)
}

pub fn layer_norm(config: &BertConfig, device: &Device) -> LayerNorm {
    LayerNormConfig::new(config.hidden_size)
        .with_epsilon(config.layer_norm_eps)
        .init(device)
}

fn normal(config: &BertConfig) -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: config.initializer_range,
    }
}
