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
//! model and its input, so every command reads it like a run folder. A Hugging Face Hub entry
//! is a model folder (config, vocabulary, weights) pinned to a commit, each file checked against
//! the Hub's own hash (`datasets::hub`). `ZOO_OFFLINE=1` forbids the download and says where to
//! put the files instead.

use crate::classifier::{DataSpec, DatasetKind};
use crate::cli::WeightsArgs;
use crate::settings::{RunConfig, Settings};
use datasets::hub;
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
    /// Where to download it; None for checkpoints shipped with burn-zoo (`path`) and for
    /// Hugging Face Hub folders (`hub`).
    #[serde(default)]
    pub url: Option<String>,
    /// A model folder on the Hugging Face Hub, pinned to a commit.
    #[serde(default)]
    pub hub: Option<HubFolder>,
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
    /// How to use it, when not `MODEL predict`/`eval --weights pretrained:NAME`.
    #[serde(default)]
    pub usage: Option<String>,
}

/// Files of a Hugging Face Hub repository at one commit, downloaded into one folder.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HubFolder {
    /// `owner/name`.
    pub repo: String,
    /// The full 40-digit commit id: it pins every file's bytes.
    pub revision: String,
    pub files: Vec<String>,
    /// A mirror for this entry; else `$HF_ENDPOINT`, else huggingface.co.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl HubFolder {
    /// Each file's URL at the pinned revision.
    pub fn urls(&self) -> Vec<(String, String)> {
        let endpoint = self.endpoint.clone().unwrap_or_else(hub::endpoint);
        self.files
            .iter()
            .map(|f| {
                (
                    f.clone(),
                    hub::file_url(&endpoint, &self.repo, &self.revision, f),
                )
            })
            .collect()
    }
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

    /// Whether every file of the entry is in `cache`.
    pub fn is_cached(&self, cache: &Path) -> bool {
        match &self.hub {
            Some(folder) => folder
                .files
                .iter()
                .all(|f| cache.join(&self.name).join(f).is_file()),
            None => self.cached_path(cache).is_file(),
        }
    }

    /// The checkpoint on disk: shipped with burn-zoo, already in `cache`, or downloaded into
    /// it now (unless `offline`). A `config.json` for it is written beside a downloaded file.
    /// For a Hub entry, the folder that holds its files.
    pub fn fetch(&self, cache: &Path, offline: bool) -> anyhow::Result<PathBuf> {
        if let Some(folder) = &self.hub {
            return self.fetch_hub(folder, cache, offline);
        }
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

    fn fetch_hub(
        &self,
        folder: &HubFolder,
        cache: &Path,
        offline: bool,
    ) -> anyhow::Result<PathBuf> {
        let dir = cache.join(&self.name);
        let missing: Vec<(String, String)> = folder
            .urls()
            .into_iter()
            .filter(|(file, _)| !dir.join(file).is_file())
            .collect();
        if offline && !missing.is_empty() {
            anyhow::bail!(
                "pretrained:{} is not in the cache and downloads are off ({OFFLINE_ENV}=1): \
                 download {} ({:.1} MB in all) into {}",
                self.name,
                missing
                    .iter()
                    .map(|(_, url)| url.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.size_mb,
                dir.display()
            );
        }
        for (file, url) in missing {
            hub::download(&url, &folder.revision, &dir.join(&file))
                .map_err(|e| anyhow::anyhow!("pretrained:{}: {e}", self.name))?;
        }
        Ok(dir)
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
        include_str!("../pretrained/huggingface.json"),
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
            None if e.is_cached(&cache) => "cached".to_string(),
            None => format!("download {:.1} MB", e.size_mb),
        };
        let origin = match (&e.url, &e.path, &e.hub) {
            (Some(url), _, _) => url.clone(),
            (_, Some(path), _) => path.clone(),
            (_, _, Some(folder)) => format!(
                "{}/{}@{} ({})",
                folder.endpoint.clone().unwrap_or_else(hub::endpoint),
                folder.repo,
                folder.revision,
                folder.files.join(", ")
            ),
            _ => "?".into(),
        };
        let usage = e.usage.clone().unwrap_or_else(|| {
            format!(
                "{} {} --weights pretrained:{}{}",
                e.model,
                if e.input.len() == 3 {
                    "predict"
                } else {
                    "eval"
                },
                e.name,
                if e.input.len() == 3 { " IMAGE…" } else { "" }
            )
        });
        text += &format!(
            "\n{:<14} {} {}, {} parameters, {origin} [{state}]\n{:<14} data: {}{}{}\n{:<14} reported: {}\n{:<14} licence: {}\n{:<14} use: {usage}\n",
            e.name,
            e.model,
            e.config,
            e.parameters,
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
            let origins = [e.url.is_some(), e.path.is_some(), e.hub.is_some()];
            assert_eq!(
                origins.iter().filter(|o| **o).count(),
                1,
                "{}: a URL, a path or a Hub folder",
                e.name
            );
            if let Some(hub) = &e.hub {
                assert!(
                    hub.revision.len() == 40 && hub.revision.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{}: pinned to a full commit id",
                    e.name
                );
                assert!(hub.files.contains(&e.file), "{}: {}", e.name, e.file);
            }
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
