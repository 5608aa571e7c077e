//! Generative adversarial networks (Goodfellow et al. 2014) on MNIST: DCGAN (Radford, Metz &
//! Chintala 2016) and a small MLP GAN, trained with two Adam optimizers on the non-saturating
//! loss, scored with the Fréchet distance (Heusel et al. 2017) on features of the `cnn` crate's
//! MNIST classifier.

pub mod config;
pub mod fid;
pub mod model;
pub mod task;

pub use config::{GanArch, GanConfig};
pub use model::{Discriminator, Generator};
