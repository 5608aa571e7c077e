//! Autoencoders (Hinton & Salakhutdinov 2006) and denoising autoencoders (Vincent et al. 2008)
//! on MNIST: a dense 784-256-64-256-784 network or a convolutional one, trained with the
//! Bernoulli likelihood of the pixels, through burn-zoo's shared generative training path.

pub mod config;
pub mod model;
pub mod task;

pub use config::{AutoencoderConfig, Noise};
pub use model::Autoencoder;
