//! Knowledge distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
//! Network", arXiv:1503.02531): a student learns from a trained teacher's softened class
//! probabilities as well as from the labels.
//!
//! `train --teacher W` loads the teacher from a run folder (its `config.json` names the
//! architecture, which may be another model of the zoo), runs it in inference mode on every
//! training batch as the batch is built (so it sees the same augmented images as the student),
//! and the student's train step minimises [`distillation_loss`] (in [`crate::classifier`],
//! beside plain cross-entropy). Validation and test figures
//! stay plain cross-entropy, comparable with a student trained without a teacher.

use crate::classifier::{DataSpec, DatasetKind, ImageClassifier};
pub use crate::classifier::{distillation_loss, distillation_output};
use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use datasets::{ImageBatch, ImageBatcher, ImageItem, SoftTargets};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The distillation settings of a run (saved in its config.json, so `--resume` keeps them).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Distillation {
    /// The teacher's weights (a run folder's `model.bpk`).
    pub teacher: PathBuf,
    /// Softmax temperature T.
    pub temperature: f64,
    /// Weight α of the soft-target term.
    pub alpha: f64,
}

/// Temperature 4 and α 0.9 are the usual starting point for small image classifiers
/// (Hinton et al. found high weights on the soft term best when T is well above 1).
pub const DEFAULT_TEMPERATURE: f64 = 4.0;
pub const DEFAULT_ALPHA: f64 = 0.9;

impl Distillation {
    /// Refuses a temperature or weight that makes no sense, naming the flag.
    pub fn check(&self) -> Result<(), crate::UsageError> {
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(crate::UsageError(format!(
                "--temperature {}: the softmax temperature must be a positive number, e.g. 4",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.alpha) {
            return Err(crate::UsageError(format!(
                "--alpha {}: the soft targets' weight must be in [0, 1] (the labels get 1 − α)",
                self.alpha
            )));
        }
        Ok(())
    }
}

/// A trained classifier that gives logits for a batch of images: any [`ImageClassifier`].
pub trait Teacher: Send {
    fn logits(&self, images: Tensor<4>) -> Tensor<2>;
}

impl<M: ImageClassifier> Teacher for M {
    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        ImageClassifier::logits(self, images)
    }
}

/// Builds a teacher of one architecture from its weights and run config (a model entry's
/// [`crate::entry::ModelEntry::teacher`]).
pub type TeacherLoader =
    fn(weights: &Path, config: &Path, device: &Device) -> anyhow::Result<Box<dyn Teacher>>;

/// [`TeacherLoader`] of architecture `M`: the weights in inference mode.
pub fn load_teacher<M: ImageClassifier>(
    weights: &Path,
    config: &Path,
    device: &Device,
) -> anyhow::Result<Box<dyn Teacher>> {
    let run = TeacherConfig::read(config)?;
    let model_config: M::Config = serde_json::from_value(run.model_config)
        .map_err(|e| anyhow::anyhow!("{}: not a config of {}: {e}", config.display(), M::NAME))?;
    let model = M::init(&model_config, &run.data, device);
    let model = weights::load_weights(model, weights, &M::pytorch_names(&model_config))?;
    Ok(Box::new(model.valid()))
}

/// What a teacher's `config.json` (a run config written by `train`) says of it.
#[derive(Deserialize)]
struct TeacherConfig {
    model: String,
    model_config: serde_json::Value,
    data: DataSpec,
    settings: TeacherSettings,
}

#[derive(Deserialize)]
struct TeacherSettings {
    dataset: DatasetKind,
}

impl TeacherConfig {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a run config: {e}", path.display()))
    }
}

/// A teacher ready to label batches, and what it was trained on.
pub struct LoadedTeacher {
    pub model: Box<dyn Teacher>,
    /// Its architecture (a model name of the zoo).
    pub architecture: String,
    pub data: DataSpec,
    pub dataset: DatasetKind,
}

/// Loads `--teacher weights` for student `M` on `device`, checking that it classifies the
/// same images into the same classes. The architecture comes from the `config.json` beside
/// the weights: `M`'s own, or one that `loader_of` finds (in the `zoo` binary, which registers
/// every model, any image classifier of the zoo). Every failure is a usage error naming the
/// flag.
pub fn resolve<M: ImageClassifier>(
    weights: &Path,
    student: &DataSpec,
    dataset: DatasetKind,
    device: &Device,
    loader_of: impl Fn(&str) -> Option<TeacherLoader>,
) -> anyhow::Result<LoadedTeacher> {
    let usage = |why: String| crate::UsageError(format!("--teacher {}: {why}", weights.display()));
    if !weights.is_file() {
        return Err(usage("no such file".into()).into());
    }
    let config = weights
        .parent()
        .unwrap_or(Path::new("."))
        .join("config.json");
    if !config.is_file() {
        return Err(usage(format!(
            "no config.json beside it; a teacher is the model.bpk of a `train` run folder, whose \
             config.json names its architecture ({} is missing)",
            config.display()
        ))
        .into());
    }
    let described = TeacherConfig::read(&config).map_err(|e| usage(format!("{e:#}")))?;
    let teacher_dataset = described.settings.dataset;
    if described.data.num_classes != student.num_classes || teacher_dataset != dataset {
        return Err(usage(format!(
            "the teacher classifies {} into {} classes, the student {} into {}; distillation \
             needs the same data set and classes",
            teacher_dataset.name(),
            described.data.num_classes,
            dataset.name(),
            student.num_classes
        ))
        .into());
    }
    if described.data.shape() != student.shape() {
        return Err(usage(format!(
            "the teacher takes {}x{}x{} images, the student {}x{}x{}",
            described.data.channels,
            described.data.height,
            described.data.width,
            student.channels,
            student.height,
            student.width
        ))
        .into());
    }
    let loader: TeacherLoader = if described.model == M::NAME {
        load_teacher::<M>
    } else {
        loader_of(&described.model).ok_or_else(|| {
            usage(format!(
                "its architecture is {}, which the {} binary does not include; run through \
                     the zoo binary, which knows every model: `zoo {} train --teacher …`",
                described.model,
                M::NAME,
                M::NAME
            ))
        })?
    };
    let model =
        loader(weights, &config, device).map_err(|e| usage(format!("cannot load it: {e:#}")))?;
    Ok(LoadedTeacher {
        model,
        architecture: described.model,
        data: described.data,
        dataset: teacher_dataset,
    })
}

/// Builds training batches as [`ImageBatcher`] does and, with a teacher, adds its logits.
///
/// When the images are not augmented, each one looks the same every epoch, so the teacher's
/// logits are computed once and cached by the image's bytes: epochs after the first cost no
/// teacher forward passes. Augmented images differ every time and are never cached.
pub struct TeacherBatcher {
    images: ImageBatcher,
    teacher: Option<BatchTeacher>,
}

struct BatchTeacher {
    model: Mutex<Box<dyn Teacher>>,
    temperature: f64,
    alpha: f64,
    /// Logits by a hash of the image's bytes (None: augmented data, nothing cached).
    cache: Option<Mutex<HashMap<u64, Vec<f32>>>>,
}

impl TeacherBatcher {
    /// `cache`: the images are the same every epoch (no augmentation).
    pub fn new(
        images: ImageBatcher,
        teacher: Option<(Box<dyn Teacher>, &Distillation)>,
        cache: bool,
    ) -> Self {
        Self {
            images,
            teacher: teacher.map(|(model, settings)| BatchTeacher {
                model: Mutex::new(model),
                temperature: settings.temperature,
                alpha: settings.alpha,
                cache: cache.then(Default::default),
            }),
        }
    }
}

impl BatchTeacher {
    /// The teacher's `[batch, classes]` logits for `images` (whose bytes hash to `keys`),
    /// from the cache when every image is in it.
    fn logits(&self, images: Tensor<4>, keys: &[u64]) -> Tensor<2> {
        let device = images.device();
        if let Some(cache) = &self.cache {
            let cache = cache.lock().expect("teacher cache lock");
            let rows: Option<Vec<&Vec<f32>>> = keys.iter().map(|k| cache.get(k)).collect();
            if let Some(rows) = rows {
                let classes = rows[0].len();
                let flat: Vec<f32> = rows.into_iter().flatten().copied().collect();
                return Tensor::from_data(TensorData::new(flat, [keys.len(), classes]), &device)
                    .inner();
            }
        }
        // The teacher is not trained: it sees the images without autodiff.
        let logits = self
            .model
            .lock()
            .expect("teacher lock")
            .logits(images.inner());
        if let Some(cache) = &self.cache {
            let classes = logits.dims()[1];
            let values: Vec<f32> = logits
                .clone()
                .into_data()
                .convert::<f32>()
                .try_to_vec()
                .expect("f32 logits");
            let mut cache = cache.lock().expect("teacher cache lock");
            for (key, row) in keys.iter().zip(values.chunks_exact(classes)) {
                cache.insert(*key, row.to_vec());
            }
        }
        logits
    }
}

fn image_key(pixels: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    pixels.hash(&mut hasher);
    hasher.finish()
}

impl Batcher<ImageItem, ImageBatch> for TeacherBatcher {
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let keys: Vec<u64> = match &self.teacher {
            Some(BatchTeacher { cache: Some(_), .. }) => {
                items.iter().map(|item| image_key(&item.pixels)).collect()
            }
            _ => Vec::new(),
        };
        let mut batch = self.images.batch(items, device);
        if let Some(teacher) = &self.teacher {
            batch.soft_targets = Some(SoftTargets {
                logits: teacher.logits(batch.images.clone(), &keys),
                temperature: teacher.temperature,
                alpha: teacher.alpha,
            });
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cached logits are the teacher's own, and a cached batch costs no forward pass.
    #[test]
    fn cached_logits_equal_the_teachers() {
        struct Counting(std::sync::Arc<std::sync::atomic::AtomicUsize>);
        impl Teacher for Counting {
            fn logits(&self, images: Tensor<4>) -> Tensor<2> {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Two "classes": the mean and the first pixel of each image.
                let [n, c, h, w] = images.dims();
                let flat = images.reshape([n, c * h * w]);
                Tensor::cat(vec![flat.clone().mean_dim(1), flat.narrow(1, 0, 1)], 1)
            }
        }
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let settings = Distillation {
            teacher: PathBuf::new(),
            temperature: 2.0,
            alpha: 0.5,
        };
        let shape = datasets::ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        let images = ImageBatcher::new(
            shape,
            &datasets::Normalization {
                mean: vec![0.0],
                std: vec![1.0],
            },
        );
        let batcher = TeacherBatcher::new(
            images,
            Some((Box::new(Counting(calls.clone())), &settings)),
            true,
        );
        let items = || {
            vec![
                ImageItem {
                    pixels: vec![0, 51, 102, 255],
                    label: 0,
                    index: 0,
                },
                ImageItem {
                    pixels: vec![255, 0, 0, 0],
                    label: 1,
                    index: 1,
                },
            ]
        };
        let device = Device::default();
        let logits = |batch: ImageBatch| -> Vec<f32> {
            batch
                .soft_targets
                .unwrap()
                .logits
                .into_data()
                .try_to_vec()
                .unwrap()
        };
        let first = logits(batcher.batch(items(), &device));
        let second = logits(batcher.batch(items(), &device));
        assert_eq!(first, second);
        assert_eq!(
            calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "the second batch is cached"
        );
        assert!(
            (first[0] - (0.0 + 0.2 + 0.4 + 1.0) / 4.0).abs() < 1e-6,
            "{first:?}"
        );
    }

    fn logits(values: &[f32], rows: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [rows, values.len() / rows]),
            device,
        )
    }

    /// Two classes, one image, by hand. T = 2: student logits (0, 0) give q = (½, ½); teacher
    /// logits (2 ln 3, 0) give p = (¾, ¼). KL(p‖q) = ¾ ln(3/2) + ¼ ln(1/2) = 0.130812;
    /// CE of the student on label 0 = ln 2. With α = 0.5:
    /// 0.5 · 4 · 0.130812 + 0.5 · ln 2 = 0.261624 + 0.346574 = 0.608198.
    #[test]
    fn matches_a_hand_computed_value() {
        let device = Device::default();
        let student = logits(&[0.0, 0.0], 1, &device);
        let teacher = logits(&[2.0 * 3f32.ln(), 0.0], 1, &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64], [1]), &device);
        let loss: f32 = distillation_loss(student, teacher, targets, 2.0, 0.5).into_scalar();
        let expected = 0.5 * 4.0 * (0.75 * 1.5f64.ln() + 0.25 * 0.5f64.ln()) + 0.5 * 2f64.ln();
        assert!(
            (loss as f64 - expected).abs() < 1e-6,
            "{loss} vs {expected}"
        );
        assert!((expected - 0.608198).abs() < 1e-6);
    }

    /// α = 0 is plain cross-entropy; a student that copies the teacher has no soft loss.
    #[test]
    fn reduces_to_cross_entropy_and_to_zero_kl() {
        let device = Device::default();
        let student = logits(&[1.0, -2.0, 0.5, 0.3, 0.2, -1.0], 2, &device);
        let teacher = logits(&[3.0, 0.0, -1.0, 0.0, 2.0, 1.0], 2, &device);
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &device);
        let plain: f32 = crate::classification_output(student.clone(), targets.clone())
            .loss
            .into_scalar();
        let alpha0: f32 =
            distillation_loss(student.clone(), teacher, targets.clone(), 3.0, 0.0).into_scalar();
        assert!((plain - alpha0).abs() < 1e-6);
        let copied: f32 =
            distillation_loss(student.clone(), student, targets, 3.0, 1.0).into_scalar();
        assert!(copied.abs() < 1e-6, "{copied}");
    }
}
