//! Training and inference steps, and what the shared trainer needs to run the MLP.

use crate::config::MlpConfig;
use crate::model::Mlp;
use burn::prelude::*;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use datasets::ImageBatch;
use trainer::{
    AugmentKind, DataSpec, DatasetKind, ImageClassifier, OptimizerKind, Recipe, ScheduleKind,
    classification_output,
};

impl TrainStep for Mlp {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> TrainOutput<ClassificationOutput> {
        let output = classification_output(self.forward(batch.images), batch.targets);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl InferenceStep for Mlp {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> ClassificationOutput {
        classification_output(self.forward(batch.images), batch.targets)
    }
}

impl ImageClassifier for Mlp {
    type Config = MlpConfig;
    const NAME: &'static str = "mlp";
    const ABOUT: &'static str =
        "Multi-layer perceptron (seed 001): Flatten → Dense 128 ReLU → Dropout 0.2 → Dense 10 on MNIST";

    fn init(config: &MlpConfig, data: &DataSpec, device: &Device) -> Self {
        Mlp::new(config, data.channels * data.height * data.width, data.num_classes, device)
    }

    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward(images)
    }

    /// Adam 1e-3 (seed 001 uses Keras' Adam defaults), batch 64, 5 epochs, constant rate.
    fn recipe(_config: &MlpConfig) -> Recipe {
        Recipe {
            dataset: DatasetKind::Mnist,
            epochs: 5,
            batch_size: 64,
            lr: 1e-3,
            optimizer: OptimizerKind::Adam,
            schedule: ScheduleKind::Constant,
            weight_decay: 0.0,
            augment: AugmentKind::None,
        }
    }

    fn pytorch_names(config: &MlpConfig) -> Vec<(String, String)> {
        Mlp::pytorch_names(config)
    }
}
