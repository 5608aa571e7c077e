//! Fine-tuning for sequence classification (Devlin et al. 2019, §4): the pooled [CLS] vector,
//! dropout and a linear layer, every weight trained, on labelled CSVs (the SpamAssassin
//! ham/spam split by default). The encoder starts from a pretrained model folder or from
//! random weights (`--from-scratch`), so the two compare at the same budget. The epoch with
//! the best validation accuracy (ties: lower loss) is kept and scored on the test set.

use crate::args::{FinetuneArgs, NAME};
use crate::config::BertConfig;
use crate::folder::{Loaded, SavedModel};
use crate::heads::BertForSequenceClassification;
use crate::hf::Architecture;
use crate::model::{BertInput, BertModel};
use crate::tokenizer::{Encoded, WordPieceTokenizer};
use crate::training::{EpochMeter, Setup, median, optimizer, schedule};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use datasets::rng::SplitMix64;
use datasets::text::TextSet;
use serde::{Deserialize, Serialize};
use trainer::driver::{
    EpochResult, Plan, RunFolder, Select, Training, Validation, Workers, check_finite, fit,
    load_module, load_optimizer, save_module, save_optimizer,
};
use trainer::evaluate::{ClassificationScores, Evaluation};
use trainer::report::{Provenance, Report};

/// Fine-tuning recipe (Turc et al. 2019 search {1e-4, 5e-5, 3e-5} for the small BERTs; the
/// largest suits a 4-layer model and a 3-epoch budget).
pub const EPOCHS: usize = 3;
pub const LR: f64 = 1e-4;
pub const WEIGHT_DECAY: f64 = 0.01;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FinetuneReport {
    #[serde(flatten)]
    pub report: Report,
    /// `pretrained <dir>`, `scratch` or `scratch (config and tokenizer of <dir>)`.
    pub init: String,
    pub best_epoch: usize,
    pub valid_accuracy: f64,
    pub seconds_per_step: f64,
    pub class_names: Vec<String>,
}

/// Encoded texts and their labels.
pub struct Examples {
    pub rows: Vec<Encoded>,
    pub labels: Vec<i64>,
}

impl Examples {
    pub fn new(
        set: &TextSet,
        tokenizer: &WordPieceTokenizer,
        max_len: usize,
    ) -> anyhow::Result<Self> {
        let mut rows = Vec::with_capacity(set.items.len());
        for chunk in set.items.chunks(1024) {
            let ids = tokenizer.ids_batch(chunk.iter().map(|i| i.text.as_str()).collect())?;
            rows.extend(ids.into_iter().map(|mut ids| {
                ids.truncate(max_len - 2);
                tokenizer.wrap(&ids, &[])
            }));
        }
        Ok(Self {
            rows,
            labels: set.items.iter().map(|i| i.label as i64).collect(),
        })
    }

    fn batch(&self, indices: &[usize], pad: u32, device: &Device) -> (BertInput, Tensor<1, Int>) {
        let rows: Vec<Encoded> = indices.iter().map(|&i| self.rows[i].clone()).collect();
        let labels: Vec<i64> = indices.iter().map(|&i| self.labels[i]).collect();
        (
            BertInput::from_rows(&rows, pad, device),
            Tensor::from_data(TensorData::new(labels, [indices.len()]), device),
        )
    }
}

/// Test metrics (accuracy, per-class and macro F1, ROC/PR curves) of `model` on `examples`,
/// whose labels index `class_names`.
pub fn evaluate(
    model: &BertForSequenceClassification,
    examples: &Examples,
    class_names: &[String],
    pad: u32,
    batch_size: usize,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let mut scores = ClassificationScores::named(class_names.to_vec());
    let indices: Vec<usize> = (0..examples.rows.len()).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let (input, labels) = examples.batch(chunk, pad, device);
        scores.add(model.forward(&input).0, labels)?;
    }
    scores.evaluation()
}

/// One epoch: shuffled minibatches through the classifier, AdamW with BERT's schedule; the
/// epoch with the best validation accuracy (ties: lower loss) is kept.
struct Finetuning<'a> {
    model: BertForSequenceClassification,
    best: BertForSequenceClassification,
    optim: burn::optim::ModuleOptimizer,
    schedule: trainer::schedule::WarmupSchedule,
    /// Optimizer steps so far (the schedule's position); checkpointed.
    step: usize,
    train: &'a Examples,
    valid: &'a Examples,
    class_names: &'a [String],
    pad: u32,
    batch_size: usize,
    seed: u64,
    log_every: usize,
    weight_decay: f64,
    grad_clip: f64,
    step_seconds: Vec<f64>,
    /// Where each step's batches run (`--devices`, `--grad-accumulation`).
    workers: Workers,
    device: &'a Device,
}

impl Training for Finetuning<'_> {
    type State = usize;

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let mut rng = SplitMix64::for_item(self.seed, 3, epoch as u64);
        let mut order: Vec<usize> = (0..self.train.rows.len()).collect();
        rng.shuffle(&mut order);
        let batches: Vec<Vec<usize>> = order
            .chunks(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        let (train, pad) = (self.train, self.pad);
        let mut meter = EpochMeter::new(self.workers.steps(batches.len()), self.log_every);
        for (i, group) in batches.chunks(self.workers.batches_per_step()).enumerate() {
            let (grads, outputs) =
                self.workers
                    .step(&self.model, group, |model, rows, device| {
                        let (input, labels) = train.batch(rows, pad, device);
                        let (logits, _) = model.forward(&input);
                        let loss = CrossEntropyLossConfig::new()
                            .init(device)
                            .forward(logits.clone(), labels.clone());
                        let right = trainer::evaluate::correct(logits.inner(), labels.inner());
                        let value = loss.clone().into_scalar::<f32>() as f64;
                        Ok((loss, (value, right, rows.len())))
                    })?;
            let step_lr = self.schedule.lr_at(self.step);
            self.model = self.optim.step(step_lr, self.model.clone(), grads);
            self.step += 1;
            // One meter step per optimizer step: the batches' loss weighted by their texts.
            let (mut loss_sum, mut right, mut texts) = (0.0, 0, 0);
            for (value, hits, rows) in outputs {
                check_finite(run, value, epoch, Some(i + 1))?;
                loss_sum += value * rows as f64;
                right += hits;
                texts += rows;
            }
            meter.step(loss_sum / texts as f64, right, texts, step_lr);
        }
        self.step_seconds.extend(meter.step_seconds.iter().copied());
        run.record(epoch, "train", "loss", meter.loss());
        run.record(epoch, "train", "accuracy", meter.accuracy());
        Ok(EpochResult {
            loss: meter.loss(),
            summary: format!(
                "train loss {:.4} acc {:.2}%  ({:.2} s/step)",
                meter.loss(),
                meter.accuracy(),
                meter.median_step_seconds()
            ),
        })
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let scores = evaluate(
            &self.model.valid(),
            self.valid,
            self.class_names,
            self.pad,
            self.batch_size,
            self.device,
        )?;
        Ok(Some(Validation::of_classifier(run, epoch, &scores.metrics)))
    }

    fn keep_best(&mut self) {
        self.best = self.model.valid();
    }

    fn save(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        save_module(&self.model, dir, "model")?;
        save_module(&self.best, dir, "best")?;
        save_optimizer(&self.optim, dir, "optim")
    }

    fn state(&self) -> usize {
        self.step
    }

    fn load(&mut self, dir: &std::path::Path, step: usize) -> anyhow::Result<()> {
        let model = load_module(self.model.clone(), dir, "model")?;
        let best = load_module(self.best.clone(), dir, "best")?;
        let optim = load_optimizer(optimizer(self.weight_decay, self.grad_clip), dir, "optim")?;
        (self.model, self.best, self.optim, self.step) = (model, best, optim, step);
        Ok(())
    }
}

pub fn finetune(args: FinetuneArgs) -> anyhow::Result<FinetuneReport> {
    finetune_fold(args, None)
}

/// `finetune --folds K`: k-fold cross-validation over the training and validation texts
/// together (stratified, seeded); the test CSV stays the test. Each fold fine-tunes from the
/// same starting point (`--pretrained`, or scratch with its own WordPiece vocabulary).
pub fn finetune_folds(args: FinetuneArgs) -> anyhow::Result<trainer::folds::FoldsReport> {
    let k = trainer::folds::check_folds(args.run.folds)?;
    let out = args.run.out_dir(NAME);
    if !args.run.resume {
        trainer::driver::claim(&out, false)?;
        // Every fold needs a text of each class: refuse before any training.
        let (mut train_set, _) = args.data.text_sets()?;
        let valid_set = train_set.split_off(0.1, 0);
        train_set
            .fold_with(&valid_set, k, 0, args.run.seed)
            .map_err(|e| trainer::UsageError(format!("--folds {k}: {e}")))?;
    }
    trainer::folds::run_folds(NAME, &out, k, args.run.resume, |fold, dir, resume| {
        let mut fold_args = args.clone();
        fold_args.run.folds = None;
        fold_args.run.out = Some(dir.to_path_buf());
        fold_args.run.resume = resume;
        finetune_fold(fold_args, Some(fold)).map(|r| r.report)
    })
}

/// One fine-tuning run, validated on `fold` of a k-fold split when given.
fn finetune_fold(
    args: FinetuneArgs,
    fold: Option<trainer::folds::Fold>,
) -> anyhow::Result<FinetuneReport> {
    let Setup {
        device_name,
        device,
        autodiff,
        out,
        epochs,
        lr,
        weight_decay,
        seed,
        batch_size,
        grad_clip,
    } = Setup::new(&args.run, &args.batch, (EPOCHS, LR, WEIGHT_DECAY))?;
    let workers = Workers::new(&args.run, &device)?;

    let (mut train_set, mut test_set) = args.data.text_sets()?;
    train_set.require_two_classes()?;
    // The split does not depend on --seed, so runs compare on one split.
    let mut valid_set = train_set.split_off(0.1, 0);
    if let Some(n) = args.run.limit_valid {
        valid_set.items.truncate(n);
    }
    if let Some(n) = args.run.limit_train {
        train_set.items.truncate(n);
    }
    if let Some(n) = args.run.limit_test {
        test_set.items.truncate(n);
    }
    if let Some(f) = fold {
        (train_set, valid_set) = train_set.fold_with(&valid_set, f.folds, f.fold, seed)?;
    }
    let classes = train_set.class_names.clone();

    // Where the encoder, its config and the tokenizer come from.
    autodiff.seed(seed);
    let pretrained = match &args.pretrained {
        Some(dir) => Some(SavedModel::open(dir, &autodiff)?),
        None => None,
    };
    let (mut config, tokenizer, encoder, init): (
        BertConfig,
        WordPieceTokenizer,
        BertModel,
        String,
    ) = match pretrained {
        Some(saved) if !args.from_scratch => {
            let bert = match saved.model {
                Loaded::Lm(m) => m.bert,
                Loaded::Classifier(m) => m.bert,
            };
            let init = format!("pretrained {}", saved.dir.display());
            (saved.config, saved.tokenizer, bert, init)
        }
        Some(saved) => {
            let bert = BertModel::new(&saved.config, true, &autodiff);
            let init = format!("scratch (config and tokenizer of {})", saved.dir.display());
            (saved.config, saved.tokenizer, bert, init)
        }
        None => {
            println!(
                "training a WordPiece vocabulary of {} on the training texts",
                args.vocab_size
            );
            let tokenizer = WordPieceTokenizer::train(
                train_set.items.iter().map(|i| i.text.as_str()),
                args.vocab_size,
            )?;
            let config = args
                .arch
                .config(tokenizer.vocab_size(), tokenizer.special.pad)?;
            let bert = BertModel::new(&config, true, &autodiff);
            (config, tokenizer, bert, "scratch".into())
        }
    };
    anyhow::ensure!(
        args.batch.max_len <= config.max_position_embeddings,
        "--max-len {} exceeds the model's max_position_embeddings {}",
        args.batch.max_len,
        config.max_position_embeddings
    );
    config.architectures = vec![Architecture::BertForSequenceClassification.name().into()];
    config.set_class_names(&classes);
    let pad = tokenizer.special.pad;

    let train = Examples::new(&train_set, &tokenizer, args.batch.max_len)?;
    let valid = Examples::new(&valid_set, &tokenizer, args.batch.max_len)?;
    let test = Examples::new(&test_set, &tokenizer, args.batch.max_len)?;
    anyhow::ensure!(!train.rows.is_empty(), "no training examples");

    let mut run = RunFolder::open(&out, epochs, args.run.resume, &config)?;
    tokenizer.save(&out)?;
    run.write_json("run.json", &args)?;
    let steps_per_epoch = workers.steps(train.rows.len().div_ceil(batch_size));
    let num_labels = classes.len();
    let model =
        BertForSequenceClassification::from_encoder(encoder, &config, num_labels, &autodiff);
    println!(
        "{NAME} classify ({init}): {} parameters; {} train / {} valid / {} test texts, classes {}; {} steps/epoch on {device_name}{}",
        model.num_params(),
        train.rows.len(),
        valid.rows.len(),
        test.rows.len(),
        classes.join(", "),
        steps_per_epoch,
        workers.label()
    );
    let mut training = Finetuning {
        best: model.valid(),
        model,
        optim: optimizer(weight_decay, grad_clip),
        schedule: schedule(&args.batch, lr, epochs * steps_per_epoch)?,
        step: 0,
        train: &train,
        valid: &valid,
        class_names: &classes,
        pad,
        batch_size,
        seed,
        log_every: args.batch.log_every,
        weight_decay,
        grad_clip,
        step_seconds: Vec::new(),
        workers,
        device: &device,
    };
    let plan = Plan::new(epochs, &args.run, Select::HighestScore, None);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (best, step_seconds) = (training.best, training.step_seconds);
    let resumed_from = (fitted.start > 0).then_some(fitted.start);
    let state_best_epoch = fitted.best_epoch;
    let best_accuracy = run
        .value(state_best_epoch, "valid", "accuracy")
        .unwrap_or_default();
    save_module(&best, &out, "model")?;
    let evaluation = evaluate(&best, &test, &classes, pad, batch_size, &device)?;
    evaluation.write(&out)?;
    let test_metrics = evaluation.metrics.clone();
    run.plot("Classification loss", "loss");
    run.plot("Classification accuracy (%)", "accuracy");
    let wall = run.elapsed();
    let report = FinetuneReport {
        report: Report {
            model: NAME.into(),
            dataset: train_set.path.display().to_string(),
            device: device_name,
            seed,
            epochs_completed: fitted.last_epoch,
            epochs_requested: epochs,
            resumed_from_epoch: resumed_from,
            train_samples: train.rows.len(),
            valid_samples: valid.rows.len(),
            wall_seconds: wall,
            train_samples_per_second: train.rows.len() as f64
                * (fitted.last_epoch - fitted.start) as f64
                / wall.max(1e-9),
            parameters: best.num_params(),
            weights_near_zero_percent: None,
            skipped_files: 0,
            test: test_metrics.clone(),
            provenance: Provenance::now(),
        },
        init,
        best_epoch: state_best_epoch,
        valid_accuracy: best_accuracy,
        seconds_per_step: median(&step_seconds),
        class_names: classes.clone(),
    };
    run.write_json("report.json", &report)?;
    println!(
        "test accuracy {:.2}%, macro F1 {:.2} (F1 per class: {}){} from epoch {}; {:.0} s{}; wrote {}",
        test_metrics.accuracy,
        test_metrics.f1_macro,
        test_metrics.f1_per_class_note(),
        evaluation.areas_note(),
        state_best_epoch,
        wall,
        report.report.provenance.rss_note(),
        out.display()
    );
    Ok(report)
}
