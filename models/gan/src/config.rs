//! The GAN's config: flags of `gan train`, stored in the run's `config.json`.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GanArch {
    /// Transposed-conv generator with batch norm, strided-conv discriminator (Radford et al.)
    Dcgan,
    /// Fully connected generator and discriminator (Goodfellow et al. 2014, without maxout)
    Mlp,
}

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GanConfig {
    /// Generator and discriminator architecture
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value = "dcgan"))]
    pub arch: GanArch,
    /// Dimensions of the generator's input noise z
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 100))]
    pub latent: usize,
    /// DCGAN: channels at 14×14 (the 7×7 maps have twice as many; 64 is the common MNIST
    /// choice and 2.4× slower per epoch on a 2-core CPU); MLP: the narrower hidden width (the
    /// other is twice as wide)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 32))]
    pub width: usize,
    /// Conditional GAN (Mirza & Osindero 2014, arXiv:1411.1784): the class, one-hot, goes into
    /// the generator beside z and into the discriminator beside the image
    #[cfg_attr(feature = "cli", arg(long))]
    #[serde(default)]
    pub conditional: bool,
}

impl GanConfig {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.latent > 0, "--latent must be at least 1");
        anyhow::ensure!(self.width > 0, "--width must be at least 1");
        Ok(())
    }
}
