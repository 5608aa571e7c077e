//! The `gan` command line: `train`, `sample`, `fid` (also `eval`), `info`; loading a trained
//! generator; and the model's registry entry.

use crate::config::GanConfig;
use crate::fid::{FidScore, HINT_SAMPLES, reference, score};
use crate::model::generate;
use crate::model::{Discriminator, Generator};
use crate::task::{FidArgs, RunConfig, TrainArgs, train};
use burn::prelude::*;
use clap::{Parser, Subcommand};
use datasets::Split;
use generative::pixels::{ImageDataArgs, to_bytes};
use generative::save_grid;
use std::path::{Path, PathBuf};
use trainer::cli::DeviceArgs;
use trainer::device::select_device;
use trainer::driver::RunFolder;

#[derive(Parser, Debug)]
#[command(
    name = "gan",
    version,
    about = "DCGAN and MLP GAN on MNIST, with FID on a LeNet classifier"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// One command is parsed per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train; writes samples/epoch-N.png every epoch, metrics, checkpoints and the two networks.
    Train(TrainArgs),
    /// Draw samples from a trained generator into one PNG grid.
    Sample {
        /// generator.bpk written by `train` (its config.json beside it)
        #[arg(long, value_name = "FILE")]
        weights: PathBuf,
        /// How many samples
        #[arg(long, default_value_t = 64)]
        n: usize,
        /// Seed of the noise
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// PNG to write [default: samples-seed<S>.png beside --weights]
        #[arg(long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        device: DeviceArgs,
    },
    /// FID of a generator's samples (or, with --real-train, of real training images: the floor)
    /// against the test set, with the class spread of the samples. A GAN's evaluation, so
    /// `eval` is another name for it.
    #[command(visible_alias = "eval")]
    Fid(FidArgs),
    /// Quantize a generator to 8 bits (into <folder>/generator.bpk, with its config.json);
    /// file size, FID of its samples and time before and after.
    Quantize {
        #[command(flatten)]
        fid: FidArgs,
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
    },
    /// Parameter counts and layers for the flags.
    Info {
        #[command(flatten)]
        data: ImageDataArgs,
        #[command(flatten)]
        model: GanConfig,
    },
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train(args) => train(args).map(|_| ()),
        Command::Sample {
            weights,
            n,
            seed,
            output,
            device,
        } => sample(&weights, n, seed, output, &device),
        Command::Fid(args) => fid(&args).map(|_| ()),
        Command::Quantize { fid, quantize } => quantize_generator(&fid, &quantize),
        Command::Info { data, model } => {
            let (_, device) = select_device(None)?;
            let shape = data.load(Split::Test)?.shape();
            let classes = data.load(Split::Test)?.num_classes();
            let g = Generator::new(&model, shape, classes, &device)?;
            let d = Discriminator::new(&model, shape, classes, &device)?;
            println!("gan: {}", serde_json::to_string(&model)?);
            println!("generator: {} parameters\n{g}", g.num_params());
            println!("discriminator: {} parameters\n{d}", d.num_params());
            Ok(())
        }
    }
}

/// A trained generator from `generator.bpk` and the run's `config.json` beside it.
pub fn load_generator(weights: &Path, device: &Device) -> anyhow::Result<(Generator, RunConfig)> {
    let config_path = weights
        .parent()
        .map(|p| p.join("config.json"))
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--weights {}: no config.json beside it (use the generator.bpk of a `gan train` run)",
                weights.display()
            )
        })?;
    let run: RunConfig = RunFolder::read_config(&config_path)?;
    let shape = datasets::ImageShape {
        channels: run.input.channels,
        height: run.input.height,
        width: run.input.width,
    };
    let generator = Generator::new(&run.model_config, shape, run.input.num_classes, device)?;
    let generator = trainer::weights::load_weights(generator, weights, &[])?;
    Ok((generator, run))
}

fn sample(
    weights: &Path,
    n: usize,
    seed: u64,
    output: Option<PathBuf>,
    device: &DeviceArgs,
) -> anyhow::Result<()> {
    anyhow::ensure!(n > 0, "--n must be at least 1");
    let (_, device) = select_device(device.device.as_deref())?;
    let (generator, _) = load_generator(weights, &device)?;
    let path = output.unwrap_or_else(|| {
        weights
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("samples-seed{seed}.png"))
    });
    // A conditional generator's sample i is of class i mod classes: one column per class.
    let columns = match generator.classes() {
        0 => (n as f64).sqrt().ceil() as usize,
        classes => classes,
    };
    save_grid(generate(&generator, n, seed, &device), columns, &path)?;
    println!("wrote {} ({n} samples, seed {seed})", path.display());
    Ok(())
}

/// `quantize`: an 8-bit generator and the FID of its samples (same noise) before and after.
pub fn quantize_generator(
    args: &FidArgs,
    flags: &trainer::cli::QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    let weights = match (&args.weights, args.real_train) {
        (Some(w), false) => w,
        _ => {
            return Err(trainer::UsageError(
                "quantize needs a generator: --weights generator.bpk (not --real-train)".into(),
            )
            .into());
        }
    };
    if flags.out.file_name().and_then(|n| n.to_str()) != Some("generator.bpk") {
        return Err(trainer::UsageError(format!(
            "--out {}: name the file <folder>/generator.bpk; its run's config.json is copied \
             beside it so `sample` and `fid` load it",
            flags.out.display()
        ))
        .into());
    }
    let source_dir = weights.parent().unwrap_or(Path::new("."));
    let dir = flags.out.parent().unwrap_or(Path::new("."));
    trainer::quantize::check_new_folder(&flags.out, source_dir)?;
    let classifier = fid_classifier(args)?;
    let (device_name, device) = select_device(args.device.device.as_deref())?;
    let (generator, _) = load_generator(weights, &device)?;
    let data = args.data.clone().limited(&args.limits);
    let test = data.load(Split::Test)?;
    let (judge, reference) = reference(&args.fid, classifier, &test, &device)?;
    std::fs::create_dir_all(dir)?;
    let config = source_dir.join("config.json");
    std::fs::copy(&config, dir.join("config.json"))
        .map_err(|e| anyhow::anyhow!("cannot copy {}: {e}", config.display()))?;
    let n = args.fid.fid_samples;
    let fid_of = |g: &Generator| -> anyhow::Result<f64> {
        let images = to_bytes(generate(g, n, args.seed, &device))?;
        Ok(score(&judge, &reference, &images, 0, g.classes())?.fid)
    };
    let reload = |path: &Path| Ok(load_generator(path, &device)?.0);
    let metric = format!("FID ({n} samples)");
    trainer::quantize::quantize_and_report(
        "gan generator",
        generator,
        flags,
        &device_name,
        trainer::quantize::Judge {
            metric: &metric,
            score: &fid_of,
            forward: None,
            workload: "sampling and scoring",
            reload: &reload,
        },
    )
}

/// `--classifier`, which `fid` and `quantize` need.
fn fid_classifier(args: &FidArgs) -> Result<&Path, trainer::UsageError> {
    args.fid.classifier.as_deref().ok_or_else(|| {
        trainer::UsageError(
            "--classifier is required: the cnn weights (trained on the same data) FID uses".into(),
        )
    })
}

/// `fid`: FID of a generator (or of real training images) against the test set.
pub fn fid(args: &FidArgs) -> anyhow::Result<FidScore> {
    let (_, device) = select_device(args.device.device.as_deref())?;
    let classifier = fid_classifier(args)?;
    let data = args.data.clone().limited(&args.limits);
    let test = data.load(Split::Test)?;
    let started = std::time::Instant::now();
    let (judge, reference) = reference(&args.fid, classifier, &test, &device)?;
    let n = args.fid.fid_samples;
    let mut conditioned_on = 0;
    let (what, images) = if args.real_train {
        let train = data.load(Split::Train)?;
        let images: Vec<Vec<u8>> = (0..n.min(train.len()))
            .map(|i| train.image(i).to_vec())
            .collect();
        ("real training images".to_string(), images)
    } else {
        let weights = args.weights.as_deref().expect("clap requires --weights");
        let (generator, _) = load_generator(weights, &device)?;
        conditioned_on = generator.classes();
        (
            format!("samples of {}", weights.display()),
            to_bytes(generate(&generator, n, args.seed, &device))?,
        )
    };
    let scored = score(&judge, &reference, &images, 0, conditioned_on)?;
    println!(
        "FID of {} {what} against {} test images: {:.2}; classes among the first {}: {} {:?} ({:.1} s)",
        images.len(),
        n.min(test.len()),
        scored.fid,
        images.len().min(HINT_SAMPLES),
        scored.classes_in_1000,
        scored.class_counts,
        started.elapsed().as_secs_f64()
    );
    println!(
        "scale: the test features' covariance has trace {:.1} (FID 0 means identical Gaussians)",
        reference.covariance.trace()
    );
    if let Some(accuracy) = scored.label_accuracy {
        println!(
            "the classifier puts {accuracy:.1}% of the first {} samples in the class they were drawn for",
            images.len().min(HINT_SAMPLES)
        );
    }
    Ok(scored)
}

/// `gan` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: trainer::entry::ModelEntry = trainer::entry::ModelEntry {
    card: include_str!("../zoo.json"),
    command: || trainer::entry::named_command::<Cli>("gan"),
    run: |args| trainer::entry::run_parsed::<Cli>("gan", args, run),
    teacher: None,
};
