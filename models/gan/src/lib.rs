//! Generative adversarial networks (Goodfellow et al. 2014) on MNIST: DCGAN (Radford, Metz &
//! Chintala 2016) and a small MLP GAN, trained with two Adam optimizers on the non-saturating
//! loss, scored with the Fréchet distance (Heusel et al. 2017) on features of the `cnn` crate's
//! MNIST classifier.
//!
//! ```no_run
//! use burn::prelude::*;
//! use gan::{GanArch, GanConfig, Generator};
//! let config = GanConfig { arch: GanArch::Dcgan, latent: 100, width: 32, conditional: false };
//! let device = Device::flex();
//! let mnist = generative::ImageShape { channels: 1, height: 28, width: 28 };
//! let generator = Generator::new(&config, mnist, 10, &device).unwrap();
//! let samples = gan::model::generate(&generator, 16, 1, &device); // [16, 1, 28, 28] in [0, 1]
//! ```

#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
#[cfg(feature = "cli")]
pub mod fid;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

#[cfg(feature = "cli")]
pub use cli::ENTRY;
pub use config::{GanArch, GanConfig};
pub use model::{Discriminator, Generator};
