//! Graph neural networks for node classification, with message passing written on Burn's
//! gather (`select`) and scatter-add (`select_assign`): GCN (Kipf & Welling 2017), GraphSAGE
//! (Hamilton et al. 2017) and GAT (Veličković et al. 2018), trained full-batch on Cora.
//!
//! ```no_run
//! use gnn::{Gnn, GnnConfig, GraphTensors};
//! let device = burn::prelude::Device::flex();
//! // A triangle of three nodes with two features each; two classes.
//! let features = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5];
//! let graph = GraphTensors::from_parts(&features, 3, &[(0, 1), (0, 2), (1, 2)], &device);
//! let model = Gnn::new(&GnnConfig::default(), 2, 2, &device);
//! let logits = model.forward(&graph); // [nodes, classes]
//! ```

#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
#[cfg(feature = "cli")]
pub mod data;
pub mod edges;
pub mod gat;
pub mod gcn;
pub mod message;
pub mod model;
pub mod sage;
#[cfg(feature = "cli")]
pub mod task;

#[cfg(feature = "cli")]
pub use cli::{Cli, Command, ENTRY, run};
pub use config::{Arch, GnnConfig};
#[cfg(feature = "cli")]
pub use data::{GraphDataArgs, GraphDataset};
pub use edges::GraphEdges;
pub use gat::{GatConv, GatConvConfig};
pub use gcn::{GcnConv, GcnConvConfig};
pub use message::{EdgeIndex, NodeFeatures, dense_adjacency, segment_softmax};
pub use model::{Gnn, GraphConv, GraphTensors};
pub use sage::{SageConv, SageConvConfig};
