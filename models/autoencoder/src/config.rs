//! The autoencoder's config: flags of `autoencoder train`, stored in the run's `config.json`.

use generative::blocks::{Arch, BlocksConfig};
use serde::{Deserialize, Serialize};

/// How a denoising autoencoder corrupts its input (Vincent et al. 2008, section 4).
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Noise {
    /// Add N(0, level²) to every pixel, then clip to [0, 1].
    Gaussian,
    /// Set each pixel to 0 with probability `level`.
    Masking,
}

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AutoencoderConfig {
    /// Dense (784-256-64-256-784 on MNIST) or convolutional halves
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value = "dense"))]
    pub arch: Arch,
    /// Dense: hidden widths from the image to the code (the decoder mirrors them)
    #[cfg_attr(
        feature = "cli",
        arg(long, value_delimiter = ',', default_value = "256")
    )]
    pub hidden: Vec<usize>,
    /// Conv: channels of the first convolution (the second has twice as many)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 32))]
    pub channels: usize,
    /// Width of the code
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 64))]
    pub latent: usize,
    /// Train a denoising autoencoder: corrupt inputs at this level (noise std or mask rate)
    /// and reconstruct the clean images
    #[cfg_attr(feature = "cli", arg(long, value_name = "LEVEL"))]
    pub denoise: Option<f64>,
    /// The corruption --denoise applies
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value = "gaussian"))]
    pub noise: Noise,
}

impl AutoencoderConfig {
    pub fn blocks(&self) -> BlocksConfig {
        BlocksConfig {
            arch: self.arch,
            hidden: self.hidden.clone(),
            channels: self.channels,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.latent > 0, "--latent must be at least 1");
        if let Some(level) = self.denoise {
            let ok = match self.noise {
                Noise::Gaussian => level > 0.0 && level.is_finite(),
                Noise::Masking => level > 0.0 && level < 1.0,
            };
            anyhow::ensure!(
                ok,
                "--denoise {level}: a Gaussian noise std must be positive, a masking rate in (0, 1)"
            );
        }
        Ok(())
    }
}
