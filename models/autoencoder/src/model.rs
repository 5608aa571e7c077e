//! The autoencoder: encoder → linear code → decoder.
//!
//! Hinton & Salakhutdinov, "Reducing the dimensionality of data with neural networks",
//! Science 2006; the denoising variant is Vincent, Larochelle, Bengio & Manzagol, "Extracting
//! and composing robust features with denoising autoencoders", ICML 2008. Unlike the 2006 paper
//! there is no layer-wise RBM pretraining: Adam trains the whole network end to end. The code
//! layer is linear (no ReLU), so no code unit can die.

use crate::config::AutoencoderConfig;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use generative::ImageShape;
use generative::{Decoder, Encoder};

#[derive(Module, Debug)]
pub struct Autoencoder {
    pub encoder: Encoder,
    pub code: Linear,
    pub decoder: Decoder,
}

impl Autoencoder {
    pub fn new(
        config: &AutoencoderConfig,
        shape: ImageShape,
        device: &Device,
    ) -> anyhow::Result<Self> {
        config.validate()?;
        let blocks = config.blocks();
        blocks.validate(shape)?;
        Ok(Self {
            encoder: blocks.encoder(shape, device),
            code: LinearConfig::new(blocks.features(shape), config.latent).init(device),
            decoder: blocks.decoder(config.latent, shape, device),
        })
    }

    /// `[batch, c, h, w]` → `[batch, latent]`.
    pub fn encode(&self, images: Tensor<4>) -> Tensor<2> {
        self.code.forward(self.encoder.forward(images))
    }

    /// Pixel logits of the reconstruction: `[batch, c, h, w]` → `[batch, c, h, w]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<4> {
        self.decoder.forward(self.encode(images))
    }
}
