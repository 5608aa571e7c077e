//! Helpers for the generative models' PyTorch parity tests: read the `<variant>_io.safetensors`
//! fixtures that `scripts/parity/generative.py` writes, and compare outputs.

use burn::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// Named f32 tensors of one fixture file.
pub struct Fixture {
    tensors: HashMap<String, (Vec<f32>, Vec<usize>)>,
}

impl Fixture {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let file = safetensors::SafeTensors::deserialize(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut tensors = HashMap::new();
        for (name, view) in file.tensors() {
            anyhow::ensure!(
                view.dtype() == safetensors::Dtype::F32,
                "{}: {name} is not f32",
                path.display()
            );
            let values = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            tensors.insert(name, (values, view.shape().to_vec()));
        }
        Ok(Self { tensors })
    }

    pub fn values(&self, name: &str) -> &[f32] {
        &self.tensors[name].0
    }

    pub fn tensor<const D: usize>(&self, name: &str, device: &Device) -> Tensor<D> {
        let (values, shape) = &self.tensors[name];
        Tensor::from_data(TensorData::new(values.clone(), shape.clone()), device)
    }
}

/// The largest absolute difference between `got` and `expected`; panics on a size mismatch.
pub fn max_abs_diff<const D: usize>(got: Tensor<D>, expected: &[f32]) -> f32 {
    let got: Vec<f32> = got.into_data().try_to_vec().expect("f32 tensor");
    assert_eq!(got.len(), expected.len(), "output sizes differ");
    got.iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}
