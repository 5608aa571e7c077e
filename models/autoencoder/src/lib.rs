//! Autoencoders (Hinton & Salakhutdinov 2006) and denoising autoencoders (Vincent et al. 2008)
//! on MNIST: a dense 784-256-64-256-784 network or a convolutional one, trained with the
//! Bernoulli likelihood of the pixels, through burn-zoo's shared generative training path.
//!
//! ```no_run
//! use autoencoder::{Autoencoder, AutoencoderConfig, Noise};
//! use burn::prelude::*;
//! use generative::blocks::Arch;
//! let config = AutoencoderConfig {
//!     arch: Arch::Dense, hidden: vec![256], channels: 32, latent: 32,
//!     denoise: Some(0.3), noise: Noise::Gaussian,
//! };
//! let device = Device::flex();
//! let mnist = generative::ImageShape { channels: 1, height: 28, width: 28 };
//! let model = Autoencoder::new(&config, mnist, &device).unwrap();
//! let codes = model.encode(Tensor::zeros([8, 1, 28, 28], &device)); // [8, 32]
//! ```

pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

pub use config::{AutoencoderConfig, Noise};
pub use model::Autoencoder;
#[cfg(feature = "cli")]
pub use task::ENTRY;
