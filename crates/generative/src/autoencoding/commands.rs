//! The commands every autoencoding model has besides `train`: `eval`, `pictures`, `encode`,
//! `probe`, `info`, and loading saved weights with their run's config.

use super::*;

/// The commands of a reconstruction model's binary.
#[derive(Subcommand, Debug)]
pub enum Command<C: Args> {
    /// Train, writing metrics, checkpoints, weights, pictures and test figures to --out.
    Train(TrainArgs<C>),
    /// Test-set figures of saved weights.
    Eval(SavedArgs<C>),
    /// Write the model's pictures (beside the weights, or to --out).
    Pictures {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// Folder for the PNGs [default: beside --weights]
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Codes of the test images (or --split train) to CSV: index, label, z0, z1, ...
    Encode {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// CSV to write [default: codes-<split>.csv beside --weights]
        #[arg(long)]
        output: Option<PathBuf>,
        /// Which split to encode
        #[arg(long, value_enum, default_value = "test")]
        split: SplitArg,
    },
    /// Linear probe: logistic regression on the frozen codes of the training images, scored on
    /// the test images.
    Probe {
        #[command(flatten)]
        saved: SavedArgs<C>,
        /// Probe training passes
        #[arg(long, default_value_t = 30)]
        probe_epochs: usize,
        /// Also probe the raw pixels, the baseline the codes should be compared with
        #[arg(long)]
        pixel_baseline: bool,
    },
    /// Quantize saved weights to 8 bits; file size, the test figure and evaluation time before
    /// and after.
    Quantize {
        #[command(flatten)]
        saved: SavedArgs<C>,
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
    },
    /// Parameter count and layers for the flags (or a saved config.json).
    Info {
        #[command(flatten)]
        data: ImageDataArgs,
        #[command(flatten)]
        model: C,
    },
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

/// Saved weights and where to evaluate them.
#[derive(Args, Debug, Clone)]
pub struct SavedArgs<C: Args> {
    #[command(flatten)]
    pub weights: WeightsArgs,
    #[command(flatten)]
    pub data: ImageDataArgs,
    #[command(flatten)]
    pub limits: ImageLimits,
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Images per evaluation batch
    #[arg(long, default_value_t = 500)]
    pub batch_size: usize,
    /// Also write the figures to this JSON file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub model: C,
}

/// Runs one parsed shared command.
pub fn run_command<M: Autoencoding>(command: Command<M::Config>) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::<M>(args).map(|_| ()),
        Command::Eval(saved) => eval::<M>(&saved).map(|_| ()),
        Command::Pictures { saved, out } => pictures::<M>(&saved, out),
        Command::Encode {
            saved,
            output,
            split,
        } => encode_csv::<M>(&saved, output, split),
        Command::Probe {
            saved,
            probe_epochs,
            pixel_baseline,
        } => probe::<M>(&saved, probe_epochs, pixel_baseline).map(|_| ()),
        Command::Quantize { saved, quantize } => quantize_weights::<M>(&saved, &quantize),
        Command::Info { data, model } => info::<M>(&data, &model),
    }
}

/// `quantize`: 8-bit weights; the model's headline test figure (e.g. −ELBO, nats per image)
/// and the evaluation's time, before and after.
pub fn quantize_weights<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
    flags: &trainer::cli::QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    let (model, config, data, device) = load::<M>(saved)?;
    let (device_name, _) = select_device(saved.device.device.as_deref())?;
    let test = data.load(Split::Test)?;
    let score = |m: &M| -> anyhow::Result<f64> {
        let scores = evaluate_set(m, &config, &test, saved.batch_size, &device)?;
        scores
            .get(M::HEADLINE)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("{}: evaluation has no {}", M::NAME, M::HEADLINE))
    };
    let reload = |path: &Path| -> anyhow::Result<M> {
        let fresh = M::new(&config, test.shape(), &device)?;
        trainer::weights::load_weights(fresh, path, &[])
    };
    let metric = format!("test {} ({} images)", M::HEADLINE, test.len());
    trainer::quantize::quantize_and_report(
        M::NAME,
        model,
        flags,
        &device_name,
        trainer::quantize::Judge {
            metric: &metric,
            score: &score,
            forward: None,
            workload: "one evaluation of the test images",
            reload: &reload,
        },
    )
}

/// Loads saved weights with their run's config (`--config`, else `config.json` beside the
/// weights, else the flags), on the chosen device.
pub fn load<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
) -> anyhow::Result<(M, M::Config, ImageDataArgs, Device)> {
    let (_, device) = select_device(saved.device.device.as_deref())?;
    let weights = trainer::pretrained::resolve_weights(&saved.weights, M::NAME)?;
    let (config, data) = match weights.run_config() {
        Some(path) => {
            let run: RunConfig<M::Config> = RunFolder::read_config(&path)?;
            let data = ImageDataArgs {
                data_dir: saved.data.data_dir.clone(),
                ..run.data
            };
            (run.model_config, data.limited(&saved.limits))
        }
        None => (
            saved.model.clone(),
            saved.data.clone().limited(&saved.limits),
        ),
    };
    let test = data.load(Split::Test)?;
    let model = M::new(&config, test.shape(), &device)?;
    let model = trainer::weights::load_weights(model, &weights.weights, &[])?;
    Ok((model, config, data, device))
}

/// `eval`: test-set figures of saved weights.
pub fn eval<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
) -> anyhow::Result<BTreeMap<String, f64>> {
    let (model, config, data, device) = load::<M>(saved)?;
    let test = data.load(Split::Test)?;
    let scores = evaluate_set(&model, &config, &test, saved.batch_size, &device)?;
    println!(
        "{} on {} test ({} images): {}",
        saved.weights.weights.display(),
        data.dataset.name(),
        test.len(),
        summary(&scores)
    );
    if let Some(path) = &saved.json {
        std::fs::write(path, serde_json::to_string_pretty(&scores)?)?;
    }
    Ok(scores)
}

fn beside_weights(weights: &Path) -> PathBuf {
    weights
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn pictures<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (model, config, data, _) = load::<M>(saved)?;
    let test = data.load(Split::Test)?;
    let dir = out.unwrap_or_else(|| beside_weights(&saved.weights.weights));
    for path in model.pictures(&config, &test, &dir, 1)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The codes of every image of `set`.
pub fn encode_set<M: Autoencoding>(
    model: &M,
    set: &ImageSet,
    device: &Device,
) -> anyhow::Result<Codes> {
    let mut values = Vec::new();
    let mut dim = 0;
    let indices: Vec<usize> = (0..set.len()).collect();
    for batch in indices.chunks(500) {
        let codes = model.encode(pixel_batch(set, batch, device)); // [batch, latent]
        dim = codes.dims()[1];
        values.extend(codes.into_data().try_to_vec::<f32>()?);
    }
    Ok(Codes {
        values,
        dim,
        labels: (0..set.len()).map(|i| set.label(i)).collect(),
    })
}

fn encode_csv<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
    output: Option<PathBuf>,
    split: SplitArg,
) -> anyhow::Result<()> {
    let (model, _, data, device) = load::<M>(saved)?;
    let (split, name) = match split {
        SplitArg::Train => (Split::Train, "train"),
        SplitArg::Test => (Split::Test, "test"),
    };
    let set = data.load(split)?;
    let codes = encode_set(&model, &set, &device)?;
    let path = output.unwrap_or_else(|| {
        beside_weights(&saved.weights.weights).join(format!("codes-{name}.csv"))
    });
    let mut csv = String::from("index,label");
    for d in 0..codes.dim {
        csv.push_str(&format!(",z{d}"));
    }
    csv.push('\n');
    for (i, row) in codes.values.chunks_exact(codes.dim.max(1)).enumerate() {
        csv.push_str(&format!("{i},{}", codes.labels[i]));
        for v in row {
            csv.push_str(&format!(",{v}"));
        }
        csv.push('\n');
    }
    std::fs::write(&path, csv)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!(
        "wrote {} ({} {name} images, {} dimensions)",
        path.display(),
        codes.len(),
        codes.dim
    );
    Ok(())
}

/// `probe`: train and test accuracy (percent) of a linear probe on the codes.
pub fn probe<M: Autoencoding>(
    saved: &SavedArgs<M::Config>,
    probe_epochs: usize,
    pixel_baseline: bool,
) -> anyhow::Result<(f64, f64)> {
    let (model, _, data, device) = load::<M>(saved)?;
    let train = data.load(Split::Train)?;
    let test = data.load(Split::Test)?;
    let started = std::time::Instant::now();
    let train_codes = encode_set(&model, &train, &device)?;
    let test_codes = encode_set(&model, &test, &device)?;
    let config = ProbeConfig {
        epochs: probe_epochs,
        ..Default::default()
    };
    let (train_acc, test_acc) = linear_probe(
        &train_codes,
        &test_codes,
        train.num_classes(),
        &config,
        &device,
    )?;
    println!(
        "linear probe on {}-d codes: train accuracy {train_acc:.2}%, test accuracy {test_acc:.2}% ({} train / {} test images, {:.1} s)",
        train_codes.dim,
        train.len(),
        test.len(),
        started.elapsed().as_secs_f64()
    );
    if pixel_baseline {
        let pixels = |set: &ImageSet| Codes {
            values: (0..set.len())
                .flat_map(|i| set.image(i).iter().map(|&p| p as f32 / 255.0))
                .collect(),
            dim: set.shape().pixels(),
            labels: (0..set.len()).map(|i| set.label(i)).collect(),
        };
        let (train_px, test_px) = linear_probe(
            &pixels(&train),
            &pixels(&test),
            train.num_classes(),
            &config,
            &device,
        )?;
        println!(
            "baseline, the same probe on the {} raw pixels: train accuracy {train_px:.2}%, test accuracy {test_px:.2}%",
            train.shape().pixels()
        );
    }
    if let Some(path) = &saved.json {
        let json = serde_json::json!({"train_accuracy": train_acc, "test_accuracy": test_acc, "dim": train_codes.dim});
        std::fs::write(path, serde_json::to_string_pretty(&json)?)?;
    }
    Ok((train_acc, test_acc))
}

fn info<M: Autoencoding>(data: &ImageDataArgs, config: &M::Config) -> anyhow::Result<()> {
    let (_, device) = select_device(None)?;
    let test = data.load(Split::Test)?;
    let model = M::new(config, test.shape(), &device)?;
    println!("{}: {}", M::NAME, serde_json::to_string(config)?);
    println!("parameters: {}", model.num_params());
    println!("{model}");
    Ok(())
}
