//! A model folder: ours (`model.bpk`) or Hugging Face's (`model.safetensors`), each with
//! `config.json` and `tokenizer.json` or `vocab.txt`, opened as the model class its weights are.

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

pub struct SavedModel {
    pub dir: PathBuf,
    pub config: BertConfig,
    pub tokenizer: WordPieceTokenizer,
    pub model: Loaded,
    pub architecture: Architecture,
}

impl SavedModel {
    /// Opens `dir`: config.json, the tokenizer, and model.bpk (ours) or model.safetensors (HF's).
    pub fn open(dir: &Path, device: &Device) -> anyhow::Result<Self> {
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
        let weights = ["model.bpk", "model.safetensors"]
            .map(|f| dir.join(f))
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: holds neither model.bpk nor model.safetensors",
                    dir.display()
                )
            })?;
        let architecture = match Architecture::of(&config) {
            Some(a) => a,
            None if weights.extension().is_some_and(|e| e == "safetensors") => {
                hf::detect(&weights)?
            }
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
