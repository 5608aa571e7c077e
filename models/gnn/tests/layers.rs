//! The sparse message-passing layers against their dense-adjacency reference, on random
//! graphs: outputs and gradients within 1e-5.

use burn::prelude::*;
use burn::tensor::Distribution;
use datasets::rng::SplitMix64;
use datasets::{Graph, NodeSplits};
use gnn::{
    EdgeIndex, GatConvConfig, GcnConvConfig, GraphEdges, NodeFeatures, SageConvConfig,
    dense_adjacency,
};
use trainer::testing::max_abs_diff;

/// A random undirected graph with `n` nodes and about `edges` edges (some nodes may be isolated).
fn random_graph(n: usize, edges: usize, seed: u64) -> Graph {
    let mut rng = SplitMix64::new(seed);
    let mut pairs = Vec::new();
    for _ in 0..edges {
        let (u, v) = (rng.below(n as u64) as u32, rng.below(n as u64) as u32);
        if u != v {
            pairs.push((u.min(v), u.max(v)));
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    Graph {
        name: "random".into(),
        node_ids: (0..n).map(|i| i.to_string()).collect(),
        num_features: 0,
        features: Vec::new(),
        labels: vec![0; n],
        class_names: vec!["only".into()],
        edges: pairs,
        splits: NodeSplits::default(),
    }
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}

/// Runs `sparse` and `dense` on the same input, compares outputs, then the gradient of a
/// random projection of the output with respect to the input.
fn check(
    x: Tensor<2>,
    sparse: impl Fn(Tensor<2>) -> Tensor<2>,
    dense: impl Fn(Tensor<2>) -> Tensor<2>,
    what: &str,
) {
    let x = x.require_grad();
    let (a, b) = (sparse(x.clone()), dense(x.clone()));
    let diff = max_abs_diff(&values(a.clone()), &values(b.clone()));
    assert!(diff < 1e-5, "{what}: outputs differ by {diff}");
    let probe = Tensor::<2>::random(a.shape(), Distribution::Normal(0.0, 1.0), &a.device());
    let grad_a = x.grad(&(a * probe.clone()).sum().backward()).unwrap();
    let grad_b = x.grad(&(b * probe).sum().backward()).unwrap();
    let diff = max_abs_diff(&values(grad_a), &values(grad_b));
    assert!(diff < 1e-5, "{what}: input gradients differ by {diff}");
}

#[test]
fn sparse_layers_match_dense_reference_on_random_graphs() {
    let device = Device::flex().autodiff();
    device.seed(7);
    for (seed, n, e) in [(1, 9, 12), (2, 30, 80), (3, 50, 40)] {
        let graph = random_graph(n, e, seed);
        let x = Tensor::<2>::random([n, 6], Distribution::Normal(0.0, 1.0), &device);

        let gcn_edges = GraphEdges::gcn(&graph.edges, graph.num_nodes());
        let gcn = GcnConvConfig::new(6, 5).init(&device);
        let index = EdgeIndex::new(&gcn_edges, n, &device);
        let adjacency = dense_adjacency(&gcn_edges, n, &device);
        check(
            x.clone(),
            |x| gcn.forward(x, &index),
            |x| gcn.forward_dense(x, adjacency.clone()),
            "GCN",
        );

        let neighbours = GraphEdges::both_directions(&graph.edges, graph.num_nodes(), false);
        let sage = SageConvConfig::new(6, 5).init(&device);
        let index = EdgeIndex::new(&neighbours, n, &device);
        let adjacency = dense_adjacency(&neighbours, n, &device);
        check(
            x.clone(),
            |x| sage.forward(x, &index),
            |x| sage.forward_dense(x, adjacency.clone()),
            "SAGE",
        );

        let loops = GraphEdges::both_directions(&graph.edges, graph.num_nodes(), true);
        let index = EdgeIndex::new(&loops, n, &device);
        let adjacency = dense_adjacency(&loops, n, &device);
        for concat in [true, false] {
            let gat = GatConvConfig::new(6, 4)
                .with_heads(3)
                .with_concat(concat)
                .init(&device);
            check(
                x.clone(),
                |x| gat.forward(x, &index),
                |x| gat.forward_dense(x, adjacency.clone()),
                "GAT",
            );
        }
    }
}

#[test]
fn gat_attention_sums_to_one_per_node_even_with_extreme_scores() {
    let device = Device::flex();
    let edges = GraphEdges {
        src: vec![0, 1, 2, 1, 2],
        dst: vec![0, 0, 0, 1, 2],
        weight: vec![1.0; 5],
    };
    let index = EdgeIndex::new(&edges, 3, &device);
    let scores = Tensor::<2>::from_data(
        [
            [-1e4, 2.0],
            [3.0, 1e4],
            [0.0, 0.0],
            [50.0, -50.0],
            [1.0, 1.0],
        ],
        &device,
    );
    let alpha = values(gnn::segment_softmax(scores, &index));
    assert!(alpha.iter().all(|a| a.is_finite()));
    for head in 0..2 {
        let node0: f32 = (0..3).map(|e| alpha[e * 2 + head]).sum();
        assert!((node0 - 1.0).abs() < 1e-6);
        assert!((alpha[3 * 2 + head] - 1.0).abs() < 1e-6);
    }
}

#[test]
fn sparse_features_give_the_dense_result_and_gradients() {
    let device = Device::flex().autodiff();
    device.seed(3);
    let (n, f) = (40, 30);
    let graph = random_graph(n, 90, 4);
    let mut rng = SplitMix64::new(5);
    let values: Vec<f32> = (0..n * f)
        .map(|_| {
            if rng.below(10) == 0 {
                rng.unit() as f32
            } else {
                0.0
            }
        })
        .collect();
    let sparse = NodeFeatures::new(&values, n, 1.0, &device);
    let dense = NodeFeatures::new(&values, n, 0.0, &device);
    assert!(matches!(sparse, NodeFeatures::Sparse { .. }));
    assert!(matches!(dense, NodeFeatures::Dense(_)));

    let gcn = GcnConvConfig::new(f, 8).init(&device);
    let sage = SageConvConfig::new(f, 8).init(&device);
    let gat = GatConvConfig::new(f, 4).with_heads(2).init(&device);
    let gcn_edges = EdgeIndex::new(
        &GraphEdges::gcn(&graph.edges, graph.num_nodes()),
        n,
        &device,
    );
    let neighbours = EdgeIndex::new(
        &GraphEdges::both_directions(&graph.edges, graph.num_nodes(), false),
        n,
        &device,
    );
    let loops = EdgeIndex::new(
        &GraphEdges::both_directions(&graph.edges, graph.num_nodes(), true),
        n,
        &device,
    );
    let run = |x: &NodeFeatures| {
        gcn.forward(x.clone(), &gcn_edges).sum()
            + sage.forward(x.clone(), &neighbours).powi_scalar(2).sum()
            + gat.forward(x.clone(), &loops).sin().sum()
    };
    let (a, b) = (run(&sparse), run(&dense));
    let (va, vb): (f32, f32) = (a.clone().into_scalar(), b.clone().into_scalar());
    assert!((va - vb).abs() < 1e-4 * va.abs().max(1.0), "{va} vs {vb}");
    let (ga, gb) = (a.backward(), b.backward());
    for (what, weight) in [
        ("GCN", gcn.lin.weight.val()),
        ("SAGE", sage.lin_l.weight.val()),
        ("SAGE root", sage.lin_r.weight.val()),
        ("GAT", gat.lin.weight.val()),
    ] {
        let diff = max_abs_diff(
            &values_of(weight.grad(&ga).unwrap()),
            &values_of(weight.grad(&gb).unwrap()),
        );
        assert!(diff < 1e-5, "{what}: weight gradients differ by {diff}");
    }
}

fn values_of(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().unwrap()
}
