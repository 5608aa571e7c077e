//! Character language modelling with truncated backpropagation through time: the training text
//! is read as `batch` parallel streams, each batch continues the previous one, and the
//! recurrent state is carried across batches (cut from the graph) so the model sees context
//! longer than one window. Validation reads the held-out tail the same way; the loss is in nats
//! per character (bits per character = nats / ln 2, perplexity = e^nats).

use crate::cell::{Cell, State};
use crate::config::{Task, TextArgs};
use crate::model::{InputKind, SequenceModel};
use crate::task::{
    Finished, GenerateArgs, RunConfig, SequenceReport, Settings, TrainArgs, Vocabulary, Weights,
    ids_tensor, load_saved, model_config, resolve_run, write_report,
};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use datasets::rng::SplitMix64;
use datasets::{Corpus, DataSource, LmStreams};
use std::io::Write;
use trainer::TestMetrics;
use trainer::driver::{
    EpochResult, RunFolder, Select, Training, Validation, check_finite, fit, save_module,
};
use trainer::evaluate::ClassificationScores;

/// The corpus the flags name: `--text FILE`, else Shakespeare from the data roots.
pub fn load_corpus(data: &TextArgs) -> anyhow::Result<Corpus> {
    Ok(match &data.text {
        Some(path) => Corpus::load(path, data.valid_fraction)?,
        None => Corpus::shakespeare(&DataSource::new(data.data_dir.clone()), data.valid_fraction)?,
    })
}

/// Per-step `[batch]` token tensors from a time-major window.
fn step_tensors(ids: &[u32], batch: usize, device: &Device) -> Vec<Tensor<1, Int>> {
    ids.chunks_exact(batch)
        .map(|step| ids_tensor(step, device))
        .collect()
}

/// Streams over held-out text: as many as `batch` allows with at least one window each.
fn valid_streams(corpus: &Corpus, batch: usize, seq_len: usize) -> anyhow::Result<LmStreams> {
    let fit = corpus.valid.len() / (seq_len + 1);
    anyhow::ensure!(
        fit > 0,
        "{}: the validation tail has {} characters, fewer than --seq-len {} + 1; use a longer \
         text, a larger --valid-fraction or a smaller --seq-len",
        corpus.path.display(),
        corpus.valid.len(),
        seq_len
    );
    Ok(LmStreams::new(
        &corpus.valid,
        batch.min(fit),
        seq_len,
        &corpus.path,
    )?)
}

/// Loss (nats per character) and next-character accuracy over all windows of `streams`.
pub fn evaluate<C: Cell>(
    model: &SequenceModel,
    streams: &LmStreams,
    vocab: usize,
    device: &Device,
) -> anyhow::Result<TestMetrics> {
    let mut scores = ClassificationScores::new(vocab).counts_only();
    let mut state: Option<Vec<State>> = None;
    for step in 0..streams.steps() {
        let (inputs, targets) = streams.window(step);
        let (logits, next) =
            model.forward_lm::<C>(step_tensors(&inputs, streams.batch, device), state);
        scores.add(logits, ids_tensor(&targets, device))?;
        state = Some(next);
    }
    scores.finish()
}

/// Truncated backpropagation through time over `batch` parallel streams of the training text;
/// the recurrent state is carried from window to window. The epoch with the lowest validation
/// loss is kept.
struct Tbptt<'a, C: Cell> {
    weights: Weights,
    /// Optimizer steps so far, the position in the text; checkpointed.
    steps: usize,
    /// The state carried into the next window (not checkpointed: a resumed run restarts it).
    state: Option<Vec<State>>,
    train: &'a LmStreams,
    valid: &'a LmStreams,
    vocab: usize,
    epoch_steps: usize,
    settings: &'a Settings,
    device: &'a Device,
    cell: std::marker::PhantomData<C>,
}

impl<C: Cell> Training for Tbptt<'_, C> {
    type State = usize;

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let settings = self.settings;
        let autodiff = self.device.clone().autodiff();
        let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
        let pass = self.train.steps();
        let report_every = (self.epoch_steps / 10).max(1);
        let started = std::time::Instant::now();
        let mut loss_sum = 0.0;
        for i in 0..self.epoch_steps {
            let position = self.steps % pass;
            if position == 0 {
                self.state = None; // a new pass starts from the beginning of every stream
            }
            let (inputs, targets) = self.train.window(position);
            let tokens = step_tensors(&inputs, settings.batch_size, &autodiff);
            let model = &self.weights.model;
            let (logits, next) = model.forward_lm::<C>(tokens, self.state.take()); // [steps * batch, vocab]
            let loss = loss_fn.forward(logits, ids_tensor(&targets, &autodiff));
            let grads = GradientsParams::from_grads(loss.backward(), model);
            self.weights.model = self.weights.optim.step(settings.lr, model.clone(), grads);
            self.state = Some(next.into_iter().map(State::detach).collect());
            self.steps += 1;
            let loss = loss.into_scalar::<f64>();
            check_finite(run, loss, epoch, Some(i + 1))?;
            loss_sum += loss;
            if self.epoch_steps >= 20 && (i + 1) % report_every == 0 && i + 1 < self.epoch_steps {
                println!(
                    "  step {}/{}  loss {:.4}  ({:.0} characters/s)",
                    i + 1,
                    self.epoch_steps,
                    loss_sum / (i + 1) as f64,
                    ((i + 1) * settings.batch_size * settings.seq_len) as f64
                        / started.elapsed().as_secs_f64()
                );
                let _ = std::io::stdout().flush();
            }
        }
        let loss = loss_sum / self.epoch_steps as f64;
        run.record(epoch, "train", "loss", loss);
        Ok(EpochResult {
            loss,
            summary: format!("train loss {loss:.4}"),
        })
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let metrics = evaluate::<C>(
            &self.weights.model.valid(),
            self.valid,
            self.vocab,
            self.device,
        )?;
        run.record(epoch, "valid", "loss", metrics.loss);
        run.record(epoch, "valid", "accuracy", metrics.accuracy);
        Ok(Some(Validation {
            loss: metrics.loss,
            score: Some(metrics.accuracy),
            summary: format!(
                "valid loss {:.4} ({:.3} bits/char) acc {:.1}%",
                metrics.loss,
                metrics.loss / std::f64::consts::LN_2,
                metrics.accuracy
            ),
        }))
    }

    fn keep_best(&mut self) {
        self.weights.keep_best();
    }

    fn save(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        self.weights.save(dir)
    }

    fn state(&self) -> usize {
        self.steps
    }

    fn load(&mut self, dir: &std::path::Path, steps: usize) -> anyhow::Result<()> {
        self.weights.load(dir, self.settings)?;
        self.steps = steps;
        Ok(())
    }
}

pub fn train<C: Cell>(args: TrainArgs) -> anyhow::Result<SequenceReport> {
    let name = C::NAME;
    let out = args.run.out_dir(name);
    let (settings, data, saved) = resolve_run(&args, &out)?;
    let net = saved.map(|saved| saved.model_config);
    anyhow::ensure!(settings.seq_len > 0, "--seq-len must be at least 1");
    let (device_name, device) = trainer::device::select_device(args.run.device_name())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();

    let corpus = load_corpus(&data)?;
    let vocab = corpus.vocab.len();
    let train_streams = LmStreams::new(
        &corpus.train,
        settings.batch_size,
        settings.seq_len,
        &corpus.path,
    )?;
    let valid = valid_streams(&corpus, settings.batch_size, settings.seq_len)?;
    let pass = train_streams.steps();
    let epoch_steps = settings.epoch_steps.unwrap_or(pass).clamp(1, pass);
    let config = net.unwrap_or_else(|| {
        model_config::<C>(
            Task::CharLm,
            &args.net,
            InputKind::Tokens {
                vocab,
                embedding: 0,
            },
            vocab,
        )
    });
    let run_config = RunConfig {
        model: name.into(),
        task: Task::CharLm,
        model_config: config.clone(),
        data: data.clone(),
        vocabulary: Vocabulary::Chars(corpus.vocab.clone()),
        class_names: Vec::new(),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, args.run.resume, &run_config)?;

    let weights = Weights::new::<C>(&config, &settings, &autodiff);
    println!(
        "training {name} char-lm on {}: {} characters ({} train / {} valid), vocabulary {vocab}; \
         {}, {} parameters; batch {} × {} characters, {pass} steps per pass, \
         {epoch_steps} per epoch; {device_name}, {} epochs, output in {}",
        corpus.path.display(),
        corpus.train.len() + corpus.valid.len(),
        corpus.train.len(),
        corpus.valid.len(),
        config.describe_stack(),
        weights.model.num_params(),
        settings.batch_size,
        settings.seq_len,
        settings.epochs,
        out.display()
    );
    let mut training = Tbptt::<C> {
        weights,
        steps: 0,
        state: None,
        train: &train_streams,
        valid: &valid,
        vocab,
        epoch_steps,
        settings: &settings,
        device: &device,
        cell: std::marker::PhantomData,
    };
    let plan = settings.plan(args.run.resume, Select::LowestLoss);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (start, last_epoch, best) = (fitted.start, fitted.last_epoch, training.weights.best);
    let wall_seconds = run.elapsed();
    save_module(&best, &out, "model")?;
    let test = evaluate::<C>(&best, &valid, vocab, &device)?;
    run.plot(&format!("{name} char-lm loss (nats/char)"), "loss");
    let report = write_report::<C>(
        &run,
        Finished {
            task: Task::CharLm,
            dataset: corpus.path.display().to_string(),
            device: device_name,
            settings: &settings,
            epochs_completed: last_epoch,
            start,
            train_samples: corpus.train.len(),
            valid_samples: corpus.valid.len(),
            samples_per_epoch: epoch_steps * settings.batch_size * settings.seq_len,
            parameters: best.num_params(),
            test: test.clone(),
            best_epoch: fitted.best_epoch,
            wall_seconds,
            class_names: &[],
        },
    )?;
    println!(
        "valid: {:.4} nats/char ({:.3} bits/char, perplexity {:.2}), next-character accuracy {:.2}% \
         ({})",
        test.loss,
        test.loss / std::f64::consts::LN_2,
        test.loss.exp(),
        test.accuracy,
        report.timing_note()
    );
    println!("wrote {}", out.display());
    Ok(report)
}

/// `eval` of a char-LM: the held-out tail of the run's text.
pub fn evaluate_saved<C: Cell>(
    model: &SequenceModel,
    config: &RunConfig,
    data: &TextArgs,
    device: &Device,
) -> anyhow::Result<TestMetrics> {
    let corpus = load_corpus(data)?;
    let Vocabulary::Chars(vocab) = &config.vocabulary else {
        anyhow::bail!("the run config has no character vocabulary");
    };
    anyhow::ensure!(
        vocab == &corpus.vocab,
        "{}: its characters differ from the {} the model was trained on; evaluate on the text \
         the run used",
        corpus.path.display(),
        vocab.len()
    );
    let valid = valid_streams(&corpus, config.settings.batch_size, config.settings.seq_len)?;
    evaluate::<C>(model, &valid, vocab.len(), device)
}

/// Picks a character id from `logits` with temperature and top-k.
pub fn sample(logits: &[f32], temperature: f64, top_k: usize, rng: &mut SplitMix64) -> usize {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if temperature <= 0.0 {
        return order[0];
    }
    let keep = if top_k == 0 {
        order.len()
    } else {
        top_k.min(order.len())
    };
    let top = logits[order[0]] as f64;
    let weights: Vec<f64> = order[..keep]
        .iter()
        .map(|&i| ((logits[i] as f64 - top) / temperature).exp())
        .collect();
    let mut pick = rng.unit() * weights.iter().sum::<f64>();
    for (w, &i) in weights.iter().zip(&order) {
        if pick < *w {
            return i;
        }
        pick -= w;
    }
    order[keep - 1]
}

/// `generate`: the prompt followed by `length` sampled characters.
pub fn generate<C: Cell>(args: &GenerateArgs) -> anyhow::Result<String> {
    let (model, config, _, device) = load_saved::<C>(&args.saved)?;
    let Vocabulary::Chars(vocab) = &config.vocabulary else {
        anyhow::bail!(
            "--weights {}: generate needs a char-lm model; this one was trained for {}",
            args.saved.weights.weights.display(),
            config.task.name()
        );
    };
    anyhow::ensure!(!args.prompt.is_empty(), "--prompt must not be empty");
    let prompt = vocab
        .encode(&args.prompt)
        .map_err(|e| anyhow::anyhow!("--prompt: {e}"))?;
    // Training carries the state from window to window, so the model almost never starts from
    // a zero state and its first characters from one are noise ("ROMEO:j3ble"). It reads a
    // blank line first, as after any speech; the blank line is not part of the output.
    let primer: Vec<u32> = vocab.encode("\n\n").unwrap_or_default();
    let context: Vec<u32> = primer.into_iter().chain(prompt).collect();
    let mut rng = SplitMix64::new(args.seed);
    let mut text = args.prompt.clone();
    let (mut logits, mut state) = model.forward_lm::<C>(step_tensors(&context, 1, &device), None);
    for _ in 0..args.length {
        let steps = logits.dims()[0];
        let last: Vec<f32> = logits
            .slice(s![steps - 1..steps, ..])
            .into_data()
            .try_to_vec()?;
        let next = sample(&last, args.temperature, args.top_k, &mut rng) as u32;
        text.push_str(&vocab.decode(&[next]));
        (logits, state) = model.forward_lm::<C>(vec![ids_tensor(&[next], &device)], Some(state));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_respects_top_k_and_temperature() {
        let logits = [0.0f32, 3.0, 1.0, 2.0];
        let mut rng = SplitMix64::new(0);
        assert_eq!(sample(&logits, 0.0, 0, &mut rng), 1);
        for _ in 0..200 {
            let i = sample(&logits, 1.0, 2, &mut rng);
            assert!(i == 1 || i == 3, "{i}");
        }
        // A very low temperature is nearly greedy.
        let greedy = (0..200)
            .filter(|_| sample(&logits, 0.05, 0, &mut rng) == 1)
            .count();
        assert!(greedy > 195, "{greedy}");
    }
}
