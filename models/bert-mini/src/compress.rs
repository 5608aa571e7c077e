//! `quantize` of a model folder: 8-bit weights in a new folder (`model.bpk` beside copies of
//! `config.json` and the tokenizer) that every other command opens; the classifier's test
//! accuracy, or the language model's held-out masked-LM accuracy, before and after.

use crate::args::{DataArgs, ModelArgs};
use crate::folder::{Loaded, SavedModel};
use std::path::Path;
use trainer::cli::QuantizeFlags;
use trainer::quantize::{Judge, quantize_and_report};

/// `bert-mini quantize --model DIR --out NEW/model.bpk`.
pub fn quantize(
    args: &ModelArgs,
    data: &DataArgs,
    max_len: usize,
    batch_size: usize,
    limit_test: Option<usize>,
    flags: &QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    if flags.out.file_name().and_then(|n| n.to_str()) != Some("model.bpk") {
        return Err(trainer::UsageError(format!(
            "--out {}: bert-mini opens model folders; name the file <folder>/model.bpk (the \
             folder gets config.json and the tokenizer too)",
            flags.out.display()
        ))
        .into());
    }
    let new_dir = flags.out.parent().unwrap_or(Path::new("."));
    trainer::quantize::check_new_folder(&flags.out, &args.model)?;
    let (device_name, device) = trainer::device::select_device(args.device.device.as_deref())?;
    let saved = SavedModel::open(&args.model, &device)?;
    std::fs::create_dir_all(new_dir)?;
    for file in ["config.json", "tokenizer.json", "vocab.txt"] {
        let from = args.model.join(file);
        if from.is_file() {
            std::fs::copy(&from, new_dir.join(file))
                .map_err(|e| anyhow::anyhow!("cannot copy {}: {e}", from.display()))?;
        }
    }
    let reopen = |path: &Path| SavedModel::open(path.parent().unwrap_or(Path::new(".")), &device);
    let pad = saved.tokenizer.special.pad;
    match saved.model {
        Loaded::Classifier(model) => {
            let (_, mut test) = data.text_sets()?;
            if let Some(n) = limit_test {
                test.items.truncate(n);
            }
            let examples = crate::finetune::Examples::new(&test, &saved.tokenizer, max_len)?;
            let names = saved.config.class_names();
            let score = |m: &crate::BertForSequenceClassification| {
                Ok(
                    crate::finetune::evaluate(m, &examples, &names, pad, batch_size, &device)?
                        .metrics
                        .accuracy,
                )
            };
            let reload = |path: &Path| match reopen(path)?.model {
                Loaded::Classifier(m) => Ok(m),
                Loaded::Lm(_) => anyhow::bail!("{}: not a classifier", path.display()),
            };
            let metric = format!("test accuracy (%, {} texts)", test.items.len());
            quantize_and_report(
                "bert-mini",
                model,
                flags,
                &device_name,
                Judge {
                    metric: &metric,
                    score: &score,
                    forward: None,
                    workload: "one evaluation of the test texts",
                    reload: &reload,
                },
            )
        }
        Loaded::Lm(model) => {
            let corpus = crate::pretrain::Corpus::load(data)?;
            let (_, windows) = crate::pretrain::held_out(
                &corpus,
                &saved.tokenizer,
                max_len,
                model.nsp.is_some(),
                limit_test,
            )?;
            let score = |m: &crate::BertForPreTraining| {
                Ok(
                    crate::pretrain::evaluate(m, &windows, &saved.tokenizer, batch_size, &device)?
                        .accuracy,
                )
            };
            let reload = |path: &Path| match reopen(path)?.model {
                Loaded::Lm(m) => Ok(m),
                Loaded::Classifier(_) => anyhow::bail!("{}: not a language model", path.display()),
            };
            quantize_and_report(
                "bert-mini",
                model,
                flags,
                &device_name,
                Judge {
                    metric: "held-out masked-LM accuracy (%)",
                    score: &score,
                    forward: None,
                    workload: "one evaluation of the held-out windows",
                    reload: &reload,
                },
            )
        }
    }
}
