//! `quantize`: post-training weight quantization of an image classifier (Burn's `Quantizer`),
//! with the file size, test accuracy and inference latency before and after. On the CPU
//! backends Burn dequantizes quantized weights before each matmul or convolution, so the gain
//! is a 4× smaller file and weight memory, not speed; the latency is measured to show it.

use crate::classifier::ImageClassifier;
use crate::cli::{QuantKind, QuantizeArgs};
use crate::report::TestMetrics;
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

/// Median wall time of `model` on `images`, milliseconds (one warm-up run, then 5).
fn latency_ms<M: ImageClassifier>(model: &M, images: &Tensor<4>) -> f64 {
    let run = || {
        let started = Instant::now();
        let logits = model.logits(images.clone());
        let _ = logits.into_data();
        started.elapsed().as_secs_f64() * 1000.0
    };
    run();
    let mut times: Vec<f64> = (0..5).map(|_| run()).collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

/// `quantize`: writes the quantized weights and reports size, accuracy and latency, before and
/// after (the "after" model is the written file, loaded back).
pub fn quantize<M: ImageClassifier>(args: QuantizeArgs<M::Config>) -> anyhow::Result<()> {
    if args.out.extension().and_then(|e| e.to_str()) != Some("bpk") {
        return Err(crate::UsageError(format!(
            "--out {}: quantized weights are written as burnpack, name the file *.bpk \
             (safetensors cannot hold quantized tensors)",
            args.out.display()
        ))
        .into());
    }
    let (device_name, device) = crate::device::select_device(args.device.device.as_deref())?;
    let (config, dataset, spec) =
        crate::saved_or_flags::<M>(Some(&args.weights), None, &args.data, &args.model)?;
    let names = M::pytorch_names(&config);
    let model = weights::load_weights(
        M::init(&config, &spec, &device),
        &args.weights.weights,
        &names,
    )?;
    let model = model.valid();
    let mut test = crate::data::load_split(dataset, Split::Test, args.data.data_dir.clone())?;
    if let Some(n) = args.limit_test {
        test = test.take(n);
    }
    let evaluate = |m: &M| -> anyhow::Result<TestMetrics> {
        let loader = crate::data::loader(
            test.clone(),
            ImageBatcher::for_set(&test),
            500,
            None,
            2,
            &device,
        );
        Ok(crate::evaluate::evaluate(m, loader, test.classes())?.metrics)
    };
    let batch: Vec<&[u8]> = (0..test.len().min(256)).map(|i| test.image(i)).collect();
    let images = ImageBatcher::new(spec.shape(), &dataset.normalization()).images(&batch, &device);

    let before = evaluate(&model)?;
    let before_ms = latency_ms(&model, &images);
    let float_file = std::env::temp_dir().join(format!("zoo-quantize-{}.bpk", std::process::id()));
    model
        .clone()
        .save_file(&float_file)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", float_file.display()))?;
    let float_bytes = file_size(&float_file)?;
    let _ = std::fs::remove_file(&float_file);

    let (quantized, tensors, kept) = quantize_module(model, args.scheme);
    quantized
        .save_file(&args.out)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.out.display()))?;
    let quant_bytes = file_size(&args.out)?;
    let reloaded =
        weights::load_weights(M::init(&config, &spec, &device), &args.out, &names)?.valid();
    let after = evaluate(&reloaded)?;
    let after_ms = latency_ms(&reloaded, &images);

    let scheme = args.scheme.to_possible_value().expect("a named scheme");
    println!(
        "{} {}: {tensors} tensors quantized{}",
        M::NAME,
        scheme.get_name(),
        if kept > 0 {
            format!(", {kept} kept f32 (last dimension not a multiple of 32)")
        } else {
            String::new()
        }
    );
    println!("                 f32            quantized");
    println!(
        "file         {:>9.1} KiB   {:>9.1} KiB  ({:.1}%)",
        float_bytes as f64 / 1024.0,
        quant_bytes as f64 / 1024.0,
        100.0 * quant_bytes as f64 / float_bytes as f64
    );
    println!(
        "accuracy     {:>9.2}%      {:>9.2}%      ({:+.2} points, {} test images)",
        before.accuracy,
        after.accuracy,
        after.accuracy - before.accuracy,
        before.samples
    );
    println!(
        "latency      {before_ms:>9.2} ms    {after_ms:>9.2} ms    ({} images, {device_name})",
        batch.len()
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

fn file_size(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        .len())
}
