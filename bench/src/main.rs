//! Times one training step (forward, backward, optimizer) and one inference batch of each
//! model, on random data of the real shapes, and prints one JSON line per measurement.
//!
//!     bench <workload> <device> <repeats>     e.g. `bench mlp flex 30`
//!
//! `scripts/bench/run` alternates this with the same PyTorch workload and writes the table.

use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::TrainStep;
use datasets::ImageBatch;
use std::time::Instant;
use trainer::{DataSpec, ImageClassifier};

struct Workload {
    batch: usize,
    spec: DataSpec,
    optim: ModuleOptimizer,
    lr: f64,
}

fn spec(channels: usize, side: usize) -> DataSpec {
    DataSpec::new(
        trainer::datasets::ImageShape {
            channels,
            height: side,
            width: side,
        },
        10,
    )
}

/// Seconds of each of `repeats` calls, after 3 warm-up calls.
fn time(f: &mut dyn FnMut(), repeats: usize) -> Vec<f64> {
    // 3 warm-up steps, fewer when the caller asks for fewer repeats (slow backends).
    for _ in 0..repeats.clamp(1, 3) {
        f();
    }
    (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn run<M: ImageClassifier>(
    name: &str,
    model: M,
    w: Workload,
    device_name: &str,
    device: &Device,
    repeats: usize,
) {
    let ad = device.clone().autodiff();
    let shape = [w.batch, w.spec.channels, w.spec.height, w.spec.width];
    let batch = ImageBatch {
        images: Tensor::random(shape, Distribution::Normal(0.0, 1.0), &ad),
        targets: Tensor::<1, Int>::random([w.batch], Distribution::Uniform(0.0, 10.0), &ad),
        soft_targets: None,
    };
    let (mut model, mut optim, lr) = (model, w.optim, w.lr);
    let mut step = || {
        let out = TrainStep::step(&model, batch.clone());
        let lr: ModuleLearningRate = lr.into();
        model = optim.step(lr, model.clone(), out.grads);
        // Reading the loss waits for the step to finish on asynchronous devices.
        let _ = out.item.loss.into_scalar::<f32>();
    };
    let train = time(&mut step, repeats);
    let inference_model = model.valid();
    let x = Tensor::random(shape, Distribution::Normal(0.0, 1.0), device);
    let mut infer = || {
        let _ = inference_model.logits(x.clone()).into_data();
    };
    let inference = time(&mut infer, repeats);
    print(
        name,
        &kernels_label(device_name, device),
        w.batch,
        repeats,
        [("train_step", train), ("inference", inference)],
    );
}

/// `ZOO_KERNELS=0` (or a GPU backend) runs Burn's own ops (convolution, batch norm, max pool,
/// dropout, GELU, softmax) instead of the `kernels` crate's.
fn kernels_label(device_name: &str, device: &Device) -> String {
    match kernels::supported(device) {
        true => device_name.to_string(),
        false => format!("{device_name}, Burn's ops"),
    }
}

fn print(
    name: &str,
    device_name: &str,
    batch: usize,
    repeats: usize,
    phases: [(&str, Vec<f64>); 2],
) {
    for (phase, times) in phases {
        let (med, min, max) = median(times);
        println!(
            "{}",
            serde_json::json!({
                "framework": "burn", "workload": name, "backend": device_name, "phase": phase,
                "batch": batch, "median_ms": med * 1e3, "min_ms": min * 1e3, "max_ms": max * 1e3,
                "samples_per_s": batch as f64 / med, "repeats": repeats,
            })
        );
    }
}

/// Full-batch node classification on Cora: a train step is the epoch of `gnn train` (forward
/// on the whole graph, loss on the 140 training nodes plus the L2 penalty, backward, Adam);
/// inference is one forward pass over the graph. "batch" counts the graph's nodes.
fn run_gnn(
    arch: gnn::Arch,
    device_name: &str,
    device: &Device,
    repeats: usize,
) -> anyhow::Result<()> {
    let mut graph = datasets::Cora::load(&datasets::DataSource::new(None))?;
    graph.row_normalize_features();
    let ad = device.clone().autodiff();
    let config = gnn::GnnConfig {
        arch,
        ..Default::default()
    };
    let recipe = gnn::config::Recipe::of(arch);
    let mut model = gnn::Gnn::new(&config, graph.num_features, graph.num_classes(), &ad);
    let mut optim = trainer::optim::adam();
    let tensors = gnn::GraphTensors::new(&graph, &ad);
    let nodes: Vec<i64> = graph.splits.train.iter().map(|&n| n as i64).collect();
    let labels: Vec<i64> = graph
        .splits
        .train
        .iter()
        .map(|&n| graph.labels[n as usize] as i64)
        .collect();
    let train_nodes = Tensor::<1, Int>::from_data(TensorData::new(nodes, [labels.len()]), &ad);
    let train_labels =
        Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [labels.len()]), &ad);
    let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
    let mut step = || {
        let logits = model.forward(&tensors).select(0, train_nodes.clone());
        let loss = loss_fn.forward(logits, train_labels.clone())
            + model.l2_penalty(recipe.decay_first_layer_only) * recipe.weight_decay;
        let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(recipe.lr, model.clone(), grads);
        let _ = loss.into_scalar::<f32>();
    };
    let train = time(&mut step, repeats);
    let inference_model = model.valid();
    let eval_tensors = gnn::GraphTensors::new(&graph, device);
    let mut infer = || {
        let _ = inference_model.forward(&eval_tensors).into_data();
    };
    let inference = time(&mut infer, repeats);
    let name = match arch {
        gnn::Arch::Gcn => "gcn",
        gnn::Arch::Sage => "sage",
        gnn::Arch::Gat => "gat",
    };
    print(
        name,
        device_name,
        graph.num_nodes(),
        repeats,
        [("train_step", train), ("inference", inference)],
    );
    Ok(())
}

/// The character language model of `lstm`/`gru train` at its recipe's size: 2 layers × 512,
/// embedding 128, 80 characters, windows of 128 at batch 64, Adam with clipping. A train step
/// starts from a zero state (as the PyTorch side does); "batch" counts sequences.
fn run_recurrent<C: sequence::Cell>(
    device_name: &str,
    device: &Device,
    repeats: usize,
) -> anyhow::Result<()> {
    let (vocab, batch, steps) = (80, 64, 128);
    let recipe = sequence::Recipe::of(sequence::Task::CharLm);
    let config = sequence::ModelConfig {
        cell: C::NAME.into(),
        input: sequence::InputKind::Tokens {
            vocab,
            embedding: recipe.embedding,
        },
        hidden: recipe.hidden,
        layers: recipe.layers,
        bidirectional: false,
        dropout: recipe.dropout,
        outputs: vocab,
        pool: Default::default(),
    };
    let ad = device.clone().autodiff();
    let mut model = sequence::SequenceModel::new::<C>(&config, &ad);
    let mut optim = AdamConfig::new()
        .with_grad_clipping(Some(burn::grad_clipping::GradientClippingConfig::Norm(
            recipe.clip as f32,
        )))
        .init();
    let ids = |device: &Device| -> Vec<Tensor<1, Int>> {
        (0..steps)
            .map(|_| Tensor::random([batch], Distribution::Uniform(0.0, vocab as f64), device))
            .collect()
    };
    let (inputs, targets) = (ids(&ad), Tensor::cat(ids(&ad), 0));
    let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
    let mut step = || {
        let (logits, _) = model.forward_lm::<C>(inputs.clone(), None);
        let loss = loss_fn.forward(logits, targets.clone());
        let grads = burn::optim::GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(recipe.lr, model.clone(), grads);
        let _ = loss.into_scalar::<f32>();
    };
    let train = time(&mut step, repeats);
    let inference_model = model.valid();
    let eval_inputs = ids(device);
    let mut infer = || {
        let _ = inference_model
            .forward_lm::<C>(eval_inputs.clone(), None)
            .0
            .into_data();
    };
    let inference = time(&mut infer, repeats);
    // `ZOO_FUSED_RNN=0` (or a GPU backend) runs autodiff through the step loop instead.
    let label = match sequence::fused::supported(device) {
        true => device_name.to_string(),
        false => format!("{device_name}, step loop"),
    };
    print(
        C::NAME,
        &label,
        batch,
        repeats,
        [("train_step", train), ("inference", inference)],
    );
    Ok(())
}

/// `vae train`'s step at its recipe (dense 784-512-256-20, batch 128, Adam 1e-3) and the
/// reconstruction of the posterior mean; or `gan train`'s step (DCGAN width 32, z of 100, batch
/// 128: a discriminator step on real and fake, then a generator step; Adam 2e-4, β₁ 0.5) and
/// 128 samples.
fn run_generative(
    name: &str,
    device_name: &str,
    device: &Device,
    repeats: usize,
) -> anyhow::Result<()> {
    use burn::optim::GradientsParams;
    use burn::tensor::activation::softplus;
    use generative::autoencoding::Autoencoding;
    let ad = device.clone().autodiff();
    let batch = 128;
    let shape = datasets::ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let images = |device: &Device| {
        Tensor::<4>::random([batch, 1, 28, 28], Distribution::Uniform(0.0, 1.0), device)
    };
    let (train, inference) = if name == "vae" {
        let config = vae::VaeConfig {
            arch: generative::blocks::Arch::Dense,
            hidden: vec![512, 256],
            channels: 32,
            latent: 20,
            beta: 1.0,
        };
        let mut model = vae::Vae::new(&config, shape, &ad)?;
        let mut optim: ModuleOptimizer = trainer::optim::adam();
        let x = images(&ad);
        let mut step = || {
            let (loss, _) = model.objective(x.clone(), &config);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(1e-3, model.clone(), grads);
            let _ = loss.into_scalar::<f32>();
        };
        let train = time(&mut step, repeats);
        let inference_model = model.valid();
        let x = images(device);
        let mut infer = || {
            let (mu, _) = inference_model.posterior(x.clone());
            let _ = inference_model.decode(mu).into_data();
        };
        (train, time(&mut infer, repeats))
    } else {
        let config = gan::GanConfig {
            arch: gan::GanArch::Dcgan,
            latent: 100,
            width: 32,
            conditional: false,
        };
        let mut generator = gan::Generator::new(&config, shape, 10, &ad)?;
        let mut discriminator = gan::Discriminator::new(&config, shape, 10, &ad)?;
        let adam = || -> ModuleOptimizer { trainer::optim::adam_config().with_beta_1(0.5).init() };
        let (mut optim_g, mut optim_d) = (adam(), adam());
        let real = gan::model::from_unit(images(&ad));
        let mut step = || {
            let z = Tensor::random([batch, 100], Distribution::Normal(0.0, 1.0), &ad);
            let fake = generator.forward(z);
            let d_loss = softplus(discriminator.forward(real.clone()).neg(), 1.0).mean()
                + softplus(discriminator.forward(fake.clone().detach()), 1.0).mean();
            let grads = GradientsParams::from_grads(d_loss.backward(), &discriminator);
            discriminator = optim_d.step(2e-4, discriminator.clone(), grads);
            let g_loss = softplus(discriminator.forward(fake).neg(), 1.0).mean();
            let grads = GradientsParams::from_grads(g_loss.backward(), &generator);
            generator = optim_g.step(2e-4, generator.clone(), grads);
            let _ = g_loss.into_scalar::<f32>();
        };
        let train = time(&mut step, repeats);
        let sampler = generator.valid();
        let z = Tensor::random([batch, 100], Distribution::Normal(0.0, 1.0), device);
        let mut infer = || {
            let _ = sampler.forward(z.clone()).into_data();
        };
        (train, time(&mut infer, repeats))
    };
    print(
        name,
        &kernels_label(device_name, device),
        batch,
        repeats,
        [("train_step", train), ("inference", inference)],
    );
    Ok(())
}

/// `bert-mini pretrain`'s step: BERT-Mini (4 layers, hidden 256, 4 heads, vocab 8000) on
/// 32 × 128 tokens, the MLM head on the 15% masked positions only, AdamW (ε 1e-6, decay 0.01,
/// clipping 1.0) at 5e-4; dropout on. Inference: the same forward without gradients.
fn run_bert(device_name: &str, device: &Device, repeats: usize) -> anyhow::Result<()> {
    use burn::optim::GradientsParams;
    let (batch, seq, vocab) = (32, 128, 8000);
    let config = bert_mini::BertConfig::mini(vocab);
    let ad = device.clone().autodiff();
    let mut model = bert_mini::BertForPreTraining::new(&config, false, &ad);
    let mut optim = bert_mini::training::optimizer(0.01, 1.0);
    let mut rng = datasets::rng::SplitMix64::new(0);
    let rows: Vec<(Vec<u32>, Vec<u32>)> = (0..batch)
        .map(|_| {
            (
                (0..seq)
                    .map(|_| 5 + rng.below(vocab as u64 - 5) as u32)
                    .collect(),
                vec![0; seq],
            )
        })
        .collect();
    // round(0.15 × 128) = 19 masked positions per row, as `pretrain` masks.
    let positions: Vec<i64> = (0..batch)
        .flat_map(|r| (0..19).map(move |k| (r * seq + 1 + k * 6) as i64))
        .collect();
    let targets: Vec<i64> = positions
        .iter()
        .map(|p| (p % (vocab as i64 - 5)) + 5)
        .collect();
    let int = |v: &[i64], d: &Device| {
        Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), d)
    };
    let input = bert_mini::BertInput::from_rows(&rows, 0, &ad);
    let (pos, tgt) = (int(&positions, &ad), int(&targets, &ad));
    let ce = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
    let mut step = || {
        let (logits, _, _) = model.forward(&input, pos.clone());
        let loss = ce.forward(logits, tgt.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(5e-4, model.clone(), grads);
        let _ = loss.into_scalar::<f32>();
    };
    let train = time(&mut step, repeats);
    let inference_model = model.valid();
    let input = bert_mini::BertInput::from_rows(&rows, 0, device);
    let pos = int(&positions, device);
    let mut infer = || {
        let _ = inference_model.forward(&input, pos.clone()).0.into_data();
    };
    let inference = time(&mut infer, repeats);
    print(
        "bert",
        &kernels_label(device_name, device),
        batch,
        repeats,
        [("train_step", train), ("inference", inference)],
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    // As every model binary does (`ModelEntry::main`): freed buffers stay for the next step.
    trainer::allocator::keep_freed_memory();
    let args: Vec<String> = std::env::args().collect();
    let workload = args.get(1).map(String::as_str).unwrap_or("mlp");
    let (device_name, device) = trainer::device::select_device(args.get(2).map(String::as_str))?;
    let repeats: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(20);
    device.seed(0);
    let ad = device.clone().autodiff();
    let adam = || trainer::optim::adam();
    let sgd = || SgdConfig::new().init();
    match workload {
        "mlp" => {
            let w = Workload {
                batch: 128,
                spec: spec(1, 28),
                optim: adam(),
                lr: 1e-3,
            };
            let model = mlp::Mlp::init(&mlp::MlpConfig::default(), &w.spec, &ad);
            run("mlp", model, w, &device_name, &device, repeats);
        }
        "cnn" => {
            let w = Workload {
                batch: 64,
                spec: spec(3, 32),
                optim: adam(),
                lr: 1e-3,
            };
            let config = cnn::CnnConfig {
                arch: Some(cnn::CnnArch::TfTutorial),
                ..Default::default()
            };
            let model = cnn::Cnn::init(&config, &w.spec, &ad);
            run("cnn", model, w, &device_name, &device, repeats);
        }
        "resnet20" | "resnet18" => {
            let w = Workload {
                batch: 128,
                spec: spec(3, 32),
                optim: sgd(),
                lr: 0.1,
            };
            let config = resnet::ResNetConfig {
                arch: if workload == "resnet20" {
                    resnet::ResNetArch::Resnet20
                } else {
                    resnet::ResNetArch::Resnet18
                },
                cifar_stem: true,
                ..Default::default()
            };
            let model = resnet::ResNet::init(&config, &w.spec, &ad);
            run(workload, model, w, &device_name, &device, repeats);
        }
        "gcn" => run_gnn(gnn::Arch::Gcn, &device_name, &device, repeats)?,
        "sage" => run_gnn(gnn::Arch::Sage, &device_name, &device, repeats)?,
        "gat" => run_gnn(gnn::Arch::Gat, &device_name, &device, repeats)?,
        "lstm" => run_recurrent::<lstm::LstmCell>(&device_name, &device, repeats)?,
        "gru" => run_recurrent::<gru::GruCell>(&device_name, &device, repeats)?,
        "vae" | "dcgan" => run_generative(workload, &device_name, &device, repeats)?,
        "bert" => run_bert(&device_name, &device, repeats)?,
        other => {
            anyhow::bail!(
                "unknown workload {other}: mlp, cnn, resnet20, resnet18, gcn, sage, gat, lstm, gru, vae, dcgan, bert"
            )
        }
    }
    Ok(())
}
