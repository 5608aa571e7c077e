//! GraphSAGE layer with the mean aggregator, Hamilton, Ying & Leskovec, "Inductive
//! Representation Learning on Large Graphs", NeurIPS 2017 (arXiv:1706.02216):
//! `h_i' = W_l mean_{j in N(i)} h_j + b + W_r h_i`.
//!
//! As in PyTorch Geometric's `SAGEConv` (default `root_weight=True`, no normalisation), with
//! its names: `lin_l` (neighbours, with bias) and `lin_r` (the node itself, no bias). The paper
//! concatenates instead of adding; PyG's sum of two maps is the same model with the
//! concatenated weight split in two. A node without neighbours aggregates zeros.

use crate::message::{EdgeIndex, NodeFeatures};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;

#[derive(Config, Debug)]
pub struct SageConvConfig {
    pub in_features: usize,
    pub out_features: usize,
}

#[derive(Module, Debug)]
pub struct SageConv {
    pub lin_l: Linear,
    pub lin_r: Linear,
}

impl SageConvConfig {
    pub fn init(&self, device: &Device) -> SageConv {
        SageConv {
            lin_l: LinearConfig::new(self.in_features, self.out_features).init(device),
            lin_r: LinearConfig::new(self.in_features, self.out_features)
                .with_bias(false)
                .init(device),
        }
    }
}

impl SageConv {
    /// `x`: `[nodes, in]`; `edges`: both directions, no self-loops. Returns `[nodes, out]`.
    pub fn forward(&self, x: impl Into<NodeFeatures>, edges: &EdgeIndex) -> Tensor<2> {
        let x = x.into();
        // mean(x_j) W = mean(x_j W): project first so fewer features travel along the edges.
        let projected = x.matmul(self.lin_l.weight.val()); // [nodes, out]
        let summed = edges.scatter_sum(edges.gather_source(projected)); // [nodes, out]
        let mean = summed / edges.in_degree.clone().clamp_min(1.0);
        let mut out = mean + x.matmul(self.lin_r.weight.val());
        if let Some(bias) = &self.lin_l.bias {
            out = out + bias.val().unsqueeze();
        }
        out
    }

    /// Reference path: `adjacency` is the dense 0/1 `[nodes, nodes]` matrix (no self-loops).
    pub fn forward_dense(&self, x: Tensor<2>, adjacency: Tensor<2>) -> Tensor<2> {
        let degree = adjacency.clone().sum_dim(1).clamp_min(1.0); // [nodes, 1]
        let mean = adjacency.matmul(x.clone()) / degree;
        self.lin_l.forward(mean) + self.lin_r.forward(x)
    }

    pub fn weight_norm_sq(&self) -> Tensor<1> {
        self.lin_l.weight.val().powi_scalar(2).sum() + self.lin_r.weight.val().powi_scalar(2).sum()
    }
}
