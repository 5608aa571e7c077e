//! Training and inference steps, and the recipes for MNIST and CIFAR-10.

use crate::config::{CnnArch, CnnConfig};
use crate::model::Cnn;
use burn::prelude::*;
use trainer::entry::ModelEntry;
use trainer::{AugmentKind, DataSpec, DatasetKind, ImageClassifier, Recipe};

trainer::classification_steps!(Cnn);

impl ImageClassifier for Cnn {
    type Config = CnnConfig;
    const NAME: &'static str = "cnn";
    const ABOUT: &'static str =
        "Convolutional networks: LeNet-5 with batch norm (MNIST) and the seed-002 CNN (CIFAR-10)";

    fn init(config: &CnnConfig, data: &DataSpec, device: &Device) -> Self {
        Cnn::new(
            config,
            data.channels,
            data.height,
            data.width,
            data.num_classes,
            device,
        )
    }

    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward(images)
    }

    /// The last linear layer: `fc2` of the seed CNN, `fc3` of LeNet.
    fn head(config: &CnnConfig, data: &DataSpec) -> Vec<String> {
        match config.arch_for(data.channels) {
            CnnArch::TfTutorial => vec!["fc2".into()],
            CnnArch::Lenet => vec!["fc3".into()],
        }
    }

    /// `--arch tf-tutorial` defaults to CIFAR-10, `--arch lenet` to MNIST; `--dataset` wins.
    fn recipe(config: &CnnConfig, dataset: Option<DatasetKind>) -> Recipe {
        let dataset = dataset.unwrap_or(match config.arch {
            Some(CnnArch::TfTutorial) => DatasetKind::Cifar10,
            _ => DatasetKind::Mnist,
        });
        match dataset {
            // The TensorFlow tutorial: Adam, 10 epochs (Keras' batch 32). Random crops and flips and a cosine
            // decay after one warm-up epoch. Photos of one's own get the same.
            DatasetKind::Cifar10 | DatasetKind::Folder => Recipe {
                augment: AugmentKind::CropFlip,
                ..Recipe::adam_cosine(dataset, 10, 64, 2e-3)
            },
            DatasetKind::Mnist | DatasetKind::FashionMnist => Recipe {
                augment: AugmentKind::ShiftRotate,
                ..Recipe::adam_cosine(dataset, 8, 64, 2e-3)
            },
        }
    }
}

/// `cnn` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: ModelEntry =
    ModelEntry::image_classifier::<crate::Cnn>(include_str!("../zoo.json"));
