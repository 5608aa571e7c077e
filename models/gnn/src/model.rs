//! The two-layer node classifier of the GCN and GAT papers, with any of the three layers.
//!
//! GCN (Kipf & Welling 2017, section 3.1): dropout → GCN(16) → ReLU → dropout → GCN(classes).
//! GAT (Veličković et al. 2018, section 3.3, transductive): dropout 0.6 → GAT(8 heads × 8,
//! concatenated) → ELU → dropout 0.6 → GAT(classes, 1 head, averaged).
//! GraphSAGE uses the GCN layout with mean-aggregator layers.
//! Module names `conv1`/`conv2` are those of PyG's examples, so PyG state dicts load as they are.

use crate::GatConv;
use crate::config::{Arch, GnnConfig};
use crate::edges::GraphEdges;
use crate::gat::GatConvConfig;
use crate::gcn::{GcnConv, GcnConvConfig};
use crate::message::{EdgeIndex, NodeFeatures};
use crate::sage::{SageConv, SageConvConfig};
use burn::nn::{Dropout, DropoutConfig};
use burn::prelude::*;
use burn::tensor::activation::{elu, relu};

/// A graph on a device: node features and the three edge sets the layers use, built once.
#[derive(Clone, Debug)]
pub struct GraphTensors {
    /// `[nodes, features]`, sparse when at most 10% of the values are non-zero.
    pub x: NodeFeatures,
    /// Both directions, self-loops, `D^-1/2 (A + I) D^-1/2` weights (GCN).
    pub gcn: EdgeIndex,
    /// Both directions, no self-loops (GraphSAGE).
    pub neighbours: EdgeIndex,
    /// Both directions plus self-loops, weight 1 (GAT).
    pub with_self_loops: EdgeIndex,
}

impl GraphTensors {
    /// `features` holds `[num_nodes, features]` row-major; `edges` each undirected edge once.
    pub fn from_parts(
        features: &[f32],
        num_nodes: usize,
        edges: &[(u32, u32)],
        device: &Device,
    ) -> Self {
        let n = num_nodes;
        Self {
            x: NodeFeatures::new(features, n, 0.1, device),
            gcn: EdgeIndex::new(&GraphEdges::gcn(edges, n), n, device),
            neighbours: EdgeIndex::new(&GraphEdges::both_directions(edges, n, false), n, device),
            with_self_loops: EdgeIndex::new(
                &GraphEdges::both_directions(edges, n, true),
                n,
                device,
            ),
        }
    }

    /// A loaded data set's graph on `device`.
    #[cfg(feature = "cli")]
    pub fn new(graph: &datasets::Graph, device: &Device) -> Self {
        Self::from_parts(&graph.features, graph.num_nodes(), &graph.edges, device)
    }
}

#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum GraphConv {
    Gcn(GcnConv),
    Sage(SageConv),
    Gat(GatConv),
}

impl GraphConv {
    fn new(config: &GnnConfig, input: usize, output: usize, last: bool, device: &Device) -> Self {
        match config.arch {
            Arch::Gcn => GraphConv::Gcn(GcnConvConfig::new(input, output).init(device)),
            Arch::Sage => GraphConv::Sage(SageConvConfig::new(input, output).init(device)),
            Arch::Gat => GraphConv::Gat(
                GatConvConfig::new(input, output)
                    .with_heads(if last {
                        config.output_heads
                    } else {
                        config.heads
                    })
                    .with_concat(!last)
                    .with_attention_dropout(config.attention_dropout())
                    .with_value_dropout(config.value_dropout())
                    .init(device),
            ),
        }
    }

    pub fn forward(&self, x: NodeFeatures, graph: &GraphTensors) -> Tensor<2> {
        match self {
            GraphConv::Gcn(conv) => conv.forward(x, &graph.gcn),
            GraphConv::Sage(conv) => conv.forward(x, &graph.neighbours),
            GraphConv::Gat(conv) => conv.forward(x, &graph.with_self_loops),
        }
    }

    fn weight_norm_sq(&self) -> Tensor<1> {
        match self {
            GraphConv::Gcn(conv) => conv.weight_norm_sq(),
            GraphConv::Sage(conv) => conv.weight_norm_sq(),
            GraphConv::Gat(conv) => conv.weight_norm_sq(),
        }
    }
}

#[derive(Module, Debug)]
pub struct Gnn {
    pub conv1: GraphConv,
    pub conv2: GraphConv,
    pub dropout: Dropout,
    #[module(skip)]
    pub arch: Arch,
}

impl Gnn {
    pub fn new(config: &GnnConfig, features: usize, classes: usize, device: &Device) -> Self {
        let hidden = config.hidden();
        let conv1_out = match config.arch {
            Arch::Gat => hidden * config.heads,
            _ => hidden,
        };
        Self {
            conv1: GraphConv::new(config, features, hidden, false, device),
            conv2: GraphConv::new(config, conv1_out, classes, true, device),
            dropout: DropoutConfig::new(config.dropout()).init(),
            arch: config.arch,
        }
    }

    /// Hidden node representations after the first layer and its activation: `[nodes, hidden]`.
    pub fn embed(&self, graph: &GraphTensors) -> Tensor<2> {
        let h = self.conv1.forward(graph.x.dropout(&self.dropout), graph);
        match self.arch {
            Arch::Gat => elu(h, 1.0),
            _ => relu(h),
        }
    }

    /// Class logits of every node: `[nodes, classes]`.
    pub fn forward(&self, graph: &GraphTensors) -> Tensor<2> {
        let h = self.dropout.forward(self.embed(graph));
        self.conv2.forward(h.into(), graph)
    }

    /// `sum ||W||^2 / 2` over the first layer's weights, or over both layers' (biases excluded).
    pub fn l2_penalty(&self, first_layer_only: bool) -> Tensor<1> {
        let first = self.conv1.weight_norm_sq();
        let total = if first_layer_only {
            first
        } else {
            first + self.conv2.weight_norm_sq()
        };
        total / 2.0
    }
}
