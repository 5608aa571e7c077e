//! Fréchet distance between generated and real images in the feature space of a classifier.
//!
//! Heusel et al., "GANs trained by a two time-scale update rule converge to a local Nash
//! equilibrium", NeurIPS 2017, arXiv:1706.08500: fit a Gaussian to each set's features and
//! report ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2 tr((Σ₁Σ₂)^½), with unbiased covariances as in the
//! reference implementation. The paper uses Inception-v3's pool features on ImageNet-like
//! images; on MNIST the usual substitute, taken here, is a trained MNIST classifier's
//! penultimate layer (the `cnn` crate's LeNet: 84 features), so the numbers compare runs of this
//! zoo, not papers that used other networks.
//!
//! tr((Σ₁Σ₂)^½) is computed as the sum of the square roots of the eigenvalues of the symmetric
//! matrix Σ₁^½ Σ₂ Σ₁^½, which has the same spectrum as Σ₁Σ₂ and avoids a non-symmetric square
//! root.

use crate::model::sample_label;
use burn::prelude::*;
use clap::Args;
use cnn::{Cnn, CnnConfig};
use datasets::{ImageBatcher, ImageSet, Normalization};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use trainer::ImageClassifier;
use trainer::classifier::DataSpec;

/// Mean and covariance of a set of feature vectors.
#[derive(Clone, Debug)]
pub struct Gaussian {
    pub mean: DVector<f64>,
    pub covariance: DMatrix<f64>,
}

impl Gaussian {
    /// Fits `rows` of width `dim` (row-major); the covariance is unbiased (divides by n − 1).
    pub fn fit(rows: &[f32], dim: usize) -> anyhow::Result<Self> {
        let n = rows.len() / dim.max(1);
        anyhow::ensure!(
            n >= 2,
            "a Fréchet distance needs at least two feature vectors"
        );
        let data = DMatrix::<f64>::from_row_iterator(n, dim, rows.iter().map(|&v| v as f64));
        let mean = DVector::from_iterator(dim, data.column_iter().map(|c| c.mean()));
        let mut centred = data;
        for mut row in centred.row_iter_mut() {
            row -= mean.transpose();
        }
        let covariance = centred.transpose() * &centred / (n as f64 - 1.0);
        Ok(Self { mean, covariance })
    }
}

/// Square root of a symmetric positive semi-definite matrix; tiny negative eigenvalues from
/// rounding are clamped to zero.
fn sqrt_psd(matrix: &DMatrix<f64>) -> DMatrix<f64> {
    let eigen = SymmetricEigen::new(matrix.clone());
    let roots = eigen.eigenvalues.map(|v| v.max(0.0).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&roots) * eigen.eigenvectors.transpose()
}

/// The Fréchet distance between two Gaussians.
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> f64 {
    let mean_term = (&a.mean - &b.mean).norm_squared();
    let root_a = sqrt_psd(&a.covariance);
    let product = &root_a * &b.covariance * &root_a;
    // Symmetrise against rounding before the eigen-decomposition.
    let product = (&product + product.transpose()) * 0.5;
    let cross: f64 = SymmetricEigen::new(product)
        .eigenvalues
        .iter()
        .map(|v| v.max(0.0).sqrt())
        .sum();
    mean_term + a.covariance.trace() + b.covariance.trace() - 2.0 * cross
}

/// A trained `cnn` classifier used as the feature extractor and judge of generated digits.
pub struct Judge {
    model: Cnn,
    batcher: ImageBatcher,
    device: Device,
}

impl Judge {
    /// Loads `cnn` weights: a `model.bpk` from `cnn train` (its `config.json` beside it says the
    /// architecture), or safetensors with PyTorch names (LeNet assumed without a config).
    pub fn load(
        weights: &Path,
        test: &ImageSet,
        normalization: &Normalization,
        device: &Device,
    ) -> anyhow::Result<Self> {
        let beside = weights
            .parent()
            .map(|p| p.join("config.json"))
            .filter(|p| p.is_file());
        let (config, spec) = match beside {
            Some(path) => {
                let run = trainer::RunConfig::<CnnConfig>::read(&path)?;
                (run.model_config, run.data)
            }
            None => (
                CnnConfig::default(),
                DataSpec::new(test.shape(), test.num_classes()),
            ),
        };
        anyhow::ensure!(
            (spec.channels, spec.height, spec.width)
                == (
                    test.shape().channels,
                    test.shape().height,
                    test.shape().width
                ),
            "--classifier {}: trained on {}x{}x{} images, but these are {}x{}x{}",
            weights.display(),
            spec.channels,
            spec.height,
            spec.width,
            test.shape().channels,
            test.shape().height,
            test.shape().width
        );
        let model = Cnn::init(&config, &spec, device);
        let model = trainer::weights::load_weights(model, weights, &Cnn::pytorch_names(&config))
            .map_err(|e| anyhow::anyhow!("--classifier: {e:#}"))?;
        Ok(Self {
            model,
            batcher: ImageBatcher::new(test.shape(), normalization),
            device: device.clone(),
        })
    }

    /// Penultimate features `[n × dim]` (row-major) and predicted classes of 8-bit images.
    pub fn judge(&self, images: &[Vec<u8>]) -> anyhow::Result<(Vec<f32>, usize, Vec<usize>)> {
        let mut features = Vec::new();
        let mut classes = Vec::new();
        let mut dim = 0;
        for chunk in images.chunks(500) {
            let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
            let x = self.batcher.images(&refs, &self.device);
            let f = self.model.features(x.clone());
            dim = f.dims()[1];
            features.extend(f.into_data().try_to_vec::<f32>()?);
            let predicted: Vec<i64> = self
                .model
                .forward(x)
                .argmax(1)
                .into_data()
                .convert::<i64>()
                .try_to_vec()?;
            classes.extend(predicted.into_iter().map(|c| c as usize));
        }
        Ok((features, dim, classes))
    }

    /// The Gaussian of `images`' features, and how many fall in each class.
    pub fn statistics(&self, images: &[Vec<u8>]) -> anyhow::Result<(Gaussian, Vec<usize>)> {
        let (features, dim, classes) = self.judge(images)?;
        let mut counts = vec![0; self.num_classes()];
        for c in classes {
            counts[c] += 1;
        }
        Ok((Gaussian::fit(&features, dim)?, counts))
    }

    pub fn num_classes(&self) -> usize {
        match &self.model {
            Cnn::Lenet(net) => net.fc3.weight.dims()[1],
            Cnn::TfTutorial(net) => net.fc2.weight.dims()[1],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaussian(mean: &[f64], covariance: &[f64]) -> Gaussian {
        let d = mean.len();
        Gaussian {
            mean: DVector::from_column_slice(mean),
            covariance: DMatrix::from_row_slice(d, d, covariance),
        }
    }

    #[test]
    fn frechet_distance_matches_closed_forms() {
        // Identical Gaussians: 0.
        let a = gaussian(&[1.0, 2.0], &[2.0, 0.5, 0.5, 1.0]);
        assert!(frechet_distance(&a, &a).abs() < 1e-9);
        // 1-d: (μ₁ − μ₂)² + (σ₁ − σ₂)² = 1 + (1 − 2)² = 2.
        let d = frechet_distance(&gaussian(&[0.0], &[1.0]), &gaussian(&[1.0], &[4.0]));
        assert!((d - 2.0).abs() < 1e-9, "{d}");
        // Commuting (diagonal) covariances: Σ (√a − √b)² plus the mean term.
        let d = frechet_distance(
            &gaussian(
                &[0.0, 0.0, 3.0],
                &[4.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0, 1.0],
            ),
            &gaussian(
                &[1.0, 1.0, 3.0],
                &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 16.0],
            ),
        );
        let expected =
            2.0 + (2.0 - 1.0f64).powi(2) + (3.0 - 1.0f64).powi(2) + (1.0 - 4.0f64).powi(2);
        assert!((d - expected).abs() < 1e-9, "{d} vs {expected}");
        // Non-commuting covariances: symmetric in its arguments and positive.
        let b = gaussian(&[0.0, 0.0], &[1.0, -0.3, -0.3, 3.0]);
        let (ab, ba) = (frechet_distance(&a, &b), frechet_distance(&b, &a));
        assert!(ab > 0.0 && (ab - ba).abs() < 1e-9, "{ab} {ba}");
    }

    #[test]
    fn fit_gives_the_unbiased_covariance() {
        let rows = [1.0f32, 2.0, 3.0, 6.0, 5.0, 10.0];
        let g = Gaussian::fit(&rows, 2).unwrap();
        assert!((g.mean[0] - 3.0).abs() < 1e-12 && (g.mean[1] - 6.0).abs() < 1e-12);
        // x: 1, 3, 5 → var 4; y: 2, 6, 10 → var 16; cov 8.
        assert!((g.covariance[(0, 0)] - 4.0).abs() < 1e-9);
        assert!((g.covariance[(1, 1)] - 16.0).abs() < 1e-9);
        assert!((g.covariance[(0, 1)] - 8.0).abs() < 1e-9);
        assert!(Gaussian::fit(&rows[..2], 2).is_err());
    }
}

/// Samples whose classes the mode-collapse hint counts.
pub const HINT_SAMPLES: usize = 1000;

/// Where FID comes from and how many samples it uses.
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct FidOptions {
    /// Trained `cnn` weights (model.bpk from `cnn train`, config.json beside it) whose
    /// penultimate features FID compares; without it no FID is computed
    #[arg(long, value_name = "FILE")]
    pub classifier: Option<PathBuf>,
    /// Epochs after which FID is computed (the last epoch always is)
    #[arg(long, value_delimiter = ',', default_value = "5,20")]
    pub fid_at: Vec<usize>,
    /// Generated images (and test images) per FID
    #[arg(long, default_value_t = 10000)]
    pub fid_samples: usize,
}

/// One FID measurement.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FidScore {
    pub epoch: usize,
    pub fid: f64,
    /// Classes the classifier sees among 1,000 samples (10 = no mode dropped).
    pub classes_in_1000: usize,
    /// How many of those 1,000 samples fall in each class.
    pub class_counts: Vec<usize>,
    /// Conditional generators: the share (%) of those 1,000 samples the classifier assigns to
    /// the class they were drawn for.
    #[serde(default)]
    pub label_accuracy: Option<f64>,
}

/// FID of `images` against the reference Gaussian, with the class spread of the first 1,000
/// and, for samples of a conditional generator with `conditioned_on` classes, how many of them
/// the classifier puts in the class they were drawn for.
pub fn score(
    judge: &Judge,
    reference: &Gaussian,
    images: &[Vec<u8>],
    epoch: usize,
    conditioned_on: usize,
) -> anyhow::Result<FidScore> {
    let (features, dim, predicted) = judge.judge(images)?;
    let gaussian = Gaussian::fit(&features, dim)?;
    let hint = &predicted[..predicted.len().min(HINT_SAMPLES)];
    let mut class_counts = vec![0; judge.num_classes()];
    for &c in hint {
        class_counts[c] += 1;
    }
    let label_accuracy = (conditioned_on > 0).then(|| {
        let hits = hint
            .iter()
            .enumerate()
            .filter(|&(i, &c)| c == sample_label(i, conditioned_on))
            .count();
        100.0 * hits as f64 / hint.len().max(1) as f64
    });
    Ok(FidScore {
        epoch,
        fid: frechet_distance(&gaussian, reference),
        classes_in_1000: class_counts.iter().filter(|&&c| c > 0).count(),
        class_counts,
        label_accuracy,
    })
}

/// The classifier and the test set's feature Gaussian.
pub fn reference(
    options: &FidOptions,
    classifier: &Path,
    test: &ImageSet,
    device: &Device,
) -> anyhow::Result<(Judge, Gaussian)> {
    let normalization = test.normalization().clone();
    let judge = Judge::load(classifier, test, &normalization, device)?;
    let n = options.fid_samples.min(test.len());
    let real: Vec<Vec<u8>> = (0..n).map(|i| test.image(i).to_vec()).collect();
    let (gaussian, _) = judge.statistics(&real)?;
    Ok((judge, gaussian))
}
