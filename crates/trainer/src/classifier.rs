//! What an image classifier crate hands the trainer: its config, constructor, logits, default
//! recipe and the names its parameters have in PyTorch; and the kinds its flags choose among.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use burn::train::{ClassificationOutput, InferenceStep, TrainStep};
use clap::{Args, ValueEnum};
use datasets::{ImageBatch, ImageShape, SoftTargets};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Shape and classes of the data a model is built for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DataSpec {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub num_classes: usize,
    /// Class names in label order (`predict` prints them); empty in runs saved before they
    /// were recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
    /// Photos are resized (shorter side) to this before the centre `height`×`width` crop; None:
    /// straight to the crop side (torchvision's ImageNet models: 256, then 224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<usize>,
}

impl DataSpec {
    pub fn new(shape: ImageShape, num_classes: usize) -> Self {
        Self {
            channels: shape.channels,
            height: shape.height,
            width: shape.width,
            num_classes,
            classes: Vec::new(),
            resize: None,
        }
    }

    /// This spec with these class names (and as many classes).
    pub fn with_classes(self, classes: Vec<String>) -> Self {
        Self {
            num_classes: classes.len(),
            classes,
            ..self
        }
    }

    /// Class `i`'s name: the recorded one, else its index.
    pub fn class_name(&self, i: usize) -> String {
        self.classes
            .get(i)
            .cloned()
            .unwrap_or_else(|| i.to_string())
    }
    pub fn shape(&self) -> ImageShape {
        ImageShape {
            channels: self.channels,
            height: self.height,
            width: self.width,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    Mnist,
    FashionMnist,
    Cifar10,
    /// Your own images in torchvision's ImageFolder layout: --data-dir DIR with
    /// DIR/train/<class>/*.png|jpg (and DIR/valid, DIR/test), resized to --image-size
    Folder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    Sgd,
    Adam,
    Adamw,
    Rmsprop,
}

impl OptimizerKind {
    /// The name `--optimizer` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adam => "adam",
            Self::Adamw => "adamw",
            Self::Rmsprop => "rmsprop",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    Constant,
    Cosine,
    Step,
    /// Linear decay to zero after the warm-up (BERT's schedule).
    Linear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AugmentKind {
    None,
    /// Random 4-pixel-padded crop and horizontal flip (CIFAR).
    CropFlip,
    /// Up to 10 degrees rotation and 2 pixels shift (MNIST).
    ShiftRotate,
}

/// A model's default training recipe; every field can be overridden by a flag.
#[derive(Clone, Debug)]
pub struct Recipe {
    pub dataset: DatasetKind,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    /// Nesterov momentum (SGD).
    pub nesterov: bool,
    pub schedule: ScheduleKind,
    pub warmup_epochs: usize,
    pub weight_decay: f64,
    pub augment: AugmentKind,
}

impl Recipe {
    /// Adam with one warm-up epoch to `lr`, then a cosine decay to 0; no weight decay, no
    /// augmentation (the small models' recipe; override fields with struct update syntax).
    pub fn adam_cosine(dataset: DatasetKind, epochs: usize, batch_size: usize, lr: f64) -> Self {
        Self {
            dataset,
            epochs,
            batch_size,
            lr,
            optimizer: OptimizerKind::Adam,
            nesterov: false,
            schedule: ScheduleKind::Cosine,
            warmup_epochs: 1,
            weight_decay: 0.0,
            augment: AugmentKind::None,
        }
    }
}

/// An image classifier the shared CLI can train, evaluate, export and describe.
///
/// The training and inference steps are the model crate's (its `task.rs`); they usually call
/// [`classification_output`].
pub trait ImageClassifier:
    Module
    + core::fmt::Display
    + TrainStep<Input = ImageBatch, Output = ClassificationOutput>
    + InferenceStep<Input = ImageBatch, Output = ClassificationOutput>
    + 'static
{
    /// Model-specific flags, also saved as `config.json`.
    type Config: Args
        + Serialize
        + DeserializeOwned
        + Clone
        + core::fmt::Debug
        + Send
        + Sync
        + 'static;

    /// Package and binary name, e.g. `mlp`.
    const NAME: &'static str;
    /// One line for `--help`.
    const ABOUT: &'static str;

    fn init(config: &Self::Config, data: &DataSpec, device: &Device) -> Self;

    /// `[batch, channels, height, width]` normalised images to `[batch, classes]` logits.
    fn logits(&self, images: Tensor<4>) -> Tensor<2>;

    /// Default training settings; `dataset` is the `--dataset` flag when given.
    fn recipe(config: &Self::Config, dataset: Option<DatasetKind>) -> Recipe;

    /// Burn parameter path prefixes and their PyTorch names, e.g. `("layers.0", "fc1")`.
    /// Identity by default: name fields as PyTorch does and nothing needs mapping.
    fn pytorch_names(_config: &Self::Config) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Burn parameter paths (enum variants left out, as in weight files) of the classifier
    /// head: the layer that maps features to class scores, which transfer learning re-learns
    /// (`--reset-head`) or trains alone (`--freeze-backbone`), e.g. `["fc"]`.
    fn head(config: &Self::Config, data: &DataSpec) -> Vec<String>;
}

/// Cross-entropy loss on logits, packaged for burn-train's classification metrics.
pub fn classification_output(logits: Tensor<2>, targets: Tensor<1, Int>) -> ClassificationOutput {
    let loss = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), targets.clone());
    ClassificationOutput::new(loss, logits, targets)
}

/// Hinton et al.'s loss, mean over the batch:
/// α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(student, labels).
///
/// The T² keeps the soft term's gradients the same size as T changes (they scale as 1/T²).
/// The KL term is PyTorch's `kl_div(log_softmax(student/T), softmax(teacher/T),
/// reduction="batchmean")`. `student` and `teacher` are `[batch, classes]` logits.
pub fn distillation_loss(
    student: Tensor<2>,
    teacher: Tensor<2>,
    targets: Tensor<1, Int>,
    temperature: f64,
    alpha: f64,
) -> Tensor<1> {
    let log_student = log_softmax(student.clone().div_scalar(temperature), 1);
    let log_teacher = log_softmax(teacher.div_scalar(temperature), 1);
    // [batch, classes] → [batch, 1] → [1]
    let kl = (log_teacher.clone().exp() * (log_teacher - log_student))
        .sum_dim(1)
        .mean();
    let cross_entropy = burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&student.device())
        .forward(student, targets);
    kl.mul_scalar(alpha * temperature * temperature) + cross_entropy.mul_scalar(1.0 - alpha)
}

/// [`distillation_loss`] packaged for burn-train's classification metrics (which score the
/// student's logits against the labels).
pub fn distillation_output(
    logits: Tensor<2>,
    soft: SoftTargets,
    targets: Tensor<1, Int>,
) -> ClassificationOutput {
    let loss = distillation_loss(
        logits.clone(),
        soft.logits,
        targets.clone(),
        soft.temperature,
        soft.alpha,
    );
    ClassificationOutput::new(loss, logits, targets)
}

/// Implements burn-train's `TrainStep` and `InferenceStep` for an [`ImageClassifier`]: logits
/// from [`ImageClassifier::logits`], cross-entropy loss (the distillation loss when a batch
/// carries a teacher's logits), classification metrics.
#[macro_export]
macro_rules! classification_steps {
    ($model:ty) => {
        impl $crate::burn::train::TrainStep for $model {
            type Input = $crate::datasets::ImageBatch;
            type Output = $crate::burn::train::ClassificationOutput;

            fn step(
                &self,
                batch: $crate::datasets::ImageBatch,
            ) -> $crate::burn::train::TrainOutput<$crate::burn::train::ClassificationOutput> {
                let logits = <$model as $crate::ImageClassifier>::logits(self, batch.images);
                // With a teacher (`train --teacher`), Hinton et al.'s distillation loss.
                let output = match batch.soft_targets {
                    Some(soft) => {
                        $crate::classifier::distillation_output(logits, soft, batch.targets)
                    }
                    None => $crate::classification_output(logits, batch.targets),
                };
                let grads = output.loss.backward();
                let output = $crate::metrics::for_metrics(output);
                $crate::burn::train::TrainOutput::new(self, grads, output)
            }
        }

        impl $crate::burn::train::InferenceStep for $model {
            type Input = $crate::datasets::ImageBatch;
            type Output = $crate::burn::train::ClassificationOutput;

            fn step(
                &self,
                batch: $crate::datasets::ImageBatch,
            ) -> $crate::burn::train::ClassificationOutput {
                let logits = <$model as $crate::ImageClassifier>::logits(self, batch.images);
                $crate::classification_output(logits, batch.targets)
            }
        }
    };
}
