//! Two convolutional networks behind one `Cnn` module.
//!
//! - [`TfTutorialCnn`]: the Keras CNN of TensorFlow's CIFAR-10 tutorial.
//! - [`LeNet`]: LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document
//!   recognition", Proc. IEEE 1998, widened to 32/64 channels, with batch norm
//!   (Ioffe & Szegedy 2015, arXiv:1502.03167) and dropout (Srivastava et al. 2014).
//!
//! Field names are PyTorch's (`conv1, conv2, conv3, fc1, fc2`, `bn1, bn2`, `fc3`), and the
//! `Cnn` enum's variant names are skipped on import/export, so a torch `state_dict` maps 1:1.
//! Initialisation is Burn's default, which equals PyTorch's (U(±1/√fan_in)).

use crate::config::{CnnArch, CnnConfig};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d,
};
use burn::prelude::*;
use burn::tensor::activation::relu;
use kernels::{batch_norm, conv2d, max_pool2d};

/// Output side of a 'valid' convolution (stride 1) or a 2×2 pool.
fn valid(side: usize, kernel: usize) -> usize {
    side + 1 - kernel
}

#[derive(Module, Debug)]
pub struct TfTutorialCnn {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub conv3: Conv2d,
    pub pool: MaxPool2d,
    pub fc1: Linear,
    pub fc2: Linear,
}

impl TfTutorialCnn {
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        let conv = |c_in, c_out| Conv2dConfig::new([c_in, c_out], [3, 3]).init(device);
        // Spatial sizes through conv3x3 → pool2 → conv3x3 → pool2 → conv3x3.
        let side = |s: usize| valid(valid(s, 3) / 2, 3) / 2;
        let (h, w) = (valid(side(height), 3), valid(side(width), 3));
        Self {
            conv1: conv(channels, 32),
            conv2: conv(32, 64),
            conv3: conv(64, 64),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(64 * h * w, 64).init(device),
            fc2: LinearConfig::new(64, classes).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc2.forward(self.features(x)) // [b, classes]
    }

    /// The penultimate layer's activations: `[b, 64]`.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = max_pool2d(&self.pool, relu(conv2d(&self.conv1, x))); // [b, 32, 15, 15]
        let x = max_pool2d(&self.pool, relu(conv2d(&self.conv2, x))); // [b, 64, 6, 6]
        let x = relu(conv2d(&self.conv3, x)); // [b, 64, 4, 4]
        relu(self.fc1.forward(x.flatten(1, 3))) // [b, 64]
    }
}

#[derive(Module, Debug)]
pub struct LeNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub pool: MaxPool2d,
    pub fc1: Linear,
    pub fc2: Linear,
    pub fc3: Linear,
    pub dropout: Dropout,
}

impl LeNet {
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        classes: usize,
        dropout: f64,
        device: &Device,
    ) -> Self {
        // conv5x5 'same' → pool2 → conv5x5 'valid' → pool2: 28 → 28 → 14 → 10 → 5.
        let (h, w) = (valid(height / 2, 5) / 2, valid(width / 2, 5) / 2);
        Self {
            conv1: Conv2dConfig::new([channels, 32], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .with_bias(false)
                .init(device),
            bn1: BatchNormConfig::new(32).init(device),
            conv2: Conv2dConfig::new([32, 64], [5, 5])
                .with_bias(false)
                .init(device),
            bn2: BatchNormConfig::new(64).init(device),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(64 * h * w, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, classes).init(device),
            dropout: DropoutConfig::new(dropout).init(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc3
            .forward(kernels::dropout(&self.dropout, self.features(x))) // [b, classes]
    }

    /// The penultimate layer's activations (before dropout): `[b, 84]`.
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = max_pool2d(
            &self.pool,
            batch_norm(&self.bn1, conv2d(&self.conv1, x), true),
        ); // [b, 32, 14, 14]
        let x = max_pool2d(
            &self.pool,
            batch_norm(&self.bn2, conv2d(&self.conv2, x), true),
        ); // [b, 64, 5, 5]
        let x = self
            .dropout
            .forward(relu(self.fc1.forward(x.flatten(1, 3)))); // [b, 120]
        relu(self.fc2.forward(x)) // [b, 84]
    }
}

// One variant per architecture; the model is built once, so the size difference is harmless
// (Burn's own `Activation` enum allows it too).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Cnn {
    TfTutorial(TfTutorialCnn),
    Lenet(LeNet),
}

impl Cnn {
    pub fn new(
        config: &CnnConfig,
        channels: usize,
        height: usize,
        width: usize,
        classes: usize,
        device: &Device,
    ) -> Self {
        match config.arch_for(channels) {
            CnnArch::TfTutorial => {
                Cnn::TfTutorial(TfTutorialCnn::new(channels, height, width, classes, device))
            }
            CnnArch::Lenet => Cnn::Lenet(LeNet::new(
                channels,
                height,
                width,
                classes,
                config.dropout,
                device,
            )),
        }
    }

    /// `[batch, channels, height, width]` normalised images to `[batch, classes]` logits.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Cnn::TfTutorial(net) => net.forward(images),
            Cnn::Lenet(net) => net.forward(images),
        }
    }

    /// The penultimate layer's activations, the features FID-style scores compare.
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Cnn::TfTutorial(net) => net.features(images),
            Cnn::Lenet(net) => net.features(images),
        }
    }
}
