//! Character language modelling with truncated backpropagation through time: the training text
//! is read as `batch` parallel streams, each batch continues the previous one, and the
//! recurrent state is carried across batches (cut from the graph) so the model sees context
//! longer than one window. Validation reads the held-out tail the same way; the loss is in nats
//! per character (bits per character = nats / ln 2, perplexity = e^nats).

use crate::cell::{Cell, State};
use crate::config::{Task, TextArgs};
use crate::model::{InputKind, SequenceModel};
use crate::task::{
    Finished, GenerateArgs, RunConfig, SequenceReport, TrainArgs, TrainState, Vocabulary,
    ids_tensor, load_saved, model_config, resolve_run, save_checkpoint, write_report,
};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::prelude::*;
use datasets::rng::SplitMix64;
use datasets::{Corpus, DataSource, LmStreams};
use std::io::Write;
use trainer::TestMetrics;
use trainer::driver::{RunFolder, save_module};
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
    let mut scores = ClassificationScores::new(vocab);
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

pub fn train<C: Cell>(args: TrainArgs) -> anyhow::Result<SequenceReport> {
    let name = C::NAME;
    let out = args.run.out_dir(name);
    let (settings, data, saved) = resolve_run(&args, &out)?;
    let net = saved.map(|saved| saved.model_config);
    anyhow::ensure!(settings.seq_len > 0, "--seq-len must be at least 1");
    let (device_name, device) = trainer::device::select_device(args.run.device.device.as_deref())?;
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

    let TrainState {
        mut model,
        mut best,
        mut optim,
        mut selection,
        start,
    } = TrainState::new::<C>(&mut run, &config, &settings, &autodiff, args.run.resume)?;
    println!(
        "training {name} char-lm on {}: {} characters ({} train / {} valid), vocabulary {vocab}; \
         {} layers × {}{}, {} parameters; batch {} × {} characters, {pass} steps per pass, \
         {epoch_steps} per epoch; {device_name}, {} epochs, output in {}",
        corpus.path.display(),
        corpus.train.len() + corpus.valid.len(),
        corpus.train.len(),
        corpus.valid.len(),
        config.layers,
        config.hidden,
        if config.bidirectional {
            " (bidirectional)"
        } else {
            ""
        },
        model.num_params(),
        settings.batch_size,
        settings.seq_len,
        settings.epochs,
        out.display()
    );

    let loss_fn = CrossEntropyLossConfig::new().init(&autodiff);
    let mut state: Option<Vec<State>> = None;
    let mut last_epoch = start;
    let report_every = (epoch_steps / 10).max(1);
    for epoch in start + 1..=settings.epochs {
        let mut loss_sum = 0.0;
        let started = std::time::Instant::now();
        for i in 0..epoch_steps {
            let position = selection.steps % pass;
            if position == 0 {
                state = None; // a new pass starts from the beginning of every stream
            }
            let (inputs, targets) = train_streams.window(position);
            let tokens = step_tensors(&inputs, settings.batch_size, &autodiff);
            let (logits, next) = model.forward_lm::<C>(tokens, state.take()); // [steps * batch, vocab]
            let loss = loss_fn.forward(logits, ids_tensor(&targets, &autodiff));
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(settings.lr, model, grads);
            state = Some(next.into_iter().map(State::detach).collect());
            selection.steps += 1;
            let loss = loss.into_scalar::<f64>();
            anyhow::ensure!(
                loss.is_finite(),
                "the training loss became {loss} at step {}; lower --lr or keep --grad-clip on",
                selection.steps
            );
            loss_sum += loss;
            if epoch_steps >= 20 && (i + 1) % report_every == 0 && i + 1 < epoch_steps {
                println!(
                    "  step {}/{epoch_steps}  loss {:.4}  ({:.0} characters/s)",
                    i + 1,
                    loss_sum / (i + 1) as f64,
                    ((i + 1) * settings.batch_size * settings.seq_len) as f64
                        / started.elapsed().as_secs_f64()
                );
                let _ = std::io::stdout().flush();
            }
        }
        let train_loss = loss_sum / epoch_steps as f64;
        run.record(epoch, "train", "loss", train_loss);
        let metrics = evaluate::<C>(&model.valid(), &valid, vocab, &device)?;
        run.record(epoch, "valid", "loss", metrics.loss);
        run.record(epoch, "valid", "accuracy", metrics.accuracy);
        if selection.update(epoch, -metrics.loss) {
            best = model.valid();
        }
        save_checkpoint(&run, epoch, &settings, (&model, &best, &optim, &selection))?;
        run.finish_epoch(
            epoch,
            &format!(
                "train loss {train_loss:.4}  valid loss {:.4} ({:.3} bits/char) acc {:.1}%",
                metrics.loss,
                metrics.loss / std::f64::consts::LN_2,
                metrics.accuracy
            ),
        )?;
        last_epoch = epoch;
        if let Some(patience) = settings.early_stop
            && selection.epochs_without_improvement >= patience
        {
            println!(
                "early stop at epoch {epoch}: no better validation loss for {patience} epochs"
            );
            break;
        }
    }
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
            best_epoch: selection.best_epoch,
            wall_seconds,
            class_names: &[],
        },
    )?;
    let seconds_per_epoch = report.seconds_per_epoch;
    println!(
        "valid: {:.4} nats/char ({:.3} bits/char, perplexity {:.2}), next-character accuracy {:.2}% \
         (best epoch {}; {:.1} s, {:.1} s/epoch{})",
        test.loss,
        test.loss / std::f64::consts::LN_2,
        test.loss.exp(),
        test.accuracy,
        selection.best_epoch,
        wall_seconds,
        seconds_per_epoch,
        trainer::report::rss_note(report.report.peak_rss_mib)
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
