//! BERT (Devlin et al. 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
//! Understanding", arXiv:1810.04805) in Burn, at BERT-Mini size by default (Turc et al. 2019,
//! arXiv:1908.08962): WordPiece tokenisation, masked-LM (and optional next-sentence) pretraining,
//! fine-tuning for sequence classification, fill-mask, attention maps, and Hugging Face
//! `transformers` weights loaded unchanged and written back.
//!
//! ```no_run
//! use bert_mini::{BertConfig, BertForPreTraining, BertInput};
//! # fn demo(device: &burn::prelude::Device) {
//! let config = BertConfig::mini(8000);
//! let model = BertForPreTraining::new(&config, false, device);
//! let input = BertInput::from_rows(&[(vec![2, 17, 4, 3], vec![0; 4])], 0, device);
//! let logits = model.mlm_logits(&input); // [batch, seq, vocab]
//! # }
//! ```

#[cfg(feature = "cli")]
pub mod args;
pub mod attention;
pub mod config;
pub mod embeddings;
pub mod heads;
pub mod hf;
pub mod layer;
#[cfg(feature = "cli")]
pub mod masking;
pub mod model;
pub mod nn;
pub mod tokenizer;

pub use config::BertConfig;
pub use heads::{BertForPreTraining, BertForSequenceClassification, MlmHead};
pub use model::{BertInput, BertModel, BertOutputs};
#[cfg(feature = "cli")]
pub mod compress;
#[cfg(feature = "cli")]
pub mod finetune;
#[cfg(feature = "cli")]
pub mod folder;
#[cfg(feature = "cli")]
pub mod inference;
#[cfg(feature = "cli")]
pub mod pretrain;
#[cfg(feature = "cli")]
pub mod task;
#[cfg(feature = "cli")]
pub mod training;

#[cfg(feature = "cli")]
pub use task::{Cli, Command, ENTRY, run};
