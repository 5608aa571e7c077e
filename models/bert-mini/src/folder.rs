//! A model folder: ours (`model.bpk`) or Hugging Face's (`model.safetensors`, or the
//! `pytorch_model.bin` older uploads carry), each with `config.json` and `tokenizer.json` or
//! `vocab.txt`, opened as the model class its weights are. `pretrained:NAME` names a registry
//! entry (`zoo weights`), downloaded once into the cache.

use crate::config::BertConfig;
use crate::heads::{BertForPreTraining, BertForSequenceClassification};
use crate::hf::{self, Architecture};
use crate::model::{BertInput, BertModel};
use crate::tokenizer::WordPieceTokenizer;
use burn::prelude::*;
use std::path::{Path, PathBuf};

/// The weights of a folder, as the model class they are. (One is held at a time, so the
/// variants' size difference costs nothing worth a box.)
#[allow(clippy::large_enum_variant)]
pub enum Loaded {
    /// `BertForMaskedLM` or `BertForPreTraining`.
    Lm(BertForPreTraining),
    Classifier(BertForSequenceClassification),
}

impl Loaded {
    pub fn bert(&self) -> &BertModel {
        match self {
            Self::Lm(m) => &m.bert,
            Self::Classifier(m) => &m.bert,
        }
    }
}

/// The weight files a folder may hold, in the order they are looked for.
pub const WEIGHT_FILES: [&str; 3] = ["model.bpk", "model.safetensors", "pytorch_model.bin"];

pub struct SavedModel {
    pub dir: PathBuf,
    pub config: BertConfig,
    pub tokenizer: WordPieceTokenizer,
    pub model: Loaded,
    pub architecture: Architecture,
}

impl SavedModel {
    /// Opens `dir`: config.json, the tokenizer, and model.bpk (ours) or model.safetensors /
    /// pytorch_model.bin (HF's). `pretrained:NAME` is the registry entry's folder.
    pub fn open(dir: &Path, device: &Device) -> anyhow::Result<Self> {
        let dir = &trainer::pretrained::resolve(dir, "bert-mini")?;
        anyhow::ensure!(
            dir.is_dir(),
            "--model {}: no such folder (a `pretrain`/`finetune` run, or a Hugging Face model folder)",
            dir.display()
        );
        let config = BertConfig::read(&dir.join("config.json"))?;
        let tokenizer = WordPieceTokenizer::load(dir)?;
        anyhow::ensure!(
            tokenizer.vocab_size() <= config.vocab_size,
            "{}: the tokenizer has {} tokens but config.json's vocab_size is {}",
            dir.display(),
            tokenizer.vocab_size(),
            config.vocab_size
        );
        let weights = WEIGHT_FILES
            .map(|f| dir.join(f))
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: holds none of {}",
                    dir.display(),
                    WEIGHT_FILES.join(", ")
                )
            })?;
        let architecture = match Architecture::of(&config) {
            Some(a) => a,
            None if weights.extension().is_some_and(|e| e != "bpk") => hf::detect(&weights)?,
            None => anyhow::bail!(
                "{}: config.json names no architecture (BertForMaskedLM, BertForPreTraining or \
                 BertForSequenceClassification)",
                dir.display()
            ),
        };
        let model = match architecture {
            Architecture::BertForSequenceClassification => {
                let labels = config.class_names().len().max(2);
                Loaded::Classifier(hf::load_classifier(&config, labels, &weights, device)?)
            }
            a => Loaded::Lm(hf::load_pretraining(
                &config,
                a == Architecture::BertForPreTraining,
                &weights,
                device,
            )?),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            tokenizer,
            model,
            architecture,
        })
    }

    /// One text as a batch of one, cut to the model's longest input.
    pub fn input(&self, text: &str, device: &Device) -> anyhow::Result<(BertInput, Vec<u32>)> {
        let (ids, types) = self
            .tokenizer
            .single(text, self.config.max_position_embeddings)?;
        Ok((
            BertInput::from_rows(&[(ids.clone(), types)], self.tokenizer.special.pad, device),
            ids,
        ))
    }
}
