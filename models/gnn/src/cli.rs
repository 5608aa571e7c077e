//! The `gnn` command line: `train`, `eval`, `predict`, `embed`, `export`, `info`, loading saved
//! weights with their run's config, and the model's registry entry.

use crate::config::{GnnConfig, Recipe};
use crate::data::GraphDataArgs;
use crate::model::{Gnn, GraphTensors};
use crate::task::{RunConfig, score, train};
use burn::prelude::*;
use clap::{Args, Parser, Subcommand};
use datasets::Graph;
use std::path::{Path, PathBuf};
use trainer::device::select_device;
use trainer::driver::{RunFlags, RunFolder};
use trainer::plots::{pca_2d, plot_scatter};
use trainer::report::TestMetrics;

#[derive(Parser, Debug)]
#[command(
    name = "gnn",
    version,
    about = "Graph neural networks (GCN, GraphSAGE, GAT) for node classification on Cora"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: boxing the training flags would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train full-batch, validate every epoch, keep the best epoch, evaluate on the test nodes.
    Train {
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        data: GraphDataArgs,
        #[command(flatten)]
        model: GnnConfig,
    },
    /// Test-node metrics of saved weights, the confusion matrix and the ROC/PR curves.
    Eval {
        #[command(flatten)]
        weights: SavedModelArgs,
        #[command(flatten)]
        outputs: trainer::cli::EvalOutputArgs,
    },
    /// The predicted class of nodes, by id, with probabilities (the top 3, and the true label).
    Predict {
        #[command(flatten)]
        weights: SavedModelArgs,
        /// Node ids as the data set names them (Cora: paper ids), comma-separated
        #[arg(long, value_delimiter = ',', required = true, value_name = "ID")]
        node: Vec<String>,
    },
    /// Hidden node representations to CSV, and a PNG of their 2-d PCA coloured by class.
    Embed {
        #[command(flatten)]
        weights: SavedModelArgs,
        /// CSV to write [default: embeddings.csv beside the weights]
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Write weights as safetensors with PyTorch Geometric's names (conv1.lin.weight, ...).
    Export {
        #[command(flatten)]
        weights: SavedModelArgs,
        #[arg(long)]
        output: PathBuf,
    },
    /// Quantize saved weights to 8 bits; file size, test accuracy and latency before and after.
    Quantize {
        #[command(flatten)]
        weights: SavedModelArgs,
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
    },
    /// Graph statistics, parameter count and layers.
    Info {
        #[command(flatten)]
        data: GraphDataArgs,
        #[command(flatten)]
        model: GnnConfig,
    },
}

#[derive(Args, Debug, Clone)]
pub struct SavedModelArgs {
    /// `--weights` (model.bpk written by `train`, or .safetensors with PyG names) and `--config`
    #[command(flatten)]
    pub saved: trainer::cli::WeightsArgs,
    #[command(flatten)]
    pub data: GraphDataArgs,
    #[command(flatten)]
    pub model: GnnConfig,
    #[command(flatten)]
    pub device: trainer::cli::DeviceArgs,
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { run, data, model } if run.folds.is_some() => {
            crate::task::train_folds(run, data, model).map(|_| ())
        }
        Command::Train { run, data, model } => train(run, data, model).map(|_| ()),
        Command::Eval { weights, outputs } => eval(resolved(weights)?, &outputs).map(|_| ()),
        Command::Predict { weights, node } => predict(resolved(weights)?, &node),
        Command::Embed { weights, output } => embed(resolved(weights)?, output),
        Command::Export { weights, output } => export(resolved(weights)?, &output),
        Command::Quantize { weights, quantize } => quantize_weights(resolved(weights)?, &quantize),
        Command::Info { data, model } => info(data, model),
    }
}

/// `--weights pretrained:NAME` as the registry's file.
fn resolved(mut args: SavedModelArgs) -> anyhow::Result<SavedModelArgs> {
    args.saved = trainer::pretrained::resolve_weights(&args.saved, "gnn")?;
    Ok(args)
}

/// The model config, data and class names for saved weights: `--config`, else `config.json`
/// beside them, else the flags.
fn saved_or_flags(args: &SavedModelArgs) -> anyhow::Result<(GnnConfig, GraphDataArgs)> {
    match args.saved.run_config() {
        Some(path) => {
            let saved: RunConfig = RunFolder::read_config(&path)?;
            let data = GraphDataArgs {
                data_dir: args.data.data_dir.clone(),
                ..saved.data
            };
            Ok((saved.model_config, data))
        }
        None => Ok((args.model.resolved(), args.data.clone())),
    }
}

/// Model with the saved weights, the graph and the device.
fn load(args: &SavedModelArgs) -> anyhow::Result<(Gnn, Graph, GraphTensors, Device)> {
    let (config, data) = saved_or_flags(args)?;
    let (_, device) = select_device(args.device.device.as_deref())?;
    let graph = data.load(0)?;
    let model = Gnn::new(&config, graph.num_features, graph.num_classes(), &device);
    let model = trainer::weights::load_weights(model, &args.saved.weights, &[])?;
    let tensors = GraphTensors::new(&graph, &device);
    Ok((model, graph, tensors, device))
}

/// `eval`: test-node metrics.
pub fn eval(
    args: SavedModelArgs,
    outputs: &trainer::cli::EvalOutputArgs,
) -> anyhow::Result<TestMetrics> {
    let (model, graph, tensors, device) = load(&args)?;
    let evaluation = score(model.forward(&tensors), &graph, &graph.splits.test, &device)?;
    let dir = outputs.dir(&args.saved.weights);
    evaluation.write(&dir)?;
    let metrics = &evaluation.metrics;
    println!(
        "{} on {} test ({} nodes): accuracy {:.2}%  loss {:.4}  macro F1 {:.2}%{}",
        args.saved.weights.display(),
        graph.name,
        metrics.samples,
        metrics.accuracy,
        metrics.loss,
        metrics.f1_macro,
        evaluation.areas_note()
    );
    println!(
        "wrote {} (confusion matrix, ROC and PR curves)",
        dir.display()
    );
    Ok(evaluation.metrics)
}

/// `quantize`: 8-bit weights, with test accuracy and full-graph latency before and after.
pub fn quantize_weights(
    args: SavedModelArgs,
    flags: &trainer::cli::QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    let (model, graph, tensors, device) = load(&args)?;
    let (config, _) = saved_or_flags(&args)?;
    let (device_name, _) = select_device(args.device.device.as_deref())?;
    let score = |m: &Gnn| -> anyhow::Result<f64> {
        Ok(
            score(m.forward(&tensors), &graph, &graph.splits.test, &device)?
                .metrics
                .accuracy,
        )
    };
    let forward = |m: &Gnn| {
        let _ = m.forward(&tensors).into_data();
    };
    let reload = |path: &Path| -> anyhow::Result<Gnn> {
        let model = Gnn::new(&config, graph.num_features, graph.num_classes(), &device);
        trainer::weights::load_weights(model, path, &[])
    };
    let metric = format!("test accuracy (%, {} nodes)", graph.splits.test.len());
    let workload = format!("the whole graph, {} nodes", graph.labels.len());
    trainer::quantize::quantize_and_report(
        "gnn",
        model,
        flags,
        &device_name,
        trainer::quantize::Judge {
            metric: &metric,
            score: &score,
            forward: Some(&forward),
            workload: &workload,
            reload: &reload,
        },
    )
}

/// `predict`: the top classes of the nodes `ids`, with probabilities and the true label.
pub fn predict(args: SavedModelArgs, ids: &[String]) -> anyhow::Result<()> {
    let (model, graph, tensors, _) = load(&args)?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let index = graph.node_ids.iter().position(|n| n == id).ok_or_else(|| {
            anyhow::anyhow!(
                "--node {id}: {} has no node with that id (ids look like {})",
                graph.name,
                graph.node_ids[..3.min(graph.node_ids.len())].join(", ")
            )
        })?;
        rows.push(index);
    }
    let probs = burn::tensor::activation::softmax(model.forward(&tensors), 1);
    let classes = graph.num_classes();
    let probs: Vec<f32> = probs.into_data().try_to_vec()?;
    for (id, &i) in ids.iter().zip(&rows) {
        let row = &probs[i * classes..(i + 1) * classes];
        let mut order: Vec<usize> = (0..classes).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        let top: Vec<String> = order
            .iter()
            .take(3)
            .map(|&c| format!("{} {:.1}%", graph.class_names[c], 100.0 * row[c]))
            .collect();
        println!(
            "node {id} (label {}): {}",
            graph.class_names[graph.labels[i] as usize],
            top.join(", ")
        );
    }
    Ok(())
}

/// `embed`: writes `node_id,label,split,e0..` rows and a PCA scatter PNG.
pub fn embed(args: SavedModelArgs, output: Option<PathBuf>) -> anyhow::Result<()> {
    let (model, graph, tensors, _) = load(&args)?;
    let embedding = model.embed(&tensors);
    let [n, dim] = embedding.dims();
    let values: Vec<f32> = embedding.into_data().try_to_vec()?;
    let csv = output.unwrap_or_else(|| {
        args.saved
            .weights
            .parent()
            .unwrap_or(Path::new("."))
            .join("embeddings.csv")
    });
    let mut role = vec!["none"; n];
    for (nodes, name) in [
        (&graph.splits.train, "train"),
        (&graph.splits.valid, "valid"),
        (&graph.splits.test, "test"),
    ] {
        nodes.iter().for_each(|&i| role[i as usize] = name);
    }
    let mut text = String::from("node_id,label,split");
    (0..dim).for_each(|d| text.push_str(&format!(",e{d}")));
    text.push('\n');
    for (i, row) in values.chunks_exact(dim).enumerate() {
        text.push_str(&format!(
            "{},{},{}",
            graph.node_ids[i], graph.class_names[graph.labels[i] as usize], role[i]
        ));
        row.iter().for_each(|v| text.push_str(&format!(",{v}")));
        text.push('\n');
    }
    std::fs::write(&csv, text)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", csv.display()))?;
    let png = csv.with_extension("png");
    let classes: Vec<usize> = graph.labels.iter().map(|&l| l as usize).collect();
    plot_scatter(
        &pca_2d(&values, dim),
        &classes,
        &graph.class_names,
        &format!(
            "{} node embeddings (PCA of {dim}-d hidden layer)",
            graph.name
        ),
        &png,
    )?;
    println!(
        "wrote {} ({n} nodes x {dim}) and {}",
        csv.display(),
        png.display()
    );
    Ok(())
}

/// `export`: safetensors with PyG's names.
pub fn export(args: SavedModelArgs, output: &Path) -> anyhow::Result<()> {
    let (model, ..) = load(&args)?;
    trainer::weights::export_safetensors(&model, output, &[])?;
    println!("wrote {}", output.display());
    Ok(())
}

/// `info`: the graph and the model.
pub fn info(data: GraphDataArgs, config: GnnConfig) -> anyhow::Result<()> {
    let graph = data.load(0)?;
    let device = select_device(None)?.1;
    let config = config.resolved();
    let model = Gnn::new(&config, graph.num_features, graph.num_classes(), &device);
    let degrees = graph.degrees();
    println!(
        "{}: {} nodes, {} undirected edges (mean degree {:.2}, max {}), {} features, classes {}",
        graph.name,
        graph.num_nodes(),
        graph.edges.len(),
        2.0 * graph.edges.len() as f64 / graph.num_nodes() as f64,
        degrees.iter().max().copied().unwrap_or(0),
        graph.num_features,
        graph.class_names.join(", ")
    );
    println!(
        "split: {} train / {} valid / {} test nodes",
        graph.splits.train.len(),
        graph.splits.valid.len(),
        graph.splits.test.len()
    );
    println!("config: {}", serde_json::to_string(&config)?);
    println!(
        "recipe: {}",
        serde_json::to_string(&Recipe::of(config.arch))?
    );
    println!("parameters: {}", model.num_params());
    println!("{model}");
    println!(
        "devices compiled in: {}",
        trainer::device::compiled_devices().join(", ")
    );
    Ok(())
}

/// `gnn` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: trainer::entry::ModelEntry = trainer::entry::ModelEntry {
    card: include_str!("../zoo.json"),
    command: || trainer::entry::named_command::<Cli>("gnn"),
    run: |args| trainer::entry::run_parsed::<Cli>("gnn", args, run),
    teacher: None,
};

#[cfg(test)]
mod tests {
    use super::Cli;

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
