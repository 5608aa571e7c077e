//! Text: a character corpus for language modelling (Shakespeare by default), labelled-text CSVs
//! for classification (the SpamAssassin ham/spam split, AG News, your own), word and character
//! vocabularies, and the compare-halves order test as a synthetic task.
//!
//! Everything here is plain data (token ids, lengths); turning it into tensors is the model's
//! business. Errors name the file, the row and the fix.

//!
//! One file per job: `corpus.rs` (character corpora and their streams), `labeled.rs`
//! (labelled-text CSVs), `tokens.rs` (word and character vocabularies), `compare_halves.rs` (the
//! synthetic sequence task).

mod compare_halves;
mod corpus;
mod labeled;
mod tokens;

pub use compare_halves::*;
pub use corpus::*;
pub use labeled::*;
pub use tokens::*;

use crate::error::Result;
use std::path::Path;

/// Reads a text file (gzip or plain); invalid UTF-8 is replaced (U+FFFD) rather than refused,
/// since real corpora carry stray bytes.
pub fn read_text(path: &Path) -> Result<String> {
    let bytes = crate::read_maybe_gzip(path)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
    fn compare_halves_rule_is_balanced_and_reproducible() {
        let a = CompareHalves::generate(2000, 1);
        let b = CompareHalves::generate(2000, 1);
        assert_eq!(a.labels, b.labels);
        let ones = a.labels.iter().filter(|&&l| l == 1).count();
        assert!((900..1100).contains(&ones), "{ones}");
        // The rule: later half of feature 0 against the earlier half.
        let seq = &a.features[..CompareHalves::SEQ_LEN * CompareHalves::FEATURES];
        let f0: Vec<f32> = (0..10).map(|t| seq[t * 3]).collect();
        let later: f32 = f0[5..].iter().sum();
        let earlier: f32 = f0[..5].iter().sum();
        assert_eq!(a.labels[0], usize::from(later > earlier));
        assert!((later - earlier).abs() >= CompareHalves::MARGIN);
    }
}
