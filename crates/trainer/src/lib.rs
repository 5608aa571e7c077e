//! burn-zoo's trainer: the one CLI every model binary shares, devices, Burn's training API,
//! checkpoints and resume, weights in and out, and run reports.
//!
//! A model crate implements [`ImageClassifier`] (or [`driver::Training`] for a loop of its
//! own), describes itself in a [`entry::ModelEntry`], and its `main` is
//! `fn main() -> std::process::ExitCode { mlp::ENTRY.main() }`.

pub mod allocator;
pub mod checkpoint;
pub mod classifier;
pub mod cli;
pub mod data;
pub mod device;
pub mod distill;
pub mod driver;
pub mod entry;
pub mod evaluate;
pub mod flags;
pub mod folds;
pub mod metrics;
pub mod optim;
pub mod parallel;
pub mod plots;
pub mod pretrained;
pub mod prune;
pub mod quantize;
#[cfg(feature = "remote")]
pub mod remote;
pub mod renderer;
pub mod report;
pub mod run_folder;
pub mod schedule;
#[cfg(feature = "remote")]
pub mod serve;
pub mod settings;
pub mod supervised;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transfer;
pub use weights;

pub use classifier::{
    AugmentKind, DataSpec, DatasetKind, ImageClassifier, OptimizerKind, Recipe, ScheduleKind,
    classification_output,
};
pub use report::{Report, TestMetrics};
// Re-exported for `classification_steps!` and so model crates name one version of each.
pub use burn;
pub use datasets;
pub use supervised::{RunConfig, Settings, train};

use burn::prelude::*;
use clap::{CommandFactory, FromArgMatches};
use cli::{
    Cli, Command, DataArgs, EnsembleArgs, EvalArgs, ExportArgs, InfoArgs, PredictArgs, WeightsArgs,
};
use datasets::{ImageBatcher, Split};
use std::process::ExitCode;

/// Runs an image classifier's command line (`args[0]` is the program name); errors print with
/// their causes.
pub fn run<M: ImageClassifier>(args: Vec<std::ffi::OsString>) -> ExitCode {
    let cli = Cli::<M::Config>::command()
        .name(M::NAME)
        .bin_name(M::NAME)
        .about(M::ABOUT)
        .try_get_matches_from(args)
        .and_then(|m| Cli::<M::Config>::from_arg_matches(&m));
    match cli {
        Ok(cli) => exit_code(run_command::<M>(cli.command)),
        Err(e) => {
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
    }
}

/// An image classifier's command line, as [`run`] parses it.
pub fn command<M: ImageClassifier>() -> clap::Command {
    Cli::<M::Config>::command()
        .name(M::NAME)
        .bin_name(M::NAME)
        .about(M::ABOUT)
}

/// A command line that asks for something the model cannot do (a flag it cannot honour, a
/// combination that makes no sense). Binaries exit with 2 on it, as clap does for its own
/// usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit status of a finished command: 0, 2 for a [`UsageError`], else 1; errors print with
/// their causes.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[cfg(feature = "remote")]
            remote::stop_if_a_server_is_lost();
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Runs one parsed subcommand (what [`run`] does after parsing; handy in tests).
pub fn run_command<M: ImageClassifier>(command: Command<M::Config>) -> anyhow::Result<()> {
    match command {
        Command::Train(args) if args.run.folds.is_some() => {
            folds::train_folds::<M>(args).map(|_| ())
        }
        Command::Train(args) => train::<M>(args).map(|_| ()),
        Command::Eval(args) => eval::<M>(args).map(|_| ()),
        Command::Predict(args) => predict::<M>(args),
        Command::Export(args) => export::<M>(args),
        Command::Info(args) => info::<M>(args),
        Command::Quantize(args) => quantize::quantize::<M>(args),
        Command::Prune(args) => prune::prune::<M>(args).map(|_| ()),
    }
}

/// The model config, data set and data shape to use with saved weights: `--config`, else the
/// `config.json` beside the weights, else the flags.
pub(crate) fn saved_or_flags<M: ImageClassifier>(
    weights: Option<&WeightsArgs>,
    config: Option<&std::path::Path>,
    data: &DataArgs,
    flags: &M::Config,
) -> anyhow::Result<(M::Config, DatasetKind, DataSpec)> {
    let path = config
        .map(|p| p.to_path_buf())
        .or_else(|| weights.and_then(WeightsArgs::run_config));
    if let Some(path) = path {
        let saved = RunConfig::<M::Config>::read(&path)?;
        let dataset = data.dataset.unwrap_or(saved.settings.dataset);
        return Ok((saved.model_config, dataset, saved.data));
    }
    let dataset = data.dataset.unwrap_or(M::recipe(flags, None).dataset);
    let mut spec = dataset.spec(data)?;
    if let Some(n) = data.num_classes.filter(|&n| n != spec.num_classes) {
        spec.num_classes = n;
        spec.classes.clear();
    }
    Ok((flags.clone(), dataset, spec))
}

/// Loads every member of an ensemble (one model is an ensemble of one), refusing members that
/// differ in architecture, input or classes: their outputs could not be averaged.
fn load_members<M: ImageClassifier>(
    members: &[WeightsArgs],
    data: &DataArgs,
    flags: &M::Config,
    device: &Device,
) -> anyhow::Result<(Vec<M>, DatasetKind, DataSpec)> {
    let mut models = Vec::with_capacity(members.len());
    let mut first: Option<(&WeightsArgs, serde_json::Value, DatasetKind, DataSpec)> = None;
    let members = members
        .iter()
        .map(|m| pretrained::resolve_weights(m, M::NAME))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for member in &members {
        let (config, dataset, spec) = saved_or_flags::<M>(Some(member), None, data, flags)?;
        let described = serde_json::to_value(&config)?;
        if let Some((one, one_config, one_dataset, one_spec)) = &first {
            let (a, b) = (one.weights.display(), member.weights.display());
            if (spec.num_classes, spec.shape()) != (one_spec.num_classes, one_spec.shape())
                || dataset != *one_dataset
            {
                return Err(UsageError(format!(
                    "--weights {b}: trained on {} ({} classes), but {a} on {} ({} classes); an \
                     ensemble's members must share their data set",
                    dataset.name(),
                    spec.num_classes,
                    one_dataset.name(),
                    one_spec.num_classes
                ))
                .into());
            }
            if described != *one_config {
                return Err(UsageError(format!(
                    "--weights {b} is a different architecture from {a} ({described} vs \
                     {one_config}); an ensemble's members must share one config"
                ))
                .into());
            }
        } else {
            first = Some((member, described, dataset, spec.clone()));
        }
        let model = M::init(&config, &spec, device);
        models.push(weights::load_weights(
            model,
            &member.weights,
            &M::pytorch_names(&config),
        )?);
    }
    let (_, _, dataset, spec) = first.ok_or_else(|| UsageError("no --weights given".into()))?;
    Ok((models, dataset, spec))
}

/// `eval`: test-set metrics of saved weights, or of an ensemble and each of its members; the
/// confusion matrix and ROC/PR curves (of the ensemble) go to `--out`.
pub fn eval<M: ImageClassifier>(args: EvalArgs<M::Config>) -> anyhow::Result<TestMetrics> {
    let (device_name, device) = device::select_device(args.device.device.as_deref())?;
    let members = args.weights.members();
    let (models, dataset, spec) = load_members::<M>(&members, &args.data, &args.model, &device)?;
    let mut test = data::load_split(dataset, Split::Test, &args.data.sized_for(&spec))?;
    if let Some(n) = args.limit_test {
        test = test.take(n);
    }
    let dl = data::loader(
        test.clone(),
        ImageBatcher::for_set(&test),
        args.batch_size,
        None,
        2,
        &device,
    );
    let first = &args.weights.weights[0];
    let (evaluation, name) = if let [model] = models.as_slice() {
        (
            evaluate::evaluate(model, dl, test.classes())?,
            first.display().to_string(),
        )
    } else {
        let combine = if args.weights.vote {
            evaluate::Combine::Vote
        } else {
            evaluate::Combine::MeanProbability
        };
        let (each, evaluation) = evaluate::evaluate_ensemble(&models, dl, test.classes(), combine)?;
        for (path, m) in args.weights.weights.iter().zip(&each) {
            println!(
                "member {}: accuracy {:.2}%  loss {:.4}  macro F1 {:.2}%",
                path.display(),
                m.accuracy,
                m.loss,
                m.f1_macro
            );
        }
        let best = each.iter().map(|m| m.accuracy).fold(f64::MIN, f64::max);
        let mean = each.iter().map(|m| m.accuracy).sum::<f64>() / each.len() as f64;
        println!(
            "members: mean accuracy {mean:.2}%, best {best:.2}%; ensemble {:+.2} points over the \
             best",
            evaluation.metrics.accuracy - best
        );
        (
            evaluation,
            format!("ensemble ({})", args.weights.describe()),
        )
    };
    let dir = args.outputs.dir(first);
    evaluation.write(&dir)?;
    let areas = evaluation.areas_note();
    let metrics = evaluation.metrics;
    println!(
        "{name} on {} test ({} images, {device_name}): accuracy {:.2}%  loss {:.4}  macro precision {:.2}%  recall {:.2}%  F1 {:.2}%{}{areas}",
        dataset.name(),
        metrics.samples,
        metrics.accuracy,
        metrics.loss,
        metrics.precision_macro,
        metrics.recall_macro,
        metrics.f1_macro,
        metrics
            .top5_accuracy
            .map(|t| format!("  top-5 {t:.2}%"))
            .unwrap_or_default()
    );
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&metrics)?)?;
    }
    println!(
        "wrote {} (confusion matrix, ROC and PR curves)",
        dir.display()
    );
    Ok(metrics)
}

/// Reads an image file as `channels` planes of `height x width` bytes (CHW), prepared as
/// `dataset`'s images were: an image folder's by resizing the shorter side and cropping the
/// centre, the built-in sets' by resizing to the input.
pub fn read_image(
    path: &std::path::Path,
    spec: &DataSpec,
    dataset: DatasetKind,
) -> anyhow::Result<Vec<u8>> {
    if dataset == DatasetKind::Folder && spec.channels == 3 && spec.height == spec.width {
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read image {}: {e}", path.display()))?;
        return datasets::folder::decode_square(
            &bytes,
            spec.resize.unwrap_or(spec.height),
            spec.height,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let img = image::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read image {}: {e}", path.display()))?;
    let img = img.resize_exact(
        spec.width as u32,
        spec.height as u32,
        image::imageops::FilterType::Triangle,
    );
    Ok(match spec.channels {
        1 => img.to_luma8().into_raw(),
        3 => {
            let rgb = img.to_rgb8();
            let plane = spec.width * spec.height;
            let mut chw = vec![0u8; 3 * plane];
            for (i, px) in rgb.pixels().enumerate() {
                for c in 0..3 {
                    chw[c * plane + i] = px[c];
                }
            }
            chw
        }
        n => anyhow::bail!("images with {n} channels are not supported"),
    })
}

/// `predict`: the top classes of image files and test-set items.
pub fn predict<M: ImageClassifier>(args: PredictArgs<M::Config>) -> anyhow::Result<()> {
    anyhow::ensure!(
        !args.images.is_empty() || !args.index.is_empty(),
        "nothing to predict: give image files, or --index N for test-set items"
    );
    let (_, device) = device::select_device(args.device.device.as_deref())?;
    let members = EnsembleArgs {
        weights: args.weights.clone(),
        config: args.config.clone(),
        vote: false,
    }
    .members();
    let (models, dataset, spec) = load_members::<M>(&members, &args.data, &args.model, &device)?;
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for path in &args.images {
        inputs.push((
            path.display().to_string(),
            read_image(path, &spec, dataset)?,
        ));
    }
    let mut classes: Vec<String> = (0..spec.num_classes).map(|c| spec.class_name(c)).collect();
    if !args.index.is_empty() {
        let test = data::load_split(dataset, Split::Test, &args.data.sized_for(&spec))?;
        classes = test.classes().to_vec();
        for &i in &args.index {
            anyhow::ensure!(
                i < test.len(),
                "--index {i}: the test set has {} items",
                test.len()
            );
            let label = &classes[test.label(i) as usize];
            inputs.push((format!("test[{i}] (label {label})"), test.image(i).to_vec()));
        }
    }
    let batcher = ImageBatcher::new(spec.shape(), &dataset.normalization());
    let pixels: Vec<&[u8]> = inputs.iter().map(|(_, p)| p.as_slice()).collect();
    let images = batcher.images(&pixels, &device);
    // One model, or the mean of the members' probabilities.
    let probs = models
        .iter()
        .map(|m| burn::tensor::activation::softmax(m.valid().logits(images.clone()), 1))
        .reduce(|a, b| a + b)
        .expect("at least one member")
        .div_scalar(models.len() as f64);
    let probs: Vec<f32> = probs.into_data().try_to_vec()?;
    let mut predictions = Vec::new();
    for ((name, _), row) in inputs.iter().zip(probs.chunks_exact(spec.num_classes)) {
        let mut order: Vec<usize> = (0..row.len()).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        order.truncate(args.top.max(1));
        let top: Vec<String> = order
            .iter()
            .map(|&c| format!("{} {:.1}%", classes[c], 100.0 * row[c]))
            .collect();
        println!("{name}: {}", top.join(", "));
        predictions.push(serde_json::json!({
            "input": name,
            "top": order.iter().map(|&c| serde_json::json!({
                "index": c,
                "class": classes[c],
                "probability": row[c],
            })).collect::<Vec<_>>(),
        }));
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&predictions)?)
            .map_err(|e| anyhow::anyhow!("--json {}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `export`: safetensors with PyTorch names.
pub fn export<M: ImageClassifier>(mut args: ExportArgs<M::Config>) -> anyhow::Result<()> {
    args.weights = crate::pretrained::resolve_weights(&args.weights, M::NAME)?;
    let device = device::select_device(None)?.1;
    let (config, _, spec) =
        saved_or_flags::<M>(Some(&args.weights), None, &args.data, &args.model)?;
    let model = M::init(&config, &spec, &device);
    let names = M::pytorch_names(&config);
    let model = weights::load_weights(model, &args.weights.weights, &names)?;
    weights::export_safetensors(&model, &args.output, &names)?;
    println!("wrote {}", args.output.display());
    Ok(())
}

/// `info`: parameters, layers and compiled-in devices.
pub fn info<M: ImageClassifier>(args: InfoArgs<M::Config>) -> anyhow::Result<()> {
    let device = device::select_device(None)?.1;
    let (config, dataset, spec) =
        saved_or_flags::<M>(None, args.config.as_deref(), &args.data, &args.model)?;
    let model = M::init(&config, &spec, &device);
    println!("{}: {}", M::NAME, M::ABOUT);
    println!("config: {}", serde_json::to_string(&config)?);
    println!(
        "input: {}x{}x{} ({}), {} classes",
        spec.channels,
        spec.height,
        spec.width,
        dataset.name(),
        spec.num_classes
    );
    println!("parameters: {}", model.num_params());
    println!("{model}");
    println!(
        "devices compiled in: {}",
        device::compiled_devices().join(", ")
    );
    Ok(())
}
