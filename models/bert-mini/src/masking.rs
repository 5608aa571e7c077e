//! Pretraining examples (Devlin et al. 2019, §3.1 and appendix A.1): the corpus as one WordPiece
//! stream cut into windows; in each window 15% of the tokens are chosen for prediction and of
//! those 80% become [MASK], 10% a random token and 10% stay as they are. With next-sentence
//! prediction a window is split in two at a random point and, half of the time, its second part
//! is replaced by a span from elsewhere in the corpus (label 1, "random"); otherwise label 0
//! ("is next", HF's convention).

use crate::model::BertInput;
use crate::tokenizer::{Encoded, SpecialIds};
use burn::prelude::*;
use datasets::rng::SplitMix64;

/// BERT's masking rates.
pub const MASK_FRACTION: f64 = 0.15;

/// A training example before masking: the tokens of segment A and B (B empty without NSP),
/// and the NSP label.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub a: Vec<u32>,
    pub b: Vec<u32>,
    pub is_random_next: bool,
}

/// Cuts `stream` into windows of `max_len` tokens with [CLS]/[SEP] included. With `nsp`, each
/// window becomes a pair: split at a point drawn from `rng`, B replaced by a random span half of
/// the time (never one overlapping the window itself).
pub fn windows(stream: &[u32], max_len: usize, nsp: bool, rng: &mut SplitMix64) -> Vec<Window> {
    let body = max_len.saturating_sub(if nsp { 3 } else { 2 }).max(2);
    let count = stream.len() / body;
    (0..count)
        .map(|w| {
            let tokens = &stream[w * body..(w + 1) * body];
            if !nsp {
                return Window {
                    a: tokens.to_vec(),
                    b: Vec::new(),
                    is_random_next: false,
                };
            }
            let split = 1 + rng.below(body as u64 - 1) as usize;
            let (a, next) = tokens.split_at(split);
            let is_random_next = count > 2 && rng.unit() < 0.5;
            let b = if is_random_next {
                let mut other = rng.below(count as u64 - 1) as usize;
                if other >= w {
                    other += 1;
                }
                let start = other * body + rng.below((body - next.len() + 1) as u64) as usize;
                stream[start..start + next.len()].to_vec()
            } else {
                next.to_vec()
            };
            Window {
                a: a.to_vec(),
                b,
                is_random_next,
            }
        })
        .collect()
}

/// One masked-LM batch on the host.
#[derive(Clone, Debug)]
pub struct MaskedBatch {
    /// Inputs after masking.
    pub rows: Vec<Encoded>,
    /// Flat indices (`row * seq + position`) of the tokens to predict.
    pub positions: Vec<i64>,
    /// The original tokens there.
    pub targets: Vec<i64>,
    /// NSP labels: 1 when B is a random span.
    pub next_labels: Vec<i64>,
}

impl MaskedBatch {
    /// Wraps each window in [CLS]/[SEP] and masks it: `max(1, round(15% × tokens))` positions
    /// per row (special tokens never), 80% [MASK], 10% a random non-special token, 10% kept.
    pub fn new(
        windows: &[&Window],
        special: &SpecialIds,
        vocab_size: usize,
        wrap: impl Fn(&[u32], &[u32]) -> Encoded,
        rng: &mut SplitMix64,
    ) -> Self {
        let mut rows: Vec<Encoded> = windows.iter().map(|w| wrap(&w.a, &w.b)).collect();
        let seq = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let mut picks = Vec::new();
        for (r, (ids, _)) in rows.iter_mut().enumerate() {
            let mut candidates: Vec<usize> = (0..ids.len())
                .filter(|&t| !special.contains(ids[t]))
                .collect();
            rng.shuffle(&mut candidates);
            let n = ((candidates.len() as f64 * MASK_FRACTION).round() as usize)
                .max(1)
                .min(candidates.len());
            let mut chosen = candidates[..n].to_vec();
            chosen.sort_unstable();
            for t in chosen {
                let original = ids[t];
                let roll = rng.unit();
                if roll < 0.8 {
                    ids[t] = special.mask;
                } else if roll < 0.9 {
                    ids[t] = random_token(special, vocab_size, rng);
                }
                picks.push(((r * seq + t) as i64, original as i64));
            }
        }
        Self {
            rows,
            positions: picks.iter().map(|p| p.0).collect(),
            targets: picks.iter().map(|p| p.1).collect(),
            next_labels: windows
                .iter()
                .map(|w| i64::from(w.is_random_next))
                .collect(),
        }
    }

    /// [`MaskedBatch::new`] with `tokenizer`'s special tokens and [CLS]/[SEP] wrapping.
    pub fn from_tokenizer(
        windows: &[&Window],
        tokenizer: &crate::tokenizer::WordPieceTokenizer,
        vocab_size: usize,
        rng: &mut SplitMix64,
    ) -> Self {
        Self::new(
            windows,
            &tokenizer.special,
            vocab_size,
            |a, b| tokenizer.wrap(a, b),
            rng,
        )
    }

    pub fn to_device(
        &self,
        pad: u32,
        device: &Device,
    ) -> (BertInput, Tensor<1, Int>, Tensor<1, Int>, Tensor<1, Int>) {
        let int =
            |v: &[i64]| Tensor::<1, Int>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        (
            BertInput::from_rows(&self.rows, pad, device),
            int(&self.positions),
            int(&self.targets),
            int(&self.next_labels),
        )
    }
}

fn random_token(special: &SpecialIds, vocab_size: usize, rng: &mut SplitMix64) -> u32 {
    loop {
        let id = rng.below(vocab_size as u64) as u32;
        if !special.contains(id) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECIAL: SpecialIds = SpecialIds {
        pad: 0,
        unk: 1,
        cls: 2,
        sep: 3,
        mask: 4,
    };

    fn wrap(a: &[u32], b: &[u32]) -> Encoded {
        let mut ids = vec![2];
        ids.extend_from_slice(a);
        ids.push(3);
        if !b.is_empty() {
            ids.extend_from_slice(b);
            ids.push(3);
        }
        let n = ids.len();
        (ids, vec![0; n])
    }

    #[test]
    fn masking_follows_the_80_10_10_rule_and_spares_special_tokens() {
        let stream: Vec<u32> = (0..20_000).map(|i| 5 + (i % 900) as u32).collect();
        let mut rng = SplitMix64::new(1);
        let windows = windows(&stream, 64, false, &mut rng);
        assert_eq!(windows.len(), 20_000 / 62);
        let refs: Vec<&Window> = windows.iter().collect();
        let batch = MaskedBatch::new(&refs, &SPECIAL, 1000, wrap, &mut rng);
        let seq = 64;
        let predicted = batch.positions.len();
        assert_eq!(predicted, windows.len() * 9); // round(0.15 * 62) per row
        let (mut masked, mut kept, mut random) = (0, 0, 0);
        for (&p, &target) in batch.positions.iter().zip(&batch.targets) {
            let (r, t) = (p as usize / seq, p as usize % seq);
            let now = batch.rows[r].0[t];
            assert!(t != 0 && t != 63, "never [CLS] or [SEP]");
            assert_eq!(
                target as u32,
                windows[r].a[t - 1],
                "the target is the original token"
            );
            match now {
                4 => masked += 1,
                n if n as i64 == target => kept += 1,
                n => {
                    assert!((5..1000).contains(&n));
                    random += 1
                }
            }
        }
        let share = |n: usize| n as f64 / predicted as f64;
        assert!((share(masked) - 0.8).abs() < 0.03, "{}", share(masked));
        // A random draw equals the original 1 time in 995: inside the tolerance.
        assert!((share(kept) - 0.1).abs() < 0.02, "{}", share(kept));
        assert!((share(random) - 0.1).abs() < 0.02, "{}", share(random));
        // Unpredicted positions are untouched.
        let untouched = batch.rows[0].0[1..63]
            .iter()
            .zip(&windows[0].a)
            .filter(|(a, b)| a == b)
            .count();
        assert!(untouched >= 62 - 9);
    }

    #[test]
    fn next_sentence_pairs_are_half_random_and_keep_their_length() {
        let stream: Vec<u32> = (0..50_000).map(|i| 5 + i as u32).collect();
        let mut rng = SplitMix64::new(3);
        let pairs = windows(&stream, 32, true, &mut rng);
        let random = pairs.iter().filter(|w| w.is_random_next).count();
        assert!((random as f64 / pairs.len() as f64 - 0.5).abs() < 0.05);
        for w in &pairs {
            assert_eq!(w.a.len() + w.b.len(), 29);
            assert!(!w.a.is_empty() && !w.b.is_empty());
            let continues = w.b[0] == w.a[w.a.len() - 1] + 1;
            assert_eq!(continues, !w.is_random_next);
            // B is itself contiguous text.
            assert!(w.b.windows(2).all(|p| p[1] == p[0] + 1));
        }
    }
}
