//! Multi-layer perceptron (Rumelhart, Hinton & Williams, "Learning representations by
//! back-propagating errors", Nature 1986), as the classic Keras MNIST classifier.
//!
//! Layers are `fc1..fcN` in PyTorch (`nn.Linear`, weight `[out, in]`); here they are
//! `layers.0..layers.{N-1}` (Burn's `Linear`, weight `[in, out]`), mapped on import and export.
//! Initialisation is PyTorch's `nn.Linear` default (Kaiming-uniform with a = √5, i.e.
//! U(-1/√fan_in, 1/√fan_in) for weights and biases).

use crate::config::{Activation, MlpConfig};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, relu, sigmoid, tanh};

#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers, then the output layer.
    pub layers: Vec<Linear>,
    pub dropout: Dropout,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    pub fn new(config: &MlpConfig, inputs: usize, classes: usize, device: &Device) -> Self {
        let widths: Vec<usize> = std::iter::once(inputs)
            .chain(config.hidden.iter().copied())
            .chain(std::iter::once(classes))
            .collect();
        let layers = widths
            .windows(2)
            .map(|w| {
                let bound = 1.0 / (w[0] as f64).sqrt();
                LinearConfig::new(w[0], w[1])
                    .with_initializer(Initializer::Uniform {
                        min: -bound,
                        max: bound,
                    })
                    .init(device)
            })
            .collect();
        Self {
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
            activation: config.activation,
        }
    }

    /// `[batch, channels, height, width]` images to `[batch, classes]` logits.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x: Tensor<2> = images.flatten(1, 3); // [batch, inputs]
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = kernels::linear(layer, x);
            if i < last {
                x = match self.activation {
                    Activation::Relu => relu(x),
                    Activation::Gelu => gelu(x),
                    Activation::Tanh => tanh(x),
                    Activation::Sigmoid => sigmoid(x),
                };
                x = kernels::dropout(&self.dropout, x);
            }
        }
        x // [batch, classes]
    }

    /// `(burn path, PyTorch name)` of each layer: `layers.0` is `fc1`.
    pub fn pytorch_names(config: &MlpConfig) -> Vec<(String, String)> {
        (0..=config.hidden.len())
            .map(|i| (format!("layers.{i}"), format!("fc{}", i + 1)))
            .collect()
    }
}
