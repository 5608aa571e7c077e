//! Training and inference steps, and the CIFAR-10 recipe of He et al. (2016).

use crate::config::ResNetConfig;
use crate::model::ResNet;
use burn::prelude::*;
use trainer::entry::ModelEntry;
use trainer::{
    AugmentKind, DataSpec, DatasetKind, ImageClassifier, OptimizerKind, Recipe, ScheduleKind,
};

trainer::classification_steps!(ResNet);

impl ImageClassifier for ResNet {
    type Config = ResNetConfig;
    const NAME: &'static str = "resnet";
    const ABOUT: &'static str =
        "Residual networks: ResNet-20..110 for CIFAR-10 and ResNet-18..152 (torchvision layout)";

    fn init(config: &ResNetConfig, data: &DataSpec, device: &Device) -> Self {
        ResNet::new(config, data.channels, data.num_classes, device)
    }

    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward(images)
    }

    fn head(_config: &ResNetConfig, _data: &DataSpec) -> Vec<String> {
        vec!["fc".into()]
    }

    /// SGD with Nesterov momentum 0.9, weight decay 5e-4, batch 128, peak rate 0.1 after one
    /// warm-up epoch, cosine decay, random crops and flips. 182 epochs is the paper's 64k
    /// iterations at batch 128; on a CPU pass a smaller `--epochs`.
    fn recipe(_config: &ResNetConfig, dataset: Option<DatasetKind>) -> Recipe {
        let dataset = dataset.unwrap_or(DatasetKind::Cifar10);
        Recipe {
            dataset,
            epochs: 182,
            batch_size: 128,
            lr: 0.1,
            optimizer: OptimizerKind::Sgd,
            nesterov: true,
            schedule: ScheduleKind::Cosine,
            warmup_epochs: 1,
            weight_decay: 5e-4,
            augment: match dataset {
                DatasetKind::Cifar10 | DatasetKind::Folder => AugmentKind::CropFlip,
                _ => AugmentKind::None,
            },
        }
    }
}

/// `resnet` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: ModelEntry =
    ModelEntry::image_classifier::<crate::ResNet>(include_str!("../zoo.json"));
