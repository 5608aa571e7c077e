//! Full-batch node classification: one optimizer step per epoch on the whole graph, the loss on
//! the training nodes only, validation after every step, and the model of the last epoch whose
//! validation accuracy and loss were both the best so far is kept. Runs on the trainer's run
//! driver (metrics.csv, checkpoints, `--resume`, `--early-stop`, curves, report.json); the
//! other commands are in `cli.rs`.

use crate::config::{Arch, GnnConfig, Recipe};
use crate::data::GraphDataArgs;
use crate::model::{Gnn, GraphTensors};
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use datasets::Graph;
use serde::{Deserialize, Serialize};
use std::path::Path;
use trainer::device::select_device;
use trainer::driver::{
    EpochResult, Plan, RunFlags, RunFolder, Select, Training, Validation, fit, load_module,
    load_optimizer, save_module, save_optimizer,
};
use trainer::evaluate::{ClassificationScores, Evaluation};
use trainer::report::{Provenance, Report};

pub const NAME: &str = "gnn";

/// Every training setting after flags and the recipe are merged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub decay_first_layer_only: bool,
    pub early_stop: Option<usize>,
    pub seed: u64,
    pub checkpoint_every: usize,
    /// The fold of a k-fold cross-validation that validates this run (`--folds`); None: the
    /// data set's own split.
    #[serde(default)]
    pub fold: Option<trainer::folds::Fold>,
}

/// `config.json`: enough to rebuild the model and repeat the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: String,
    pub model_config: GnnConfig,
    pub data: GraphDataArgs,
    pub num_features: usize,
    pub class_names: Vec<String>,
    pub settings: Settings,
}

/// `report.json`: the trainer's report plus what model selection chose.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GnnReport {
    #[serde(flatten)]
    pub report: Report,
    pub arch: Arch,
    pub best_epoch: usize,
    pub valid_accuracy: Option<f64>,
    pub stopped_early: bool,
    /// Median wall time of one epoch (training step + validation pass).
    pub seconds_per_epoch: f64,
}

fn node_tensor(nodes: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = nodes.iter().map(|&n| n as i64).collect();
    Tensor::from_data(TensorData::new(v, [nodes.len()]), device)
}

fn label_tensor(graph: &Graph, nodes: &[u32], device: &Device) -> Tensor<1, Int> {
    let v: Vec<i64> = nodes
        .iter()
        .map(|&n| graph.labels[n as usize] as i64)
        .collect();
    Tensor::from_data(TensorData::new(v, [nodes.len()]), device)
}

/// Loss, accuracy, per-class scores and ROC/PR curves of `logits` on `nodes`.
pub fn score(
    logits: Tensor<2>,
    graph: &Graph,
    nodes: &[u32],
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let mut scores = ClassificationScores::named(graph.class_names.clone());
    scores.add(
        logits.select(0, node_tensor(nodes, device)),
        label_tensor(graph, nodes, device),
    )?;
    scores.evaluation()
}

/// Full-batch training: one optimizer step on the whole graph per epoch, the loss on the
/// training nodes only, validation on the validation nodes.
struct FullBatch<'a> {
    model: Gnn,
    /// Inference copy of the kept model.
    best: Gnn,
    optim: ModuleOptimizer,
    graph: &'a Graph,
    train_graph: GraphTensors,
    eval_graph: &'a GraphTensors,
    train_nodes: Tensor<1, Int>,
    train_labels: Tensor<1, Int>,
    loss_fn: CrossEntropyLoss,
    settings: &'a Settings,
    device: &'a Device,
}

impl Training for FullBatch<'_> {
    type State = ();

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let logits = self.model.forward(&self.train_graph); // [nodes, classes]
        let train_logits = logits.select(0, self.train_nodes.clone()); // [train, classes]
        let cross_entropy = self
            .loss_fn
            .forward(train_logits.clone(), self.train_labels.clone());
        let loss = cross_entropy.clone()
            + self.model.l2_penalty(self.settings.decay_first_layer_only)
                * self.settings.weight_decay;
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let hits = trainer::evaluate::correct(train_logits, self.train_labels.clone());
        let accuracy = 100.0 * hits as f64 / self.train_labels.dims()[0] as f64;
        self.model = self.optim.step(self.settings.lr, self.model.clone(), grads);
        let loss = cross_entropy.into_scalar::<f64>();
        Ok(EpochResult::of_classifier(run, epoch, loss, accuracy))
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let nodes = &self.graph.splits.valid;
        if nodes.is_empty() {
            return Ok(None);
        }
        let valid = score(
            self.model.valid().forward(self.eval_graph),
            self.graph,
            nodes,
            self.device,
        )?;
        Ok(Some(Validation::of_classifier(run, epoch, &valid.metrics)))
    }

    fn keep_best(&mut self) {
        self.best = self.model.valid();
    }

    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        save_module(&self.model, dir, "model")?;
        save_module(&self.best, dir, "best")?;
        save_optimizer(&self.optim, dir, "optim")
    }

    fn state(&self) {}

    fn load(&mut self, dir: &Path, (): ()) -> anyhow::Result<()> {
        let model = load_module(self.model.clone(), dir, "model")?;
        let best = load_module(self.best.clone(), dir, "best")?;
        let optim = load_optimizer(trainer::optim::adam(), dir, "optim")?;
        (self.model, self.best, self.optim) = (model, best, optim);
        Ok(())
    }
}

/// Trains as the flags say; returns the report it also writes.
pub fn train(args: RunFlags, data: GraphDataArgs, config: GnnConfig) -> anyhow::Result<GnnReport> {
    train_fold(args, data, config, None)
}

/// `train --folds K`: k-fold cross-validation over the labelled nodes outside test (Cora: the
/// 140 training and 500 validation nodes), stratified by class; the test nodes stay the test.
pub fn train_folds(
    args: RunFlags,
    data: GraphDataArgs,
    config: GnnConfig,
) -> anyhow::Result<trainer::folds::FoldsReport> {
    let k = trainer::folds::check_folds(args.folds)?;
    let out = args.out_dir(NAME);
    if !args.resume {
        trainer::driver::claim(&out, false)?;
    }
    // Every fold needs a node of each class: refuse before any training.
    data.load(args.seed)?
        .use_fold(k, 0, args.seed)
        .map_err(|e| trainer::UsageError(format!("--folds {k}: {e}")))?;
    trainer::folds::run_folds(NAME, &out, k, args.resume, |fold, dir, resume| {
        let mut fold_args = args.clone();
        fold_args.folds = None;
        fold_args.out = Some(dir.to_path_buf());
        fold_args.resume = resume;
        train_fold(fold_args, data.clone(), config.clone(), Some(fold)).map(|r| r.report)
    })
}

fn train_fold(
    args: RunFlags,
    data: GraphDataArgs,
    config: GnnConfig,
    fold: Option<trainer::folds::Fold>,
) -> anyhow::Result<GnnReport> {
    let out = args.out_dir(NAME);
    let (settings, config, data) = if args.resume {
        let saved: RunConfig = RunFolder::read_config(&out.join("config.json"))?;
        let mut settings = saved.settings;
        if let Some(epochs) = args.epochs {
            settings.epochs = epochs;
        }
        let data = GraphDataArgs {
            data_dir: data.data_dir,
            ..saved.data
        };
        (settings, saved.model_config, data)
    } else {
        let recipe = Recipe::of(config.arch);
        let settings = Settings {
            epochs: args.epochs.unwrap_or(recipe.epochs),
            lr: args.lr.unwrap_or(recipe.lr),
            weight_decay: args.weight_decay.unwrap_or(recipe.weight_decay),
            decay_first_layer_only: recipe.decay_first_layer_only,
            early_stop: args.early_stop.or(recipe.early_stop),
            seed: args.seed,
            checkpoint_every: args.checkpoint_every.max(1),
            fold,
        };
        (settings, config.resolved(), data)
    };
    args.one_batch_per_step(
        NAME,
        "it trains full batch: every step is the whole graph, which one device holds",
    )?;
    args.refuse(
        NAME,
        "it trains full batch on the whole graph, with the papers' Adam at a constant rate, no \
         clipping (the L2 penalty is --weight-decay; no L1), and the data set's own node split",
        &[
            "--batch-size",
            "--l1",
            "--momentum",
            "--schedule",
            "--warmup-epochs",
            "--grad-clip",
            "--limit-train",
            "--limit-valid",
            "--limit-test",
        ],
    )?;
    args.only_optimizer(NAME, trainer::OptimizerKind::Adam)?;
    anyhow::ensure!(settings.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(
        settings.lr > 0.0 && settings.lr.is_finite(),
        "--lr must be a positive number"
    );
    let (device_name, device) = select_device(args.device_name())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();

    let mut graph = data.load(settings.seed)?;
    if let Some(f) = settings.fold {
        graph.use_fold(f.folds, f.fold, settings.seed)?;
    }
    let splits = graph.splits.clone();
    let eval_graph = GraphTensors::new(&graph, &device);

    let run_config = RunConfig {
        model: NAME.into(),
        model_config: config.clone(),
        data: data.clone(),
        num_features: graph.num_features,
        class_names: graph.class_names.clone(),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, args.resume, &run_config)?;
    run.print_every = 10;
    println!(
        "training {} ({}) on {}: {} nodes, {} edges, {} features, {} classes; {} train / {} valid / {} test nodes; {device_name}, {} epochs, output in {}",
        NAME,
        config.arch.name(),
        data.name(),
        graph.num_nodes(),
        graph.edges.len(),
        graph.num_features,
        graph.num_classes(),
        splits.train.len(),
        splits.valid.len(),
        splits.test.len(),
        settings.epochs,
        out.display()
    );

    let model = Gnn::new(&config, graph.num_features, graph.num_classes(), &autodiff);
    let mut training = FullBatch {
        best: model.valid(),
        model,
        // The L2 penalty is part of the loss (as in both papers' code), so Adam has no decay.
        optim: trainer::optim::adam(),
        graph: &graph,
        train_graph: GraphTensors::new(&graph, &autodiff),
        eval_graph: &eval_graph,
        train_nodes: node_tensor(&splits.train, &autodiff),
        train_labels: label_tensor(&graph, &splits.train, &autodiff),
        loss_fn: CrossEntropyLossConfig::new().init(&autodiff),
        settings: &settings,
        device: &device,
    };
    let plan = Plan {
        epochs: settings.epochs,
        resume: args.resume,
        checkpoint_every: settings.checkpoint_every,
        early_stop: settings.early_stop,
        select: Select::ScoreAndLoss,
    };
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (start, wall_seconds) = (fitted.start, run.elapsed());

    let best = training.best;
    save_module(&best, &out, "model")?;
    let logits = best.forward(&eval_graph);
    let evaluation = score(logits.clone(), &graph, &splits.test, &device)?;
    evaluation.write(&out)?;
    let test = evaluation.metrics.clone();
    let valid_accuracy = (!splits.valid.is_empty())
        .then(|| score(logits, &graph, &splits.valid, &device).map(|m| m.metrics.accuracy))
        .transpose()?;
    run.plot(&format!("{NAME} ({}) loss", config.arch.name()), "loss");
    run.plot(
        &format!("{NAME} ({}) accuracy (%)", config.arch.name()),
        "accuracy",
    );
    let seconds_per_epoch = run.median_epoch_seconds(start);
    let report = GnnReport {
        report: Report {
            model: NAME.into(),
            dataset: data.name(),
            device: device_name,
            seed: settings.seed,
            epochs_completed: fitted.last_epoch,
            epochs_requested: settings.epochs,
            resumed_from_epoch: (start > 0).then_some(start),
            train_samples: splits.train.len(),
            valid_samples: splits.valid.len(),
            wall_seconds,
            train_samples_per_second: if seconds_per_epoch > 0.0 {
                splits.train.len() as f64 / seconds_per_epoch
            } else {
                0.0
            },
            parameters: best.num_params(),
            weights_near_zero_percent: None,
            skipped_files: 0,
            test,
            provenance: Provenance::now(),
        },
        arch: config.arch,
        best_epoch: fitted.best_epoch,
        valid_accuracy,
        stopped_early: fitted.stopped_early,
        seconds_per_epoch,
    };
    run.write_json("report.json", &report)?;
    println!(
        "test: accuracy {:.2}%  loss {:.4}  macro F1 {:.2}%{}  ({} nodes; best epoch {}{}; {:.1} s, {:.1} ms/epoch{})",
        report.report.test.accuracy,
        report.report.test.loss,
        report.report.test.f1_macro,
        evaluation.areas_note(),
        report.report.test.samples,
        report.best_epoch,
        valid_accuracy
            .map(|v| format!(", valid {v:.2}%"))
            .unwrap_or_default(),
        wall_seconds,
        1000.0 * seconds_per_epoch,
        report.report.provenance.rss_note()
    );
    println!("wrote {}", out.display());
    Ok(report)
}
