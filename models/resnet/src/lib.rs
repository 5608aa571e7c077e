//! `resnet`: residual networks, CIFAR and ImageNet layouts, with torchvision's parameter names.
//!
//! ```no_run
//! use burn::prelude::*;
//! use resnet::{ResNet, ResNetArch, ResNetConfig};
//! let device = Device::flex();
//! let config = ResNetConfig { arch: ResNetArch::Resnet18, ..ResNetConfig::default() };
//! let model = ResNet::new(&config, 3, 1000, &device);
//! let logits = model.forward(Tensor::zeros([1, 3, 224, 224], &device)); // [1, 1000]
//! ```

pub mod block;
pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod task;

pub use config::{ResNetArch, ResNetConfig, Shortcut};
pub use model::ResNet;
#[cfg(feature = "cli")]
pub use task::ENTRY;
