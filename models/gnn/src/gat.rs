//! Graph attention layer of Veličković et al., "Graph Attention Networks", ICLR 2018
//! (arXiv:1710.10903): per head, `e_ij = LeakyReLU_0.2(a_dst . W h_i + a_src . W h_j)`,
//! `alpha_ij = softmax_j(e_ij)` over the incoming edges of `i` (self-loop included), dropout on
//! `alpha`, `h_i' = sum_j alpha_ij W h_j`; heads concatenated (hidden layers) or averaged
//! (output layer), then a bias.
//!
//! PyTorch Geometric's `GATConv` names: `lin.weight` (`[heads * out, in]` in PyTorch),
//! `att_src` and `att_dst` (`[1, heads, out]`) and `bias` (`[heads * out]` when concatenating,
//! else `[out]`), all Glorot-initialised except the zero bias.

use crate::message::{EdgeIndex, NodeFeatures, segment_softmax};
use burn::module::Param;
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{leaky_relu, softmax};

#[derive(Config, Debug)]
pub struct GatConvConfig {
    pub in_features: usize,
    /// Features per head.
    pub out_features: usize,
    #[config(default = 1)]
    pub heads: usize,
    /// Concatenate the heads (`[nodes, heads * out]`) or average them (`[nodes, out]`).
    #[config(default = true)]
    pub concat: bool,
    #[config(default = 0.2)]
    pub negative_slope: f64,
    /// Dropout on the attention coefficients.
    #[config(default = 0.0)]
    pub attention_dropout: f64,
    /// Dropout on the projected features before they are aggregated (the GAT authors' code
    /// applies the input dropout here a second time; PyG's `GATConv` does not).
    #[config(default = 0.0)]
    pub value_dropout: f64,
}

#[derive(Module, Debug)]
pub struct GatConv {
    pub lin: Linear,
    pub att_src: Param<Tensor<3>>,
    pub att_dst: Param<Tensor<3>>,
    pub bias: Param<Tensor<1>>,
    pub attention_dropout: Dropout,
    pub value_dropout: Dropout,
    #[module(skip)]
    pub heads: usize,
    #[module(skip)]
    pub out_features: usize,
    #[module(skip)]
    pub concat: bool,
    #[module(skip)]
    pub negative_slope: f64,
}

/// PyG's `glorot`: uniform in ±sqrt(6 / (fan_in + fan_out)) over the last two dimensions.
fn glorot(rows: usize, cols: usize) -> Initializer {
    let bound = (6.0 / (rows + cols) as f64).sqrt();
    Initializer::Uniform {
        min: -bound,
        max: bound,
    }
}

impl GatConvConfig {
    pub fn init(&self, device: &Device) -> GatConv {
        let (h, c) = (self.heads, self.out_features);
        GatConv {
            lin: LinearConfig::new(self.in_features, h * c)
                .with_bias(false)
                .with_initializer(Initializer::XavierUniform { gain: 1.0 })
                .init(device),
            att_src: glorot(h, c).init([1, h, c], device),
            att_dst: glorot(h, c).init([1, h, c], device),
            bias: Initializer::Zeros.init([if self.concat { h * c } else { c }], device),
            attention_dropout: DropoutConfig::new(self.attention_dropout).init(),
            value_dropout: DropoutConfig::new(self.value_dropout).init(),
            heads: h,
            out_features: c,
            concat: self.concat,
            negative_slope: self.negative_slope,
        }
    }
}

impl GatConv {
    /// Projected features `[nodes, heads, out]` and the per-node source and target attention
    /// terms `[nodes, heads]`.
    fn project(&self, x: NodeFeatures) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
        let h = x.matmul(self.lin.weight.val()); // [nodes, heads * out]
        let [n, _] = h.dims();
        let h = h.reshape([n, self.heads, self.out_features]);
        let score = |att: &Param<Tensor<3>>| -> Tensor<2> {
            (h.clone() * att.val()).sum_dim(2).squeeze_dim(2)
        };
        let (src, dst) = (score(&self.att_src), score(&self.att_dst));
        (h, src, dst)
    }

    fn combine_heads(&self, out: Tensor<3>) -> Tensor<2> {
        let [n, heads, c] = out.dims();
        let out = if self.concat {
            out.reshape([n, heads * c])
        } else {
            out.mean_dim(1).squeeze_dim(1)
        };
        out + self.bias.val().unsqueeze()
    }

    /// `x`: `[nodes, in]`; `edges`: both directions plus one self-loop per node.
    pub fn forward(&self, x: impl Into<NodeFeatures>, edges: &EdgeIndex) -> Tensor<2> {
        let (h, src_score, dst_score) = self.project(x.into());
        let scores = edges.gather_source(src_score) + edges.gather_target(dst_score); // [edges, heads]
        let alpha = segment_softmax(leaky_relu(scores, self.negative_slope), edges);
        let alpha = self.attention_dropout.forward(alpha);
        let values = self.value_dropout.forward(h); // [nodes, heads, out]
        let messages = edges.gather_source(values) * alpha.unsqueeze_dim(2); // [edges, heads, out]
        self.combine_heads(edges.scatter_sum(messages))
    }

    /// Reference path: `adjacency` is the dense `[nodes, nodes]` 0/1 matrix with self-loops;
    /// attention is a masked dense softmax per head (no dropout).
    pub fn forward_dense(&self, x: Tensor<2>, adjacency: Tensor<2>) -> Tensor<2> {
        let (h, src_score, dst_score) = self.project(x.into());
        // e[head, i, j] = dst_score[i, head] + src_score[j, head]
        let dst = dst_score.swap_dims(0, 1).unsqueeze_dim::<3>(2); // [heads, nodes, 1]
        let src = src_score.swap_dims(0, 1).unsqueeze_dim::<3>(1); // [heads, 1, nodes]
        let scores = leaky_relu(dst + src, self.negative_slope); // [heads, nodes, nodes]
        let mask = adjacency
            .equal_elem(0.0)
            .unsqueeze_dim::<3>(0)
            .expand(scores.shape());
        let alpha = softmax(scores.mask_fill(mask, f32::NEG_INFINITY), 2);
        let out = alpha.matmul(h.swap_dims(0, 1)); // [heads, nodes, out]
        self.combine_heads(out.swap_dims(0, 1))
    }

    /// The weights (projection and attention vectors, not the bias), for an L2 penalty.
    pub fn weight_norm_sq(&self) -> Tensor<1> {
        self.lin.weight.val().powi_scalar(2).sum()
            + self.att_src.val().powi_scalar(2).sum()
            + self.att_dst.val().powi_scalar(2).sum()
    }
}
