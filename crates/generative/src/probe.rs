//! Linear probe: how linearly separable learned codes are. A multinomial logistic regression
//! is trained on the frozen codes of the training images and scored on the test images; its
//! accuracy is a standard number for feature quality (Alain & Bengio 2016, arXiv:1610.01644).

use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;

/// Codes of a set of images: `rows × dim` values, one label per row.
pub struct Codes {
    pub values: Vec<f32>,
    pub dim: usize,
    pub labels: Vec<u8>,
}

impl Codes {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    fn tensor(&self, mean: &[f32], std: &[f32], device: &Device) -> Tensor<2> {
        let standardized: Vec<f32> = self
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| (v - mean[i % self.dim]) / std[i % self.dim])
            .collect();
        Tensor::from_data(
            TensorData::new(standardized, [self.len(), self.dim]),
            device,
        )
    }

    fn label_tensor(&self, device: &Device) -> Tensor<1, Int> {
        let labels: Vec<i64> = self.labels.iter().map(|&l| l as i64).collect();
        Tensor::from_data(TensorData::new(labels, [self.len()]), device)
    }
}

/// Probe settings: Adam at `lr`, `epochs` passes in minibatches of 256.
pub struct ProbeConfig {
    pub epochs: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self {
            epochs: 30,
            lr: 1e-2,
            seed: 0,
        }
    }
}

/// Train and test accuracy (percent) of a logistic regression on standardised codes.
pub fn linear_probe(
    train: &Codes,
    test: &Codes,
    classes: usize,
    config: &ProbeConfig,
    device: &Device,
) -> anyhow::Result<(f64, f64)> {
    anyhow::ensure!(
        !train.is_empty() && !test.is_empty() && train.dim == test.dim,
        "the probe needs training and test codes of one width"
    );
    let dim = train.dim;
    let mut mean = vec![0f32; dim];
    let mut var = vec![0f32; dim];
    for row in train.values.chunks_exact(dim) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / train.len() as f32;
        }
    }
    for row in train.values.chunks_exact(dim) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m).powi(2) / train.len() as f32;
        }
    }
    // Dead units (constant codes) keep a unit scale instead of dividing by zero.
    let std: Vec<f32> = var.iter().map(|v| v.sqrt().max(1e-6)).collect();

    let autodiff = device.clone().autodiff();
    autodiff.seed(config.seed);
    let x_train = train.tensor(&mean, &std, &autodiff);
    let y_train = train.label_tensor(&autodiff);
    let mut probe: Linear = LinearConfig::new(dim, classes).init(&autodiff);
    let mut optim: ModuleOptimizer = trainer::optim::adam();
    let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
    for epoch in 0..config.epochs {
        for batch in crate::pixels::epoch_batches(train.len(), 256, config.seed, epoch) {
            let rows: Vec<i64> = batch.iter().map(|&i| i as i64).collect();
            let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [batch.len()]), &autodiff);
            let logits = probe.forward(x_train.clone().select(0, rows.clone()));
            let loss = loss_fn.forward(logits, y_train.clone().select(0, rows));
            let grads = GradientsParams::from_grads(loss.backward(), &probe);
            probe = optim.step(config.lr, probe, grads);
        }
    }
    let probe = probe.valid();
    let accuracy = |codes: &Codes| -> anyhow::Result<f64> {
        let predicted = probe
            .forward(codes.tensor(&mean, &std, device))
            .argmax(1)
            .squeeze_dim::<1>(1);
        let hits = predicted
            .equal(codes.label_tensor(device))
            .int()
            .sum()
            .into_scalar::<i64>();
        Ok(100.0 * hits as f64 / codes.len() as f64)
    };
    Ok((accuracy(train)?, accuracy(test)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datasets::rng::SplitMix64;

    /// Two Gaussian blobs per class along different axes: linearly separable, so the probe
    /// must find them; random labels on the same codes must stay near chance.
    #[test]
    fn probe_separates_separable_codes_and_not_random_labels() {
        let device = Device::flex();
        let mut rng = SplitMix64::new(3);
        let mut make = |n: usize, shuffle_labels: bool| {
            let mut values = Vec::new();
            let mut labels = Vec::new();
            for i in 0..n {
                let class = (i % 3) as u8;
                for d in 0..4 {
                    let centre = if d == class as usize { 3.0 } else { 0.0 };
                    values.push(centre + rng.normal() as f32);
                }
                labels.push(if shuffle_labels {
                    rng.below(3) as u8
                } else {
                    class
                });
            }
            Codes {
                values,
                dim: 4,
                labels,
            }
        };
        // 60 passes of 3 batches: enough Adam steps that the probe converges from any
        // initialisation (other tests share the device's generator, so the draw varies).
        let config = ProbeConfig {
            epochs: 60,
            ..Default::default()
        };
        let (_, separable) =
            linear_probe(&make(600, false), &make(300, false), 3, &config, &device).unwrap();
        assert!(separable > 90.0, "{separable}");
        let (_, random) =
            linear_probe(&make(600, true), &make(300, true), 3, &config, &device).unwrap();
        assert!(random < 50.0, "{random}");
    }
}
