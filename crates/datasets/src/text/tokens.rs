//! Word and character tokenisation, and the vocabulary that maps tokens to ids.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
