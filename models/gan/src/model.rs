//! The generator and the discriminator.
//!
//! DCGAN: Radford, Metz & Chintala, "Unsupervised representation learning with deep
//! convolutional generative adversarial networks", ICLR 2016, arXiv:1511.06434, at MNIST's
//! 28×28: the generator projects z to 7×7 maps, then two 4×4 stride-2 transposed convolutions
//! (7 → 14 → 28) with batch norm and ReLU, and tanh on the output; the discriminator mirrors it
//! with 4×4 stride-2 convolutions and LeakyReLU 0.2, batch norm on every layer but its first,
//! and a linear logit. The paper's guidelines otherwise hold: no pooling, no dense hidden layers
//! beyond the projection, N(0, 0.02) initial weights.
//!
//! MLP: Goodfellow et al., "Generative adversarial nets", NeurIPS 2014, arXiv:1406.2661, with
//! ReLU/LeakyReLU instead of the paper's maxout units.
//!
//! Conditional variants (Mirza & Osindero 2014, arXiv:1411.1784) take the class one-hot: the
//! generator beside z, the DCGAN discriminator as constant extra input planes, the MLP
//! discriminator beside the flattened image.
//!
//! Images are in [−1, 1] (tanh's range): `to_unit` maps them back to [0, 1].

use crate::config::{GanArch, GanConfig};
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{relu, tanh};
use generative::ImageShape;
use generative::blocks::linear_stack;
use kernels::{batch_norm, batch_norm_leaky_relu, conv_transpose2d, conv2d, leaky_relu, linear};
use zoo_core::rng::SplitMix64;

/// DCGAN's initial weights: N(0, 0.02) (section 4 of the paper).
fn dcgan_init() -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: 0.02,
    }
}

const LEAK: f64 = 0.2;

#[derive(Module, Debug)]
pub struct DcganGenerator {
    pub fc: Linear,
    pub bn1: BatchNorm,
    pub deconv1: ConvTranspose2d,
    pub bn2: BatchNorm,
    pub deconv2: ConvTranspose2d,
    /// Side of the projected maps (a quarter of the image's).
    pub side: usize,
    /// Classes of a conditional generator; 0 when unconditional.
    pub classes: usize,
}

#[derive(Module, Debug)]
pub struct MlpGenerator {
    pub layers: Vec<Linear>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub classes: usize,
}

/// z → image in [−1, 1]. (One variant per architecture, built once.)
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Generator {
    Dcgan(DcganGenerator),
    Mlp(MlpGenerator),
}

#[derive(Module, Debug)]
pub struct DcganDiscriminator {
    pub conv1: Conv2d,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub fc: Linear,
    pub classes: usize,
}

#[derive(Module, Debug)]
pub struct MlpDiscriminator {
    pub layers: Vec<Linear>,
    pub classes: usize,
}

/// Image in [−1, 1] → the logit of "real".
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Discriminator {
    Dcgan(DcganDiscriminator),
    Mlp(MlpDiscriminator),
}

fn check_shape(config: &GanConfig, shape: ImageShape) -> anyhow::Result<()> {
    config.validate()?;
    if config.arch == GanArch::Dcgan {
        anyhow::ensure!(
            shape.height == shape.width && shape.height.is_multiple_of(4),
            "the DCGAN makes square images whose side is a multiple of 4, not {}x{}",
            shape.height,
            shape.width
        );
    }
    Ok(())
}

/// Classes a network conditions on: `classes` when `--conditional`, else 0.
fn conditioning(config: &GanConfig, classes: usize) -> usize {
    if config.conditional { classes } else { 0 }
}

/// `[batch, a]` and `[batch, b]` side by side.
fn beside(a: Tensor<2>, b: Option<Tensor<2>>) -> Tensor<2> {
    match b {
        Some(b) => Tensor::cat(vec![a, b], 1),
        None => a,
    }
}

impl Generator {
    /// `classes` is the data set's class count (used when `config.conditional`).
    pub fn new(
        config: &GanConfig,
        shape: ImageShape,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        check_shape(config, shape)?;
        let w = config.width;
        let classes = conditioning(config, classes);
        let input = config.latent + classes;
        Ok(match config.arch {
            GanArch::Dcgan => {
                let side = shape.height / 4;
                let deconv = |c_in, c_out, bias| {
                    ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
                        .with_stride([2, 2])
                        .with_padding([1, 1])
                        .with_bias(bias)
                        .with_initializer(dcgan_init())
                        .init(device)
                };
                Generator::Dcgan(DcganGenerator {
                    // Batch norm follows the projection and the first deconvolution, so their
                    // biases would be cancelled: left out, as in the DCGAN code.
                    fc: LinearConfig::new(input, 2 * w * side * side)
                        .with_bias(false)
                        .with_initializer(dcgan_init())
                        .init(device),
                    bn1: BatchNormConfig::new(2 * w).init(device),
                    deconv1: deconv(2 * w, w, false),
                    bn2: BatchNormConfig::new(w).init(device),
                    deconv2: deconv(w, shape.channels, true),
                    side,
                    classes,
                })
            }
            GanArch::Mlp => Generator::Mlp(MlpGenerator {
                layers: linear_stack(&[input, 2 * w, 4 * w, shape.pixels()], device),
                channels: shape.channels,
                height: shape.height,
                width: shape.width,
                classes,
            }),
        })
    }

    /// Classes it conditions on (0: unconditional).
    pub fn classes(&self) -> usize {
        match self {
            Generator::Dcgan(g) => g.classes,
            Generator::Mlp(g) => g.classes,
        }
    }

    /// Width of z.
    pub fn latent(&self) -> usize {
        let input = match self {
            Generator::Dcgan(g) => g.fc.weight.dims()[0],
            Generator::Mlp(g) => g.layers[0].weight.dims()[0],
        };
        input - self.classes()
    }

    /// A conditional generator's images for z and one-hot `labels` (`[batch, classes]`).
    pub fn forward_conditional(&self, z: Tensor<2>, labels: Option<Tensor<2>>) -> Tensor<4> {
        self.forward(beside(z, labels))
    }

    /// `[batch, latent (+ classes)]` → images `[batch, c, h, w]` in [−1, 1].
    pub fn forward(&self, z: Tensor<2>) -> Tensor<4> {
        let batch = z.dims()[0];
        match self {
            Generator::Dcgan(g) => {
                let x = linear(&g.fc, z); // [b, 2w·s·s]
                let channels = x.dims()[1] / (g.side * g.side);
                let x = x.reshape([batch, channels, g.side, g.side]); // [b, 2w, 7, 7]
                let x = batch_norm(&g.bn1, x, true);
                let x = batch_norm(&g.bn2, conv_transpose2d(&g.deconv1, x), true); // [b, w, 14, 14]
                tanh(conv_transpose2d(&g.deconv2, x)) // [b, c, 28, 28]
            }
            Generator::Mlp(g) => {
                let last = g.layers.len() - 1;
                let mut x = z;
                for (i, layer) in g.layers.iter().enumerate() {
                    x = layer.forward(x);
                    if i < last {
                        x = relu(x);
                    }
                }
                tanh(x).reshape([batch, g.channels, g.height, g.width])
            }
        }
    }
}

impl Discriminator {
    pub fn new(
        config: &GanConfig,
        shape: ImageShape,
        classes: usize,
        device: &Device,
    ) -> anyhow::Result<Self> {
        check_shape(config, shape)?;
        let w = config.width;
        let classes = conditioning(config, classes);
        Ok(match config.arch {
            GanArch::Dcgan => {
                let conv = |c_in, c_out, bias| {
                    Conv2dConfig::new([c_in, c_out], [4, 4])
                        .with_stride([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .with_bias(bias)
                        .with_initializer(dcgan_init())
                        .init(device)
                };
                let side = shape.height / 4;
                Discriminator::Dcgan(DcganDiscriminator {
                    conv1: conv(shape.channels + classes, w, true),
                    conv2: conv(w, 2 * w, false),
                    bn2: BatchNormConfig::new(2 * w).init(device),
                    fc: LinearConfig::new(2 * w * side * side, 1)
                        .with_initializer(dcgan_init())
                        .init(device),
                    classes,
                })
            }
            GanArch::Mlp => Discriminator::Mlp(MlpDiscriminator {
                layers: linear_stack(&[shape.pixels() + classes, 4 * w, 2 * w, 1], device),
                classes,
            }),
        })
    }

    /// Images `[batch, c, h, w]` in [−1, 1] → logits `[batch, 1]`; a conditional discriminator
    /// also takes the one-hot `labels` (`[batch, classes]`).
    pub fn forward_conditional(&self, images: Tensor<4>, labels: Option<Tensor<2>>) -> Tensor<2> {
        match self {
            Discriminator::Dcgan(d) => {
                let images = match labels {
                    Some(labels) => {
                        let [b, _, h, w] = images.dims();
                        // One constant plane per class: [b, classes, h, w].
                        let planes = labels
                            .reshape([b, d.classes, 1, 1])
                            .expand([b, d.classes, h, w]);
                        Tensor::cat(vec![images, planes], 1)
                    }
                    None => images,
                };
                let x = leaky_relu(conv2d(&d.conv1, images), LEAK); // [b, w, 14, 14]
                let x = batch_norm_leaky_relu(&d.bn2, conv2d(&d.conv2, x), LEAK); // [b, 2w, 7, 7]
                d.fc.forward(x.flatten(1, 3)) // [b, 1]
            }
            Discriminator::Mlp(d) => {
                let last = d.layers.len() - 1;
                let mut x = beside(images.flatten(1, 3), labels);
                for (i, layer) in d.layers.iter().enumerate() {
                    x = layer.forward(x);
                    if i < last {
                        x = leaky_relu(x, LEAK);
                    }
                }
                x
            }
        }
    }
}

impl Discriminator {
    /// An unconditional discriminator's logits `[batch, 1]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_conditional(images, None)
    }
}

/// [−1, 1] → [0, 1].
pub fn to_unit(images: Tensor<4>) -> Tensor<4> {
    (images + 1.0) * 0.5
}

/// [0, 1] → [−1, 1].
pub fn from_unit(images: Tensor<4>) -> Tensor<4> {
    images * 2.0 - 1.0
}

/// The class sample `i` of [`generate`] is conditioned on: `i mod classes`, so every class is
/// drawn equally often.
pub fn sample_label(i: usize, classes: usize) -> usize {
    i % classes
}

/// z ~ N(0, I) from a seeded host generator, so a seed gives the same samples on any device.
pub fn noise(n: usize, latent: usize, seed: u64, device: &Device) -> Tensor<2> {
    let mut rng = SplitMix64::new(seed);
    let values: Vec<f32> = (0..n * latent).map(|_| rng.normal() as f32).collect();
    Tensor::from_data(TensorData::new(values, [n, latent]), device)
}

/// One-hot rows `[labels.len(), classes]`.
pub fn one_hot(labels: &[usize], classes: usize, device: &Device) -> Tensor<2> {
    let mut values = vec![0f32; labels.len() * classes];
    for (row, &label) in labels.iter().enumerate() {
        values[row * classes + label] = 1.0;
    }
    Tensor::from_data(TensorData::new(values, [labels.len(), classes]), device)
}

/// `n` samples in [0, 1] from an inference copy of the generator, in chunks; a conditional
/// generator draws sample `i` of class [`sample_label`].
pub fn generate(generator: &Generator, n: usize, seed: u64, device: &Device) -> Tensor<4> {
    let z = noise(n, generator.latent(), seed, device);
    let classes = generator.classes();
    let chunks: Vec<Tensor<4>> = (0..n)
        .step_by(500)
        .map(|start| {
            let end = (start + 500).min(n);
            let labels = (classes > 0).then(|| {
                let labels: Vec<usize> = (start..end).map(|i| sample_label(i, classes)).collect();
                one_hot(&labels, classes, device)
            });
            to_unit(generator.forward_conditional(z.clone().slice(start..end), labels))
        })
        .collect();
    Tensor::cat(chunks, 0)
}
