//! Weights in and out: burnpack (`.bpk`, Burn's native format) and safetensors with PyTorch
//! parameter names (Linear weights transposed, BatchNorm names mapped, by burn-store's
//! adapters; model-specific renames such as `ImageClassifier::pytorch_names`).
//!
//! A crate of its own so that a model crate built without its command line (`default-features =
//! false`) still loads and writes weights; `trainer::weights` re-exports it.

use burn::module::Module;
use burn::store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, ModuleSnapshot, PyTorchToBurnAdapter,
    SafetensorsStore,
};
use std::path::Path;

fn escape(prefix: &str) -> String {
    prefix.replace('.', r"\.")
}

/// Loads `path` into `model`. Every tensor of the model must be present with the right shape,
/// and the file must hold nothing else; otherwise the error lists the offending tensors.
pub fn load_weights<M: Module + ModuleSnapshot>(
    model: M,
    path: &Path,
    pytorch_names: &[(String, String)],
) -> anyhow::Result<M> {
    let renames: Vec<(String, String)> = pytorch_names
        .iter()
        .map(|(burn, torch)| (format!("^{}\\.", escape(torch)), format!("{burn}.")))
        .collect();
    load_weights_renamed(model, path, &renames, pytorch_names)
}

/// [`load_weights`] with general renames: (regex over the file's names, replacement with
/// `${n}` groups), applied in order; `pytorch_names` only improves the error messages.
pub fn load_weights_renamed<M: Module + ModuleSnapshot>(
    model: M,
    path: &Path,
    renames: &[(String, String)],
    pytorch_names: &[(String, String)],
) -> anyhow::Result<M> {
    load_weights_ignoring(model, path, renames, pytorch_names, &|_| false)
}

/// [`load_weights_renamed`] that also accepts file tensors the model has no place for when
/// `ignorable` says so (after renaming): tied copies and buffers some writers save, such as
/// Hugging Face BERT's `cls.predictions.decoder.weight` or `position_ids`.
pub fn load_weights_ignoring<M: Module + ModuleSnapshot>(
    model: M,
    path: &Path,
    renames: &[(String, String)],
    pytorch_names: &[(String, String)],
    ignorable: &dyn Fn(&str) -> bool,
) -> anyhow::Result<M> {
    if !path.is_file() {
        anyhow::bail!("--weights {}: no such file", path.display());
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("bpk") => model.try_load_file(path).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot load as burnpack weights for this model: {e}",
                path.display()
            )
        }),
        Some("safetensors") => {
            let mut store = SafetensorsStore::from_file(path)
                .with_from_adapter(PyTorchToBurnAdapter)
                .allow_partial(true)
                .validate(false)
                .skip_enum_variants(true);
            for (pattern, replacement) in renames {
                store = store.with_key_remapping(pattern, replacement);
            }
            let mut model = model;
            let result = model
                .load_from(&mut store)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            check_applied(&result, path, pytorch_names, ignorable)?;
            Ok(model)
        }
        _ => anyhow::bail!(
            "--weights {}: unknown format; expected a .bpk file written by `train` or a \
             .safetensors file with PyTorch parameter names",
            path.display()
        ),
    }
}

/// The PyTorch name of a Burn parameter path, with the Burn path beside it when they differ.
fn describe(burn_path: &str, pytorch_names: &[(String, String)]) -> String {
    for (burn, torch) in pytorch_names {
        if let Some(rest) = burn_path.strip_prefix(&format!("{burn}.")) {
            return format!("{torch}.{rest} (Burn: {burn_path})");
        }
    }
    burn_path.to_string()
}

fn check_applied(
    result: &ApplyResult,
    path: &Path,
    pytorch_names: &[(String, String)],
    ignorable: &dyn Fn(&str) -> bool,
) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    for error in &result.errors {
        problems.push(match error {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => format!(
                "{}: shape mismatch, the model needs {:?}, the file has {:?} (in Burn's layout, Linear weights transposed)",
                describe(path, pytorch_names),
                expected.as_slice(),
                found.as_slice()
            ),
            other => other.to_string(),
        });
    }
    for (name, _) in &result.missing {
        problems.push(format!(
            "missing from the file: {}",
            describe(name, pytorch_names)
        ));
    }
    for name in result.unused.iter().filter(|n| !ignorable(n)) {
        problems.push(format!("in the file but not in the model: {name}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "{} does not match this model:\n  {}",
            path.display(),
            problems.join("\n  ")
        )
    }
}

/// Writes `model` as safetensors with PyTorch names.
pub fn export_safetensors<M: Module + ModuleSnapshot>(
    model: &M,
    path: &Path,
    pytorch_names: &[(String, String)],
) -> anyhow::Result<()> {
    let renames: Vec<(String, String)> = pytorch_names
        .iter()
        .map(|(burn, torch)| (format!("^{}\\.", escape(burn)), format!("{torch}.")))
        .collect();
    export_safetensors_renamed(model, path, &renames)
}

/// [`export_safetensors`] with general renames (regex over Burn's names, replacement).
pub fn export_safetensors_renamed<M: Module + ModuleSnapshot>(
    model: &M,
    path: &Path,
    renames: &[(String, String)],
) -> anyhow::Result<()> {
    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(BurnToPyTorchAdapter)
        .skip_enum_variants(true)
        .overwrite(true);
    for (pattern, replacement) in renames {
        store = store.with_key_remapping(pattern, replacement);
    }
    model
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
