//! Named pretrained weights: `--weights pretrained:NAME` (and `--init pretrained:NAME`).
//!
//! The registry lists, for each checkpoint, its architecture, where it comes from (a URL with
//! its checksum, or a file shipped with burn-zoo), its size, the data and preprocessing it
//! expects, the accuracy its source reports and its licence: `crates/trainer/pretrained/*.json`
//! (torchvision's entries are written from torchvision's own metadata by
//! `scripts/data/torchvision_weights.py`).
//!
//! A downloaded checkpoint goes to `$ZOO_CACHE_DIR` (default `~/.cache/burn-zoo/weights`)
//! through the data sets' downloader: a temporary file, the checksum checked, then moved into
//! place, so a failed download leaves nothing. Beside it goes a `config.json` describing the
//! model and its input, so every command reads it like a run folder. `ZOO_OFFLINE=1` forbids
//! the download and says where to put the file instead.

use crate::classifier::{DataSpec, DatasetKind};
use crate::cli::WeightsArgs;
use crate::settings::{RunConfig, Settings};
use datasets::source::{Checksum, OFFLINE_ENV, download};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `--weights` starts with to name a registry entry.
pub const PREFIX: &str = "pretrained:";
/// Where downloaded checkpoints are kept.
pub const CACHE_ENV: &str = "ZOO_CACHE_DIR";

/// One named checkpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    /// The zoo model that loads it, and that model's config.
    pub model: String,
    pub config: serde_json::Value,
    /// File name in the cache.
    pub file: String,
    /// Where to download it; None for checkpoints shipped with burn-zoo (`path`).
    #[serde(default)]
    pub url: Option<String>,
    /// A checkpoint shipped with burn-zoo: its path from the workspace root, `config.json`
    /// beside it.
    #[serde(default)]
    pub path: Option<String>,
    /// The first hex digits of the sha256 (torchvision's file names carry them).
    #[serde(default)]
    pub sha256_prefix: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    pub size_mb: f64,
    pub parameters: usize,
    pub dataset: String,
    /// `imagenet` (the 1000 ImageNet-1k names) or the names themselves, comma-separated.
    pub classes: String,
    /// `[channels, height, width]` of an image model's input (empty for graphs).
    #[serde(default)]
    pub input: Vec<usize>,
    /// The shorter side is resized to this before the centre crop.
    #[serde(default)]
    pub resize: Option<usize>,
    #[serde(default)]
    pub mean: Vec<f32>,
    #[serde(default)]
    pub std: Vec<f32>,
    /// The accuracy its source reports, with the split.
    pub reported: String,
    pub licence: String,
    /// Its origin: a training recipe, or the command that made it.
    pub source: String,
}

impl Entry {
    /// The class names in label order.
    pub fn class_names(&self) -> Vec<String> {
        if self.classes == "imagenet" {
            IMAGENET_CLASSES.lines().map(str::to_string).collect()
        } else {
            self.classes
                .split(',')
                .map(|c| c.trim().to_string())
                .collect()
        }
    }

    fn checksum(&self) -> Option<Checksum> {
        // The registry is read once per process; its few strings live as long as it.
        let leak = |s: &String| -> &'static str { Box::leak(s.clone().into_boxed_str()) };
        match (&self.sha256, &self.sha256_prefix) {
            (Some(full), _) => Some(Checksum::Sha256(leak(full))),
            (None, Some(prefix)) => Some(Checksum::Sha256Prefix(leak(prefix))),
            (None, None) => None,
        }
    }

    /// Where the downloaded file lives in `cache`.
    pub fn cached_path(&self, cache: &Path) -> PathBuf {
        cache.join(&self.name).join(&self.file)
    }

    /// The checkpoint on disk: shipped with burn-zoo, already in `cache`, or downloaded into
    /// it now (unless `offline`). A `config.json` for it is written beside a downloaded file.
    pub fn fetch(&self, cache: &Path, offline: bool) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.path {
            let shipped = workspace_root().join(path);
            anyhow::ensure!(
                shipped.is_file(),
                "pretrained:{}: {} is missing; it ships with burn-zoo (restore it with `git \
                 checkout {path}`), or remake it with: {}",
                self.name,
                shipped.display(),
                self.source
            );
            return Ok(shipped);
        }
        let url = self.url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "pretrained:{}: the registry gives no URL or path",
                self.name
            )
        })?;
        let dest = self.cached_path(cache);
        if !dest.is_file() {
            if offline {
                anyhow::bail!(
                    "pretrained:{} is not in the cache and downloads are off ({OFFLINE_ENV}=1): \
                     download {url} ({:.1} MB) and put it at {}",
                    self.name,
                    self.size_mb,
                    dest.display()
                );
            }
            let checksum = self.checksum().ok_or_else(|| {
                anyhow::anyhow!(
                    "pretrained:{}: the registry has no checksum for {url}, so it is not \
                     downloaded; fetch it yourself and pass --weights FILE",
                    self.name
                )
            })?;
            download(url, &dest, checksum)
                .map_err(|e| anyhow::anyhow!("pretrained:{}: {e}", self.name))?;
        }
        self.write_config(&dest.with_file_name("config.json"))?;
        Ok(dest)
    }

    /// A run config for the checkpoint: its model config and input, so `--weights` reads it
    /// like a run folder's `model.bpk`.
    pub fn write_config(&self, path: &Path) -> anyhow::Result<()> {
        let &[channels, height, width] = self.input.as_slice() else {
            anyhow::bail!(
                "pretrained:{}: the registry gives no image input shape",
                self.name
            );
        };
        let classes = self.class_names();
        let data = DataSpec {
            channels,
            height,
            width,
            num_classes: classes.len(),
            classes,
            resize: self.resize,
        };
        let config = RunConfig {
            model: self.model.clone(),
            model_config: self.config.clone(),
            data,
            settings: Settings::imported(DatasetKind::Folder, Some(height)),
        };
        std::fs::write(path, serde_json::to_string_pretty(&config)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
}

const IMAGENET_CLASSES: &str = include_str!("../pretrained/imagenet_classes.txt");

/// Every entry of the registry.
pub fn entries() -> Vec<Entry> {
    [
        include_str!("../pretrained/torchvision.json"),
        include_str!("../pretrained/zoo.json"),
    ]
    .iter()
    .flat_map(|json| {
        serde_json::from_str::<Vec<Entry>>(json).expect("the weights registry is valid JSON")
    })
    .collect()
}

/// The entry called `name`, or an error listing them.
pub fn entry(name: &str) -> anyhow::Result<Entry> {
    let all = entries();
    all.iter().find(|e| e.name == name).cloned().ok_or_else(|| {
        crate::UsageError(format!(
            "no pretrained weights called `{name}`; the registry has {} (`zoo weights` lists them)",
            all.iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()
    })
}

/// `$ZOO_CACHE_DIR`, else `$XDG_CACHE_HOME/burn-zoo/weights`, else `~/.cache/burn-zoo/weights`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("burn-zoo").join("weights")
}

fn offline() -> bool {
    std::env::var(OFFLINE_ENV).is_ok_and(|v| v == "1")
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `path` itself, or for `pretrained:NAME` the entry's file on disk (fetched if need be),
/// checking that the entry is for `model`.
pub fn resolve(path: &Path, model: &str) -> anyhow::Result<PathBuf> {
    resolve_for(path, Some(model))
}

/// [`resolve`] for weights of any model of the zoo (a distillation teacher may be another
/// architecture: its `config.json` names it).
pub fn resolve_any(path: &Path) -> anyhow::Result<PathBuf> {
    resolve_for(path, None)
}

fn resolve_for(path: &Path, model: Option<&str>) -> anyhow::Result<PathBuf> {
    let Some(name) = path.to_str().and_then(|p| p.strip_prefix(PREFIX)) else {
        return Ok(path.to_path_buf());
    };
    let entry = entry(name)?;
    if model.is_some_and(|m| m != entry.model) {
        return Err(crate::UsageError(format!(
            "pretrained:{name} is a {} checkpoint; run it with `{} …` (or `zoo {} …`)",
            entry.model, entry.model, entry.model
        ))
        .into());
    }
    entry.fetch(&cache_dir(), offline())
}

/// `weights` with a registry name (`pretrained:NAME`, for `model`) resolved to its file,
/// downloaded if need be.
pub fn resolve_weights(weights: &WeightsArgs, model: &str) -> anyhow::Result<WeightsArgs> {
    Ok(WeightsArgs {
        weights: resolve(&weights.weights, model)?,
        config: weights.config.clone(),
    })
}

/// `zoo weights`: the registry as a table, with what is on disk.
pub fn list() -> String {
    let cache = cache_dir();
    let mut text = format!("pretrained weights (cache: {})\n", cache.display());
    for e in entries() {
        let state = match &e.path {
            Some(_) => "ships with burn-zoo".to_string(),
            None if e.cached_path(&cache).is_file() => "cached".to_string(),
            None => format!("download {:.1} MB", e.size_mb),
        };
        text += &format!(
            "\n{:<14} {} {}, {} parameters, {} [{}]\n{:<14} data: {}{}{}\n{:<14} reported: {}\n{:<14} licence: {}\n{:<14} use: {} {} --weights pretrained:{}{}\n",
            e.name,
            e.model,
            e.config,
            e.parameters,
            e.url.as_deref().or(e.path.as_deref()).unwrap_or("?"),
            state,
            "",
            e.dataset,
            match e.input.as_slice() {
                [c, h, w] => format!(", input {c}x{h}x{w}"),
                _ => String::new(),
            },
            e.resize
                .map(|r| format!(" (shorter side resized to {r}, centre crop)"))
                .unwrap_or_default(),
            "",
            e.reported,
            "",
            e.licence,
            "",
            e.model,
            if e.input.len() == 3 {
                "predict"
            } else {
                "eval"
            },
            e.name,
            if e.input.len() == 3 { " IMAGE…" } else { "" }
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_entries_are_complete() {
        let all = entries();
        assert!(all.len() >= 5);
        for e in &all {
            assert!(
                e.url.is_some() != e.path.is_some(),
                "{}: a URL or a path",
                e.name
            );
            if e.url.is_some() {
                assert!(e.checksum().is_some(), "{}: a checksum", e.name);
            }
            if let (Some(&channels), Some(_)) = (e.input.first(), &e.url) {
                assert_eq!(e.mean.len(), channels, "{}", e.name);
            }
            if let Some(path) = &e.path {
                assert!(workspace_root().join(path).is_file(), "{}: {path}", e.name);
            }
            assert!(!e.licence.is_empty() && !e.reported.is_empty());
        }
        let resnet18 = entry("resnet18").unwrap();
        assert_eq!(resnet18.class_names().len(), 1000);
        assert_eq!(resnet18.class_names()[0], "tench");
        assert!(entry("resnet19").is_err());
    }
}
