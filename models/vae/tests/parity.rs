//! The VAE against PyTorch (fixtures from scripts/parity/generative.py): posterior mean and
//! log-variance, and the decoder, which are the deterministic parts of the model.

use burn::prelude::*;
use datasets::ImageShape;
use generative::blocks::Arch;
use generative::testing::{Fixture, max_abs_diff};
use std::path::PathBuf;
use vae::{Vae, VaeConfig};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.safetensors"))
}

#[test]
fn posterior_and_decoder_match_pytorch() {
    let device = Device::flex();
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    for (arch, name) in [(Arch::Dense, "dense"), (Arch::Conv, "conv")] {
        let config = VaeConfig {
            arch,
            hidden: vec![32, 16],
            channels: 4,
            latent: 4,
            beta: 1.0,
        };
        let model = Vae::new(&config, shape, &device).unwrap();
        let model = trainer::weights::load_weights(model, &fixture(name), &[]).unwrap();
        let io = Fixture::read(&fixture(&format!("{name}_io"))).unwrap();
        let (mu, log_var) = model.posterior(io.tensor("input", &device));
        let logits = model.decode(io.tensor("z", &device));
        let diffs = [
            max_abs_diff(mu, io.values("mu")),
            max_abs_diff(log_var, io.values("log_var")),
            max_abs_diff(logits, io.values("logits")),
        ];
        assert!(diffs.iter().all(|&d| d < 1e-4), "{name}: {diffs:?}");
    }
}
