//! WordPiece (Wu et al. 2016; BERT's tokenizer) through Hugging Face's `tokenizers` crate:
//! trained offline on the user's corpus, or loaded from an existing `tokenizer.json` or
//! `vocab.txt`, so real BERT checkpoints work with their own vocabulary. Saved as
//! `tokenizer.json` (with BERT's normaliser, pre-tokeniser, [CLS]/[SEP] post-processor and
//! decoder, as `BertTokenizerFast` writes it) plus a `vocab.txt` in id order.

use std::path::Path;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainer};
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// BERT's special tokens, in the order a trained vocabulary gives them ids 0–4.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Ids of the special tokens in this vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecialIds {
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
}

impl SpecialIds {
    pub fn contains(&self, id: u32) -> bool {
        [self.pad, self.unk, self.cls, self.sep, self.mask].contains(&id)
    }
}

/// One encoded input: token ids with [CLS]/[SEP], and the segment of each.
pub type Encoded = (Vec<u32>, Vec<u32>);

pub struct WordPieceTokenizer {
    tokenizer: Tokenizer,
    pub special: SpecialIds,
}

fn tk_err(what: String) -> impl FnOnce(tokenizers::Error) -> anyhow::Error {
    move |e| anyhow::anyhow!("{what}: {e}")
}

impl WordPieceTokenizer {
    /// Trains a WordPiece vocabulary of at most `vocab_size` tokens on `lines` (lowercased,
    /// accents stripped, as BERT-uncased).
    pub fn train<'a>(
        lines: impl Iterator<Item = &'a str> + Send,
        vocab_size: usize,
    ) -> anyhow::Result<Self> {
        anyhow::ensure!(
            vocab_size > SPECIAL_TOKENS.len() + 50,
            "--vocab-size {vocab_size} is too small for a WordPiece vocabulary (use at least 1000)"
        );
        let mut tokenizer = Tokenizer::new(WordPiece::default());
        tokenizer.with_normalizer(Some(BertNormalizer::default()));
        tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
        tokenizer.with_decoder(Some(WordPieceDecoder::default()));
        let mut trainer: TrainerWrapper = WordPieceTrainer::builder()
            .vocab_size(vocab_size)
            .min_frequency(2)
            .show_progress(false)
            .special_tokens(
                SPECIAL_TOKENS
                    .iter()
                    .map(|t| AddedToken::from(*t, true))
                    .collect(),
            )
            .build()
            .into();
        tokenizer
            .train(&mut trainer, lines)
            .map_err(tk_err("training the WordPiece vocabulary".into()))?;
        let special = special_ids(&tokenizer, "the trained vocabulary")?;
        tokenizer.with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), special.sep),
            ("[CLS]".into(), special.cls),
        )));
        Ok(Self { tokenizer, special })
    }

    /// Loads `tokenizer.json` or `vocab.txt` (a file, or a folder holding either; the JSON wins).
    /// A `vocab.txt` gets BERT-uncased's normaliser (lowercasing).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = if path.is_dir() {
            [path.join("tokenizer.json"), path.join("vocab.txt")]
                .into_iter()
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: holds neither tokenizer.json nor vocab.txt; pass --tokenizer FILE or \
                         train one with `bert-mini pretrain`",
                        path.display()
                    )
                })?
        } else {
            path.to_path_buf()
        };
        anyhow::ensure!(
            file.is_file(),
            "--tokenizer {}: no such file",
            file.display()
        );
        let tokenizer = if file.extension().is_some_and(|e| e == "txt") {
            let vocab = file.to_string_lossy().into_owned();
            let model = WordPiece::from_file(&vocab)
                .build()
                .map_err(tk_err(format!(
                    "{}: not a WordPiece vocab.txt",
                    file.display()
                )))?;
            let mut tokenizer = Tokenizer::new(model);
            tokenizer.with_normalizer(Some(BertNormalizer::default()));
            tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
            tokenizer.with_decoder(Some(WordPieceDecoder::default()));
            tokenizer
        } else {
            Tokenizer::from_file(&file).map_err(tk_err(format!(
                "{}: not a tokenizers JSON file",
                file.display()
            )))?
        };
        let special = special_ids(&tokenizer, &file.display().to_string())?;
        Ok(Self { tokenizer, special })
    }

    /// Writes `tokenizer.json` and `vocab.txt` into `dir`.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        let json = dir.join("tokenizer.json");
        self.tokenizer
            .save(&json, true)
            .map_err(tk_err(format!("cannot write {}", json.display())))?;
        let mut vocab: Vec<(String, u32)> = self.tokenizer.get_vocab(false).into_iter().collect();
        vocab.sort_by_key(|v| v.1);
        let text: String = vocab.into_iter().map(|(t, _)| t + "\n").collect();
        let txt = dir.join("vocab.txt");
        std::fs::write(&txt, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", txt.display()))
    }

    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    /// WordPiece ids of `text`, no special tokens.
    pub fn ids(&self, text: &str) -> anyhow::Result<Vec<u32>> {
        Ok(self
            .tokenizer
            .encode(text, false)
            .map_err(tk_err("tokenizing".into()))?
            .get_ids()
            .to_vec())
    }

    /// The ids of many lines, in order (tokenized in parallel).
    pub fn ids_batch(&self, lines: Vec<&str>) -> anyhow::Result<Vec<Vec<u32>>> {
        Ok(self
            .tokenizer
            .encode_batch(lines, false)
            .map_err(tk_err("tokenizing".into()))?
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }

    /// `[CLS] text [SEP]`, cut to `max_len` tokens in all.
    pub fn single(&self, text: &str, max_len: usize) -> anyhow::Result<Encoded> {
        let mut ids = self.ids(text)?;
        ids.truncate(max_len.saturating_sub(2));
        Ok(self.wrap(&ids, &[]))
    }

    /// `[CLS] a [SEP] b [SEP]` with segment ids 0 then 1 (no truncation).
    pub fn wrap(&self, a: &[u32], b: &[u32]) -> Encoded {
        let mut ids = Vec::with_capacity(a.len() + b.len() + 3);
        ids.push(self.special.cls);
        ids.extend_from_slice(a);
        ids.push(self.special.sep);
        let first = ids.len();
        if !b.is_empty() {
            ids.extend_from_slice(b);
            ids.push(self.special.sep);
        }
        let types = (0..ids.len()).map(|i| u32::from(i >= first)).collect();
        (ids, types)
    }

    /// The token of `id` (`[UNK]`-like `<id>` when out of range).
    pub fn token(&self, id: u32) -> String {
        self.tokenizer
            .id_to_token(id)
            .unwrap_or_else(|| format!("<{id}>"))
    }

    pub fn decode(&self, ids: &[u32]) -> String {
        self.tokenizer.decode(ids, true).unwrap_or_default()
    }
}

fn special_ids(tokenizer: &Tokenizer, what: &str) -> anyhow::Result<SpecialIds> {
    let id = |token: &str| {
        tokenizer.token_to_id(token).ok_or_else(|| {
            anyhow::anyhow!(
                "{what}: has no {token} token; a BERT vocabulary needs all of {SPECIAL_TOKENS:?}"
            )
        })
    };
    Ok(SpecialIds {
        pad: id("[PAD]")?,
        unk: id("[UNK]")?,
        cls: id("[CLS]")?,
        sep: id("[SEP]")?,
        mask: id("[MASK]")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "To be, or not to be, that is the question:\n\
        Whether 'tis nobler in the mind to suffer\n\
        The slings and arrows of outrageous fortune,\n\
        Or to take arms against a sea of troubles\n";

    #[test]
    fn trains_saves_and_reloads_the_same_vocabulary() {
        let lines: Vec<&str> = TEXT.lines().cycle().take(200).collect();
        let tok = WordPieceTokenizer::train(lines.into_iter(), 200).unwrap();
        assert_eq!(
            tok.special,
            SpecialIds {
                pad: 0,
                unk: 1,
                cls: 2,
                sep: 3,
                mask: 4
            }
        );
        let (ids, types) = tok.single("To be or NOT to be", 64).unwrap();
        assert_eq!(ids[0], tok.special.cls);
        assert_eq!(*ids.last().unwrap(), tok.special.sep);
        assert_eq!(types, vec![0; ids.len()]);
        assert_eq!(tok.decode(&ids), "to be or not to be");
        // An unseen word falls apart into pieces or [UNK], never an error.
        assert!(!tok.ids("zyzzyva").unwrap().is_empty());

        let dir = tempfile::tempdir().unwrap();
        tok.save(dir.path()).unwrap();
        for path in [dir.path().to_path_buf(), dir.path().join("vocab.txt")] {
            let back = WordPieceTokenizer::load(&path).unwrap();
            assert_eq!(back.special, tok.special);
            assert_eq!(back.vocab_size(), tok.vocab_size());
            assert_eq!(back.single("To be or NOT to be", 64).unwrap().0, ids);
        }
        let (pair, types) = tok.wrap(&[10, 11], &[12]);
        assert_eq!(pair, vec![2, 10, 11, 3, 12, 3]);
        assert_eq!(types, vec![0, 0, 0, 0, 1, 1]);
        assert_eq!(tok.single("to be or not to be", 4).unwrap().0.len(), 4);
    }

    #[test]
    fn a_vocabulary_without_bert_specials_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vocab = dir.path().join("vocab.txt");
        std::fs::write(&vocab, "[UNK]\nthe\n##s\n").unwrap();
        let err = WordPieceTokenizer::load(&vocab).err().unwrap().to_string();
        assert!(err.contains("[CLS]") && err.contains("vocab.txt"), "{err}");
        let err = WordPieceTokenizer::load(dir.path().join("nothing").as_path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("no such file"), "{err}");
    }
}
