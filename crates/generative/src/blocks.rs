//! The encoder and decoder halves that `autoencoder` and `vae` put around their code layer.
//!
//! - Dense: a stack of fully connected layers with ReLU, as in Kingma & Welling (2014) and
//!   Hinton & Salakhutdinov (2006), on the flattened image.
//! - Conv: two 4×4 stride-2 convolutions (28 → 14 → 7 on MNIST) with ReLU, and the mirror image
//!   with transposed convolutions, the shape DCGAN (Radford et al. 2016) popularised.
//!
//! Decoders return logits: the pixel intensities are `sigmoid(logits)`, and the Bernoulli
//! likelihood is computed from the logits directly. Field names match a PyTorch module with the
//! same structure (`layers.0`, `conv1`, `deconv1`, ...), so state dicts map without renaming.

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use kernels::{conv_transpose2d, conv2d};
use serde::{Deserialize, Serialize};
use zoo_core::ImageShape;

/// Dense or convolutional halves.
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Dense,
    Conv,
}

/// What both halves are built from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BlocksConfig {
    pub arch: Arch,
    /// Dense: hidden widths from the image inwards (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Conv: channels of the first convolution (the second has twice as many).
    pub channels: usize,
}

pub type EncoderConfig = BlocksConfig;
pub type DecoderConfig = BlocksConfig;

impl BlocksConfig {
    /// Width of the encoder's output for images of `shape`.
    pub fn features(&self, shape: ImageShape) -> usize {
        match self.arch {
            Arch::Dense => self.hidden.last().copied().unwrap_or(shape.pixels()),
            Arch::Conv => 2 * self.channels * (shape.height / 4) * (shape.width / 4),
        }
    }

    /// Checks that the image fits the architecture.
    pub fn validate(&self, shape: ImageShape) -> anyhow::Result<()> {
        if self.arch == Arch::Conv {
            anyhow::ensure!(
                shape.height.is_multiple_of(4) && shape.width.is_multiple_of(4),
                "--arch conv halves the image twice: {}x{} is not a multiple of 4",
                shape.height,
                shape.width
            );
            anyhow::ensure!(self.channels > 0, "--channels must be at least 1");
        }
        anyhow::ensure!(
            self.hidden.iter().all(|&h| h > 0),
            "--hidden widths must be positive"
        );
        Ok(())
    }

    pub fn encoder(&self, shape: ImageShape, device: &Device) -> Encoder {
        match self.arch {
            Arch::Dense => {
                let widths: Vec<usize> = std::iter::once(shape.pixels())
                    .chain(self.hidden.iter().copied())
                    .collect();
                Encoder::Dense(DenseEncoder {
                    layers: linear_stack(&widths, device),
                })
            }
            Arch::Conv => {
                let conv = |c_in, c_out| {
                    Conv2dConfig::new([c_in, c_out], [4, 4])
                        .with_stride([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device)
                };
                Encoder::Conv(ConvEncoder {
                    conv1: conv(shape.channels, self.channels),
                    conv2: conv(self.channels, 2 * self.channels),
                })
            }
        }
    }

    pub fn decoder(&self, latent: usize, shape: ImageShape, device: &Device) -> Decoder {
        match self.arch {
            Arch::Dense => {
                let widths: Vec<usize> = std::iter::once(latent)
                    .chain(self.hidden.iter().rev().copied())
                    .chain(std::iter::once(shape.pixels()))
                    .collect();
                Decoder::Dense(DenseDecoder {
                    layers: linear_stack(&widths, device),
                    channels: shape.channels,
                    height: shape.height,
                    width: shape.width,
                })
            }
            Arch::Conv => {
                let deconv = |c_in, c_out| {
                    ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .init(device)
                };
                let (h, w) = (shape.height / 4, shape.width / 4);
                Decoder::Conv(ConvDecoder {
                    fc: LinearConfig::new(latent, 2 * self.channels * h * w).init(device),
                    deconv1: deconv(2 * self.channels, self.channels),
                    deconv2: deconv(self.channels, shape.channels),
                    height: h,
                    width: w,
                })
            }
        }
    }
}

/// Linear layers between consecutive `widths` (PyTorch's default initialisation).
pub fn linear_stack(widths: &[usize], device: &Device) -> Vec<Linear> {
    widths
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(device))
        .collect()
}

#[derive(Module, Debug)]
pub struct DenseEncoder {
    pub layers: Vec<Linear>,
}

#[derive(Module, Debug)]
pub struct ConvEncoder {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
}

/// Image → features. (One variant per architecture, built once: the size difference between
/// them is harmless.)
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Encoder {
    Dense(DenseEncoder),
    Conv(ConvEncoder),
}

impl Encoder {
    /// `[batch, channels, height, width]` → `[batch, features]`, ReLU'd.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Encoder::Dense(dense) => dense
                .layers
                .iter()
                .fold(images.flatten(1, 3), |x, layer| relu(layer.forward(x))),
            Encoder::Conv(conv) => {
                let x = relu(conv2d(&conv.conv1, images)); // [b, c, h/2, w/2]
                let x = relu(conv2d(&conv.conv2, x)); // [b, 2c, h/4, w/4]
                x.flatten(1, 3)
            }
        }
    }
}

#[derive(Module, Debug)]
pub struct DenseDecoder {
    pub layers: Vec<Linear>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

#[derive(Module, Debug)]
pub struct ConvDecoder {
    pub fc: Linear,
    pub deconv1: ConvTranspose2d,
    pub deconv2: ConvTranspose2d,
    /// Side of the smallest feature map (a quarter of the image's).
    pub height: usize,
    pub width: usize,
}

/// Code → pixel logits.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Decoder {
    Dense(DenseDecoder),
    Conv(ConvDecoder),
}

impl Decoder {
    /// `[batch, latent]` → logits `[batch, channels, height, width]`.
    pub fn forward(&self, code: Tensor<2>) -> Tensor<4> {
        match self {
            Decoder::Dense(dense) => {
                let last = dense.layers.len() - 1;
                let mut x = code;
                for (i, layer) in dense.layers.iter().enumerate() {
                    x = layer.forward(x);
                    if i < last {
                        x = relu(x);
                    }
                }
                let batch = x.dims()[0];
                x.reshape([batch, dense.channels, dense.height, dense.width])
            }
            Decoder::Conv(conv) => {
                let batch = code.dims()[0];
                let x = relu(conv.fc.forward(code)); // [b, 2c·h/4·w/4]
                let channels = x.dims()[1] / (conv.height * conv.width);
                let x = x.reshape([batch, channels, conv.height, conv.width]);
                let x = relu(conv_transpose2d(&conv.deconv1, x)); // [b, c, h/2, w/2]
                conv_transpose2d(&conv.deconv2, x) // [b, channels, h, w]
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_have_matching_shapes() {
        let device = Device::flex();
        let shape = ImageShape {
            channels: 1,
            height: 28,
            width: 28,
        };
        for arch in [Arch::Dense, Arch::Conv] {
            let config = BlocksConfig {
                arch,
                hidden: vec![64, 32],
                channels: 8,
            };
            config.validate(shape).unwrap();
            let images = Tensor::<4>::zeros([3, 1, 28, 28], &device);
            let features = config.encoder(shape, &device).forward(images);
            assert_eq!(features.dims(), [3, config.features(shape)]);
            let logits = config
                .decoder(5, shape, &device)
                .forward(Tensor::zeros([3, 5], &device));
            assert_eq!(logits.dims(), [3, 1, 28, 28]);
        }
        let odd = ImageShape {
            channels: 1,
            height: 30,
            width: 30,
        };
        let conv = BlocksConfig {
            arch: Arch::Conv,
            hidden: vec![],
            channels: 8,
        };
        assert!(
            conv.validate(odd)
                .unwrap_err()
                .to_string()
                .contains("multiple of 4")
        );
    }
}
