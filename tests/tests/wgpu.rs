//! The GPU leg: models on Burn's `wgpu` backend against the CPU backend (`flex`), built with
//! `cargo test -p zoo-tests --features wgpu --test wgpu`. CI runs it on Mesa's software Vulkan
//! driver (lavapipe), so the GPU code paths execute on every change: the MLP trains on wgpu
//! and its weights give the same logits on both backends; the seed CNN and ResNet-20 forward
//! passes agree; the LSTM/GRU step loop (the path GPU backends take, which has no fused
//! layer) matches the fused CPU layer forward and backward; a VAE trains and evaluates.
#![cfg(feature = "wgpu")]

use std::path::Path;
use trainer::burn::{self, prelude::*};
use trainer::datasets::{DataSource, ImageBatcher, Mnist, MnistVariant, Split};
use trainer::testing::{Binary, max_abs_diff, report};

const ZOO: Binary = Binary(env!("CARGO_BIN_EXE_zoo-under-test"));
/// Agreement between backends: float sums in another order and other kernels.
const TOLERANCE: f32 = 1e-4;

fn wgpu() -> Device {
    trainer::device::select_device(Some("wgpu"))
        .expect("a wgpu adapter (on a machine without a GPU: Mesa's lavapipe, mesa-vulkan-drivers)")
        .1
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().expect("f32 values")
}

/// `max |a - b| / max(1, max |b|)`: absolute for small outputs, relative for large ones.
fn scaled_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().fold(1f32, |m, x| m.max(x.abs()));
    max_abs_diff(a, b) / scale
}

/// The same module on both backends gives the same outputs for `input` (built on flex).
fn same_forward<M: Module>(
    name: &str,
    model: M,
    input: Tensor<4>,
    forward: fn(&M, Tensor<4>) -> Tensor<2>,
) {
    let gpu = wgpu();
    let on_gpu = forward(
        &model.clone().to_device(&gpu),
        input.clone().to_device(&gpu),
    );
    let on_cpu = forward(&model, input);
    let diff = scaled_diff(&values(on_gpu), &values(on_cpu));
    println!("{name}: max scaled |wgpu - flex| = {diff:e}");
    assert!(diff <= TOLERANCE, "{name}: wgpu and flex differ by {diff}");
}

#[test]
fn an_mlp_trains_on_wgpu_and_its_weights_give_the_same_logits_on_flex() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mlp");
    let stdout = ZOO.ok(&[
        "mlp",
        "train",
        "--device",
        "wgpu",
        "--epochs",
        "1",
        "--limit-train",
        "2048",
        "--limit-valid",
        "256",
        "--limit-test",
        "500",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("wgpu"), "{stdout}");
    let accuracy = report(&out)["test"]["accuracy"].as_f64().unwrap();
    assert!(
        accuracy > 80.0,
        "test accuracy {accuracy}% after 32 steps on wgpu"
    );

    let data = DataSource::only(Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets"));
    let test = Mnist::load(&data, MnistVariant::Mnist, Split::Test)
        .unwrap()
        .take(256);
    let images: Vec<&[u8]> = (0..test.len()).map(|i| test.image(i)).collect();
    let batch = ImageBatcher::for_set(&test).images(&images, &Device::flex());
    let model = mlp::Mlp::new(&mlp::MlpConfig::default(), 784, 10, &Device::flex())
        .try_load_file(out.join("model.bpk"))
        .unwrap();
    same_forward("mlp logits", model, batch, |m, x| m.forward(x));
}

#[test]
fn the_seed_cnn_and_resnet20_forward_passes_agree_on_wgpu_and_flex() {
    let cpu = Device::flex();
    cpu.seed(5);
    let images = || {
        Tensor::<4>::random(
            [8, 3, 32, 32],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &cpu,
        )
    };
    let cnn = cnn::Cnn::new(
        &cnn::CnnConfig {
            arch: Some(cnn::CnnArch::TfTutorial),
            ..Default::default()
        },
        3,
        32,
        32,
        10,
        &cpu,
    );
    same_forward("seed CNN logits", cnn, images(), |m, x| m.forward(x));
    // Inference mode: batch norm with running statistics, as `eval` and `predict` run it.
    let resnet = resnet::ResNet::new(&resnet::ResNetConfig::default(), 3, 10, &cpu);
    same_forward("ResNet-20 logits", resnet, images(), |m, x| m.forward(x));
}

#[test]
fn the_lstm_and_gru_step_loop_on_wgpu_matches_the_fused_cpu_layer_with_gradients() {
    let gpu = wgpu().autodiff();
    sequence::testing::fused_matches_steps_on::<lstm::LstmCell>(Some(&gpu));
    sequence::testing::fused_matches_steps_on::<gru::GruCell>(Some(&gpu));
}

#[test]
fn a_vae_trains_and_evaluates_on_wgpu() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vae");
    ZOO.ok(&[
        "vae",
        "train",
        "--device",
        "wgpu",
        "--epochs",
        "1",
        "--batch-size",
        "64",
        "--limit-train",
        "512",
        "--limit-valid",
        "64",
        "--limit-test",
        "64",
        "--out",
        out.to_str().unwrap(),
    ]);
    let test = &report(&out)["test"];
    // −log p(x) of an untrained decoder that outputs 0.5 everywhere: 784 · ln 2 nats.
    let untrained = 784.0 * std::f64::consts::LN_2;
    let loss = test["neg_elbo"].as_f64().unwrap();
    assert!(
        loss.is_finite() && loss < untrained,
        "test {test} after 8 steps on wgpu"
    );
}
