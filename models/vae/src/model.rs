//! Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, arXiv:1312.6114.
//!
//! q(z|x) = N(μ(x), diag σ²(x)) from an encoder with two linear heads (`mu`, `log_var`), the
//! prior p(z) = N(0, I), and p(x|z) independent Bernoulli pixels whose logits the decoder
//! gives. Differences from the paper: ReLU instead of tanh hidden units, Adam instead of
//! Adagrad, and [0, 1] grey levels as Bernoulli targets (the common practice; the paper
//! binarises MNIST), so the reported nats are not directly comparable with binarised results.

use crate::config::VaeConfig;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use generative::ImageShape;
use generative::likelihood::bernoulli_nll;
use generative::{Decoder, Encoder};

#[derive(Module, Debug)]
pub struct Vae {
    pub encoder: Encoder,
    pub mu: Linear,
    pub log_var: Linear,
    pub decoder: Decoder,
}

/// What one pass computes: the posterior, the sampled code and the pixel logits.
pub struct VaeOutput {
    pub mu: Tensor<2>,      // [batch, latent]
    pub log_var: Tensor<2>, // [batch, latent]
    pub z: Tensor<2>,       // [batch, latent]
    pub logits: Tensor<4>,  // [batch, c, h, w]
}

impl Vae {
    pub fn new(config: &VaeConfig, shape: ImageShape, device: &Device) -> anyhow::Result<Self> {
        config.validate()?;
        let blocks = config.blocks();
        blocks.validate(shape)?;
        let features = blocks.features(shape);
        Ok(Self {
            encoder: blocks.encoder(shape, device),
            mu: LinearConfig::new(features, config.latent).init(device),
            log_var: LinearConfig::new(features, config.latent).init(device),
            decoder: blocks.decoder(config.latent, shape, device),
        })
    }

    pub fn latent(&self) -> usize {
        self.mu.weight.dims()[1]
    }

    /// q(z|x): mean and log-variance, `[batch, latent]` each.
    pub fn posterior(&self, images: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let features = self.encoder.forward(images);
        (
            self.mu.forward(features.clone()),
            self.log_var.forward(features),
        )
    }

    /// Pixel logits of p(x|z): `[batch, latent]` → `[batch, c, h, w]`.
    pub fn decode(&self, z: Tensor<2>) -> Tensor<4> {
        self.decoder.forward(z)
    }

    /// Encodes, samples z = μ + σ·ε with ε ~ N(0, I) (the reparameterisation trick), decodes.
    pub fn forward(&self, images: Tensor<4>) -> VaeOutput {
        let (mu, log_var) = self.posterior(images);
        let epsilon = Tensor::random(mu.shape(), Distribution::Normal(0.0, 1.0), &mu.device());
        let z = mu.clone() + (log_var.clone() * 0.5).exp() * epsilon;
        let logits = self.decode(z.clone());
        VaeOutput {
            mu,
            log_var,
            z,
            logits,
        }
    }
}

/// The importance-weighted bound on −log p(x) for each image, with `k` samples: `[batch]`.
pub fn iwae_nll(model: &Vae, images: Tensor<4>, k: usize) -> Tensor<1> {
    let [batch, c, h, w] = images.dims();
    let (mu, log_var) = model.posterior(images.clone());
    let latent = mu.dims()[1];
    let repeat = |t: Tensor<2>, width: usize| {
        t.unsqueeze_dim::<3>(1)
            .repeat_dim(1, k)
            .reshape([batch * k, width])
    };
    let (mu, log_var) = (repeat(mu, latent), repeat(log_var, latent)); // [batch·k, latent]
    let epsilon = Tensor::random(mu.shape(), Distribution::Normal(0.0, 1.0), &mu.device());
    let z = mu + (log_var.clone() * 0.5).exp() * epsilon.clone();
    let pixels = repeat(images.flatten(1, 3), c * h * w);
    let log_likelihood = bernoulli_nll(model.decode(z.clone()).flatten(1, 3), pixels).neg();
    // log p(z) − log q(z|x) = −½ Σ (z² − ε² − log σ²); the 2π terms cancel.
    let log_ratio = (z.powi_scalar(2) - epsilon.powi_scalar(2) - log_var)
        .sum_dim(1)
        .squeeze_dim::<1>(1)
        .mul_scalar(-0.5);
    let log_w = (log_likelihood + log_ratio).reshape([batch, k]);
    let max = log_w.clone().max_dim(1); // [batch, 1]
    let log_mean_w = ((log_w - max.clone()).exp().sum_dim(1).log() + max)
        .squeeze_dim::<1>(1)
        .sub_scalar((k as f64).ln());
    log_mean_w.neg()
}
