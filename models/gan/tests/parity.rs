//! Generators and discriminators against PyTorch in eval mode (batch norm on its running
//! statistics), from scripts/parity/generative.py.

use burn::prelude::*;
use datasets::ImageShape;
use gan::{Discriminator, GanArch, GanConfig, Generator};
use generative::testing::{Fixture, max_abs_diff};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.safetensors"))
}

#[test]
fn generator_and_discriminator_match_pytorch() {
    let device = Device::flex();
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    for (arch, name) in [(GanArch::Dcgan, "dcgan"), (GanArch::Mlp, "mlp")] {
        let config = GanConfig {
            arch,
            latent: 16,
            width: 8,
            conditional: false,
        };
        let g = Generator::new(&config, shape, 10, &device).unwrap();
        let g =
            trainer::weights::load_weights(g, &fixture(&format!("{name}_generator")), &[]).unwrap();
        let io = Fixture::read(&fixture(&format!("{name}_generator_io"))).unwrap();
        let images = max_abs_diff(g.forward(io.tensor("z", &device)), io.values("images"));

        let d = Discriminator::new(&config, shape, 10, &device).unwrap();
        let d = trainer::weights::load_weights(d, &fixture(&format!("{name}_discriminator")), &[])
            .unwrap();
        let io = Fixture::read(&fixture(&format!("{name}_discriminator_io"))).unwrap();
        let logits = max_abs_diff(d.forward(io.tensor("input", &device)), io.values("logits"));
        assert!(
            images < 1e-4 && logits < 1e-4,
            "{name}: G {images:e}, D {logits:e}"
        );
    }
}
