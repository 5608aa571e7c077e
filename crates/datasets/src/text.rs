//! Text: a character corpus for language modelling (Shakespeare by default), labelled-text CSVs
//! for classification (the SpamAssassin ham/spam split, AG News, your own), word and character
//! vocabularies, and the seed 003 sequence exercise as a synthetic task.
//!
//! Everything here is plain data (token ids, lengths); turning it into tensors is the model's
//! business. Errors name the file, the row and the fix.

use crate::error::{DataError, Result};
use crate::rng::SplitMix64;
use crate::source::{Checksum, DataSource, RemoteFile};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The complete works as plain text (38 plays, 4.96 MB), committed gzipped under
/// `datasets/text/`; provenance in `datasets/README.md`.
pub const SHAKESPEARE: RemoteFile = RemoteFile {
    name: "shakespeare.txt",
    alternatives: &["shakespeare.txt.gz"],
    urls: &[],
    checksum: Checksum::Sha256("0ace3387b78479996699530ed814d51ac638f8fc724f2cd838b4800e9f95b9b9"),
};

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

/// Reads a text file (gzip or plain); invalid UTF-8 is replaced (U+FFFD) rather than refused,
/// since real corpora carry stray bytes.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::read_maybe_gzip(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

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

/// How text becomes tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Tokenization {
    /// Lowercased runs of letters and digits; every other visible character is its own token.
    Words,
    /// Characters as they are.
    Chars,
}

pub const PAD: &str = "<pad>";
pub const UNK: &str = "<unk>";

/// A token vocabulary: id 0 is `<pad>`, 1 is `<unk>`, then tokens by falling frequency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenVocab {
    pub tokenization: Tokenization,
    pub tokens: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl TokenVocab {
    pub const PAD_ID: u32 = 0;
    pub const UNK_ID: u32 = 1;

    /// The `max_size` most frequent tokens of `texts` (ties by token, so the result is stable),
    /// plus `<pad>` and `<unk>`.
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        tokenization: Tokenization,
        max_size: usize,
    ) -> Self {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for token in tokenize(text, tokenization) {
                *counts.entry(token).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let tokens = [PAD.to_string(), UNK.to_string()]
            .into_iter()
            .chain(ranked.into_iter().take(max_size).map(|(t, _)| t))
            .collect();
        Self::from_tokens(tokenization, tokens)
    }

    pub fn from_tokens(tokenization: Tokenization, tokens: Vec<String>) -> Self {
        let index = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        Self {
            tokenization,
            tokens,
            index,
        }
    }

    /// Rebuilds the lookup table after deserialising.
    pub fn reindexed(self) -> Self {
        Self::from_tokens(self.tokenization, self.tokens)
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Token ids of `text`, cut to the first `max_len` tokens; unknown tokens map to `<unk>`.
    /// An empty text gives one `<unk>` so every sequence has a last state.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids: Vec<u32> = tokenize(text, self.tokenization)
            .take(max_len)
            .map(|t| self.index.get(&t).copied().unwrap_or(Self::UNK_ID))
            .collect();
        if ids.is_empty() {
            ids.push(Self::UNK_ID);
        }
        ids
    }
}

/// The tokens of `text`.
pub fn tokenize(text: &str, tokenization: Tokenization) -> Box<dyn Iterator<Item = String> + '_> {
    match tokenization {
        Tokenization::Chars => Box::new(text.chars().map(String::from)),
        Tokenization::Words => {
            let mut tokens = Vec::new();
            let mut word = String::new();
            for c in text.chars() {
                if c.is_alphanumeric() {
                    word.extend(c.to_lowercase());
                    continue;
                }
                if !word.is_empty() {
                    tokens.push(std::mem::take(&mut word));
                }
                if !c.is_whitespace() {
                    tokens.push(c.to_string());
                }
            }
            if !word.is_empty() {
                tokens.push(word);
            }
            Box::new(tokens.into_iter())
        }
    }
}

/// The seed 003 exercise (sequences of length 10 with 3 features, 2 classes) with a rule that
/// needs the order of the steps: features are standard normal, and the class is 1 when the sum
/// of feature 0 over the last five steps exceeds its sum over the first five, else 0. Features 1
/// and 2 are noise. A model that ignores time (a bag of steps) is at chance. Sequences whose two
/// sums differ by less than [`SeqToy::MARGIN`] are drawn again, so every label is unambiguous
/// (the difference has standard deviation √10 ≈ 3.2; about 13% of draws fall inside).
#[derive(Clone, Debug)]
pub struct SeqToy {
    /// `[n, SEQ_LEN, FEATURES]` row-major.
    pub features: Vec<f32>,
    pub labels: Vec<usize>,
}

impl SeqToy {
    pub const SEQ_LEN: usize = 10;
    pub const FEATURES: usize = 3;
    pub const CLASSES: usize = 2;
    pub const MARGIN: f32 = 0.5;

    pub fn generate(n: usize, seed: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        let mut features = Vec::with_capacity(n * Self::SEQ_LEN * Self::FEATURES);
        let mut labels = Vec::with_capacity(n);
        let half = Self::SEQ_LEN / 2;
        while labels.len() < n {
            let seq: Vec<f32> = (0..Self::SEQ_LEN * Self::FEATURES)
                .map(|_| rng.normal() as f32)
                .collect();
            let sum = |steps: std::ops::Range<usize>| -> f32 {
                steps.map(|t| seq[t * Self::FEATURES]).sum()
            };
            let difference = sum(half..Self::SEQ_LEN) - sum(0..half);
            if difference.abs() < Self::MARGIN {
                continue;
            }
            labels.push(usize::from(difference > 0.0));
            features.extend(seq);
        }
        Self { features, labels }
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn corpus_split_and_vocabulary_round_trip() {
        let corpus = Corpus::from_text("hello world, hello!", 0.25, Path::new("t.txt")).unwrap();
        assert_eq!(corpus.train.len() + corpus.valid.len(), 19);
        assert_eq!(corpus.valid.len(), 5);
        let all: Vec<u32> = corpus.train.iter().chain(&corpus.valid).copied().collect();
        assert_eq!(corpus.vocab.decode(&all), "hello world, hello!");
        assert!(corpus.vocab.encode("hex").is_err());
        assert!(Corpus::from_text("", 0.1, Path::new("empty.txt")).is_err());
    }

    #[test]
    fn streams_are_contiguous_and_shifted_by_one() {
        let ids: Vec<u32> = (0..100).collect();
        let streams = LmStreams::new(&ids, 2, 4, Path::new("x")).unwrap();
        assert_eq!(streams.steps(), (50 - 1) / 4);
        let (x0, y0) = streams.window(0);
        let (x1, _) = streams.window(1);
        // time-major: [t0 b0, t0 b1, t1 b0, ...]; stream 1 starts at 50.
        assert_eq!(&x0[..4], &[0, 50, 1, 51]);
        assert_eq!(&y0[..4], &[1, 51, 2, 52]);
        assert_eq!(&x1[..2], &[4, 54]);
        let err = LmStreams::new(&ids[..8], 2, 4, Path::new("short.txt"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("short.txt") && err.contains("--seq-len"),
            "{err}"
        );
    }

    #[test]
    fn csv_quoting_columns_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let train = write(
            dir.path(),
            "train.csv",
            "label,text\r\nspam,\"Buy \"\"now\"\", cheap\"\r\nham,hello there\r\n",
        );
        let set = TextSet::read_csv(&train, &CsvLayout::label_text(), None).unwrap();
        assert_eq!(set.class_names, ["ham", "spam"]);
        assert_eq!(set.items[0].text, "Buy \"now\", cheap");
        assert_eq!(set.items[0].label, 1);
        set.require_two_classes().unwrap();
        let one = write(dir.path(), "one.csv", "label,text\nham,a\nham,b\n");
        let err = TextSet::read_csv(&one, &CsvLayout::label_text(), None)
            .unwrap()
            .require_two_classes()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("one.csv") && err.contains("only one class (ham)"),
            "{err}"
        );

        let unknown = write(dir.path(), "test.csv", "label,text\nham,a\neggs,b\n");
        let err = TextSet::read_csv(&unknown, &CsvLayout::label_text(), Some(&set.class_names))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("test.csv") && err.contains("row 3") && err.contains("eggs"),
            "{err}"
        );

        let short = write(dir.path(), "short.csv", "label,text\nham\n");
        let err = TextSet::read_csv(&short, &CsvLayout::label_text(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("row 2 has 1 column"), "{err}");

        let empty = write(dir.path(), "empty.csv", "label,text\n");
        assert!(
            TextSet::read_csv(&empty, &CsvLayout::label_text(), None)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );

        let ag = write(
            dir.path(),
            "ag.csv",
            "\"3\",\"Wall St.\",\"Stocks rose.\"\n\"1\",\"Talks\",\"Leaders met.\"\n",
        );
        let ag = TextSet::read_csv(&ag, &CsvLayout::ag_news(), None).unwrap();
        assert_eq!(ag.class_names, ["1", "3"]);
        assert_eq!(ag.items[0].text, "Wall St. Stocks rose.");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.csv");
        std::fs::write(&path, b"label,text\nham,caf\xe9\n").unwrap();
        let set = TextSet::read_csv(&path, &CsvLayout::label_text(), None).unwrap();
        assert_eq!(set.items[0].text, "caf\u{fffd}");
    }

    #[test]
    fn word_vocabulary_caps_size_and_maps_unknowns() {
        let vocab = TokenVocab::build(["The cat, the CAT!", "a dog"], Tokenization::Words, 3);
        assert_eq!(vocab.tokens[..4], ["<pad>", "<unk>", "cat", "the"]);
        assert_eq!(vocab.len(), 5);
        assert_eq!(vocab.encode("the dog cat", 10), [3, 1, 2]);
        assert_eq!(vocab.encode("the dog cat", 2), [3, 1]);
        assert_eq!(vocab.encode("", 5), [TokenVocab::UNK_ID]);
        let json = serde_json::to_string(&vocab).unwrap();
        let back: TokenVocab = serde_json::from_str::<TokenVocab>(&json)
            .unwrap()
            .reindexed();
        assert_eq!(back.encode("the cat", 5), [3, 2]);
    }

    #[test]
    fn seq_toy_rule_is_balanced_and_reproducible() {
        let a = SeqToy::generate(2000, 1);
        let b = SeqToy::generate(2000, 1);
        assert_eq!(a.labels, b.labels);
        let ones = a.labels.iter().filter(|&&l| l == 1).count();
        assert!((900..1100).contains(&ones), "{ones}");
        // The rule: later half of feature 0 against the earlier half.
        let seq = &a.features[..SeqToy::SEQ_LEN * SeqToy::FEATURES];
        let f0: Vec<f32> = (0..10).map(|t| seq[t * 3]).collect();
        let later: f32 = f0[5..].iter().sum();
        let earlier: f32 = f0[..5].iter().sum();
        assert_eq!(a.labels[0], usize::from(later > earlier));
        assert!((later - earlier).abs() >= SeqToy::MARGIN);
    }
}
