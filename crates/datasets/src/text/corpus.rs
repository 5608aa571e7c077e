//! A character corpus for language modelling (Shakespeare by default) and the parallel
//! streams truncated backpropagation through time reads it as.

use super::read_text;
use crate::error::{DataError, Result};
use crate::source::{Checksum, DataSource, RemoteFile};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The complete works as plain text (38 plays, 4.96 MB), committed gzipped under
/// `datasets/text/`; provenance in `datasets/README.md`.
pub const SHAKESPEARE: RemoteFile = RemoteFile {
    name: "shakespeare.txt",
    alternatives: &["shakespeare.txt.gz"],
    urls: &[],
    checksum: Checksum::Sha256("0ace3387b78479996699530ed814d51ac638f8fc724f2cd838b4800e9f95b9b9"),
};

/// The characters of a corpus, sorted; ids are positions. Saved with a model so `generate` works
/// from the weights alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharVocab {
    pub chars: Vec<char>,
}

impl CharVocab {
    pub fn from_text(text: &str) -> Self {
        let mut chars: Vec<char> = text.chars().collect();
        chars.sort_unstable();
        chars.dedup();
        Self { chars }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn id(&self, c: char) -> Option<u32> {
        self.chars.binary_search(&c).ok().map(|i| i as u32)
    }

    /// Ids of `text`; a character the corpus never had is an error naming it.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        text.chars()
            .map(|c| {
                self.id(c).ok_or_else(|| {
                    DataError::InvalidArgument(format!(
                        "character {c:?} is not in the model's vocabulary of {} characters",
                        self.len()
                    ))
                })
            })
            .collect()
    }

    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .map(|&i| self.chars.get(i as usize).copied().unwrap_or('\u{fffd}'))
            .collect()
    }
}

/// A character corpus split into training text and a held-out tail.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub path: PathBuf,
    pub vocab: CharVocab,
    pub train: Vec<u32>,
    pub valid: Vec<u32>,
}

impl Corpus {
    /// Shakespeare from the data roots (`--data-dir`, `ZOO_DATA_DIR`, `datasets/`).
    pub fn shakespeare(source: &DataSource, valid_fraction: f64) -> Result<Self> {
        let path = source.resolve("text", &SHAKESPEARE)?;
        Self::load(&path, valid_fraction)
    }

    /// Any UTF-8 text file (optionally gzipped); the last `valid_fraction` of its characters is
    /// held out.
    pub fn load(path: &Path, valid_fraction: f64) -> Result<Self> {
        let text = read_text(path)?;
        Self::from_text(&text, valid_fraction, path)
    }

    pub fn from_text(text: &str, valid_fraction: f64, path: &Path) -> Result<Self> {
        if !(0.0..1.0).contains(&valid_fraction) {
            return Err(DataError::InvalidArgument(format!(
                "the validation fraction must be in [0, 1), got {valid_fraction}"
            )));
        }
        let vocab = CharVocab::from_text(text);
        let ids: Vec<u32> = text
            .chars()
            .map(|c| vocab.id(c).expect("vocabulary built from this text"))
            .collect();
        if ids.len() < 2 {
            return Err(DataError::format(
                path,
                "the text is empty (a language model needs at least two characters)",
            ));
        }
        let valid_len = (ids.len() as f64 * valid_fraction).round() as usize;
        let split = ids.len() - valid_len;
        Ok(Self {
            path: path.to_path_buf(),
            vocab,
            train: ids[..split].to_vec(),
            valid: ids[split..].to_vec(),
        })
    }
}

/// Contiguous next-character windows for truncated backpropagation through time: the text is cut
/// into `batch` equal streams read side by side, so window `k + 1` of a stream continues window
/// `k` and the recurrent state can be carried from one batch to the next.
#[derive(Clone, Debug)]
pub struct LmStreams {
    ids: Vec<u32>,
    pub batch: usize,
    pub seq_len: usize,
    stream_len: usize,
}

impl LmStreams {
    pub fn new(ids: &[u32], batch: usize, seq_len: usize, what: &Path) -> Result<Self> {
        if batch == 0 || seq_len == 0 {
            return Err(DataError::InvalidArgument(
                "--batch-size and --seq-len must be at least 1".into(),
            ));
        }
        let stream_len = ids.len() / batch;
        if stream_len < seq_len + 1 {
            return Err(DataError::format(
                what,
                format!(
                    "{} characters are too few for {batch} streams of windows of {seq_len} (+1 target): \
                     need at least {}; use a longer text or a smaller --seq-len / --batch-size",
                    ids.len(),
                    batch * (seq_len + 1)
                ),
            ));
        }
        Ok(Self {
            ids: ids.to_vec(),
            batch,
            seq_len,
            stream_len,
        })
    }

    /// Windows per pass over the text.
    pub fn steps(&self) -> usize {
        (self.stream_len - 1) / self.seq_len
    }

    /// Window `step`: inputs and next-character targets, time-major (`[seq_len, batch]`
    /// flattened), which is the order the recurrent layers consume.
    pub fn window(&self, step: usize) -> (Vec<u32>, Vec<u32>) {
        let mut inputs = Vec::with_capacity(self.seq_len * self.batch);
        let mut targets = Vec::with_capacity(self.seq_len * self.batch);
        let offset = (step % self.steps()) * self.seq_len;
        for t in 0..self.seq_len {
            for b in 0..self.batch {
                let at = b * self.stream_len + offset + t;
                inputs.push(self.ids[at]);
                targets.push(self.ids[at + 1]);
            }
        }
        (inputs, targets)
    }
}
