//! The model config and each architecture's training recipe from its paper.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Kipf & Welling 2017
    Gcn,
    /// Hamilton et al. 2017, mean aggregator
    Sage,
    /// Veličković et al. 2018
    Gat,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Gcn => "gcn",
            Arch::Sage => "sage",
            Arch::Gat => "gat",
        }
    }
}

/// Two graph layers: input → hidden (ReLU; ELU for GAT) → classes, dropout before each.
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GnnConfig {
    /// Architecture
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Arch::Gcn))]
    pub arch: Arch,
    /// Hidden features (per head for GAT) [default: GCN 16 and GAT 8 as in their papers; SAGE 64]
    #[cfg_attr(feature = "cli", arg(long))]
    pub hidden: Option<usize>,
    /// GAT: attention heads of the hidden layer (concatenated)
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 8))]
    pub heads: usize,
    /// GAT: attention heads of the output layer (averaged); the paper uses 1 on Cora
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 1))]
    pub output_heads: usize,
    /// Dropout on each layer's input [default: 0.5; GAT 0.6]
    #[cfg_attr(feature = "cli", arg(long))]
    pub dropout: Option<f64>,
    /// GAT: dropout on the attention coefficients [default: 0.6]
    #[cfg_attr(feature = "cli", arg(long))]
    pub attention_dropout: Option<f64>,
    /// GAT: dropout on the projected features before aggregation, as in the authors' code
    /// (PyG's GATConv has none) [default: --dropout]
    #[cfg_attr(feature = "cli", arg(long))]
    pub value_dropout: Option<f64>,
}

impl Default for GnnConfig {
    fn default() -> Self {
        Self {
            arch: Arch::Gcn,
            hidden: None,
            heads: 8,
            output_heads: 1,
            dropout: None,
            attention_dropout: None,
            value_dropout: None,
        }
    }
}

impl GnnConfig {
    pub fn hidden(&self) -> usize {
        self.hidden.unwrap_or(match self.arch {
            Arch::Gcn => 16,
            Arch::Sage => 64,
            Arch::Gat => 8,
        })
    }

    pub fn dropout(&self) -> f64 {
        self.dropout.unwrap_or(match self.arch {
            Arch::Gat => 0.6,
            _ => 0.5,
        })
    }

    pub fn attention_dropout(&self) -> f64 {
        self.attention_dropout.unwrap_or(0.6)
    }

    pub fn value_dropout(&self) -> f64 {
        self.value_dropout.unwrap_or(self.dropout())
    }

    /// The same config with every default written out (what `config.json` stores).
    pub fn resolved(&self) -> Self {
        Self {
            hidden: Some(self.hidden()),
            dropout: Some(self.dropout()),
            attention_dropout: Some(self.attention_dropout()),
            value_dropout: Some(self.value_dropout()),
            ..self.clone()
        }
    }
}

/// Training defaults of each architecture's paper (Cora, Planetoid split).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Recipe {
    pub epochs: usize,
    pub lr: f64,
    /// L2 penalty `weight_decay / 2 * ||W||^2` added to the loss.
    pub weight_decay: f64,
    /// GCN penalises the first layer only (Kipf & Welling's code); GAT and SAGE every weight.
    pub decay_first_layer_only: bool,
    /// Stop after this many epochs without a better validation accuracy or loss.
    pub early_stop: Option<usize>,
}

impl Recipe {
    pub fn of(arch: Arch) -> Self {
        match arch {
            Arch::Gcn => Recipe {
                epochs: 200,
                lr: 0.01,
                weight_decay: 5e-4,
                decay_first_layer_only: true,
                early_stop: None,
            },
            Arch::Sage => Recipe {
                epochs: 200,
                lr: 0.01,
                weight_decay: 5e-4,
                decay_first_layer_only: false,
                early_stop: None,
            },
            Arch::Gat => Recipe {
                epochs: 1000,
                lr: 0.005,
                weight_decay: 5e-4,
                decay_first_layer_only: false,
                early_stop: Some(100),
            },
        }
    }
}
