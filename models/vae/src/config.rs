//! The VAE's config: flags of `vae train`, stored in the run's `config.json`.

use generative::blocks::{Arch, BlocksConfig};
use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Dense (MLP) or convolutional encoder and decoder
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value = "dense"))]
    pub arch: Arch,
    /// Dense: hidden widths from the image to the latent layer (the decoder mirrors them).
    /// Kingma & Welling used one layer of 500; two layers reach a better bound in 30 epochs.
    #[cfg_attr(
        feature = "cli",
        arg(long, value_delimiter = ',', default_value = "512,256")
    )]
    pub hidden: Vec<usize>,
    /// Conv: channels of the first convolution (the second has twice as many)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 32))]
    pub channels: usize,
    /// Latent dimensions (2 draws the latent manifold)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 20))]
    pub latent: usize,
    /// Weight of the KL term in the training loss (β-VAE, Higgins et al. 2017); 1 is the ELBO.
    /// Reported bounds always use β = 1.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1.0))]
    pub beta: f64,
}

impl VaeConfig {
    pub fn blocks(&self) -> BlocksConfig {
        BlocksConfig {
            arch: self.arch,
            hidden: self.hidden.clone(),
            channels: self.channels,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.latent > 0, "--latent must be at least 1");
        anyhow::ensure!(
            self.beta >= 0.0 && self.beta.is_finite(),
            "--beta must be a non-negative number"
        );
        Ok(())
    }
}
