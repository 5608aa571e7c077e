//! The model config, the data a run uses, and each architecture's recipe from its paper.

use clap::{Args, ValueEnum};
use datasets::{Cora, DataSource, EdgeListGraph, Graph, Karate};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct GnnConfig {
    /// Architecture
    #[arg(long, value_enum, default_value_t = Arch::Gcn)]
    pub arch: Arch,
    /// Hidden features (per head for GAT) [default: GCN 16 and GAT 8 as in their papers; SAGE 64]
    #[arg(long)]
    pub hidden: Option<usize>,
    /// GAT: attention heads of the hidden layer (concatenated)
    #[arg(long, default_value_t = 8)]
    pub heads: usize,
    /// GAT: attention heads of the output layer (averaged); the paper uses 1 on Cora
    #[arg(long, default_value_t = 1)]
    pub output_heads: usize,
    /// Dropout on each layer's input [default: 0.5; GAT 0.6]
    #[arg(long)]
    pub dropout: Option<f64>,
    /// GAT: dropout on the attention coefficients [default: 0.6]
    #[arg(long)]
    pub attention_dropout: Option<f64>,
    /// GAT: dropout on the projected features before aggregation, as in the authors' code
    /// (PyG's GATConv has none) [default: --dropout]
    #[arg(long)]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphDataset {
    /// Cora citations, Planetoid split (140 / 500 / 1,000)
    Cora,
    /// Zachary's karate club: train on the two leaders, test on the other 32 members
    Karate,
}

/// Which graph, and where its files are.
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct GraphDataArgs {
    /// Built-in graph (ignored with --edges)
    #[arg(long, value_enum, default_value_t = GraphDataset::Cora)]
    pub dataset: GraphDataset,
    /// Your own graph: an edge list, `u v` per line (with --labels)
    #[arg(long, requires = "labels", value_name = "FILE")]
    pub edges: Option<PathBuf>,
    /// Node labels, `node label` per line; these lines define the nodes
    #[arg(long, requires = "edges", value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Node features, `node f1 f2 ...` per line [default: one-hot node ids]
    #[arg(long, requires = "edges", value_name = "FILE")]
    pub features: Option<PathBuf>,
    /// Node split, `node train|val|test` per line [default: 20 random training nodes per
    /// class, the rest halved into validation and test]
    #[arg(long, requires = "edges", value_name = "FILE")]
    pub split: Option<PathBuf>,
    /// Keep raw features (by default each node's features are scaled to sum 1, as Kipf &
    /// Welling do for Cora)
    #[arg(long)]
    pub raw_features: bool,
    /// Folder holding data sets in their official layout, e.g. <DIR>/graphs/cora/cora.tgz
    /// [env: ZOO_DATA_DIR]
    #[arg(long)]
    #[serde(skip)]
    pub data_dir: Option<PathBuf>,
}

impl GraphDataArgs {
    pub fn name(&self) -> String {
        match &self.edges {
            Some(path) => path.display().to_string(),
            None => format!("{:?}", self.dataset).to_lowercase(),
        }
    }

    /// Loads the graph (seeded split for edge lists without a split file).
    pub fn load(&self, seed: u64) -> anyhow::Result<Graph> {
        let mut graph = match (&self.edges, &self.labels) {
            (Some(edges), Some(labels)) => EdgeListGraph {
                features: self.features.clone(),
                split: self.split.clone(),
                seed,
                ..EdgeListGraph::new(edges, labels)
            }
            .load()?,
            _ => {
                let source = DataSource::new(self.data_dir.clone());
                match self.dataset {
                    GraphDataset::Cora => Cora::load(&source)?,
                    GraphDataset::Karate => Karate::load(&source)?,
                }
            }
        };
        if !self.raw_features {
            graph.row_normalize_features();
        }
        Ok(graph)
    }
}
