//! The model config, field for field Hugging Face's `BertConfig`, so a `config.json` written by
//! `transformers` reads here unchanged and ours opens there. Fields HF has and this crate does not
//! use (`torch_dtype`, `transformers_version`, …) are ignored on read.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BertConfig {
    /// WordPiece vocabulary size (the tokenizer's).
    pub vocab_size: usize,
    /// Width of every hidden state (d_model).
    #[serde(default = "defaults::hidden_size")]
    pub hidden_size: usize,
    /// Transformer layers.
    #[serde(default = "defaults::num_hidden_layers")]
    pub num_hidden_layers: usize,
    /// Attention heads per layer; `hidden_size` must divide by it.
    #[serde(default = "defaults::num_attention_heads")]
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer (4 × hidden in every BERT size).
    #[serde(default = "defaults::intermediate_size")]
    pub intermediate_size: usize,
    /// Only `gelu` (the exact, erf form) is implemented.
    #[serde(default = "defaults::hidden_act")]
    pub hidden_act: String,
    #[serde(default = "defaults::dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default = "defaults::dropout")]
    pub attention_probs_dropout_prob: f64,
    /// Longest input, [CLS] and [SEP] included.
    #[serde(default = "defaults::max_position_embeddings")]
    pub max_position_embeddings: usize,
    /// Segment types (2: sentence A and B).
    #[serde(default = "defaults::type_vocab_size")]
    pub type_vocab_size: usize,
    /// Standard deviation of the normal initialisation of every weight matrix.
    #[serde(default = "defaults::initializer_range")]
    pub initializer_range: f64,
    #[serde(default = "defaults::layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub pad_token_id: usize,
    /// Only `absolute` (learned position embeddings) is implemented.
    #[serde(default = "defaults::position_embedding_type")]
    pub position_embedding_type: String,
    /// Dropout before the classifier; `null` means `hidden_dropout_prob`.
    #[serde(default)]
    pub classifier_dropout: Option<f64>,
    #[serde(default = "defaults::model_type")]
    pub model_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// Class names of a sequence classifier, by index ("0" → "ham").
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub id2label: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub label2id: BTreeMap<String, usize>,
}

mod defaults {
    // google-research/bert's BERT-Mini (Turc et al. 2019, "Well-Read Students Learn Better"):
    // L=4, H=256, A=4, intermediate 4H. The rest are BERT-Base's values.
    pub fn hidden_size() -> usize {
        256
    }
    pub fn num_hidden_layers() -> usize {
        4
    }
    pub fn num_attention_heads() -> usize {
        4
    }
    pub fn intermediate_size() -> usize {
        1024
    }
    pub fn hidden_act() -> String {
        "gelu".into()
    }
    pub fn dropout() -> f64 {
        0.1
    }
    pub fn max_position_embeddings() -> usize {
        512
    }
    pub fn type_vocab_size() -> usize {
        2
    }
    pub fn initializer_range() -> f64 {
        0.02
    }
    pub fn layer_norm_eps() -> f64 {
        1e-12
    }
    pub fn position_embedding_type() -> String {
        "absolute".into()
    }
    pub fn model_type() -> String {
        "bert".into()
    }
}

impl BertConfig {
    /// BERT-Mini (4 layers, hidden 256, 4 heads, intermediate 1024) over `vocab_size` tokens.
    pub fn mini(vocab_size: usize) -> Self {
        Self {
            vocab_size,
            hidden_size: defaults::hidden_size(),
            num_hidden_layers: defaults::num_hidden_layers(),
            num_attention_heads: defaults::num_attention_heads(),
            intermediate_size: defaults::intermediate_size(),
            hidden_act: defaults::hidden_act(),
            hidden_dropout_prob: defaults::dropout(),
            attention_probs_dropout_prob: defaults::dropout(),
            max_position_embeddings: defaults::max_position_embeddings(),
            type_vocab_size: defaults::type_vocab_size(),
            initializer_range: defaults::initializer_range(),
            layer_norm_eps: defaults::layer_norm_eps(),
            pad_token_id: 0,
            position_embedding_type: defaults::position_embedding_type(),
            classifier_dropout: None,
            model_type: defaults::model_type(),
            architectures: Vec::new(),
            id2label: BTreeMap::new(),
            label2id: BTreeMap::new(),
        }
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Class names from `id2label`, in index order.
    pub fn class_names(&self) -> Vec<String> {
        let mut pairs: Vec<(usize, &String)> = self
            .id2label
            .iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect();
        pairs.sort();
        pairs.into_iter().map(|(_, v)| v.clone()).collect()
    }

    pub fn set_class_names(&mut self, names: &[String]) {
        self.id2label = names
            .iter()
            .enumerate()
            .map(|(i, n)| (i.to_string(), n.clone()))
            .collect();
        self.label2id = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
    }

    /// Checks what this implementation supports; the message names the field and the fix.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.vocab_size > 0, "config: vocab_size must be positive");
        anyhow::ensure!(
            self.num_attention_heads > 0
                && self.hidden_size.is_multiple_of(self.num_attention_heads),
            "config: hidden_size {} is not a multiple of num_attention_heads {}",
            self.hidden_size,
            self.num_attention_heads
        );
        anyhow::ensure!(
            self.hidden_act == "gelu",
            "config: hidden_act {:?} is not supported (only \"gelu\", the erf form BERT uses)",
            self.hidden_act
        );
        anyhow::ensure!(
            self.position_embedding_type == "absolute",
            "config: position_embedding_type {:?} is not supported (only \"absolute\")",
            self.position_embedding_type
        );
        anyhow::ensure!(
            self.type_vocab_size > 0 && self.max_position_embeddings > 2,
            "config: type_vocab_size must be positive and max_position_embeddings above 2"
        );
        for p in [
            self.hidden_dropout_prob,
            self.attention_probs_dropout_prob,
            self.classifier_dropout.unwrap_or(0.0),
        ] {
            anyhow::ensure!(
                (0.0..1.0).contains(&p),
                "config: dropout {p} is not in [0, 1)"
            );
        }
        Ok(())
    }

    /// Reads a `config.json` (ours or Hugging Face's) and validates it.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let config: Self = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a BERT config.json: {e}", path.display()))?;
        config
            .validate()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(config)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_string_pretty(self)? + "\n")
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_hugging_face_config_and_rejects_what_it_cannot_run() {
        // As `transformers` 4.x writes it for prajjwal1/bert-mini (extra keys ignored).
        let hf = r#"{"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1,
            "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 256,
            "initializer_range": 0.02, "intermediate_size": 1024, "layer_norm_eps": 1e-12,
            "max_position_embeddings": 512, "model_type": "bert", "num_attention_heads": 4,
            "num_hidden_layers": 4, "pad_token_id": 0, "type_vocab_size": 2,
            "vocab_size": 30522, "torch_dtype": "float32", "transformers_version": "4.46.0"}"#;
        let config: BertConfig = serde_json::from_str(hf).unwrap();
        config.validate().unwrap();
        assert_eq!(config, {
            let mut mini = BertConfig::mini(30522);
            mini.architectures = vec!["BertForMaskedLM".into()];
            mini
        });
        let mut odd = config.clone();
        odd.hidden_act = "gelu_new".into();
        assert!(odd.validate().unwrap_err().to_string().contains("gelu_new"));
        odd = config.clone();
        odd.num_attention_heads = 3;
        assert!(odd.validate().unwrap_err().to_string().contains("multiple"));
    }

    #[test]
    fn class_names_round_trip_through_id2label() {
        let mut config = BertConfig::mini(10);
        let names: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
        config.set_class_names(&names);
        let back: BertConfig =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(back.class_names(), names); // "10" sorts after "9", not after "1"
    }
}
