//! The CNNs as a library: shapes, parameter names, learning, and parity with PyTorch.

use burn::prelude::*;
use cnn::{Cnn, CnnArch, CnnConfig};
use trainer::{DataSpec, ImageClassifier, classification_output};

fn config(arch: CnnArch) -> CnnConfig {
    CnnConfig {
        arch: Some(arch),
        ..CnnConfig::default()
    }
}

#[test]
fn seed_cnn_has_the_keras_parameter_count_and_shapes() {
    let device = Device::flex();
    let model = Cnn::new(&config(CnnArch::TfTutorial), 3, 32, 32, 10, &device);
    // Keras' model.summary() of the tutorial CNN: 122,570 trainable parameters.
    assert_eq!(model.num_params(), 122_570);
    assert_eq!(
        model.forward(Tensor::zeros([2, 3, 32, 32], &device)).dims(),
        [2, 10]
    );
    // The same net fits MNIST's 28x28x1 too.
    let mnist = Cnn::new(&config(CnnArch::TfTutorial), 1, 28, 28, 10, &device);
    assert_eq!(
        mnist.forward(Tensor::zeros([2, 1, 28, 28], &device)).dims(),
        [2, 10]
    );
    let lenet = Cnn::new(&CnnConfig::default(), 1, 28, 28, 10, &device);
    assert!(
        matches!(lenet, Cnn::Lenet(_)),
        "MNIST-shaped input defaults to LeNet"
    );
    assert_eq!(
        lenet.forward(Tensor::zeros([2, 1, 28, 28], &device)).dims(),
        [2, 10]
    );
}

fn read_io(name: &str) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/{name}_io.safetensors"));
    let bytes = std::fs::read(path).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let floats = |t: safetensors::tensor::TensorView| -> Vec<f32> {
        t.data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let input = tensors.tensor("input").unwrap();
    let shape = input.shape().to_vec();
    (
        floats(input),
        shape,
        floats(tensors.tensor("logits").unwrap()),
    )
}

/// PyTorch weights (random init, non-trivial BatchNorm statistics) give PyTorch's eval-mode
/// logits within 1e-4.
#[test]
fn pytorch_weights_give_pytorch_logits() {
    let device = Device::flex();
    for (name, arch) in [
        ("seed_cifar", CnnArch::TfTutorial),
        ("lenet", CnnArch::Lenet),
    ] {
        let (input, shape, expected) = read_io(name);
        let [b, c, h, w] = [shape[0], shape[1], shape[2], shape[3]];
        let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/{name}.safetensors"));
        let model = trainer::weights::load_weights(
            Cnn::new(&config(arch), c, h, w, 10, &device),
            &weights,
            &[],
        )
        .unwrap();
        let x = Tensor::<4>::from_data(TensorData::new(input, [b, c, h, w]), &device);
        let logits: Vec<f32> = model.valid().forward(x).into_data().try_to_vec().unwrap();
        let max_diff = trainer::testing::max_abs_diff(&logits, &expected);
        println!(
            "{name}: max |burn - torch| over {} logits: {max_diff:e}",
            expected.len()
        );
        assert!(max_diff <= 1e-4, "{name}: max abs diff {max_diff}");
    }
}

#[test]
fn export_round_trips_through_pytorch_names() {
    let device = Device::flex();
    let model = Cnn::new(&config(CnnArch::TfTutorial), 3, 32, 32, 10, &device);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cnn.safetensors");
    trainer::weights::export_safetensors(&model, &path, &[]).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut names = safetensors::SafeTensors::deserialize(&bytes)
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
    names.sort();
    assert_eq!(
        names,
        [
            "conv1.bias",
            "conv1.weight",
            "conv2.bias",
            "conv2.weight",
            "conv3.bias",
            "conv3.weight",
            "fc1.bias",
            "fc1.weight",
            "fc2.bias",
            "fc2.weight"
        ]
    );
    let back = trainer::weights::load_weights(
        Cnn::new(&config(CnnArch::TfTutorial), 3, 32, 32, 10, &device),
        &path,
        &[],
    )
    .unwrap();
    let x = Tensor::<4>::ones([1, 3, 32, 32], &device);
    let a: Vec<f32> = model.forward(x.clone()).into_data().try_to_vec().unwrap();
    let b: Vec<f32> = back.forward(x).into_data().try_to_vec().unwrap();
    assert_eq!(a, b);
}

#[test]
fn lenet_overfits_one_mnist_batch() {
    use burn::data::dataloader::batcher::Batcher;
    use burn::data::dataset::Dataset;
    let device = Device::flex().autodiff();
    device.seed(0);
    let set = datasets::Mnist::load(
        &datasets::DataSource::new(None).with_download(false),
        datasets::MnistVariant::Mnist,
        datasets::Split::Test,
    )
    .unwrap();
    let items = (0..32).map(|i| set.get(i).unwrap()).collect();
    let batch = datasets::ImageBatcher::for_set(&set).batch(items, &device);
    let cfg = CnnConfig {
        dropout: 0.0,
        ..CnnConfig::default()
    };
    let model = Cnn::init(&cfg, &DataSpec::new(set.shape(), 10), &device);
    let model = trainer::testing::fit_one_batch(model, &batch, 30, 2e-3);
    let loss = classification_output(model.valid().forward(batch.images), batch.targets)
        .loss
        .into_scalar::<f32>();
    assert!(
        loss < 0.1,
        "30 Adam steps on one batch: eval-mode loss {loss}"
    );
}

/// `eval` of LeNet weights trained in PyTorch reports PyTorch's test accuracy (±0.05 points).
#[test]
fn eval_of_pytorch_trained_lenet_matches_pytorch_accuracy() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lenet_mnist_trained.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let torch_accuracy: f64 = metadata.metadata().as_ref().unwrap()["test_accuracy"]
        .parse()
        .unwrap();
    let metrics = trainer::testing::eval_with::<Cnn>(&[
        "--arch",
        "lenet",
        "--weights",
        path.to_str().unwrap(),
    ])
    .unwrap();
    println!("burn {:.2}%, torch {torch_accuracy:.2}%", metrics.accuracy);
    assert_eq!(metrics.samples, 10_000);
    assert!((metrics.accuracy - torch_accuracy).abs() <= 0.05);
}
