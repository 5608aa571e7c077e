//! Checks every cell's test suite runs (`lstm`, `gru`): PyTorch parity on fixtures written by
//! `scripts/parity/rnn.py`, and eval of torch-trained weights. Kept here so the two crates share
//! one implementation; each calls these with its cell.

use crate::cell::{Cell, State};
use crate::classify::Examples;
use crate::model::{InputKind, ModelConfig, SequenceModel, Steps, pytorch};
use crate::task::{SavedArgs, ids_tensor};
use burn::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use trainer::testing::max_abs_diff;

/// Tolerance of every parity comparison.
pub const TOLERANCE: f32 = 1e-4;

/// The fixtures folder of a model crate.
pub fn fixtures(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("tests/fixtures")
}

/// A fixture file's tensors as f32 (ids too) with their shapes.
pub fn read_tensors(path: &Path) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/parity/rnn.py", path.display()));
    let file = safetensors::SafeTensors::deserialize(&bytes).expect("a safetensors file");
    file.tensors()
        .into_iter()
        .map(|(name, view)| {
            let data = view.data();
            let values = match view.dtype() {
                safetensors::Dtype::F32 => data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                safetensors::Dtype::I64 => data
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32)
                    .collect(),
                other => panic!("{name}: unexpected dtype {other:?}"),
            };
            (name, (view.shape().to_vec(), values))
        })
        .collect()
}

fn load<C: Cell>(config: &ModelConfig, weights: &Path, device: &Device) -> SequenceModel {
    let model = SequenceModel::new::<C>(config, device);
    trainer::weights::load_weights_renamed(model, weights, &pytorch::from_torch(), &[])
        .unwrap_or_else(|e| panic!("{e:#}"))
}

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_to_vec().expect("f32 values")
}

/// The final states in `h_n` order as one `[layers * directions, batch, hidden]` buffer.
fn stacked(states: &[State], cell_state: bool) -> Vec<f32> {
    states
        .iter()
        .flat_map(|s| {
            let t = if cell_state {
                s.c.clone().expect("a cell state")
            } else {
                s.h.clone()
            };
            values(t)
        })
        .collect()
}

fn assert_close(what: &str, ours: &[f32], theirs: &[f32]) {
    assert_eq!(ours.len(), theirs.len(), "{what}: sizes differ");
    let diff = max_abs_diff(ours, theirs);
    assert!(
        diff <= TOLERANCE,
        "{what}: max |burn - torch| = {diff} > {TOLERANCE}"
    );
}

/// A 2-layer bidirectional classifier on a padded batch (lengths 7, 4, 1): per-step outputs
/// (zeros at padding), final states and logits match `pack_padded_sequence` in PyTorch.
pub fn classify_parity<C: Cell>(dir: &Path) {
    let device = Device::default();
    let config = ModelConfig {
        cell: C::NAME.into(),
        input: InputKind::Tokens {
            vocab: 11,
            embedding: 5,
        },
        hidden: 6,
        layers: 2,
        bidirectional: true,
        dropout: 0.0,
        outputs: 3,
    };
    let model = load::<C>(
        &config,
        &dir.join(format!("{}_classify.safetensors", C::NAME)),
        &device,
    );
    let io = read_tensors(&dir.join(format!("{}_classify_io.safetensors", C::NAME)));
    let (shape, tokens) = &io["tokens"]; // [batch, time], 0 = padding
    let lengths = &io["lengths"].1;
    let sequences: Vec<Vec<u32>> = tokens
        .chunks_exact(shape[1])
        .zip(lengths)
        .map(|(row, &n)| row[..n as usize].iter().map(|&v| v as u32).collect())
        .collect();
    let examples = Examples::Tokens {
        labels: vec![0; sequences.len()],
        sequences,
    };
    let (steps, mask, _) = examples.batch(&[0, 1, 2], &device);
    let Steps::Tokens(ids) = steps else {
        unreachable!()
    };
    let logits = model.forward_classify::<C>(Steps::Tokens(ids.clone()), mask.as_deref());
    let (outputs, states) = model.encode::<C>(Steps::Tokens(ids), mask.as_deref(), None);
    let outputs: Vec<f32> = outputs.into_iter().flat_map(values).collect(); // [time, batch, 2h]
    assert_close("per-step outputs", &outputs, &io["outputs"].1);
    assert_close("h_n", &stacked(&states, false), &io["h_n"].1);
    if C::CELL_STATE {
        assert_close("c_n", &stacked(&states, true), &io["c_n"].1);
    }
    assert_close("logits", &values(logits), &io["logits"].1);
}

/// A 2-layer language model from a given initial state: next-token logits and final states.
pub fn lm_parity<C: Cell>(dir: &Path) {
    let device = Device::default();
    let config = ModelConfig {
        cell: C::NAME.into(),
        input: InputKind::Tokens {
            vocab: 11,
            embedding: 4,
        },
        hidden: 6,
        layers: 2,
        bidirectional: false,
        dropout: 0.0,
        outputs: 11,
    };
    let model = load::<C>(
        &config,
        &dir.join(format!("{}_lm.safetensors", C::NAME)),
        &device,
    );
    let io = read_tensors(&dir.join(format!("{}_lm_io.safetensors", C::NAME)));
    let (shape, tokens) = &io["tokens"]; // [time, batch]
    let batch = shape[1];
    let steps: Vec<Tensor<1, Int>> = tokens
        .chunks_exact(batch)
        .map(|row| ids_tensor(&row.iter().map(|&v| v as u32).collect::<Vec<_>>(), &device))
        .collect();
    let layer_state = |name: &str, layer: usize| {
        let (shape, v) = &io[name];
        let size = shape[1] * shape[2];
        Tensor::from_data(
            TensorData::new(
                v[layer * size..(layer + 1) * size].to_vec(),
                [shape[1], shape[2]],
            ),
            &device,
        )
    };
    let initial = (0..2)
        .map(|l| State {
            h: layer_state("h0", l),
            c: C::CELL_STATE.then(|| layer_state("c0", l)),
        })
        .collect();
    let (logits, states) = model.forward_lm::<C>(steps, Some(initial));
    assert_close("logits", &values(logits), &io["logits"].1);
    assert_close("h_n", &stacked(&states, false), &io["h_n"].1);
    if C::CELL_STATE {
        assert_close("c_n", &stacked(&states, true), &io["c_n"].1);
    }
}

/// `eval` of weights trained in PyTorch on seq-toy gives PyTorch's test loss and accuracy.
pub fn torch_trained_eval<C: Cell>(dir: &Path) {
    let run = dir.join(format!("{}_seqtoy", C::NAME));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("expected.json")).unwrap()).unwrap();
    let saved = SavedArgs {
        weights: trainer::cli::WeightsArgs {
            weights: run.join("model.safetensors"),
            config: None,
        },
        device: trainer::cli::DeviceArgs { device: None },
        data_dir: None,
    };
    let metrics = crate::task::eval::<C>(&saved).unwrap_or_else(|e| panic!("{e:#}"));
    let accuracy = expected["accuracy"].as_f64().unwrap();
    let loss = expected["loss"].as_f64().unwrap();
    // Torch's figure is a float32 mean; one test sequence is 0.05%.
    assert!(
        (metrics.accuracy - accuracy).abs() < 1e-3,
        "accuracy {} vs torch {accuracy}",
        metrics.accuracy
    );
    assert!(
        (metrics.loss - loss).abs() < 1e-4,
        "loss {} vs torch {loss}",
        metrics.loss
    );
}
