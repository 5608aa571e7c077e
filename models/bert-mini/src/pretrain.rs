//! Masked-LM pretraining (and next-sentence prediction with `--nsp`) on a text corpus:
//! Shakespeare by default. The held-out tail of the corpus is masked the same way every epoch
//! (a fixed seed), so the reported MLM accuracy and loss compare across epochs and runs.

use crate::args::{DataArgs, NAME, PretrainArgs};
use crate::config::BertConfig;
use crate::heads::BertForPreTraining;
use crate::hf::Architecture;
use crate::masking::{MaskedBatch, Window, windows};
use crate::tokenizer::WordPieceTokenizer;
use crate::training::{EpochMeter, Setup, optimizer, schedule};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use datasets::rng::SplitMix64;
use datasets::text::{CsvLayout, TextSet, read_text};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use trainer::driver::{
    EpochResult, Plan, RunFolder, Select, Training, Validation, check_finite, fit, load_module,
    load_optimizer, save_module, save_optimizer,
};
use trainer::evaluate::correct;
use trainer::report::Provenance;

/// Pretraining recipe: ~900 steps on a 2-core CPU, so a peak rate 10× BERT's 1e-4 (which is
/// for 1M steps at batch 256), reached after a 10% linear warm-up; clipping keeps it stable.
pub const EPOCHS: usize = 3;
pub const LR: f64 = 1e-3;
pub const WEIGHT_DECAY: f64 = 0.01;

/// `report.json` of a pretraining run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PretrainReport {
    pub model: String,
    pub corpus: String,
    pub device: String,
    pub seed: u64,
    pub objective: String,
    pub vocab_size: usize,
    pub parameters: usize,
    pub train_tokens: usize,
    pub valid_tokens: usize,
    pub train_windows: usize,
    pub valid_windows: usize,
    pub max_len: usize,
    pub batch_size: usize,
    pub epochs_completed: usize,
    pub steps: usize,
    pub resumed_from_epoch: Option<usize>,
    /// Held-out masked-LM accuracy (percent) and cross-entropy (nats per predicted token).
    pub valid_mlm_accuracy: f64,
    pub valid_mlm_loss: f64,
    pub valid_nsp_accuracy: Option<f64>,
    pub wall_seconds: f64,
    /// Median wall time of one optimizer step (forward, backward, AdamW).
    pub seconds_per_step: f64,
    #[serde(flatten)]
    pub provenance: Provenance,
}

/// Held-out scores.
#[derive(Clone, Copy, Debug)]
pub struct MlmScores {
    pub loss: f64,
    pub accuracy: f64,
    pub nsp_accuracy: Option<f64>,
}

/// The corpus: the text file and its (train, held-out) WordPiece streams.
pub struct Corpus {
    pub path: PathBuf,
    pub train_lines: Vec<String>,
    pub valid_lines: Vec<String>,
}

impl Corpus {
    /// Reads the corpus and holds out its last `--valid-fraction` of non-empty lines.
    pub fn load(data: &DataArgs) -> anyhow::Result<Self> {
        let path = data.corpus_path()?;
        anyhow::ensure!(
            (0.0..1.0).contains(&data.valid_fraction) && data.valid_fraction > 0.0,
            "--valid-fraction {} must be in (0, 1)",
            data.valid_fraction
        );
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let lines: Vec<String> = if name.ends_with(".csv") || name.ends_with(".csv.gz") {
            // A labelled CSV (`label,text`): its texts, labels unused (domain-adaptive pretraining).
            TextSet::read_csv(&path, &CsvLayout::label_text(), None)?
                .items
                .into_iter()
                .map(|i| i.text)
                .filter(|t| !t.trim().is_empty())
                .collect()
        } else {
            read_text(&path)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        };
        anyhow::ensure!(
            lines.len() >= 20,
            "{}: {} non-empty lines; pretraining needs a real corpus (thousands of lines)",
            path.display(),
            lines.len()
        );
        let held = ((lines.len() as f64 * data.valid_fraction).round() as usize).max(1);
        let split = lines.len() - held;
        Ok(Self {
            path,
            valid_lines: lines[split..].to_vec(),
            train_lines: lines[..split].to_vec(),
        })
    }
}

/// One stream of ids for `lines` (line breaks are whitespace to WordPiece).
pub fn stream(tokenizer: &WordPieceTokenizer, lines: &[String]) -> anyhow::Result<Vec<u32>> {
    let mut ids = Vec::new();
    for chunk in lines.chunks(4096) {
        for line in tokenizer.ids_batch(chunk.iter().map(String::as_str).collect())? {
            ids.extend(line);
        }
    }
    Ok(ids)
}

fn limit(mut windows: Vec<Window>, n: Option<usize>) -> Vec<Window> {
    if let Some(n) = n {
        windows.truncate(n);
    }
    windows
}

/// The held-out stream and its windows (NSP pairs drawn with a fixed seed), the first
/// `limit` of them.
pub fn held_out(
    corpus: &Corpus,
    tokenizer: &WordPieceTokenizer,
    max_len: usize,
    nsp: bool,
    limit_to: Option<usize>,
) -> anyhow::Result<(Vec<u32>, Vec<Window>)> {
    let ids = stream(tokenizer, &corpus.valid_lines)?;
    let held = limit(
        windows(&ids, max_len, nsp, &mut SplitMix64::new(1)),
        limit_to,
    );
    Ok((ids, held))
}

/// Masked-LM (and NSP) loss and accuracy of `model` over `windows`, masked with a fixed seed.
pub fn evaluate(
    model: &BertForPreTraining,
    windows: &[Window],
    tokenizer: &WordPieceTokenizer,
    batch_size: usize,
    device: &Device,
) -> anyhow::Result<MlmScores> {
    let ce = CrossEntropyLossConfig::new().init(device);
    let mut rng = SplitMix64::new(0x5eed_e7a1);
    let (mut loss_sum, mut right, mut predicted) = (0.0, 0usize, 0usize);
    let (mut nsp_right, mut pairs) = (0usize, 0usize);
    let vocab = model.bert.vocab_size();
    for chunk in windows.chunks(batch_size.max(1)) {
        let refs: Vec<&Window> = chunk.iter().collect();
        let batch = MaskedBatch::from_tokenizer(&refs, tokenizer, vocab, &mut rng);
        let (input, positions, targets, next) = batch.to_device(tokenizer.special.pad, device);
        let n = batch.targets.len();
        let (logits, nsp, _) = model.forward(&input, positions);
        loss_sum += ce
            .forward(logits.clone(), targets.clone())
            .into_scalar::<f32>() as f64
            * n as f64;
        right += correct(logits, targets);
        predicted += n;
        if let Some(nsp) = nsp {
            nsp_right += correct(nsp, next);
            pairs += chunk.len();
        }
    }
    anyhow::ensure!(
        predicted > 0,
        "the held-out text is too short for one window"
    );
    Ok(MlmScores {
        loss: loss_sum / predicted as f64,
        accuracy: 100.0 * right as f64 / predicted as f64,
        nsp_accuracy: (pairs > 0).then(|| 100.0 * nsp_right as f64 / pairs as f64),
    })
}

/// One epoch of masked-LM (and NSP) pretraining over shuffled windows; the last model is kept.
struct Pretraining<'a> {
    model: BertForPreTraining,
    optim: burn::optim::ModuleOptimizer,
    schedule: trainer::schedule::WarmupSchedule,
    /// Optimizer steps so far (the schedule's position); checkpointed.
    step: usize,
    args: &'a PretrainArgs,
    tokenizer: &'a WordPieceTokenizer,
    train_ids: &'a [u32],
    /// The first epoch's windows (every epoch's without NSP).
    first_windows: &'a [Window],
    valid_windows: &'a [Window],
    vocab: usize,
    batch_size: usize,
    seed: u64,
    weight_decay: f64,
    grad_clip: f64,
    step_seconds: Vec<f64>,
    /// The last validation.
    scores: Option<MlmScores>,
    device: &'a Device,
}

impl Training for Pretraining<'_> {
    type State = usize;

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let (args, tokenizer) = (self.args, self.tokenizer);
        let autodiff = self.device.clone().autodiff();
        let ce = CrossEntropyLossConfig::new().init(&autodiff);
        // NSP pairs are redrawn every epoch; plain windows are the same text in a new order.
        let epoch_windows = if epoch == 1 || !args.nsp {
            self.first_windows.to_vec()
        } else {
            let mut w = windows(
                self.train_ids,
                args.batch.max_len,
                true,
                &mut SplitMix64::for_item(self.seed, 1, epoch as u64),
            );
            if let Some(n) = args.run.limit_train {
                w.truncate(n);
            }
            w
        };
        let mut rng = SplitMix64::for_item(self.seed, 2, epoch as u64);
        let mut order: Vec<usize> = (0..epoch_windows.len()).collect();
        rng.shuffle(&mut order);
        let steps = order.len().div_ceil(self.batch_size);
        let mut meter = EpochMeter::new(steps, args.batch.log_every);
        let mut nsp_right = 0;
        for (i, chunk) in order.chunks(self.batch_size).enumerate() {
            let refs: Vec<&Window> = chunk.iter().map(|&i| &epoch_windows[i]).collect();
            let batch = MaskedBatch::from_tokenizer(&refs, tokenizer, self.vocab, &mut rng);
            let (input, positions, targets, next) =
                batch.to_device(tokenizer.special.pad, &autodiff);
            let (logits, nsp, _) = self.model.forward(&input, positions);
            let mlm_loss = ce.forward(logits.clone(), targets.clone());
            let loss = match &nsp {
                Some(nsp) => mlm_loss.clone() + ce.forward(nsp.clone(), next.clone()),
                None => mlm_loss.clone(),
            };
            let step_lr = self.schedule.lr_at(self.step);
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optim.step(step_lr, self.model.clone(), grads);
            self.step += 1;
            if let Some(nsp) = nsp {
                nsp_right += correct(nsp.inner(), next.inner());
            }
            let right = correct(logits.inner(), targets.inner());
            let value = mlm_loss.into_scalar::<f32>() as f64;
            check_finite(run, value, epoch, Some(i + 1))?;
            meter.step(value, right, batch.targets.len(), step_lr);
        }
        self.step_seconds.extend(meter.step_seconds.iter().copied());
        run.record(epoch, "train", "loss", meter.loss());
        run.record(epoch, "train", "mlm_accuracy", meter.accuracy());
        let mut summary = format!(
            "train loss {:.4} mlm acc {:.2}%",
            meter.loss(),
            meter.accuracy()
        );
        if args.nsp {
            let train_nsp = 100.0 * nsp_right as f64 / epoch_windows.len() as f64;
            run.record(epoch, "train", "nsp_accuracy", train_nsp);
            summary += &format!(" nsp {train_nsp:.1}%");
        }
        summary += &format!("  ({:.2} s/step)", meter.median_step_seconds());
        Ok(EpochResult {
            loss: meter.loss(),
            summary,
        })
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let valid = evaluate(
            &self.model.valid(),
            self.valid_windows,
            self.tokenizer,
            self.batch_size,
            self.device,
        )?;
        run.record(epoch, "valid", "loss", valid.loss);
        run.record(epoch, "valid", "mlm_accuracy", valid.accuracy);
        let mut summary = format!(
            "valid loss {:.4} mlm acc {:.2}%",
            valid.loss, valid.accuracy
        );
        if let Some(nsp) = valid.nsp_accuracy {
            run.record(epoch, "valid", "nsp_accuracy", nsp);
            summary += &format!(" nsp {nsp:.1}%");
        }
        self.scores = Some(valid);
        Ok(Some(Validation {
            loss: valid.loss,
            score: Some(valid.accuracy),
            summary,
        }))
    }

    fn save(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        save_module(&self.model, dir, "model")?;
        save_optimizer(&self.optim, dir, "optim")
    }

    fn state(&self) -> usize {
        self.step
    }

    fn load(&mut self, dir: &std::path::Path, step: usize) -> anyhow::Result<()> {
        let model = load_module(self.model.clone(), dir, "model")?;
        let optim = load_optimizer(optimizer(self.weight_decay, self.grad_clip), dir, "optim")?;
        (self.model, self.optim, self.step) = (model, optim, step);
        Ok(())
    }
}

pub fn pretrain(args: PretrainArgs) -> anyhow::Result<PretrainReport> {
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

    args.run.refuse(
        NAME,
        "pretraining scores held-out windows: it has no test split (--limit-valid limits them) \
         and no classes to cross-validate",
        &["--limit-test", "--folds"],
    )?;
    args.run.one_batch_per_step(
        NAME,
        "pretraining takes one masked batch per step (fine-tuning, `bert-mini finetune`, trains \
         on several --devices); use --batch-size for larger steps",
    )?;
    let corpus = Corpus::load(&args.data)?;
    let tokenizer = if args.run.resume {
        WordPieceTokenizer::load(&out.join("tokenizer.json"))?
    } else if let Some(path) = &args.tokenizer {
        WordPieceTokenizer::load(path)?
    } else {
        println!(
            "training a WordPiece vocabulary of {} on {} lines of {}",
            args.vocab_size,
            corpus.train_lines.len(),
            corpus.path.display()
        );
        WordPieceTokenizer::train(
            corpus.train_lines.iter().map(String::as_str),
            args.vocab_size,
        )?
    };
    let mut config = if args.run.resume {
        BertConfig::read(&out.join("config.json"))?
    } else {
        args.arch
            .config(tokenizer.vocab_size(), tokenizer.special.pad)?
    };
    anyhow::ensure!(
        args.batch.max_len <= config.max_position_embeddings,
        "--max-len {} exceeds max_position_embeddings {}",
        args.batch.max_len,
        config.max_position_embeddings
    );
    let architecture = if args.nsp {
        Architecture::BertForPreTraining
    } else {
        Architecture::BertForMaskedLM
    };
    config.architectures = vec![architecture.name().into()];

    let mut run = RunFolder::open(&out, epochs, args.run.resume, &config)?;
    tokenizer.save(&out)?;
    run.write_json("run.json", &args)?;

    let train_ids = stream(&tokenizer, &corpus.train_lines)?;
    let valid_ids = stream(&tokenizer, &corpus.valid_lines)?;
    let limit = |mut w: Vec<Window>, n: Option<usize>| {
        if let Some(n) = n {
            w.truncate(n);
        }
        w
    };
    let valid_windows = limit(
        windows(
            &valid_ids,
            args.batch.max_len,
            args.nsp,
            &mut SplitMix64::new(1),
        ),
        args.run.limit_valid,
    );
    let first_windows = limit(
        windows(
            &train_ids,
            args.batch.max_len,
            args.nsp,
            &mut SplitMix64::for_item(seed, 1, 0),
        ),
        args.run.limit_train,
    );
    anyhow::ensure!(
        !first_windows.is_empty() && !valid_windows.is_empty(),
        "{}: too little text for one window of --max-len {} in training ({} tokens) and held out ({} tokens)",
        corpus.path.display(),
        args.batch.max_len,
        train_ids.len(),
        valid_ids.len()
    );
    let steps_per_epoch = first_windows.len().div_ceil(batch_size);
    let total_steps = epochs * steps_per_epoch;
    let schedule = schedule(&args.batch, lr, total_steps)?;
    println!(
        "{}: {} train tokens in {} windows, {} held-out tokens in {} windows; vocab {}; {} steps/epoch",
        corpus.path.display(),
        train_ids.len(),
        first_windows.len(),
        valid_ids.len(),
        valid_windows.len(),
        tokenizer.vocab_size(),
        steps_per_epoch
    );

    autodiff.seed(seed);
    let model = BertForPreTraining::new(&config, args.nsp, &autodiff);
    println!(
        "{NAME}: {} parameters, {} layers × {} hidden, {} on {device_name}",
        model.num_params(),
        config.num_hidden_layers,
        config.hidden_size,
        if args.nsp { "MLM + NSP" } else { "MLM" }
    );
    let mut training = Pretraining {
        model,
        optim: optimizer(weight_decay, grad_clip),
        schedule,
        step: 0,
        args: &args,
        tokenizer: &tokenizer,
        train_ids: &train_ids,
        first_windows: &first_windows,
        valid_windows: &valid_windows,
        vocab: config.vocab_size,
        batch_size,
        seed,
        weight_decay,
        grad_clip,
        step_seconds: Vec::new(),
        scores: None,
        device: &device,
    };
    // Pretraining keeps its last model; --early-stop watches the held-out MLM loss.
    let plan = Plan::new(epochs, &args.run, Select::Last, None);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let resumed_from = (fitted.start > 0).then_some(fitted.start);
    let (step, step_seconds) = (training.step, training.step_seconds);
    let model = training.model.valid();
    let scores = match training.scores {
        Some(s) => s,
        None => evaluate(&model, &valid_windows, &tokenizer, batch_size, &device)?,
    };
    save_module(&model, &out, "model")?;
    run.plot("Masked-LM loss", "loss");
    run.plot("Masked-LM accuracy (%)", "mlm_accuracy");
    let report = PretrainReport {
        model: NAME.into(),
        corpus: corpus.path.display().to_string(),
        device: device_name,
        seed,
        objective: if args.nsp { "mlm+nsp" } else { "mlm" }.into(),
        vocab_size: config.vocab_size,
        parameters: model.num_params(),
        train_tokens: train_ids.len(),
        valid_tokens: valid_ids.len(),
        train_windows: first_windows.len(),
        valid_windows: valid_windows.len(),
        max_len: args.batch.max_len,
        batch_size,
        epochs_completed: fitted.last_epoch,
        steps: step,
        resumed_from_epoch: resumed_from,
        valid_mlm_accuracy: scores.accuracy,
        valid_mlm_loss: scores.loss,
        valid_nsp_accuracy: scores.nsp_accuracy,
        wall_seconds: run.elapsed(),
        seconds_per_step: crate::training::median(&step_seconds),
        provenance: Provenance::now(),
    };
    run.write_json("report.json", &report)?;
    println!(
        "held-out masked-LM accuracy {:.2}%, loss {:.4}; {:.0} s, {:.2} s/step{}; wrote {}",
        report.valid_mlm_accuracy,
        report.valid_mlm_loss,
        report.wall_seconds,
        report.seconds_per_step,
        report.provenance.rss_note(),
        out.display()
    );
    Ok(report)
}
