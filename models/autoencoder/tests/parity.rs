//! The autoencoders against PyTorch (fixtures from scripts/parity/generative.py), and imported
//! weights of the wrong shape.

use autoencoder::{Autoencoder, AutoencoderConfig, Noise};
use burn::prelude::*;
use datasets::ImageShape;
use generative::blocks::Arch;
use generative::testing::{Fixture, max_abs_diff};
use std::path::PathBuf;

const MNIST: ImageShape = ImageShape {
    channels: 1,
    height: 28,
    width: 28,
};

/// The widths scripts/parity/generative.py uses.
fn config(arch: Arch, latent: usize) -> AutoencoderConfig {
    AutoencoderConfig {
        arch,
        hidden: vec![32],
        channels: 4,
        latent,
        denoise: None,
        noise: Noise::Gaussian,
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.safetensors"))
}

#[test]
fn code_and_reconstruction_match_pytorch() {
    let device = Device::flex();
    for (arch, name) in [(Arch::Dense, "dense"), (Arch::Conv, "conv")] {
        let model = Autoencoder::new(&config(arch, 8), MNIST, &device).unwrap();
        let model = trainer::weights::load_weights(model, &fixture(name), &[]).unwrap();
        let io = Fixture::read(&fixture(&format!("{name}_io"))).unwrap();
        let input = io.tensor::<4>("input", &device);
        let code = max_abs_diff(model.encode(input.clone()), io.values("code"));
        let logits = max_abs_diff(model.forward(input), io.values("logits"));
        assert!(
            code < 1e-4 && logits < 1e-4,
            "{name}: code {code:e}, logits {logits:e}"
        );
    }
}

#[test]
fn weights_of_another_shape_are_refused_with_the_tensor_named() {
    let device = Device::flex();
    let model = Autoencoder::new(&config(Arch::Dense, 9), MNIST, &device).unwrap();
    let err = trainer::weights::load_weights(model, &fixture("dense"), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dense.safetensors") && err.contains("code"),
        "{err}"
    );
}
