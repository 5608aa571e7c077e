//! `train`: data, model, optimizer and schedule into burn-train's `SupervisedTraining` +
//! `Learner`; then the final weights, test metrics, curves and `report.json`.

use crate::checkpoint::latest_valid_checkpoint;
use crate::classifier::{AugmentKind, DataSpec, ImageClassifier};
use crate::cli::DataArgs;
use crate::cli::TrainArgs;
use crate::data::{load_split_counting_skips, loader, train_loader};
use crate::device::select_device;
use crate::evaluate::evaluate;
use crate::metrics::{EpochLog, EpochLogger, read_metrics_csv};
use crate::plots::plot_metric;
use crate::renderer::QuietRenderer;
use crate::report::{Provenance, Report};
use crate::schedule::WarmupSchedule;
use crate::settings::settings_from;
pub use crate::settings::{Fold, RunConfig, Settings};
use burn::train::logger::FileMetricLogger;
use burn::train::metric::store::{Aggregate, Direction, Split as MetricSplit};
use burn::train::metric::{
    AccuracyMetric, ClassReduction, FBetaScoreMetric, LearningRateMetric, LossMetric,
    PrecisionMetric, RecallMetric, TopKAccuracyMetric,
};
use burn::train::{
    Interrupter, Learner, MetricEarlyStoppingStrategy, StoppingCondition, SupervisedTraining,
};
use datasets::{ImageBatcher, Split};
use std::io::IsTerminal;

/// A weight this small counts as zero in `weights_near_zero_percent`.
const NEAR_ZERO: f64 = 1e-3;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Trains a model as the flags say; returns the report it also writes. With `--folds K`, see
/// `crate::folds::train_folds`.
pub fn train<M: ImageClassifier>(args: TrainArgs<M::Config>) -> anyhow::Result<Report> {
    train_fold::<M>(args, None)
}

/// One training run, validated on `fold` of a k-fold split when given.
pub(crate) fn train_fold<M: ImageClassifier>(
    args: TrainArgs<M::Config>,
    fold: Option<Fold>,
) -> anyhow::Result<Report> {
    let started = Instant::now();
    let out = args.run.out_dir(M::NAME);
    let config_path = out.join("config.json");

    // A resumed run takes its settings and model config from its own config.json; only
    // --epochs (to extend it) and the device may change.
    let (settings, model_config) = if args.run.resume {
        if !config_path.exists() && out.join("fold-1").is_dir() {
            return Err(crate::UsageError(format!(
                "--resume: {} holds a k-fold cross-validation; resume it with the same --folds K",
                out.display()
            ))
            .into());
        }
        let saved = RunConfig::<M::Config>::read(&config_path)?;
        let mut settings = saved.settings;
        if let Some(epochs) = args.run.epochs {
            settings.epochs = epochs;
        }
        (settings, saved.model_config)
    } else {
        let mut settings = settings_from(&args, &M::recipe(&args.model, args.data.dataset));
        settings.fold = fold;
        crate::optim::check_flags(settings.optimizer, args.run.momentum, args.nesterov)?;
        if !(settings.l1 >= 0.0 && settings.l1.is_finite()) {
            return Err(crate::UsageError(format!(
                "--l1 {}: the penalty's λ must be 0 (off) or a positive number, e.g. --l1 1e-4",
                settings.l1
            ))
            .into());
        }
        if let Some(distillation) = &settings.distillation {
            distillation.check()?;
        } else if let Some(flag) = [("--temperature", args.temperature), ("--alpha", args.alpha)]
            .iter()
            .find_map(|(flag, value)| value.map(|_| flag))
        {
            return Err(crate::UsageError(format!(
                "{flag} sets up knowledge distillation; give the teacher with --teacher FILE"
            ))
            .into());
        }
        if args.run.checkpoint_every != 1 {
            return Err(crate::UsageError(
                "--checkpoint-every: the Learner checkpoints every epoch".into(),
            )
            .into());
        }
        (settings, args.model.clone())
    };
    anyhow::ensure!(settings.epochs > 0, "--epochs must be at least 1");
    anyhow::ensure!(settings.batch_size > 0, "--batch-size must be at least 1");
    anyhow::ensure!(
        settings.grad_accumulation > 0,
        "--grad-accumulation must be at least 1"
    );
    anyhow::ensure!(
        settings.lr > 0.0 && settings.lr.is_finite(),
        "--lr must be a positive number"
    );
    anyhow::ensure!(
        (0.0..1.0).contains(&settings.valid_fraction) && settings.valid_fraction > 0.0,
        "--valid-fraction must be in (0, 1)"
    );
    let (device_name, device) = select_device(args.run.device_name())?;
    let parallel = crate::parallel::strategy(&args.run)?;
    let device_name = parallel
        .as_ref()
        .map_or(device_name, |p| p.description.clone());
    device.seed(settings.seed);

    // Data: the validation split is carved from train with the run's seed, unless an image
    // folder brings its own. A resumed image-folder run reads its images at its saved size.
    let data_args = DataArgs {
        image_size: settings.image_size.or(args.data.image_size),
        ..args.data.clone()
    };
    let (full_train, mut skipped_files) =
        load_split_counting_skips(settings.dataset, Split::Train, &data_args)?;
    let (test, skipped_test) =
        load_split_counting_skips(settings.dataset, Split::Test, &data_args)?;
    skipped_files += skipped_test;
    let own_valid = match settings.fold {
        Some(_) => None,
        None => crate::data::folder_validation(settings.dataset, &data_args)?,
    };
    let (train_set, mut valid_set) = match settings.fold {
        // The folds divide the (limited) training split; fold `f.fold` validates.
        Some(f) => {
            let full = settings
                .limit_train
                .map_or(full_train.clone(), |n| full_train.take(n));
            full.split_fold(f.folds, f.fold, settings.seed)?
        }
        None => {
            let (train, valid) = match own_valid {
                Some((valid, skipped)) => {
                    skipped_files += skipped;
                    (full_train.clone(), valid)
                }
                None => full_train.split_validation(settings.valid_fraction, settings.seed)?,
            };
            (
                settings
                    .limit_train
                    .map_or(train.clone(), |n| train.take(n)),
                valid,
            )
        }
    };
    if let Some(n) = settings.limit_valid {
        valid_set = valid_set.take(n);
    }
    anyhow::ensure!(
        !train_set.is_empty() && !valid_set.is_empty(),
        "the train or valid split is empty"
    );
    let data = DataSpec::new(train_set.shape(), train_set.num_classes())
        .with_classes(train_set.classes().to_vec());
    if let Some(n) = args.data.num_classes.filter(|&n| n != data.num_classes) {
        return Err(crate::UsageError(format!(
            "--num-classes {n}: the training data has {} classes ({}); a model trains with the \
             data's classes (with --init, a head of another size is initialised afresh)",
            data.num_classes,
            data.classes.join(", ")
        ))
        .into());
    }
    // The teacher is checked and loaded before the run folder is written to: a bad one writes
    // nothing.
    let teacher = match &settings.distillation {
        Some(d) => Some(crate::distill::resolve::<M>(
            &crate::pretrained::resolve_any(&d.teacher)?,
            &data,
            settings.dataset,
            &device,
            |name| crate::entry::registered(name).and_then(|entry| entry.teacher),
        )?),
        None => None,
    };
    if !args.run.resume {
        crate::driver::claim(&out, false)?;
    }

    // Parameters are created on the autodiff device so they are tracked for gradients.
    let mut model = M::init(&model_config, &data, &device.clone().autodiff());
    if let (Some(init), false) = (&settings.init, args.run.resume) {
        let init = crate::pretrained::resolve(init, M::NAME)?;
        model =
            crate::transfer::init_from(model, &init, &model_config, &data, settings.reset_head)?;
    }
    if settings.freeze_backbone {
        let head = M::head(&model_config, &data);
        let (frozen, trainable, fixed) = crate::transfer::freeze_backbone(model, &head);
        model = frozen;
        println!(
            "--freeze-backbone: training {trainable} head parameters ({}), {fixed} frozen",
            head.join(", ")
        );
    }

    crate::driver::claim(&out, true)?;
    let resume_epoch = if args.run.resume {
        Some(latest_valid_checkpoint(&out, &model)?)
    } else {
        None
    };
    if let Some(epoch) = resume_epoch {
        crate::driver::not_finished(&out, epoch, settings.epochs)?;
        println!("resuming {} from epoch {epoch}", out.display());
    }
    let run_config = RunConfig {
        model: M::NAME.to_string(),
        model_config: model_config.clone(),
        data: data.clone(),
        settings: settings.clone(),
    };
    std::fs::write(&config_path, serde_json::to_string_pretty(&run_config)?)?;

    let epochs_done = resume_epoch.unwrap_or(0);
    let batcher = ImageBatcher::for_set(&train_set);
    let teacher = teacher
        .zip(settings.distillation.as_ref())
        .map(|(teacher, distillation)| {
            println!(
                "distilling from {} ({}), temperature {}, α {}",
                distillation.teacher.display(),
                teacher.architecture,
                distillation.temperature,
                distillation.alpha
            );
            (teacher.model, distillation)
        });
    let dl_train = train_loader(
        &train_set,
        crate::distill::TeacherBatcher::new(
            batcher.clone(),
            teacher,
            settings.augment == AugmentKind::None,
        ),
        settings.augment,
        crate::data::Draws {
            seed: settings.seed,
            epochs_done,
        },
        settings.batch_size,
        args.num_workers,
        &device.clone().autodiff(),
    );
    let dl_valid = loader(
        valid_set.clone(),
        batcher.clone(),
        settings.batch_size,
        None,
        args.num_workers,
        &device,
    );

    // The schedule steps once per optimizer step: a step takes a batch from each device's share
    // of the data and sums `grad_accumulation` of them.
    let workers = args.run.devices.len().max(1);
    let iters_per_epoch = train_set
        .len()
        .div_ceil(workers)
        .div_ceil(settings.batch_size)
        .div_ceil(settings.grad_accumulation);
    let schedule = WarmupSchedule::new(
        settings.schedule,
        settings.lr,
        settings.warmup_epochs * iters_per_epoch,
        settings.epochs * iters_per_epoch,
        settings.step_epochs * iters_per_epoch,
        settings.step_gamma,
    );

    // Epoch history: keep what a resumed run already logged up to its checkpoint.
    let csv_path = out.join("metrics.csv");
    let mut history = EpochLog::default();
    if let Some(epoch) = resume_epoch
        && csv_path.is_file()
    {
        history.rows = read_metrics_csv(&csv_path)?;
        history.rows.retain(|r| r.epoch <= epoch);
    }
    let history = Arc::new(Mutex::new(history));

    let interrupter = Interrupter::new();
    let mut training = SupervisedTraining::new(&out, dl_train, dl_valid)
        .with_interrupter(interrupter.clone())
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .metrics((
            PrecisionMetric::multiclass(1, ClassReduction::Macro),
            RecallMetric::multiclass(1, ClassReduction::Macro),
            FBetaScoreMetric::multiclass(1.0, 1, ClassReduction::Macro),
        ))
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(
            EpochLogger::new(
                history.clone(),
                csv_path.clone(),
                settings.epochs,
                train_set.len(),
            )
            .stop_on_divergence(interrupter),
        )
        .with_metric_logger(FileMetricLogger::new(&out))
        .with_default_checkpointers()
        .num_epochs(settings.epochs);
    if data.num_classes > 5 {
        training = training.metrics((TopKAccuracyMetric::new(5),));
    }
    if !std::io::stdout().is_terminal() {
        training = training.renderer(Box::new(QuietRenderer));
    }
    if let Some(parallel) = parallel {
        training = training.with_training_strategy(parallel.strategy.into());
    }
    if settings.grad_accumulation > 1 {
        training = training.grads_accumulation(settings.grad_accumulation);
    }
    if let Some(patience) = settings.early_stop {
        training = training.early_stopping(MetricEarlyStoppingStrategy::new(
            &LossMetric::new(),
            Aggregate::Mean,
            Direction::Lowest,
            MetricSplit::Valid,
            StoppingCondition::NoImprovementSince { n_epochs: patience },
        ));
    }
    if let Some(epoch) = resume_epoch {
        training = training.checkpoint(epoch);
    }
    println!(
        "training {} on {} ({} train / {} valid images) with {device_name}, {} epochs, output in {}",
        M::NAME,
        settings.dataset.name(),
        train_set.len(),
        valid_set.len(),
        settings.epochs,
        out.display()
    );
    let result = training.launch(Learner::new(
        model,
        crate::optim::build(&settings.optimizer_settings()),
        schedule,
    ));
    if let Some(error) = result.error {
        anyhow::bail!("training failed: {error}");
    }
    if let Some((epoch, step, value)) = history.lock().expect("history lock").diverged {
        let last_good = crate::checkpoint::checkpoint_epochs(&out).first().copied();
        return Err(crate::driver::Diverged {
            what: "training loss",
            epoch,
            step: Some(step),
            value,
            last_good: last_good.map(|e| (e, out.join("checkpoint"))),
        }
        .into());
    }
    let model = result.model;
    let train_seconds = started.elapsed().as_secs_f64();

    let weights_path = out.join("model");
    crate::driver::sync_running_state(&model)
        .save_file(&weights_path)
        .map_err(|e| anyhow::anyhow!("cannot write {}.bpk: {e}", weights_path.display()))?;

    let mut test_set = test;
    if let Some(n) = args.run.limit_test {
        test_set = test_set.take(n);
    }
    let dl_test = loader(
        test_set.clone(),
        ImageBatcher::for_set(&test_set),
        500,
        None,
        args.num_workers,
        &device,
    );
    let evaluation = evaluate(&model, dl_test, test_set.classes())?;
    evaluation.write(&out)?;
    let areas = evaluation.areas_note();
    let test_metrics = evaluation.metrics;

    let history = history.lock().expect("history lock");
    let epochs_completed = history.last_epoch().unwrap_or(epochs_done);
    let samples_per_second = {
        let speeds: Vec<f64> = history
            .rows
            .iter()
            .filter(|r| r.metric == "samples_per_s" && r.epoch > epochs_done)
            .map(|r| r.value)
            .collect();
        if speeds.is_empty() {
            0.0
        } else {
            speeds.iter().sum::<f64>() / speeds.len() as f64
        }
    };
    for (metric, title) in [("loss", "loss"), ("accuracy", "accuracy (%)")] {
        let png = out.join(format!("{metric}.png"));
        if let Err(e) = plot_metric(&history.rows, metric, &format!("{} {title}", M::NAME), &png) {
            eprintln!("warning: cannot draw {}: {e}", png.display());
        }
    }
    let report = Report {
        model: M::NAME.to_string(),
        dataset: settings.dataset.name().to_string(),
        device: device_name,
        seed: settings.seed,
        epochs_completed,
        epochs_requested: settings.epochs,
        resumed_from_epoch: resume_epoch,
        train_samples: train_set.len(),
        valid_samples: valid_set.len(),
        wall_seconds: started.elapsed().as_secs_f64(),
        train_samples_per_second: samples_per_second,
        parameters: model.num_params(),
        weights_near_zero_percent: Some(crate::optim::weights_below(&model, NEAR_ZERO)),
        skipped_files,
        test: test_metrics,
        provenance: Provenance::now(),
    };
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    println!(
        "test: accuracy {:.2}%  loss {:.4}  macro F1 {:.2}%{areas}  ({} images; trained in {:.1} s{})",
        report.test.accuracy,
        report.test.loss,
        report.test.f1_macro,
        report.test.samples,
        train_seconds,
        report.provenance.rss_note()
    );
    println!("wrote {}", out.display());
    Ok(report)
}
