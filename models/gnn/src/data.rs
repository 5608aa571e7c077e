//! Which graph a run uses, and where its files are: Cora, the karate club, or your own edge list.

use clap::{Args, ValueEnum};
use datasets::{Cora, DataSource, EdgeListGraph, Graph, Karate};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
