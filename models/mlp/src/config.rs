//! The MLP's configuration. Defaults are the classic Keras MNIST model: Flatten → Dense 128 ReLU →
//! Dropout 0.2 → Dense 10.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Gelu,
    Tanh,
    Sigmoid,
}

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Hidden layer widths, comma-separated (Keras example: one layer of 128)
    #[cfg_attr(
        feature = "cli",
        arg(long, value_delimiter = ',', default_value = "128")
    )]
    pub hidden: Vec<usize>,
    /// Dropout after each hidden layer (Keras example: 0.2)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.2))]
    pub dropout: f64,
    /// Hidden-layer activation (Keras example: ReLU)
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Activation::Relu))]
    pub activation: Activation,
}

impl Default for MlpConfig {
    fn default() -> Self {
        Self {
            hidden: vec![128],
            dropout: 0.2,
            activation: Activation::Relu,
        }
    }
}
