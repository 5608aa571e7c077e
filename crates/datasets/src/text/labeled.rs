//! Labelled texts for classification: CSVs with a label column and text columns (the
//! SpamAssassin ham/spam split, AG News, your own).

use super::read_text;
use crate::error::{DataError, Result};
use crate::rng::SplitMix64;
use crate::source::{Checksum, DataSource, RemoteFile};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The SpamAssassin public corpus as `label,text` CSVs (train 4,837 / test 1,209 e-mails),
/// committed gzipped under `datasets/text/`.
pub const SPAM_TRAIN: RemoteFile = RemoteFile {
    name: "spam-train.csv",
    alternatives: &["spam-train.csv.gz"],
    urls: &[],
    checksum: Checksum::Sha256("72533023981f77cbe62dcddbc2152686fe6305bd93c9acd17c1552c1e9800650"),
};
pub const SPAM_TEST: RemoteFile = RemoteFile {
    name: "spam-test.csv",
    alternatives: &["spam-test.csv.gz"],
    urls: &[],
    checksum: Checksum::Sha256("085fea199c80688f57cd0d330a5d94b74324077bfee77b95b48135fc75aaab7e"),
};

/// One labelled text.
#[derive(Clone, Debug, PartialEq)]
pub struct LabeledText {
    pub label: usize,
    pub text: String,
}

/// Which columns of a CSV hold the label and the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvLayout {
    pub label_column: usize,
    /// Joined with a space (AG News: title and description).
    pub text_columns: Vec<usize>,
    pub has_header: bool,
}

impl CsvLayout {
    /// `label,text` with a header row (the spam files).
    pub fn label_text() -> Self {
        Self {
            label_column: 0,
            text_columns: vec![1],
            has_header: true,
        }
    }

    /// AG News as published: `"class index","title","description"`, no header, classes 1-4.
    pub fn ag_news() -> Self {
        Self {
            label_column: 0,
            text_columns: vec![1, 2],
            has_header: false,
        }
    }
}

/// AG News's class names, in class-index order (1 = World).
pub const AG_NEWS_CLASSES: [&str; 4] = ["World", "Sports", "Business", "Sci/Tech"];

/// A labelled text set with its class names (label `i` is `class_names[i]`).
#[derive(Clone, Debug)]
pub struct TextSet {
    pub path: PathBuf,
    pub class_names: Vec<String>,
    pub items: Vec<LabeledText>,
}

impl TextSet {
    /// Reads a CSV (RFC 4180 quoting, gzip or plain, UTF-8 with lossy fallback). With
    /// `class_names` (the training set's, when reading a test set) every label must be one of
    /// them; without, the classes are the sorted distinct labels.
    pub fn read_csv(
        path: &Path,
        layout: &CsvLayout,
        class_names: Option<&[String]>,
    ) -> Result<Self> {
        let text = read_text(path)?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(layout.has_header)
            .flexible(true)
            .from_reader(text.as_bytes());
        let needed = layout
            .text_columns
            .iter()
            .chain([&layout.label_column])
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let line = index + 1 + usize::from(layout.has_header);
            let record = record
                .map_err(|e| DataError::format(path, format!("row {line}: not valid CSV: {e}")))?;
            if record.len() < needed {
                return Err(DataError::format(
                    path,
                    format!(
                        "row {line} has {} column(s), expected at least {needed} (label in column {}, text in {:?}); \
                         check --label-column / --text-column",
                        record.len(),
                        layout.label_column + 1,
                        layout
                            .text_columns
                            .iter()
                            .map(|c| c + 1)
                            .collect::<Vec<_>>()
                    ),
                ));
            }
            let label = record[layout.label_column].trim().to_string();
            let body = layout
                .text_columns
                .iter()
                .map(|&c| record[c].trim())
                .collect::<Vec<_>>()
                .join(" ");
            rows.push((line, label, body));
        }
        if rows.is_empty() {
            return Err(DataError::format(path, "no rows: the file is empty"));
        }
        let class_names: Vec<String> = match class_names {
            Some(names) => names.to_vec(),
            None => {
                let mut names: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
                names.sort_unstable();
                names.dedup();
                // AG News numbers its classes; keep them numeric-ordered.
                if names.iter().all(|n| n.parse::<u32>().is_ok()) {
                    names.sort_by_key(|n| n.parse::<u32>().unwrap_or(0));
                }
                names
            }
        };
        let index: HashMap<&str, usize> = class_names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        let mut items = Vec::with_capacity(rows.len());
        for (line, label, text) in &rows {
            let Some(&label) = index.get(label.as_str()) else {
                return Err(DataError::format(
                    path,
                    format!(
                        "row {line} has label {label:?}, which the training set does not have (classes: {})",
                        class_names.join(", ")
                    ),
                ));
            };
            items.push(LabeledText {
                label,
                text: text.clone(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            class_names,
            items,
        })
    }

    /// The spam/ham split from the data roots: (train, test).
    pub fn spam(source: &DataSource) -> Result<(Self, Self)> {
        let train = Self::read_csv(
            &source.resolve("text", &SPAM_TRAIN)?,
            &CsvLayout::label_text(),
            None,
        )?;
        let test = Self::read_csv(
            &source.resolve("text", &SPAM_TEST)?,
            &CsvLayout::label_text(),
            Some(&train.class_names),
        )?;
        Ok((train, test))
    }

    /// Fails unless the set has at least two classes (a classifier needs two).
    pub fn require_two_classes(&self) -> Result<()> {
        if self.class_names.len() >= 2 {
            return Ok(());
        }
        Err(DataError::format(
            &self.path,
            format!(
                "only one class ({}); a classifier needs at least two",
                self.class_names.join(", ")
            ),
        ))
    }

    /// Items per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.class_names.len()];
        for item in &self.items {
            counts[item.label] += 1;
        }
        counts
    }

    /// Moves a seeded, per-class `fraction` of the items into a second set (a validation split).
    /// Fold `fold` of a stratified k-fold split of this set's texts and `other`'s together
    /// (the training and validation texts): returns (the other folds, this fold), in the pooled
    /// order. See [`crate::folds::stratified_fold`].
    pub fn fold_with(
        &self,
        other: &TextSet,
        folds: usize,
        fold: usize,
        seed: u64,
    ) -> crate::Result<(TextSet, TextSet)> {
        let pool: Vec<&LabeledText> = self.items.iter().chain(&other.items).collect();
        let indices: Vec<u32> = (0..pool.len() as u32).collect();
        let (rest, chosen) = crate::folds::stratified_fold(
            &indices,
            |i| pool[i as usize].label,
            &self.class_names,
            folds,
            fold,
            seed,
        )?;
        let part = |picked: Vec<u32>| TextSet {
            path: self.path.clone(),
            class_names: self.class_names.clone(),
            items: picked.iter().map(|&i| pool[i as usize].clone()).collect(),
        };
        Ok((part(rest), part(chosen)))
    }

    pub fn split_off(&mut self, fraction: f64, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut by_class: Vec<Vec<LabeledText>> = vec![Vec::new(); self.class_names.len()];
        for item in self.items.drain(..) {
            by_class[item.label].push(item);
        }
        let mut held = Vec::new();
        for mut items in by_class {
            rng.shuffle(&mut items);
            let n = (items.len() as f64 * fraction).round() as usize;
            held.extend(items.drain(..n));
            self.items.extend(items);
        }
        rng.shuffle(&mut self.items);
        Self {
            path: self.path.clone(),
            class_names: self.class_names.clone(),
            items: held,
        }
    }
}
