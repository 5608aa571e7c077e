//! Parity with `torch.nn.GRU` on fixtures from `scripts/parity/rnn.py` (tolerance 1e-4).

use gru::GruCell;
use sequence::testing;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    testing::fixtures(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn bidirectional_classifier_matches_pytorch_on_packed_padded_batch() {
    testing::classify_parity::<GruCell>(&fixtures());
}

#[test]
fn language_model_matches_pytorch_from_a_given_state() {
    testing::lm_parity::<GruCell>(&fixtures());
}

#[test]
fn eval_of_torch_trained_weights_gives_torchs_test_metrics() {
    testing::torch_trained_eval::<GruCell>(&fixtures());
}

#[test]
fn fused_layer_matches_the_step_by_step_loop_with_gradients() {
    testing::fused_matches_steps::<GruCell>();
}
