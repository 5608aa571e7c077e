//! `cnn`: convolutional networks. LeNet-5 with batch norm for MNIST, and the TensorFlow-tutorial CNN for
//! CIFAR-10.
//!
//! ```no_run
//! use burn::prelude::*;
//! use cnn::{Cnn, CnnArch, CnnConfig};
//! let device = Device::flex();
//! let config = CnnConfig { arch: Some(CnnArch::TfTutorial), ..CnnConfig::default() };
//! let model = Cnn::new(&config, 3, 32, 32, 10, &device);
//! let logits = model.forward(Tensor::zeros([2, 3, 32, 32], &device)); // [2, 10]
//! ```

pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

pub use config::{CnnArch, CnnConfig};
pub use model::{Cnn, LeNet, TfTutorialCnn};
#[cfg(feature = "cli")]
pub use task::ENTRY;
