//! Hugging Face names, in one place. The Burn modules already use HF's names except where Rust
//! or Burn forbid it; these four rules map the rest, both ways (Linear weights are transposed
//! and LayerNorm `weight`/`bias` become `gamma`/`beta` by burn-store's PyTorch adapters):
//!
//! | Burn                                  | Hugging Face                       |
//! |---------------------------------------|------------------------------------|
//! | `….layer_norm.gamma`                  | `….LayerNorm.weight`               |
//! | `bert.encoder.layer.N.attention.self_attn.query` | `….attention.self.query` |
//! | `mlm.transform.dense`, `mlm.bias`     | `cls.predictions.transform.dense`, `cls.predictions.bias` |
//! | `nsp`                                 | `cls.seq_relationship`             |
//!
//! `cls.predictions.decoder.weight` is the word embedding matrix (tied) and
//! `cls.predictions.decoder.bias` is `cls.predictions.bias`: files that carry these copies load,
//! and `export` leaves them out, as `save_pretrained` does.

use crate::config::BertConfig;
use crate::heads::{BertForPreTraining, BertForSequenceClassification};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// (Burn regex, HF replacement) and (HF regex, Burn replacement), applied in order.
const BURN_TO_HF: [(&str, &str); 4] = [
    (r"(^|\.)layer_norm\.", "${1}LayerNorm."),
    (r"\.attention\.self_attn\.", ".attention.self."),
    (r"^mlm\.", "cls.predictions."),
    (r"^nsp\.", "cls.seq_relationship."),
];
const HF_TO_BURN: [(&str, &str); 4] = [
    (r"(^|\.)LayerNorm\.", "${1}layer_norm."),
    (r"\.attention\.self\.", ".attention.self_attn."),
    (r"^cls\.predictions\.", "mlm."),
    (r"^cls\.seq_relationship\.", "nsp."),
];

fn rules(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Tensors HF files may hold that have no parameter here (names after mapping to Burn's).
fn ignorable(name: &str) -> bool {
    name.starts_with("mlm.decoder.") || name == "bert.embeddings.position_ids"
}

/// The HF name of a Burn parameter path (`bert.embeddings.layer_norm.gamma` →
/// `bert.embeddings.LayerNorm.weight`), for messages and tests.
pub fn hf_name(burn_path: &str) -> String {
    let remapper =
        burn::store::KeyRemapper::from_patterns(BURN_TO_HF.to_vec()).expect("valid patterns");
    let mut name = burn_path.to_string();
    for (regex, replacement) in remapper.to_regex_pairs() {
        name = regex.replace_all(&name, replacement.as_str()).into_owned();
    }
    let (stem, last) = name.rsplit_once('.').unwrap_or(("", &name));
    match last {
        "gamma" => format!("{stem}.weight"),
        "beta" => format!("{stem}.bias"),
        _ => name,
    }
}

/// Which HF model class a weights file (or config) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Architecture {
    BertForMaskedLM,
    BertForPreTraining,
    BertForSequenceClassification,
}

impl Architecture {
    /// From `config.architectures[0]`.
    pub fn of(config: &BertConfig) -> Option<Self> {
        match config.architectures.first().map(String::as_str) {
            Some("BertForMaskedLM") => Some(Self::BertForMaskedLM),
            Some("BertForPreTraining") => Some(Self::BertForPreTraining),
            Some("BertForSequenceClassification") => Some(Self::BertForSequenceClassification),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::BertForMaskedLM => "BertForMaskedLM",
            Self::BertForPreTraining => "BertForPreTraining",
            Self::BertForSequenceClassification => "BertForSequenceClassification",
        }
    }
}

/// Tensor names and shapes in a safetensors file, from its header alone.
pub fn safetensors_shapes(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<usize>>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)
        .map_err(|_| anyhow::anyhow!("{}: too short to be safetensors", path.display()))?;
    let len = u64::from_le_bytes(len);
    anyhow::ensure!(
        len < 100 << 20,
        "{}: not a safetensors file (header length {len})",
        path.display()
    );
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)
        .map_err(|_| anyhow::anyhow!("{}: truncated safetensors header", path.display()))?;
    let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| anyhow::anyhow!("{}: unreadable safetensors header: {e}", path.display()))?;
    Ok(header
        .into_iter()
        .filter(|(k, _)| k != "__metadata__")
        .map(|(k, v)| {
            let shape = v["shape"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect()
                })
                .unwrap_or_default();
            (k, shape)
        })
        .collect())
}

/// Tensor names in a safetensors file or a PyTorch `state_dict` (`pytorch_model.bin`).
pub fn tensor_names(path: &Path) -> anyhow::Result<Vec<String>> {
    match weights::Format::of(path)? {
        weights::Format::Pytorch => {
            let reader = burn::store::pytorch_reader::PytorchReader::new(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            Ok(reader.keys())
        }
        _ => Ok(safetensors_shapes(path)?.into_keys().collect()),
    }
}

/// The architecture a file's tensor names say it holds (HF names, or our `.bpk` exports).
pub fn detect(path: &Path) -> anyhow::Result<Architecture> {
    let names = tensor_names(path)?;
    let has = |prefix: &str| names.iter().any(|k| k.starts_with(prefix));
    Ok(if has("classifier.") {
        Architecture::BertForSequenceClassification
    } else if has("cls.seq_relationship.") {
        Architecture::BertForPreTraining
    } else if has("cls.predictions.") {
        Architecture::BertForMaskedLM
    } else {
        anyhow::bail!(
            "{}: holds no BERT head (no cls.predictions.*, cls.seq_relationship.* or classifier.*); \
             a bare BertModel cannot be used by this command",
            path.display()
        )
    })
}

fn load<M: Module + burn::store::ModuleSnapshot>(model: M, path: &Path) -> anyhow::Result<M> {
    weights::load_weights_ignoring(model, path, &rules(&HF_TO_BURN), &[], &ignorable)
}

/// A masked-LM / pretraining model from `path`: our `.bpk`, or HF `BertForMaskedLM` /
/// `BertForPreTraining` safetensors (loaded unchanged). `with_nsp` must match the file.
pub fn load_pretraining(
    config: &BertConfig,
    with_nsp: bool,
    path: &Path,
    device: &Device,
) -> anyhow::Result<BertForPreTraining> {
    load(BertForPreTraining::new(config, with_nsp, device), path)
}

/// A sequence classifier from `path` (ours or HF `BertForSequenceClassification`).
pub fn load_classifier(
    config: &BertConfig,
    num_labels: usize,
    path: &Path,
    device: &Device,
) -> anyhow::Result<BertForSequenceClassification> {
    load(
        BertForSequenceClassification::new(config, num_labels, device),
        path,
    )
}

/// Writes `model` as safetensors with HF's names (what `transformers` `from_pretrained` reads).
pub fn export<M: Module + burn::store::ModuleSnapshot>(
    model: &M,
    path: &Path,
) -> anyhow::Result<()> {
    weights::export_safetensors_renamed(model, path, &rules(&BURN_TO_HF))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_paths_map_to_hugging_face_names() {
        for (burn, hf) in [
            (
                "bert.embeddings.layer_norm.gamma",
                "bert.embeddings.LayerNorm.weight",
            ),
            (
                "bert.encoder.layer.3.attention.self_attn.query.weight",
                "bert.encoder.layer.3.attention.self.query.weight",
            ),
            (
                "bert.encoder.layer.0.attention.output.layer_norm.beta",
                "bert.encoder.layer.0.attention.output.LayerNorm.bias",
            ),
            (
                "mlm.transform.layer_norm.gamma",
                "cls.predictions.transform.LayerNorm.weight",
            ),
            ("mlm.bias", "cls.predictions.bias"),
            ("nsp.weight", "cls.seq_relationship.weight"),
            ("classifier.bias", "classifier.bias"),
        ] {
            assert_eq!(hf_name(burn), hf);
        }
    }
}
