//! A small, stable, seedable generator (SplitMix64). Splits and augmentation must give the same
//! result for the same seed in every build, so they do not depend on a crate's RNG algorithm.

#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The whole internal state: `SplitMix64::new(g.state())` continues exactly where `g` is
    /// (for checkpoints).
    pub fn state(&self) -> u64 {
        self.0
    }

    /// A generator for one (seed, stream, step) triple, e.g. (run seed, item index, epoch).
    pub fn for_item(seed: u64, stream: u64, step: u64) -> Self {
        let mut mixer = Self(seed ^ 0x5851_f42d_4c95_7f2d);
        let a = mixer.next_u64() ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut mixer = Self(a);
        Self(mixer.next_u64() ^ step.wrapping_mul(0xbf58_476d_1ce4_e5b9))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller; one of the pair is dropped for simplicity).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]: ln stays finite
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_uniform_range() {
        let a: Vec<u64> = (0..5).map(|_| SplitMix64::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut rng = SplitMix64::new(1);
        let mut counts = [0usize; 4];
        for _ in 0..4000 {
            counts[rng.below(4) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        assert_ne!(
            SplitMix64::for_item(1, 2, 3).next_u64(),
            SplitMix64::for_item(1, 2, 4).next_u64()
        );
    }
}
