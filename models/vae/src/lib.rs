//! The variational autoencoder of Kingma & Welling (2014) on MNIST: a Gaussian encoder, the
//! reparameterisation trick, a Bernoulli decoder, the analytic KL term, a β weight (Higgins et
//! al. 2017), and the importance-weighted bound of Burda et al. (2016) as a second estimate of
//! −log p(x).
//!
//! ```no_run
//! use burn::prelude::*;
//! use generative::blocks::Arch;
//! use vae::{Vae, VaeConfig};
//! let config = VaeConfig { arch: Arch::Dense, hidden: vec![512, 256], channels: 32, latent: 20, beta: 1.0 };
//! let device = Device::flex();
//! let mnist = generative::ImageShape { channels: 1, height: 28, width: 28 };
//! let model = Vae::new(&config, mnist, &device).unwrap();
//! let images = burn::tensor::activation::sigmoid(model.decode(Tensor::zeros([4, 20], &device))); // [4, 1, 28, 28]
//! let nll = vae::model::iwae_nll(&model, images, 100); // [4], nats per image
//! ```

pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

pub use config::VaeConfig;
pub use model::Vae;
#[cfg(feature = "cli")]
pub use task::ENTRY;
