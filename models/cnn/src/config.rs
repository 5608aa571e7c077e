//! The CNN's configuration: which architecture, and its dropout.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CnnArch {
    /// The CNN of TensorFlow's CIFAR-10 tutorial (Keras) for 32×32×3: three 3×3 convolutions
    /// (32, 64, 64), two max-pools, Dense 64, Dense 10, 'valid' padding, no normalisation.
    #[cfg_attr(feature = "cli", value(alias = "seed-cifar"))]
    #[serde(alias = "seed-cifar")]
    TfTutorial,
    /// LeNet-5 (LeCun et al. 1998) widened to 32/64 channels, with batch norm after each
    /// convolution and dropout between the dense layers, for 28×28 digits.
    Lenet,
}

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CnnConfig {
    /// Architecture [default: lenet for MNIST-sized inputs, tf-tutorial for CIFAR-10]
    #[cfg_attr(feature = "cli", arg(long, value_enum))]
    pub arch: Option<CnnArch>,
    /// Dropout between LeNet's dense layers (tf-tutorial has none)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.3))]
    pub dropout: f64,
}

impl Default for CnnConfig {
    fn default() -> Self {
        Self {
            arch: None,
            dropout: 0.3,
        }
    }
}

impl CnnConfig {
    /// The architecture to build for inputs with this many channels.
    pub fn arch_for(&self, channels: usize) -> CnnArch {
        self.arch.unwrap_or(if channels == 3 {
            CnnArch::TfTutorial
        } else {
            CnnArch::Lenet
        })
    }
}
