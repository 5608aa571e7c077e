//! The MLP as a library: shapes, learning, save/load, and parity with PyTorch.

use burn::prelude::*;
use datasets::{DataSource, ImageBatcher, Mnist, MnistVariant, Split};
use mlp::{Mlp, MlpConfig};
use trainer::{DataSpec, ImageClassifier, classification_output};

fn mnist_test() -> datasets::ImageSet {
    Mnist::load(
        &DataSource::new(None).with_download(false),
        MnistVariant::Mnist,
        Split::Test,
    )
    .unwrap()
}

fn batch(set: &datasets::ImageSet, indices: &[usize], device: &Device) -> datasets::ImageBatch {
    use burn::data::dataloader::batcher::Batcher;
    use burn::data::dataset::Dataset;
    let items = indices.iter().map(|&i| set.get(i).unwrap()).collect();
    ImageBatcher::for_set(set).batch(items, device)
}

#[test]
fn shapes_and_pytorch_parameter_names() {
    let device = Device::flex();
    let config = MlpConfig {
        hidden: vec![64, 32],
        ..MlpConfig::default()
    };
    let model = Mlp::new(&config, 784, 10, &device);
    let logits = model.forward(Tensor::zeros([3, 1, 28, 28], &device));
    assert_eq!(logits.dims(), [3, 10]);
    assert_eq!(
        model.num_params(),
        784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10
    );
    assert_eq!(
        Mlp::pytorch_names(&config),
        vec![
            ("layers.0".to_string(), "fc1".to_string()),
            ("layers.1".to_string(), "fc2".to_string()),
            ("layers.2".to_string(), "fc3".to_string()),
        ]
    );
}

#[test]
fn overfits_one_batch() {
    let device = Device::flex().autodiff();
    device.seed(0);
    let set = mnist_test();
    let data = DataSpec::new(set.shape(), 10);
    let config = MlpConfig {
        dropout: 0.0,
        ..MlpConfig::default()
    };
    let model = Mlp::init(&config, &data, &device);
    let batch = batch(&set, &(0..32).collect::<Vec<_>>(), &device);
    let first = classification_output(model.forward(batch.images.clone()), batch.targets.clone())
        .loss
        .into_scalar::<f32>();
    let model = trainer::testing::fit_one_batch(model, &batch, 60, 1e-3);
    let last = classification_output(model.forward(batch.images), batch.targets)
        .loss
        .into_scalar::<f32>();
    assert!(
        first > 1.5,
        "an untrained model starts near ln(10): {first}"
    );
    assert!(
        last < 0.05,
        "60 Adam steps on one batch should drive the loss near 0: {last}"
    );
}

#[test]
fn save_load_round_trip_gives_identical_logits() {
    let device = Device::flex();
    let set = mnist_test();
    let model = Mlp::new(&MlpConfig::default(), 784, 10, &device);
    let images = batch(&set, &[0, 1, 2, 3], &device).images;
    let before: Vec<f32> = model
        .forward(images.clone())
        .into_data()
        .try_to_vec()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp");
    model.save_file(&path).unwrap();
    let loaded = Mlp::new(&MlpConfig::default(), 784, 10, &device)
        .try_load_file(dir.path().join("mlp.bpk"))
        .unwrap();
    let after: Vec<f32> = loaded.forward(images).into_data().try_to_vec().unwrap();
    assert_eq!(before, after);

    // Export to PyTorch names and back.
    let st = dir.path().join("mlp.safetensors");
    let names = Mlp::pytorch_names(&MlpConfig::default());
    trainer::weights::export_safetensors(&loaded, &st, &names).unwrap();
    let back = trainer::weights::load_weights(
        Mlp::new(&MlpConfig::default(), 784, 10, &device),
        &st,
        &names,
    )
    .unwrap();
    let images = batch(&set, &[0, 1, 2, 3], &device).images;
    let again: Vec<f32> = back.forward(images).into_data().try_to_vec().unwrap();
    assert_eq!(before, again);
}

#[derive(serde::Deserialize)]
struct TorchFixture {
    torch_version: String,
    test_accuracy: f64,
    indices: Vec<usize>,
    logits: Vec<Vec<f32>>,
}

fn fixture() -> (TorchFixture, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let json = std::fs::read_to_string(dir.join("mlp_torch.json")).unwrap();
    (
        serde_json::from_str(&json).unwrap(),
        dir.join("mlp_torch.safetensors"),
    )
}

/// Logits of the default MLP with the weights of `path` on MNIST test images `indices`.
fn logits_of(path: &std::path::Path, indices: &[usize]) -> Vec<f32> {
    let device = Device::flex();
    let config = MlpConfig::default();
    let model = trainer::weights::load_weights(
        Mlp::new(&config, 784, 10, &device),
        path,
        &Mlp::pytorch_names(&config),
    )
    .unwrap();
    model
        .valid()
        .forward(batch(&mnist_test(), indices, &device).images)
        .into_data()
        .try_to_vec()
        .unwrap()
}

/// Logits of PyTorch weights on the same MNIST images, loaded and normalised by our own
/// loader, match PyTorch's within 1e-4 (f32 sums of 784 products in another order).
#[test]
fn pytorch_weights_give_pytorch_logits() {
    let (fixture, weights) = fixture();
    let logits = logits_of(&weights, &fixture.indices);
    let expected: Vec<f32> = fixture.logits.concat();
    let max_diff = trainer::testing::max_abs_diff(&logits, &expected);
    println!(
        "max |burn - torch {}| over {} logits: {max_diff:e}",
        fixture.torch_version,
        expected.len()
    );
    assert!(max_diff <= 1e-4, "max abs diff {max_diff}");
}

/// `eval` of the PyTorch weights, as safetensors and as `torch.save`'s `.pth`, reports
/// PyTorch's own test accuracy (within 0.05 points).
#[test]
fn eval_of_pytorch_weights_matches_pytorch_accuracy() {
    let (fixture, weights) = fixture();
    for file in [weights.clone(), weights.with_extension("pth")] {
        let metrics =
            trainer::testing::eval_with::<Mlp>(&["--weights", file.to_str().unwrap()]).unwrap();
        println!(
            "{}: burn accuracy {:.2}%, torch {:.2}%",
            file.display(),
            metrics.accuracy,
            fixture.test_accuracy
        );
        assert_eq!(metrics.samples, 10_000);
        assert!((metrics.accuracy - fixture.test_accuracy).abs() <= 0.05);
    }
}

/// The same weights saved by `torch.save(model.state_dict())` (`scripts/parity/pth.py`) load
/// and give exactly the logits of the safetensors file (and its accuracy: see the eval test).
#[test]
fn torch_save_checkpoint_gives_the_safetensors_logits() {
    let (fixture, safetensors) = fixture();
    let pth = safetensors.with_extension("pth");
    assert_eq!(
        logits_of(&pth, &fixture.indices),
        logits_of(&safetensors, &fixture.indices)
    );
}

/// A checkpoint of another architecture is refused with every offending tensor named; as
/// `--init`, it loads what fits and says what it initialised afresh.
#[test]
fn torch_checkpoint_of_another_shape_is_named_tensor_by_tensor() {
    let (_, safetensors) = fixture();
    let pth = safetensors.with_extension("pth");
    let device = Device::flex();
    let config = MlpConfig {
        hidden: vec![128, 32],
        ..MlpConfig::default()
    };
    let names = Mlp::pytorch_names(&config);
    let fresh = || Mlp::new(&config, 784, 10, &device);
    let error = trainer::weights::load_weights(fresh(), &pth, &names)
        .unwrap_err()
        .to_string();
    assert!(error.contains("mlp_torch.pth does not match"), "{error}");
    assert!(
        error.contains("fc2.weight (Burn: layers.1.weight): shape mismatch"),
        "{error}"
    );
    assert!(
        error.contains("missing from the file: fc3.weight"),
        "{error}"
    );

    let (model, fitted) = trainer::weights::load_fitting(fresh(), &pth, &names, &[]).unwrap();
    assert_eq!(
        fitted.loaded,
        2,
        "fc1's weight and bias: {}",
        fitted.describe()
    );
    let described = fitted.describe();
    assert!(
        described.contains("layers.1.weight (the file's is [128, 10], the model's [128, 32])"),
        "{described}"
    );
    assert!(
        described.contains("layers.2.weight (not in the file)"),
        "{described}"
    );
    let loaded: Vec<f32> = model.layers[0]
        .bias
        .as_ref()
        .unwrap()
        .val()
        .into_data()
        .try_to_vec()
        .unwrap();
    let plain = trainer::weights::load_weights(
        Mlp::new(&MlpConfig::default(), 784, 10, &device),
        &pth,
        &Mlp::pytorch_names(&MlpConfig::default()),
    )
    .unwrap();
    let expected: Vec<f32> = plain.layers[0]
        .bias
        .as_ref()
        .unwrap()
        .val()
        .into_data()
        .try_to_vec()
        .unwrap();
    assert_eq!(loaded, expected);
}
