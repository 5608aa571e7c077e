//! The settings of a training run: flags merged with the model's recipe, saved in
//! `config.json` with the model config and data shape so a run can be rebuilt and resumed.

use crate::classifier::{
    AugmentKind, DataSpec, DatasetKind, ImageClassifier, OptimizerKind, ScheduleKind,
};
use crate::cli::TrainArgs;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Every training setting after flags and the model's recipe are merged; saved in config.json.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub dataset: DatasetKind,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub optimizer: OptimizerKind,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// λ of the L1 penalty (`--l1`), 0 = off.
    #[serde(default)]
    pub l1: f64,
    pub schedule: ScheduleKind,
    pub warmup_epochs: usize,
    pub step_epochs: usize,
    pub step_gamma: f64,
    pub grad_clip: Option<f64>,
    pub augment: AugmentKind,
    pub seed: u64,
    pub valid_fraction: f64,
    pub limit_train: Option<usize>,
    pub limit_valid: Option<usize>,
    pub early_stop: Option<usize>,
    /// Which fold of a k-fold cross-validation validates this run (None: --valid-fraction).
    #[serde(default)]
    pub fold: Option<Fold>,
    /// Knowledge distillation from a teacher (`--teacher`), if any.
    #[serde(default)]
    pub distillation: Option<crate::distill::Distillation>,
    /// Weights that are zero stay zero (`--keep-zeros`).
    #[serde(default)]
    pub keep_zeros: bool,
    /// Batches whose gradients each optimizer step sums (`--grad-accumulation`).
    #[serde(default = "crate::flags::one")]
    pub grad_accumulation: usize,
    /// The side an image folder's images are cut to (`--image-size`); None for built-in sets.
    #[serde(default)]
    pub image_size: Option<usize>,
    /// Weights the run started from (`--init`), and whether its head was re-learnt.
    #[serde(default)]
    pub init: Option<std::path::PathBuf>,
    #[serde(default)]
    pub reset_head: bool,
    /// Only the classifier head trains (`--freeze-backbone`).
    #[serde(default)]
    pub freeze_backbone: bool,
}

impl Settings {
    /// The settings recorded for weights not trained here (a registry checkpoint): the data
    /// they expect, nothing of a training run.
    pub fn imported(dataset: DatasetKind, image_size: Option<usize>) -> Self {
        Self {
            dataset,
            epochs: 0,
            batch_size: 0,
            lr: 0.0,
            optimizer: OptimizerKind::Sgd,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            l1: 0.0,
            schedule: ScheduleKind::Constant,
            warmup_epochs: 0,
            step_epochs: 0,
            step_gamma: 0.0,
            grad_clip: None,
            augment: AugmentKind::None,
            seed: 0,
            valid_fraction: 0.0,
            limit_train: None,
            limit_valid: None,
            early_stop: None,
            fold: None,
            distillation: None,
            keep_zeros: false,
            grad_accumulation: 1,
            image_size,
            init: None,
            reset_head: false,
            freeze_backbone: false,
        }
    }

    pub fn optimizer_settings(&self) -> crate::optim::OptimizerSettings {
        crate::optim::OptimizerSettings {
            optimizer: self.optimizer,
            momentum: self.momentum,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
            l1: self.l1,
            keep_zeros: self.keep_zeros,
            grad_clip: self.grad_clip,
        }
    }
}

/// Fold `fold` (from 0) of `folds` validates a run (`train --folds`, see [`crate::folds`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    pub folds: usize,
    pub fold: usize,
}

/// `config.json` of a run: enough to rebuild the model and repeat the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig<C> {
    pub model: String,
    pub model_config: C,
    pub data: DataSpec,
    pub settings: Settings,
}

impl<C: serde::de::DeserializeOwned> RunConfig<C> {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{} is not a run config of this model: {e}", path.display())
        })
    }
}

/// The settings `train` would use with no flags but the model's: its recipe for `dataset`.
pub(crate) fn default_settings<M: ImageClassifier>(
    config: &M::Config,
    dataset: DatasetKind,
) -> Settings {
    settings_from(
        &TrainArgs::defaults(config.clone()),
        &M::recipe(config, Some(dataset)),
    )
}

pub(crate) fn settings_from<C: clap::Args>(
    args: &TrainArgs<C>,
    recipe: &crate::classifier::Recipe,
) -> Settings {
    let optimizer = args.run.optimizer.unwrap_or(recipe.optimizer);
    Settings {
        dataset: args.data.dataset.unwrap_or(recipe.dataset),
        epochs: args.run.epochs.unwrap_or(recipe.epochs),
        batch_size: args.run.batch_size.unwrap_or(recipe.batch_size),
        lr: args.run.lr.unwrap_or(recipe.lr),
        optimizer,
        momentum: args.run.momentum.unwrap_or(match optimizer {
            OptimizerKind::Sgd => 0.9,
            _ => 0.0,
        }),
        nesterov: args.nesterov.unwrap_or(recipe.nesterov),
        weight_decay: args.run.weight_decay.unwrap_or(recipe.weight_decay),
        l1: args.run.l1.unwrap_or(0.0),
        schedule: args.run.schedule.unwrap_or(recipe.schedule),
        warmup_epochs: args.run.warmup_epochs.unwrap_or(recipe.warmup_epochs),
        step_epochs: args.step_epochs,
        step_gamma: args.step_gamma,
        grad_clip: args.run.grad_clip,
        augment: args.augment.unwrap_or(recipe.augment),
        seed: args.run.seed,
        valid_fraction: args.valid_fraction,
        limit_train: args.run.limit_train,
        limit_valid: args.run.limit_valid,
        early_stop: args.run.early_stop,
        fold: None,
        distillation: args
            .teacher
            .clone()
            .map(|teacher| crate::distill::Distillation {
                teacher,
                temperature: args
                    .temperature
                    .unwrap_or(crate::distill::DEFAULT_TEMPERATURE),
                alpha: args.alpha.unwrap_or(crate::distill::DEFAULT_ALPHA),
            }),
        keep_zeros: args.keep_zeros,
        grad_accumulation: args.run.grad_accumulation,
        image_size: (args.data.dataset == Some(DatasetKind::Folder)).then(|| {
            args.data
                .image_size
                .unwrap_or(crate::data::DEFAULT_IMAGE_SIZE)
        }),
        init: args.init.clone(),
        reset_head: args.reset_head,
        freeze_backbone: args.freeze_backbone,
    }
}
