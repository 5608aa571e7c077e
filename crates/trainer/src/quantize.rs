//! `quantize`: post-training weight quantization of an image classifier (Burn's `Quantizer`),
//! with the file size, test accuracy and inference latency before and after. On the CPU
//! backends Burn dequantizes quantized weights before each matmul or convolution, so the gain
//! is a 4× smaller file and weight memory, not speed; the latency is measured to show it.

use crate::classifier::ImageClassifier;
use crate::cli::{QuantKind, QuantizeArgs, QuantizeFlags};
use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId, Quantizer};
use burn::prelude::*;
use burn::tensor::quantization::{Calibration, QuantScheme, QuantStore, QuantValue, ScaleDtype};
use clap::ValueEnum;
use datasets::{ImageBatcher, Split};
use std::path::Path;
use std::time::Instant;

/// Quantizes `model`'s float parameters as `kind` says; returns it with the number of tensors
/// quantized and of those left f32 (their shape does not fit the blocks).
pub fn quantize_module<M: Module>(model: M, kind: QuantKind) -> (M, usize, usize) {
    struct Fits {
        block: Option<usize>,
        ids: Vec<ParamId>,
        kept: usize,
    }
    impl ModuleVisitor for Fits {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let last = param.val().shape().dims::<D>()[D - 1];
            match self.block {
                Some(block) if last % block != 0 => self.kept += 1,
                _ => self.ids.push(param.id),
            }
        }
    }
    let scheme = QuantScheme::default()
        .with_value(QuantValue::Q8S)
        .with_store(QuantStore::Native);
    let (scheme, block) = match kind {
        QuantKind::Q8Tensor => (scheme.per_tensor(ScaleDtype::F32), None),
        QuantKind::Q8Block32 => (scheme.per_block([32], ScaleDtype::F32), Some(32)),
    };
    let mut fits = Fits {
        block,
        ids: Vec::new(),
        kept: 0,
    };
    model.visit(&mut fits);
    let quantized = fits.ids.len();
    let mut quantizer = Quantizer::new(Calibration::MinMax, scheme);
    let model = model.quantize_weights_group(&mut quantizer, ParamGroup::from_ids(fits.ids));
    (model, quantized, fits.kept)
}

/// Median wall time of `run`, milliseconds (one warm-up run, then 5).
fn latency_ms(run: &dyn Fn()) -> f64 {
    let timed = || {
        let started = Instant::now();
        run();
        started.elapsed().as_secs_f64() * 1000.0
    };
    timed();
    let mut times: Vec<f64> = (0..5).map(|_| timed()).collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// How a model is judged before and after quantization: its own evaluation and an inference
/// pass to time, on any model.
pub struct Judge<'a, M> {
    /// What the score is, e.g. `test accuracy (%)` or `test loss`.
    pub metric: &'a str,
    pub score: &'a dyn Fn(&M) -> anyhow::Result<f64>,
    /// One inference pass (it must wait for its result), and what it processes; `None`
    /// times one run of `score` instead (when the evaluation is the natural workload).
    pub forward: Option<&'a dyn Fn(&M)>,
    pub workload: &'a str,
    /// Loads weights from a file into a fresh model of the same config.
    pub reload: &'a dyn Fn(&Path) -> anyhow::Result<M>,
}

/// Refuses an `--out` that cannot hold quantized tensors, before anything is read or written.
pub fn check_out(out: &Path) -> Result<(), crate::UsageError> {
    if out.extension().and_then(|e| e.to_str()) != Some("bpk") {
        return Err(crate::UsageError(format!(
            "--out {}: quantized weights are written as burnpack, name the file *.bpk \
             (safetensors cannot hold quantized tensors)",
            out.display()
        )));
    }
    Ok(())
}

/// For models saved as a folder (weights beside config files that get copied): `out` must
/// name a file in another folder than `source`, or the copies would overwrite themselves.
pub fn check_new_folder(out: &Path, source: &Path) -> Result<(), crate::UsageError> {
    let folder = |p: Option<&Path>| {
        let p = p
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
    };
    let source = folder(Some(source));
    if folder(out.parent()) == source {
        return Err(crate::UsageError(format!(
            "--out {}: that is the source's own folder ({}); write the 8-bit model into a new one",
            out.display(),
            source.display()
        )));
    }
    Ok(())
}

/// Quantizes `model` (in inference mode), writes it to `out`, loads the file back, and prints
/// file size, score and latency before and after.
pub fn quantize_and_report<M: Module>(
    name: &str,
    model: M,
    flags: &QuantizeFlags,
    device_name: &str,
    judge: Judge<M>,
) -> anyhow::Result<()> {
    let (scheme, out) = (flags.scheme, flags.out.as_path());
    check_out(out)?;
    // Score once, timed; then the median of several inference passes when there is one.
    let judged = |m: &M| -> anyhow::Result<(f64, f64)> {
        let started = Instant::now();
        let score = (judge.score)(m)?;
        let ms = match judge.forward {
            Some(forward) => latency_ms(&|| forward(m)),
            None => started.elapsed().as_secs_f64() * 1000.0,
        };
        Ok((score, ms))
    };
    let (before, before_ms) = judged(&model)?;
    let float_file = std::env::temp_dir().join(format!("zoo-quantize-{}.bpk", std::process::id()));
    model
        .clone()
        .save_file(&float_file)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", float_file.display()))?;
    let float_bytes = file_size(&float_file)?;
    let _ = std::fs::remove_file(&float_file);

    let (quantized, tensors, kept) = quantize_module(model, scheme);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    quantized
        .save_file(out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    let quant_bytes = file_size(out)?;
    let reloaded = (judge.reload)(out)?;
    let (after, after_ms) = judged(&reloaded)?;

    let scheme = scheme.to_possible_value().expect("a named scheme");
    println!(
        "{name} {}: {tensors} tensors quantized{}",
        scheme.get_name(),
        if kept > 0 {
            format!(", {kept} kept f32 (last dimension not a multiple of 32)")
        } else {
            String::new()
        }
    );
    println!(
        "file: {:.1} KiB → {:.1} KiB ({:.1}%)",
        float_bytes as f64 / 1024.0,
        quant_bytes as f64 / 1024.0,
        100.0 * quant_bytes as f64 / float_bytes as f64
    );
    println!(
        "{}: {before:.4} → {after:.4} ({:+.4})",
        judge.metric,
        after - before
    );
    println!(
        "latency: {before_ms:.2} ms → {after_ms:.2} ms ({}, {device_name})",
        judge.workload
    );
    println!("wrote {}", out.display());
    Ok(())
}

/// `quantize` of an image classifier: test accuracy before and after, latency on 256 test
/// images.
pub fn quantize<M: ImageClassifier>(mut args: QuantizeArgs<M::Config>) -> anyhow::Result<()> {
    args.weights = crate::pretrained::resolve_weights(&args.weights, M::NAME)?;
    check_out(&args.quantize.out)?;
    let (device_name, device) = crate::device::select_device(args.device.device.as_deref())?;
    let (config, dataset, spec) =
        crate::saved_or_flags::<M>(Some(&args.weights), None, &args.data, &args.model)?;
    let names = M::pytorch_names(&config);
    let reload = |path: &Path| -> anyhow::Result<M> {
        Ok(weights::load_weights(M::init(&config, &spec, &device), path, &names)?.valid())
    };
    let model = reload(&args.weights.weights)?;
    let mut test = crate::data::load_split(dataset, Split::Test, &args.data.sized_for(&spec))?;
    if let Some(n) = args.limit_test {
        test = test.take(n);
    }
    let score = |m: &M| -> anyhow::Result<f64> {
        let loader = crate::data::loader(
            test.clone(),
            ImageBatcher::for_set(&test),
            500,
            None,
            2,
            &device,
        );
        Ok(crate::evaluate::evaluate(m, loader, test.classes())?
            .metrics
            .accuracy)
    };
    let batch: Vec<&[u8]> = (0..test.len().min(256)).map(|i| test.image(i)).collect();
    let images = ImageBatcher::new(spec.shape(), &dataset.normalization()).images(&batch, &device);
    let forward = |m: &M| {
        let _ = m.logits(images.clone()).into_data();
    };
    let workload = format!("{} images", batch.len());
    let metric = format!("accuracy (%, {} test images)", test.len());
    quantize_and_report(
        M::NAME,
        model,
        &args.quantize,
        &device_name,
        Judge {
            metric: &metric,
            score: &score,
            forward: Some(&forward),
            workload: &workload,
            reload: &reload,
        },
    )
}

fn file_size(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .len())
}
