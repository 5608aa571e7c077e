//! The synthetic sequence task of the recurrent-network guide.

use crate::rng::SplitMix64;

/// A synthetic order test (sequences of length 10 with 3 features, 2 classes) with a rule that
/// needs the order of the steps: features are standard normal, and the class is 1 when the sum
/// of feature 0 over the last five steps exceeds its sum over the first five, else 0. Features 1
/// and 2 are noise. A model that ignores time (a bag of steps) is at chance. Sequences whose two
/// sums differ by less than [`CompareHalves::MARGIN`] are drawn again, so every label is unambiguous
/// (the difference has standard deviation √10 ≈ 3.2; about 13% of draws fall inside).
#[derive(Clone, Debug)]
pub struct CompareHalves {
    /// `[n, SEQ_LEN, FEATURES]` row-major.
    pub features: Vec<f32>,
    pub labels: Vec<usize>,
}

impl CompareHalves {
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
