//! ResNets against PyTorch: torchvision's resnet18 and resnet50 and a CIFAR ResNet-20 (option
//! A). `scripts/parity/resnet.py` fills every tensor from a seeded SplitMix64 generator (the
//! weights are too large to commit); this test regenerates the same torchvision-named
//! state_dict, loads it through the safetensors import path and compares eval-mode logits.

use burn::prelude::*;
use resnet::{ResNet, ResNetArch, ResNetConfig};
use safetensors::tensor::{Dtype, TensorView};

#[derive(serde::Deserialize)]
struct Spec {
    name: String,
    shape: Vec<usize>,
    kind: String,
    seed: u64,
}

#[derive(serde::Deserialize)]
struct Fixture {
    torchvision_version: String,
    input_shape: Vec<usize>,
    input_seed: u64,
    tensors: Vec<Spec>,
    logits: Vec<f32>,
}

/// The generator of `scripts/parity/resnet.py`: n floats in [0, 1).
fn uniform(n: usize, seed: u64) -> Vec<f64> {
    (1..=n as u64)
        .map(|k| {
            let mut z = seed.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

fn fill(spec: &Spec) -> Vec<f32> {
    let n: usize = spec.shape.iter().product();
    let u = uniform(n, spec.seed);
    let map = |f: &dyn Fn(f64) -> f64| u.iter().map(|&u| f(u) as f32).collect();
    match spec.kind.as_str() {
        "weight" => {
            let a = (3.0 / (n / spec.shape[0]) as f64).sqrt();
            map(&|u| (2.0 * u - 1.0) * a)
        }
        "bias" => map(&|u| (2.0 * u - 1.0) * 0.2),
        "bn_weight" => map(&|u| 0.5 + u),
        "running_mean" => map(&|u| (2.0 * u - 1.0) * 0.5),
        "running_var" => map(&|u| 0.5 + 1.5 * u),
        other => panic!("unknown fill {other}"),
    }
}

fn check(name: &str, config: ResNetConfig, classes: usize) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let fixture: Fixture =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap())
            .unwrap();

    // The torchvision state_dict, as a safetensors file.
    let values: Vec<Vec<u8>> = fixture
        .tensors
        .iter()
        .map(|s| fill(s).iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView)> = fixture
        .tensors
        .iter()
        .zip(&values)
        .map(|(s, bytes)| {
            (
                s.name.clone(),
                TensorView::new(Dtype::F32, s.shape.clone(), bytes).unwrap(),
            )
        })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.safetensors"));
    std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();

    let device = Device::flex();
    let model = ResNet::new(&config, 3, classes, &device);
    let model = trainer::weights::load_weights(model, &path, &[]).unwrap();

    let shape = &fixture.input_shape;
    let n: usize = shape.iter().product();
    let input: Vec<f32> = uniform(n, fixture.input_seed)
        .iter()
        .map(|&u| ((2.0 * u - 1.0) * 2.0) as f32)
        .collect();
    let x = Tensor::<4>::from_data(
        TensorData::new(input, [shape[0], shape[1], shape[2], shape[3]]),
        &device,
    );
    let logits: Vec<f32> = model.valid().forward(x).into_data().try_to_vec().unwrap();
    assert_eq!(logits.len(), fixture.logits.len());
    let max_diff = trainer::testing::max_abs_diff(&logits, &fixture.logits);
    println!(
        "{name} (torchvision {}): {} tensors, max |burn - torch| over {} logits: {max_diff:e}",
        fixture.torchvision_version,
        fixture.tensors.len(),
        logits.len()
    );
    assert!(max_diff <= 1e-4, "{name}: max abs diff {max_diff}");
}

fn arch(arch: ResNetArch) -> ResNetConfig {
    ResNetConfig {
        arch,
        ..ResNetConfig::default()
    }
}

#[test]
fn torchvision_resnet18_logits() {
    check("resnet18", arch(ResNetArch::Resnet18), 1000);
}

#[test]
fn torchvision_resnet50_logits() {
    check("resnet50", arch(ResNetArch::Resnet50), 1000);
}

#[test]
fn cifar_resnet20_option_a_logits() {
    check("resnet20", arch(ResNetArch::Resnet20), 10);
}

/// `eval` of a ResNet-20 trained one epoch on CIFAR-10 in PyTorch reports PyTorch's accuracy on
/// the same 2,000 test images (±0.05 points). Needs CIFAR-10 (`ZOO_DATA_DIR`).
#[test]
fn eval_of_pytorch_trained_resnet20_matches_pytorch_accuracy() {
    if !trainer::testing::cifar_available("the PyTorch-trained ResNet-20 check") {
        return;
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/resnet20_cifar_trained.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = metadata.metadata().clone().unwrap();
    let torch_accuracy: f64 = metadata["test_accuracy"].parse().unwrap();
    let samples = metadata["test_samples"].clone();
    let metrics = trainer::testing::eval_with::<ResNet>(&[
        "--weights",
        path.to_str().unwrap(),
        "--limit-test",
        &samples,
    ])
    .unwrap();
    println!(
        "burn {:.2}%, torch {torch_accuracy:.2}% on {samples} test images",
        metrics.accuracy
    );
    assert_eq!(metrics.samples.to_string(), samples);
    assert!((metrics.accuracy - torch_accuracy).abs() <= 0.05);
}
