//! Graph neural networks for node classification, with message passing written on Burn's
//! gather (`select`) and scatter-add (`select_assign`): GCN (Kipf & Welling 2017), GraphSAGE
//! (Hamilton et al. 2017) and GAT (Veličković et al. 2018), trained full-batch on Cora.
//!
//! ```no_run
//! use gnn::{Gnn, GnnConfig, GraphTensors};
//! # fn demo(graph: &datasets::Graph, device: &burn::prelude::Device) {
//! let model = Gnn::new(&GnnConfig::default(), graph.num_features, graph.num_classes(), device);
//! let logits = model.forward(&GraphTensors::new(graph, device)); // [nodes, classes]
//! # }
//! ```

pub mod cli;
pub mod config;
pub mod gat;
pub mod gcn;
pub mod message;
pub mod model;
pub mod sage;
pub mod task;

pub use cli::{Cli, Command, ENTRY, run};
pub use config::{Arch, GnnConfig, GraphDataArgs, GraphDataset};
pub use gat::{GatConv, GatConvConfig};
pub use gcn::{GcnConv, GcnConvConfig};
pub use message::{EdgeIndex, NodeFeatures, dense_adjacency, segment_softmax};
pub use model::{Gnn, GraphConv, GraphTensors};
pub use sage::{SageConv, SageConvConfig};
