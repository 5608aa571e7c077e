//! PyTorch Geometric parity: `scripts/parity/gnn.py` (torch 2.15, torch_geometric 2.8.1) saved
//! random weights with PyG's names, a random 12-node graph, and PyG's outputs. Burn loads the
//! weights unchanged (Linear weights transposed by the safetensors adapter) and matches within
//! 1e-4.

use burn::prelude::*;
use datasets::{Graph, NodeSplits};
use gnn::{
    Arch, EdgeIndex, GatConv, GatConvConfig, GcnConv, GcnConvConfig, Gnn, GnnConfig, GraphEdges,
    GraphTensors, SageConv, SageConvConfig,
};
use std::path::PathBuf;
use trainer::testing::max_abs_diff;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.safetensors"))
}

/// Tensors of a fixture file as (shape, values).
fn read(name: &str) -> std::collections::HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| {
            let values = match view.dtype() {
                safetensors::Dtype::F32 => view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect(),
                safetensors::Dtype::I64 => view
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                other => panic!("unexpected dtype {other:?}"),
            };
            (name, (view.shape().to_vec(), values))
        })
        .collect()
}

/// The fixture graph (labels are unused by the forward pass).
fn fixture_graph() -> Graph {
    let t = read("gnn_graph");
    let (x_shape, x) = &t["x"];
    let (_, edges) = &t["edges"];
    let n = x_shape[0];
    Graph {
        name: "fixture".into(),
        node_ids: (0..n).map(|i| i.to_string()).collect(),
        num_features: x_shape[1],
        features: x.clone(),
        labels: vec![0; n],
        class_names: vec!["a".into(), "b".into(), "c".into()],
        edges: edges
            .chunks_exact(2)
            .map(|p| (p[0] as u32, p[1] as u32))
            .collect(),
        splits: NodeSplits::default(),
    }
}

fn assert_close(actual: Tensor<2>, expected: &(Vec<usize>, Vec<f32>), what: &str) {
    assert_eq!(actual.dims().to_vec(), expected.0, "{what}: shape");
    let actual: Vec<f32> = actual.into_data().try_to_vec().unwrap();
    let diff = max_abs_diff(&actual, &expected.1);
    assert!(diff < 1e-4, "{what}: max |burn - pyg| = {diff}");
}

#[derive(Module, Debug)]
struct Layers {
    gcn: GcnConv,
    sage: SageConv,
    gat: GatConv,
    gat_mean: GatConv,
}

#[test]
fn layers_match_pytorch_geometric() {
    let device = Device::flex();
    let graph = fixture_graph();
    let layers = Layers {
        gcn: GcnConvConfig::new(5, 4).init(&device),
        sage: SageConvConfig::new(5, 4).init(&device),
        gat: GatConvConfig::new(5, 3).with_heads(2).init(&device),
        gat_mean: GatConvConfig::new(5, 3)
            .with_heads(2)
            .with_concat(false)
            .init(&device),
    };
    let layers = trainer::weights::load_weights(layers, &fixture("gnn_layers"), &[]).unwrap();
    let expected = read("gnn_layers_out");
    let g = GraphTensors::new(&graph, &device);
    let n = graph.num_nodes();
    assert_close(
        layers.gcn.forward(g.x.clone(), &g.gcn),
        &expected["gcn"],
        "GCNConv",
    );
    assert_close(
        layers.sage.forward(g.x.clone(), &g.neighbours),
        &expected["sage"],
        "SAGEConv (node 11 has no neighbours)",
    );
    let loops = EdgeIndex::new(
        &GraphEdges::both_directions(&graph.edges, n, true),
        n,
        &device,
    );
    assert_close(
        layers.gat.forward(g.x.clone(), &loops),
        &expected["gat"],
        "GATConv concat",
    );
    assert_close(
        layers.gat_mean.forward(g.x.clone(), &loops),
        &expected["gat_mean"],
        "GATConv mean",
    );
}

#[test]
fn two_layer_models_match_pytorch_geometric_and_export_round_trips() {
    let device = Device::flex();
    let graph = fixture_graph();
    let g = GraphTensors::new(&graph, &device);
    for arch in [Arch::Gcn, Arch::Sage, Arch::Gat] {
        let name = format!("gnn_{}", arch.name());
        let config = GnnConfig {
            arch,
            ..GnnConfig::default()
        };
        let model = Gnn::new(&config, 5, 3, &device);
        let model = trainer::weights::load_weights(model, &fixture(&name), &[]).unwrap();
        let expected = read(&format!("{name}_out"));
        assert_close(model.forward(&g), &expected["logits"], &name);
        assert_close(
            model.embed(&g),
            &expected["embedding"],
            &format!("{name} embedding"),
        );

        // export writes PyG's names back: the file loads into a fresh model unchanged.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.safetensors");
        trainer::weights::export_safetensors(&model, &path, &[]).unwrap();
        let exported = read_names(&path);
        let original = read_names(&fixture(&name));
        assert_eq!(exported, original, "{name}: exported names");
        let reloaded =
            trainer::weights::load_weights(Gnn::new(&config, 5, 3, &device), &path, &[]).unwrap();
        assert_close(
            reloaded.forward(&g),
            &expected["logits"],
            &format!("{name} reloaded"),
        );
    }
}

fn read_names(path: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let mut names: Vec<String> = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect();
    names.sort();
    names
}

#[test]
fn mismatched_weights_name_the_tensor() {
    let device = Device::flex();
    // GCN weights into a GAT model: missing attention vectors, wrong shapes.
    let config = GnnConfig {
        arch: Arch::Gat,
        ..GnnConfig::default()
    };
    let err =
        trainer::weights::load_weights(Gnn::new(&config, 5, 3, &device), &fixture("gnn_gcn"), &[])
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("gnn_gcn.safetensors") && err.contains("conv1"),
        "{err}"
    );
}
