//! Message passing on Burn tensors. Burn 0.22 has no sparse tensors, so a graph is its edge
//! list: messages are gathered from source nodes with `select` and summed into target nodes
//! with `select_assign(.., IndexingUpdateOp::Add)` (a scatter-add); both are differentiable.

use crate::edges::GraphEdges;
use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;

/// Directed, weighted edges `src[e] -> dst[e]` on a device, with each node's weighted in-degree.
#[derive(Clone, Debug)]
pub struct EdgeIndex {
    /// `[edges]` source node of each edge.
    pub src: Tensor<1, Int>,
    /// `[edges]` target node of each edge.
    pub dst: Tensor<1, Int>,
    /// `[edges, 1]` edge weights (1, or the GCN normalisation).
    pub weight: Tensor<2>,
    /// `[nodes, 1]` number of incoming edges of each node.
    pub in_degree: Tensor<2>,
    pub num_nodes: usize,
    pub num_edges: usize,
}

impl EdgeIndex {
    pub fn new(edges: &GraphEdges, num_nodes: usize, device: &Device) -> Self {
        let e = edges.len();
        let to_int = |v: &[u32]| {
            let v: Vec<i64> = v.iter().map(|&i| i as i64).collect();
            Tensor::<1, Int>::from_data(TensorData::new(v, [e]), device)
        };
        let mut in_degree = vec![0f32; num_nodes];
        for &d in &edges.dst {
            in_degree[d as usize] += 1.0;
        }
        Self {
            src: to_int(&edges.src),
            dst: to_int(&edges.dst),
            weight: Tensor::from_data(TensorData::new(edges.weight.clone(), [e, 1]), device),
            in_degree: Tensor::from_data(TensorData::new(in_degree, [num_nodes, 1]), device),
            num_nodes,
            num_edges: e,
        }
    }

    /// Rows of `x` (`[nodes, ...]`) at each edge's source: `[edges, ...]`.
    pub fn gather_source<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x.select(0, self.src.clone())
    }

    /// Rows of `x` (`[nodes, ...]`) at each edge's target: `[edges, ...]`.
    pub fn gather_target<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        x.select(0, self.dst.clone())
    }

    /// Sums edge messages (`[edges, ...]`) into their target nodes: `[nodes, ...]`.
    pub fn scatter_sum<const D: usize>(&self, messages: Tensor<D>) -> Tensor<D> {
        let mut shape = messages.shape();
        shape[0] = self.num_nodes;
        Tensor::zeros(shape, &messages.device()).select_assign(
            0,
            self.dst.clone(),
            messages,
            IndexingUpdateOp::Add,
        )
    }
}

/// Node features as the first layer sees them. Bag-of-words features are mostly zeros (Cora:
/// 1.3% non-zero), so they are kept as `(row, column, value)` triples: `X W` becomes a gather of
/// `W`'s rows and a scatter-add into nodes, and dropout touches only the non-zeros (Kipf &
/// Welling's sparse dropout; zeros stay zero under dropout either way, so the model is the same).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum NodeFeatures {
    /// `[nodes, features]`
    Dense(Tensor<2>),
    Sparse {
        /// `[non-zeros]`
        rows: Tensor<1, Int>,
        /// `[non-zeros]`
        cols: Tensor<1, Int>,
        /// `[non-zeros, 1]`
        values: Tensor<2>,
        num_nodes: usize,
    },
}

impl From<Tensor<2>> for NodeFeatures {
    fn from(x: Tensor<2>) -> Self {
        NodeFeatures::Dense(x)
    }
}

impl NodeFeatures {
    /// Sparse when at most `max_density` of the `[nodes, features]` row-major values are
    /// non-zero, dense otherwise.
    pub fn new(values: &[f32], num_nodes: usize, max_density: f64, device: &Device) -> Self {
        let width = values.len() / num_nodes.max(1);
        let nonzero: Vec<usize> = (0..values.len()).filter(|&i| values[i] != 0.0).collect();
        if nonzero.len() as f64 > max_density * values.len() as f64 {
            return NodeFeatures::Dense(Tensor::from_data(
                TensorData::new(values.to_vec(), [num_nodes, width]),
                device,
            ));
        }
        let nnz = nonzero.len();
        let int = |v: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(v, [nnz]), device);
        NodeFeatures::Sparse {
            rows: int(nonzero.iter().map(|&i| (i / width) as i64).collect()),
            cols: int(nonzero.iter().map(|&i| (i % width) as i64).collect()),
            values: Tensor::from_data(
                TensorData::new(nonzero.iter().map(|&i| values[i]).collect(), [nnz, 1]),
                device,
            ),
            num_nodes,
        }
    }

    /// `X @ weight` for `weight` `[features, out]`: `[nodes, out]`.
    pub fn matmul(&self, weight: Tensor<2>) -> Tensor<2> {
        match self {
            NodeFeatures::Dense(x) => x.clone().matmul(weight),
            NodeFeatures::Sparse {
                rows,
                cols,
                values,
                num_nodes,
            } => {
                let [_, out] = weight.dims();
                let contributions = weight.select(0, cols.clone()) * values.clone(); // [nnz, out]
                Tensor::zeros([*num_nodes, out], &contributions.device()).select_assign(
                    0,
                    rows.clone(),
                    contributions,
                    IndexingUpdateOp::Add,
                )
            }
        }
    }

    /// Applies `dropout` to the stored values.
    pub fn dropout(&self, dropout: &burn::nn::Dropout) -> Self {
        match self {
            NodeFeatures::Dense(x) => NodeFeatures::Dense(dropout.forward(x.clone())),
            NodeFeatures::Sparse {
                rows,
                cols,
                values,
                num_nodes,
            } => NodeFeatures::Sparse {
                rows: rows.clone(),
                cols: cols.clone(),
                values: dropout.forward(values.clone()),
                num_nodes: *num_nodes,
            },
        }
    }
}

/// Softmax of edge scores (`[edges, heads]`) over each target node's incoming edges.
///
/// Each segment is shifted by its maximum (a scatter-max) for stability. The shift is detached:
/// softmax does not depend on it, so its gradient is zero anyway, and Burn leaves the gradient
/// of scatter-max with duplicate indices undefined. The `1e-16` in the denominator is PyG's.
pub fn segment_softmax(scores: Tensor<2>, edges: &EdgeIndex) -> Tensor<2> {
    let [_, heads] = scores.dims();
    let device = scores.device();
    let max = Tensor::<2>::full([edges.num_nodes, heads], f32::NEG_INFINITY, &device)
        .select_assign(
            0,
            edges.dst.clone(),
            scores.clone().detach(),
            IndexingUpdateOp::Max,
        );
    let exp = (scores - edges.gather_target(max).detach()).exp(); // [edges, heads]
    let sum = edges.scatter_sum(exp.clone()); // [nodes, heads]
    exp / (edges.gather_target(sum) + 1e-16)
}

/// The dense `[nodes, nodes]` matrix of `edges`: entry `(target, source)` holds the weight, so
/// `A @ X` sums messages into targets. The reference path the sparse layers are tested against.
pub fn dense_adjacency(edges: &GraphEdges, num_nodes: usize, device: &Device) -> Tensor<2> {
    let mut dense = vec![0f32; num_nodes * num_nodes];
    for e in 0..edges.len() {
        dense[edges.dst[e] as usize * num_nodes + edges.src[e] as usize] += edges.weight[e];
    }
    Tensor::from_data(TensorData::new(dense, [num_nodes, num_nodes]), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_sum_and_segment_softmax_on_a_star() {
        let device = Device::flex();
        // Edges into node 0 from 1, 2, 3, and 0 -> 1.
        let edges = GraphEdges {
            src: vec![1, 2, 3, 0],
            dst: vec![0, 0, 0, 1],
            weight: vec![1.0; 4],
        };
        let index = EdgeIndex::new(&edges, 4, &device);
        let x = Tensor::<2>::from_data([[1.0], [2.0], [3.0], [4.0]], &device);
        let summed: Vec<f32> = index
            .scatter_sum(index.gather_source(x))
            .into_data()
            .try_to_vec()
            .unwrap();
        assert_eq!(summed, [9.0, 1.0, 0.0, 0.0]);
        let degree: Vec<f32> = index.in_degree.clone().into_data().try_to_vec().unwrap();
        assert_eq!(degree, [3.0, 1.0, 0.0, 0.0]);

        let scores = Tensor::<2>::from_data([[0.0], [1.0], [1000.0], [5.0]], &device);
        let alpha: Vec<f32> = segment_softmax(scores, &index)
            .into_data()
            .try_to_vec()
            .unwrap();
        // Node 0's three edges sum to 1 despite the large score; node 1's only edge gets 1.
        assert!((alpha[0] + alpha[1] + alpha[2] - 1.0).abs() < 1e-6);
        assert!((alpha[2] - 1.0).abs() < 1e-6 && (alpha[3] - 1.0).abs() < 1e-6);
    }
}
