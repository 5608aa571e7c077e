//! `mlp`: the multi-layer perceptron of the classic Keras MNIST example, trained on MNIST.
//!
//! ```no_run
//! use burn::prelude::*;
//! let device = Device::flex();
//! let model = mlp::Mlp::new(&mlp::MlpConfig::default(), 784, 10, &device);
//! let logits = model.forward(Tensor::zeros([2, 1, 28, 28], &device)); // [2, 10]
//! ```

pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

pub use config::{Activation, MlpConfig};
pub use model::Mlp;
#[cfg(feature = "cli")]
pub use task::ENTRY;
