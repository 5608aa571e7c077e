//! Sequence classification: texts (`--dataset spam`, `--csv FILE`) as word or character tokens,
//! and the synthetic compare-halves task as feature vectors. Batches group texts of similar length, pad
//! to the longest and mask the padding, so each text is classified from its own last step.
//! A tenth of the training set (per class, seeded) is held out to pick the best epoch.

use crate::cell::Cell;
use crate::config::{Task, TextArgs, TextDataset};
use crate::model::{InputKind, SequenceModel, Steps};
use crate::task::{
    Finished, RunConfig, SavedArgs, SequenceReport, Settings, TrainArgs, Vocabulary, Weights,
    ids_tensor, load_saved, model_config, resolve_run, write_report,
};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;
use burn::tensor::activation::softmax;
use datasets::rng::SplitMix64;
use datasets::{CompareHalves, DataSource, TextSet, TokenVocab};
use trainer::driver::{
    EpochResult, RunFolder, Select, Training, Validation, Workers, check_finite, fit, save_module,
};
use trainer::evaluate::{ClassificationScores, Evaluation};

/// Labelled sequences, ready to batch.
#[derive(Clone, Debug)]
pub enum Examples {
    /// Token ids of each text.
    Tokens {
        sequences: Vec<Vec<u32>>,
        labels: Vec<usize>,
    },
    /// `[n, steps, features]` row-major.
    Features {
        values: Vec<f32>,
        steps: usize,
        features: usize,
        labels: Vec<usize>,
    },
}

impl Examples {
    pub fn len(&self) -> usize {
        self.labels().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the first `n` examples (all when `n` is `None`).
    pub fn truncate(&mut self, n: Option<usize>) {
        let Some(n) = n else { return };
        match self {
            Examples::Tokens { sequences, labels } => {
                sequences.truncate(n);
                labels.truncate(n);
            }
            Examples::Features {
                values,
                steps,
                features,
                labels,
            } => {
                labels.truncate(n);
                values.truncate(labels.len() * *steps * *features);
            }
        }
    }

    pub fn labels(&self) -> &[usize] {
        match self {
            Examples::Tokens { labels, .. } | Examples::Features { labels, .. } => labels,
        }
    }

    fn length(&self, i: usize) -> usize {
        match self {
            Examples::Tokens { sequences, .. } => sequences[i].len(),
            Examples::Features { steps, .. } => *steps,
        }
    }

    fn from_compare_halves(toy: CompareHalves) -> Self {
        Examples::Features {
            values: toy.features,
            steps: CompareHalves::SEQ_LEN,
            features: CompareHalves::FEATURES,
            labels: toy.labels,
        }
    }

    fn from_texts(set: &TextSet, vocab: &TokenVocab, max_len: usize) -> Self {
        Examples::Tokens {
            sequences: set
                .items
                .iter()
                .map(|item| vocab.encode(&item.text, max_len))
                .collect(),
            labels: set.items.iter().map(|item| item.label).collect(),
        }
    }

    /// Batches of indices. Training (`rng` given) shuffles, then sorts runs of 50 batches by
    /// length so a batch pads little, then shuffles the batch order; evaluation sorts by length.
    pub fn batches(&self, batch_size: usize, rng: Option<&mut SplitMix64>) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        match rng {
            Some(rng) => {
                rng.shuffle(&mut order);
                for run in order.chunks_mut(batch_size * 50) {
                    run.sort_by_key(|&i| self.length(i));
                }
                let mut batches: Vec<Vec<usize>> =
                    order.chunks(batch_size).map(<[usize]>::to_vec).collect();
                rng.shuffle(&mut batches);
                batches
            }
            None => {
                order.sort_by_key(|&i| self.length(i));
                order.chunks(batch_size).map(<[usize]>::to_vec).collect()
            }
        }
    }

    /// Per-step inputs, the padding mask (only when lengths differ) and the labels of `indices`.
    pub fn batch(
        &self,
        indices: &[usize],
        device: &Device,
    ) -> (Steps, Option<Vec<Tensor<2>>>, Tensor<1, Int>) {
        let labels: Vec<u32> = indices.iter().map(|&i| self.labels()[i] as u32).collect();
        let labels = ids_tensor(&labels, device);
        let n = indices.len();
        match self {
            Examples::Tokens { sequences, .. } => {
                let lengths: Vec<usize> = indices.iter().map(|&i| sequences[i].len()).collect();
                let longest = lengths.iter().copied().max().unwrap_or(1);
                let steps = (0..longest)
                    .map(|t| {
                        let ids: Vec<u32> = indices
                            .iter()
                            .map(|&i| sequences[i].get(t).copied().unwrap_or(TokenVocab::PAD_ID))
                            .collect();
                        ids_tensor(&ids, device)
                    })
                    .collect();
                let ragged = lengths.iter().any(|&l| l != longest);
                let mask = ragged.then(|| {
                    (0..longest)
                        .map(|t| {
                            let m: Vec<f32> = lengths
                                .iter()
                                .map(|&l| f32::from(u8::from(t < l)))
                                .collect();
                            Tensor::from_data(TensorData::new(m, [n, 1]), device)
                        })
                        .collect()
                });
                (Steps::Tokens(steps), mask, labels)
            }
            Examples::Features {
                values,
                steps,
                features,
                ..
            } => {
                let per_step = (0..*steps)
                    .map(|t| {
                        let mut x = Vec::with_capacity(n * features);
                        for &i in indices {
                            let at = (i * steps + t) * features;
                            x.extend_from_slice(&values[at..at + features]);
                        }
                        Tensor::from_data(TensorData::new(x, [n, *features]), device)
                    })
                    .collect();
                (Steps::Features(per_step), None, labels)
            }
        }
    }
}

/// A classification task's data: train, validation, test, class names and vocabulary.
pub struct Prepared {
    pub name: String,
    pub train: Examples,
    pub valid: Examples,
    pub test: Examples,
    pub class_names: Vec<String>,
    pub vocabulary: Vocabulary,
    pub input: InputKind,
}

/// The compare-halves sets are generated from fixed seeds, so every run sees the same data.
const COMPARE_HALVES_SIZES: [(usize, u64); 3] = [(10_000, 1), (2_000, 2), (2_000, 3)];

/// The labelled text sets the flags name: (train, test).
pub fn text_sets(data: &TextArgs) -> anyhow::Result<(TextSet, TextSet)> {
    match (&data.csv, &data.test_csv, data.dataset) {
        (Some(train), Some(test), _) => {
            let layout = data.columns()?;
            let train = TextSet::read_csv(train, &layout, None)?;
            let test = TextSet::read_csv(test, &layout, Some(&train.class_names))?;
            Ok((train, test))
        }
        (None, None, Some(TextDataset::Spam) | None) => {
            Ok(TextSet::spam(&DataSource::new(data.data_dir.clone()))?)
        }
        _ => anyhow::bail!("--csv and --test-csv go together"),
    }
}

/// Loads and tokenises the task's data; `vocabulary` (a saved run's) is reused when given.
pub fn prepare(
    task: Task,
    data: &TextArgs,
    settings: &Settings,
    vocabulary: Option<&Vocabulary>,
) -> anyhow::Result<Prepared> {
    if task == Task::CompareHalves {
        let [train, valid, test] = COMPARE_HALVES_SIZES
            .map(|(n, seed)| Examples::from_compare_halves(CompareHalves::generate(n, seed)));
        return Ok(Prepared {
            name: "compare-halves".into(),
            train,
            valid,
            test,
            class_names: vec!["0".into(), "1".into()],
            vocabulary: Vocabulary::None,
            input: InputKind::Features {
                features: CompareHalves::FEATURES,
            },
        });
    }
    let (mut train_set, test_set) = text_sets(data)?;
    train_set.require_two_classes()?;
    // The split does not depend on --seed, so runs with different seeds compare on one split.
    let valid_set = train_set.split_off(0.1, 0);
    let vocab = match vocabulary {
        Some(Vocabulary::Tokens(vocab)) => vocab.clone(),
        _ => TokenVocab::build(
            train_set.items.iter().map(|i| i.text.as_str()),
            settings.tokenization,
            settings.vocab_size,
        ),
    };
    let examples = |set: &TextSet| Examples::from_texts(set, &vocab, settings.max_len.max(1));
    Ok(Prepared {
        name: train_set.path.display().to_string(),
        train: examples(&train_set),
        valid: examples(&valid_set),
        test: examples(&test_set),
        class_names: train_set.class_names.clone(),
        input: InputKind::Tokens {
            vocab: vocab.len(),
            embedding: 0,
        },
        vocabulary: Vocabulary::Tokens(vocab),
    })
}

/// Loss, accuracy, F1 and the ROC/PR curves of `model` on `examples`.
pub fn evaluate<C: Cell>(
    model: &SequenceModel,
    examples: &Examples,
    class_names: &[String],
    batch_size: usize,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let mut scores = ClassificationScores::named(class_names.to_vec());
    for indices in examples.batches(batch_size, None) {
        let (steps, mask, labels) = examples.batch(&indices, device);
        scores.add(model.forward_classify::<C>(steps, mask.as_deref()), labels)?;
    }
    scores.evaluation()
}

/// Shuffled, length-grouped minibatches of labelled sequences; the epoch with the best
/// validation accuracy is kept (the newest, when there are too few texts to hold any out).
struct Minibatches<'a, C: Cell> {
    weights: Weights,
    prepared: &'a Prepared,
    settings: &'a Settings,
    /// Where each step's batches run (`--devices`, `--grad-accumulation`).
    workers: Workers,
    device: &'a Device,
    cell: std::marker::PhantomData<C>,
}

impl<C: Cell> Training for Minibatches<'_, C> {
    type State = ();

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let settings = self.settings;
        let mut rng = SplitMix64::for_item(settings.seed, 0, epoch as u64);
        let (mut loss_sum, mut hits, mut seen) = (0.0, 0usize, 0usize);
        let batches = self
            .prepared
            .train
            .batches(settings.batch_size, Some(&mut rng));
        let train = &self.prepared.train;
        for (step, group) in batches.chunks(self.workers.batches_per_step()).enumerate() {
            let (grads, outputs) =
                self.workers
                    .step(&self.weights.model, group, |model, indices, device| {
                        let (steps, mask, labels) = train.batch(indices, device);
                        let logits = model.forward_classify::<C>(steps, mask.as_deref()); // [batch, classes]
                        let loss = CrossEntropyLossConfig::new()
                            .init(device)
                            .forward(logits.clone(), labels.clone());
                        let right = trainer::evaluate::correct(logits, labels);
                        let value = loss.clone().into_scalar::<f64>();
                        Ok((loss, (value, right, indices.len())))
                    })?;
            for (loss, right, examples) in outputs {
                check_finite(run, loss, epoch, Some(step + 1))?;
                loss_sum += loss * examples as f64;
                hits += right;
                seen += examples;
            }
            let model = self.weights.model.clone();
            self.weights.model = self.weights.optim.step(settings.lr, model, grads);
        }
        let (loss, accuracy) = (loss_sum / seen as f64, 100.0 * hits as f64 / seen as f64);
        Ok(EpochResult::of_classifier(run, epoch, loss, accuracy))
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let valid_set = &self.prepared.valid;
        if valid_set.is_empty() {
            return Ok(None);
        }
        let model = self.weights.model.valid();
        let valid = evaluate::<C>(
            &model,
            valid_set,
            &self.prepared.class_names,
            self.settings.batch_size,
            self.device,
        )?;
        Ok(Some(Validation::of_classifier(run, epoch, &valid.metrics)))
    }

    fn keep_best(&mut self) {
        self.weights.keep_best();
    }

    fn save(&self, dir: &std::path::Path) -> anyhow::Result<()> {
        self.weights.save(dir)
    }

    fn state(&self) {}

    fn load(&mut self, dir: &std::path::Path, (): ()) -> anyhow::Result<()> {
        self.weights.load(dir, self.settings)
    }
}

pub fn train<C: Cell>(args: TrainArgs) -> anyhow::Result<SequenceReport> {
    train_fold::<C>(args, None)
}

/// One training run, validated on `fold` of a k-fold split when given (see [`crate::folds`]).
pub fn train_fold<C: Cell>(
    args: TrainArgs,
    fold: Option<trainer::folds::Fold>,
) -> anyhow::Result<SequenceReport> {
    let name = C::NAME;
    let out = args.run.out_dir(name);
    let (mut settings, data, saved) = resolve_run(&args, &out)?;
    if saved.is_none() {
        settings.fold = fold;
    }
    let task = saved.as_ref().map_or(args.task, |saved| saved.task);
    let (device_name, device) = trainer::device::select_device(args.run.device_name())?;
    device.seed(settings.seed);
    let autodiff = device.clone().autodiff();
    let workers = Workers::new(&args.run, &device)?;

    let mut prepared = prepare(
        task,
        &data,
        &settings,
        saved.as_ref().map(|s| &s.vocabulary),
    )?;
    prepared.train.truncate(settings.limit_train);
    prepared.valid.truncate(settings.limit_valid);
    prepared.test.truncate(settings.limit_test);
    if let Some(fold) = settings.fold {
        prepared.use_fold(fold, settings.seed)?;
    }
    anyhow::ensure!(
        !prepared.train.is_empty(),
        "--limit-train leaves no training sequences"
    );
    let classes = prepared.class_names.len();
    let config = match &saved {
        Some(saved) => saved.model_config.clone(),
        None => model_config::<C>(task, &args.net, prepared.input.clone(), classes),
    };
    let run_config = RunConfig {
        model: name.into(),
        task,
        model_config: config.clone(),
        data: data.clone(),
        vocabulary: prepared.vocabulary.clone(),
        class_names: prepared.class_names.clone(),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, args.run.resume, &run_config)?;

    let weights = Weights::new::<C>(&config, &settings, &autodiff);
    println!(
        "training {name} {} on {}: {} train / {} valid / {} test sequences, classes {}; {}, \
         {} parameters; batch {}; {device_name}{}, {} epochs, output in {}",
        task.name(),
        prepared.name,
        prepared.train.len(),
        prepared.valid.len(),
        prepared.test.len(),
        prepared.class_names.join(", "),
        config.describe_stack(),
        weights.model.num_params(),
        settings.batch_size,
        workers.label(),
        settings.epochs,
        out.display()
    );
    let mut training = Minibatches::<C> {
        weights,
        prepared: &prepared,
        settings: &settings,
        workers,
        device: &device,
        cell: std::marker::PhantomData,
    };
    // Accuracy first; the loss breaks ties (small validation sets tie often).
    let plan = settings.plan(args.run.resume, Select::HighestScore);
    let fitted = fit(&mut run, &plan, &mut training)?;
    let (start, last_epoch, best) = (fitted.start, fitted.last_epoch, training.weights.best);
    let wall_seconds = run.elapsed();
    save_module(&best, &out, "model")?;
    let class_names = &prepared.class_names;
    let evaluation = evaluate::<C>(
        &best,
        &prepared.test,
        class_names,
        settings.batch_size,
        &device,
    )?;
    evaluation.write(&out)?;
    let test = evaluation.metrics.clone();
    run.plot(&format!("{name} {} loss", task.name()), "loss");
    run.plot(&format!("{name} {} accuracy (%)", task.name()), "accuracy");
    let report = write_report::<C>(
        &run,
        Finished {
            task,
            dataset: prepared.name.clone(),
            device: device_name,
            settings: &settings,
            epochs_completed: last_epoch,
            start,
            train_samples: prepared.train.len(),
            valid_samples: prepared.valid.len(),
            samples_per_epoch: prepared.train.len(),
            parameters: best.num_params(),
            test: test.clone(),
            best_epoch: fitted.best_epoch,
            wall_seconds,
            class_names: &prepared.class_names,
        },
    )?;
    println!(
        "test: accuracy {:.2}%  loss {:.4}  F1 {}{}  ({} sequences; {})",
        test.accuracy,
        test.loss,
        test.f1_per_class_note(),
        evaluation.areas_note(),
        test.samples,
        report.timing_note()
    );
    println!("wrote {}", out.display());
    Ok(report)
}

/// `eval` of a classifier: the task's test set.
pub fn evaluate_saved<C: Cell>(
    model: &SequenceModel,
    config: &RunConfig,
    data: &TextArgs,
    device: &Device,
) -> anyhow::Result<Evaluation> {
    let prepared = prepare(
        config.task,
        data,
        &config.settings,
        Some(&config.vocabulary),
    )?;
    anyhow::ensure!(
        prepared.class_names == config.class_names,
        "the data's classes ({}) differ from the model's ({})",
        prepared.class_names.join(", "),
        config.class_names.join(", ")
    );
    evaluate::<C>(
        model,
        &prepared.test,
        &config.class_names,
        config.settings.batch_size,
        device,
    )
}

/// `predict`: the class and its probability for each text.
pub fn predict<C: Cell>(saved: &SavedArgs, texts: &[String]) -> anyhow::Result<()> {
    let (model, config, _, device) = load_saved::<C>(saved)?;
    let Vocabulary::Tokens(vocab) = &config.vocabulary else {
        anyhow::bail!(
            "--weights {}: predict needs a text classifier; this model was trained for {}",
            saved.weights.weights.display(),
            config.task.name()
        );
    };
    let examples = Examples::Tokens {
        sequences: texts
            .iter()
            .map(|t| vocab.encode(t, config.settings.max_len.max(1)))
            .collect(),
        labels: vec![0; texts.len()],
    };
    let indices: Vec<usize> = (0..texts.len()).collect();
    let (steps, mask, _) = examples.batch(&indices, &device);
    let probs = softmax(model.forward_classify::<C>(steps, mask.as_deref()), 1);
    let probs: Vec<f32> = probs.into_data().try_to_vec()?;
    let classes = config.class_names.len();
    for (text, row) in texts.iter().zip(probs.chunks_exact(classes)) {
        let best = (0..classes)
            .max_by(|&a, &b| row[a].total_cmp(&row[b]))
            .unwrap_or(0);
        let shown: String = text.chars().take(60).collect();
        println!("{}\t{:.4}\t{shown}", config.class_names[best], row[best]);
    }
    Ok(())
}
