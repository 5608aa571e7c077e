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
        pool: Default::default(),
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
    let outputs: Vec<f32> = values(outputs); // [time * batch, 2h]
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
        pool: Default::default(),
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

/// `eval` of weights trained in PyTorch on compare-halves gives PyTorch's test loss and accuracy.
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
    let out = std::env::temp_dir().join(format!("zoo-eval-{}-{}", C::NAME, std::process::id()));
    let outputs = trainer::cli::EvalOutputArgs {
        out: Some(out.clone()),
    };
    let metrics = crate::cli::eval::<C>(&saved, &outputs).unwrap_or_else(|e| panic!("{e:#}"));
    for file in ["confusion.csv", "confusion.png", "roc.png", "pr.png"] {
        assert!(out.join(file).is_file(), "eval wrote no {file}");
    }
    // compare-halves is binary: one area, of the positive class.
    let auc = metrics.roc_auc.expect("a binary task has a ROC AUC");
    assert!((0.5..=1.0).contains(&auc), "ROC AUC {auc}");
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

pub mod cli;

/// The fused layers ([`crate::fused`]) against the step-by-step loop on the same weights,
/// 2 layers, one- and bidirectional, with and without padding (lengths 7, 4, 1), from non-zero
/// initial states: per-step outputs, final states, and the gradients of the inputs, the initial
/// states and every weight and bias of a loss that reads all of them. Both paths run on Burn's
/// default (CPU) device with autodiff.
pub fn fused_matches_steps<C: Cell>() {
    fused_matches_steps_on::<C>(None);
}

/// [`fused_matches_steps`] with the step loop on `other` (an autodiff device of a backend
/// without the fused layer, e.g. wgpu): the same weights and inputs copied there, run through
/// [`crate::Recurrent::forward`], which takes the step loop on such a backend (the GPU path).
pub fn fused_matches_steps_on<C: Cell>(other: Option<&Device>) {
    // Burn's default device is a GPU when one is compiled in: the fused side runs on the CPU.
    #[cfg(feature = "flex")]
    let device = Device::flex().autodiff();
    #[cfg(not(feature = "flex"))]
    let device = Device::default().autodiff();
    if let Some(other) = other {
        assert!(
            !crate::fused::supported(other),
            "{other:?} has the fused layer"
        );
    }
    assert!(crate::fused::supported(&device) && C::FUSED.is_some());
    let (steps, batch, input, hidden) = (7, 3, 4, 5);
    let normal = burn::tensor::Distribution::Normal(0.0, 1.0);
    let random = |shape: [usize; 2]| Tensor::<2>::random(shape, normal, &device);
    let lengths = [7, 4, 1];
    let masks: Vec<Tensor<2>> = (0..steps)
        .map(|t| {
            let real: Vec<f32> = lengths.iter().map(|&n| (t < n) as u8 as f32).collect();
            Tensor::from_data(TensorData::new(real, [batch, 1]), &device)
        })
        .collect();
    for (bidirectional, masked) in [(false, false), (true, false), (false, true), (true, true)] {
        let rnn = crate::Recurrent::new::<C>(input, hidden, 2, bidirectional, 0.0, &device);
        let xs = Tensor::<3>::random([steps, batch, input], normal, &device).require_grad();
        let initial: Vec<State> = rnn
            .zero_states::<C>(batch, &device)
            .into_iter()
            .map(|s| State {
                h: random([batch, hidden]).require_grad(),
                c: s.c.map(|_| random([batch, hidden]).require_grad()),
            })
            .collect();
        let width = if bidirectional { 2 * hidden } else { hidden };
        let (out_weights, h_weights, c_weights) = (
            random([steps * batch, width]),
            random([batch, hidden]),
            random([batch, hidden]),
        );
        let run = |fused: bool| {
            // The step loop runs on `other` when given: everything is copied there, as leaves.
            let on = if fused {
                &device
            } else {
                other.unwrap_or(&device)
            };
            let leaf = |t: &Tensor<2>| t.clone().to_device(on).detach().require_grad();
            let rnn = rnn.clone().fork(on);
            let xs = xs.clone().to_device(on).detach().require_grad();
            let initial: Vec<State> = initial
                .iter()
                .map(|s| State {
                    h: leaf(&s.h),
                    c: s.c.as_ref().map(leaf),
                })
                .collect();
            let masks: Vec<Tensor<2>> = masks.iter().map(|m| m.clone().to_device(on)).collect();
            let mask = masked.then_some(masks.as_slice());
            let (out_weights, h_weights, c_weights) = (
                out_weights.clone().to_device(on),
                h_weights.clone().to_device(on),
                c_weights.clone().to_device(on),
            );
            let inputs: Vec<Tensor<2>> = (0..steps)
                .map(|t| xs.clone().slice(t..t + 1).squeeze_dim(0))
                .collect();
            let (outputs, finals) = if fused || other.is_some() {
                rnn.forward::<C>(inputs, mask, Some(initial.clone()))
            } else {
                let (per_step, finals) = rnn.forward_steps::<C>(inputs, mask, initial.clone());
                (Tensor::cat(per_step, 0), finals)
            };
            let mut loss = (outputs.clone() * out_weights.clone()).sum();
            for state in &finals {
                loss = loss + (state.h.clone() * h_weights.clone()).sum();
                if let Some(c) = &state.c {
                    loss = loss + (c.clone() * c_weights.clone()).sum();
                }
            }
            let grads = loss.backward();
            let mut named = vec![("outputs".to_string(), values(outputs))];
            for (i, state) in finals.iter().enumerate() {
                named.push((format!("h_n[{i}]"), values(state.h.clone())));
                if let Some(c) = &state.c {
                    named.push((format!("c_n[{i}]"), values(c.clone())));
                }
            }
            let grad = |t: Tensor<2>| values(t.grad(&grads).expect("a gradient"));
            named.push((
                "d inputs".into(),
                values(
                    xs.grad(&grads)
                        .expect("a gradient")
                        .reshape([steps * batch, input]),
                ),
            ));
            for (i, state) in initial.iter().enumerate() {
                named.push((format!("d h0[{i}]"), grad(state.h.clone())));
                if let Some(c) = &state.c {
                    named.push((format!("d c0[{i}]"), grad(c.clone())));
                }
            }
            for (l, layer) in rnn.layers.iter().enumerate() {
                for (side, dir) in [
                    ("forward", Some(&layer.forward)),
                    ("backward", layer.backward.as_ref()),
                ] {
                    let Some(dir) = dir else { continue };
                    for (name, linear) in [("ih", &dir.ih), ("hh", &dir.hh)] {
                        named.push((
                            format!("d {l}.{side}.{name}.weight"),
                            grad(linear.weight.val()),
                        ));
                        let bias = linear.bias.as_ref().expect("a bias").val();
                        let d_bias = bias.grad(&grads).expect("a gradient");
                        named.push((
                            format!("d {l}.{side}.{name}.bias"),
                            values(d_bias.unsqueeze()),
                        ));
                    }
                }
            }
            named
        };
        let (fused, reference) = (run(true), run(false));
        assert_eq!(fused.len(), reference.len());
        for ((name, a), (_, b)) in fused.iter().zip(&reference) {
            assert_eq!(a.len(), b.len(), "{name}");
            let diff = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(
                diff < 1e-4,
                "bidirectional={bidirectional} masked={masked} {name}: {diff}"
            );
        }
    }
}
