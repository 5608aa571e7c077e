//! Graph convolution of Kipf & Welling, "Semi-Supervised Classification with Graph
//! Convolutional Networks", ICLR 2017 (arXiv:1609.02907):
//! `H' = D^-1/2 (A + I) D^-1/2 H W + b`.
//!
//! Parameter names are PyTorch Geometric's `GCNConv`: `lin.weight` (`[out, in]` in PyTorch,
//! transposed by the safetensors adapter) and `bias`. The normalised edge weights are computed
//! once per graph ([`crate::GraphEdges::gcn`]), PyG's `cached=True`.

use crate::message::{EdgeIndex, NodeFeatures};
use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

#[derive(Config, Debug)]
pub struct GcnConvConfig {
    pub in_features: usize,
    pub out_features: usize,
}

#[derive(Module, Debug)]
pub struct GcnConv {
    /// Linear map without bias (Glorot-initialised, as in the paper and PyG).
    pub lin: Linear,
    /// `[out]`, zero-initialised; added after propagation.
    pub bias: Param<Tensor<1>>,
}

impl GcnConvConfig {
    pub fn init(&self, device: &Device) -> GcnConv {
        GcnConv {
            lin: LinearConfig::new(self.in_features, self.out_features)
                .with_bias(false)
                .with_initializer(Initializer::XavierUniform { gain: 1.0 })
                .init(device),
            bias: Initializer::Zeros.init([self.out_features], device),
        }
    }
}

impl GcnConv {
    /// `x`: `[nodes, in]`; `edges`: both directions plus self-loops, weighted by the symmetric
    /// normalisation. Returns `[nodes, out]`.
    pub fn forward(&self, x: impl Into<NodeFeatures>, edges: &EdgeIndex) -> Tensor<2> {
        // Transform first: fewer features travel along the edges.
        let h = x.into().matmul(self.lin.weight.val()); // [nodes, out]
        let messages = edges.gather_source(h) * edges.weight.clone(); // [edges, out]
        edges.scatter_sum(messages) + self.bias.val().unsqueeze()
    }

    /// Reference path: `adjacency` is the dense normalised `[nodes, nodes]` matrix.
    pub fn forward_dense(&self, x: Tensor<2>, adjacency: Tensor<2>) -> Tensor<2> {
        adjacency.matmul(self.lin.forward(x)) + self.bias.val().unsqueeze()
    }

    /// The weights of the layer (not the bias), for an L2 penalty.
    pub fn weight_norm_sq(&self) -> Tensor<1> {
        self.lin.weight.val().powi_scalar(2).sum()
    }
}
