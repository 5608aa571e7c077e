//! Weights in and out: burnpack (`.bpk`, Burn's native format), and safetensors or PyTorch
//! checkpoints (`.pth`/`.pt`/`.bin`, what `torch.save(model.state_dict())` writes) with PyTorch
//! parameter names (Linear weights transposed, BatchNorm names mapped, by burn-store's
//! adapters; model-specific renames such as `ImageClassifier::pytorch_names`). Reading only
//! some tensors, for transfer learning, is [`load_fitting`].
//!
//! A crate of its own so that a model crate built without its command line (`default-features =
//! false`) still loads and writes weights; `trainer::weights` re-exports it.

use burn::module::Module;
use burn::store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, BurnpackStore, ModuleSnapshot,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};
use std::path::Path;

/// The weight file formats `--weights` and `--init` read, told apart by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.bpk`: Burn's own, as `train` writes it (Burn's parameter names).
    Burnpack,
    /// `.safetensors` with PyTorch names.
    Safetensors,
    /// `.pth`, `.pt` or `.bin`: a PyTorch `state_dict` saved by `torch.save`.
    Pytorch,
}

impl Format {
    pub fn of(path: &Path) -> anyhow::Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("bpk") => Ok(Format::Burnpack),
            Some("safetensors") => Ok(Format::Safetensors),
            Some("pth" | "pt" | "bin") => Ok(Format::Pytorch),
            _ => anyhow::bail!(
                "{}: unknown weights format; expected a .bpk file written by `train`, a \
                 .safetensors file with PyTorch parameter names, or a PyTorch state_dict \
                 (.pth/.pt) saved by torch.save",
                path.display()
            ),
        }
    }
}

/// The same builder calls on either store of PyTorch-named tensors (they share no trait):
/// partial and unvalidated (the caller judges the result), enum variants out of the paths, the
/// renames, and only the `only` paths when given.
macro_rules! pytorch_named {
    ($store:expr, $renames:expr, $only:expr) => {{
        let mut store = $store
            .allow_partial(true)
            .validate(false)
            .skip_enum_variants(true);
        for (pattern, replacement) in $renames {
            store = store.with_key_remapping(pattern, replacement);
        }
        if let Some(only) = $only {
            store = store.with_full_paths(only.iter().cloned());
        }
        store
    }};
}

/// Applies the tensors of `path` to `model`: after `renames` (regex over the file's names,
/// replacement), only those of `only` (Burn paths) when given. Tensors that do not fit are
/// left as initialised and listed in the result; nothing is refused here.
fn apply_file<M: Module + ModuleSnapshot>(
    model: &mut M,
    path: &Path,
    renames: &[(String, String)],
    only: Option<&[String]>,
) -> anyhow::Result<ApplyResult> {
    let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot read {}: {e}", path.display());
    match Format::of(path)? {
        Format::Burnpack => {
            let mut store = BurnpackStore::from_file(path)
                .allow_partial(true)
                .validate(false);
            for p in only.unwrap_or_default() {
                store = store.with_full_path(p.as_str());
            }
            model.load_from(&mut store).map_err(|e| failed(&e))
        }
        Format::Safetensors => {
            let mut store = pytorch_named!(
                SafetensorsStore::from_file(path).with_from_adapter(PyTorchToBurnAdapter),
                renames,
                only
            );
            model.load_from(&mut store).map_err(|e| failed(&e))
        }
        // The PyTorch store always maps PyTorch's layouts and names to Burn's.
        Format::Pytorch => {
            let mut store = pytorch_named!(PytorchStore::from_file(path), renames, only);
            model.load_from(&mut store).map_err(|e| failed(&e))
        }
    }
}

/// The regex renames that turn a file's PyTorch names into Burn paths.
fn from_torch(pytorch_names: &[(String, String)]) -> Vec<(String, String)> {
    pytorch_names
        .iter()
        .map(|(burn, torch)| (format!("^{}\\.", escape(torch)), format!("{burn}.")))
        .collect()
}

/// What [`load_fitting`] did: how many tensors came from the file, which model tensors kept
/// their fresh initialisation and why, and the file's tensors nothing took.
#[derive(Clone, Debug, Default)]
pub struct Fitted {
    pub loaded: usize,
    pub fresh: Vec<String>,
    pub unused: Vec<String>,
}

impl Fitted {
    /// One paragraph for the console: `loaded 10 tensors; re-initialised: fc2.weight (…)`.
    pub fn describe(&self) -> String {
        let mut text = format!("loaded {} tensors", self.loaded);
        if !self.fresh.is_empty() {
            text += &format!("; initialised afresh: {}", self.fresh.join(", "));
        }
        if !self.unused.is_empty() {
            text += &format!("; not used from the file: {}", self.unused.join(", "));
        }
        text
    }
}

/// Transfer learning's load: every tensor of `path` that fits `model` (same name after the
/// renames, same shape) is loaded; tensors below the `fresh` prefixes (a classifier head to
/// re-learn) and those that do not fit keep their initialisation, and the result says which.
/// It is an error when nothing fits, or when the file cannot be read.
pub fn load_fitting<M: Module + ModuleSnapshot>(
    model: M,
    path: &Path,
    pytorch_names: &[(String, String)],
    fresh: &[String],
) -> anyhow::Result<(M, Fitted)> {
    if !path.is_file() {
        anyhow::bail!("--init {}: no such file", path.display());
    }
    let format = Format::of(path)?;
    let is_fresh = |name: &str| {
        fresh
            .iter()
            .any(|p| name == p || name.starts_with(&format!("{p}.")))
    };
    // Head prefixes are paths without enum variants; burnpack files name tensors with them,
    // the PyTorch formats without. The two walks visit the tensors in the same order.
    let names = |skip_variants: bool| -> Vec<String> {
        model
            .collect(None, None, skip_variants)
            .into_iter()
            .map(|t| t.name)
            .collect()
    };
    let plain = names(true);
    let in_file = names(format != Format::Burnpack);
    let only: Vec<String> = in_file
        .iter()
        .zip(&plain)
        .filter(|(_, p)| !is_fresh(p))
        .map(|(n, _)| n.clone())
        .collect();
    let mut fitted = Fitted::default();
    fitted.fresh.extend(
        plain
            .iter()
            .filter(|n| is_fresh(n))
            .map(|n| format!("{n} (head)")),
    );
    let mut model = model;
    let result = apply_file(&mut model, path, &from_torch(pytorch_names), Some(&only))?;
    for error in &result.errors {
        match error {
            ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => fitted.fresh.push(format!(
                "{path} (the file's is {:?}, the model's {:?})",
                found.as_slice(),
                expected.as_slice()
            )),
            other => anyhow::bail!("{}: {other}", path.display()),
        }
    }
    fitted.fresh.extend(
        result
            .missing
            .iter()
            .map(|(n, _)| format!("{n} (not in the file)")),
    );
    fitted.unused = result.unused.clone();
    fitted
        .unused
        .retain(|n| !n.ends_with("num_batches_tracked"));
    fitted.loaded = result.applied.len();
    if fitted.loaded == 0 {
        anyhow::bail!(
            "--init {}: no tensor of the file fits this model ({})",
            path.display(),
            fitted.describe()
        );
    }
    Ok((model, fitted))
}

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
    load_weights_renamed(model, path, &from_torch(pytorch_names), pytorch_names)
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
    match Format::of(path).map_err(|e| anyhow::anyhow!("--weights {e}"))? {
        Format::Burnpack => model.try_load_file(path).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot load as burnpack weights for this model: {e}",
                path.display()
            )
        }),
        Format::Safetensors | Format::Pytorch => {
            let mut model = model;
            let result = apply_file(&mut model, path, renames, None)?;
            // torchvision's BatchNorm counts updates in a buffer Burn does not keep.
            let ignorable = |n: &str| n.ends_with("num_batches_tracked") || ignorable(n);
            check_applied(&result, path, pytorch_names, &ignorable)?;
            Ok(model)
        }
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
