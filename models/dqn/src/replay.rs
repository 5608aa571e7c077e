//! The experience replay buffer (Lin 1992; Mnih et al. 2015): a ring of the last `capacity`
//! transitions, sampled uniformly, so that consecutive, correlated steps do not make up a batch.

use crate::cartpole::OBSERVATIONS;
use zoo_core::rng::SplitMix64;

/// One step of experience.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    pub observation: [f32; OBSERVATIONS],
    pub action: u8,
    pub reward: f32,
    pub next_observation: [f32; OBSERVATIONS],
    /// The episode ended in a terminal state: the TD target has no bootstrap term. A
    /// time-limit truncation is not terminal.
    pub terminal: bool,
}

/// A sampled batch, as flat rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// `[batch, observations]`, row-major.
    pub observations: Vec<f32>,
    pub actions: Vec<i64>,
    pub rewards: Vec<f32>,
    /// `[batch, observations]`, row-major.
    pub next_observations: Vec<f32>,
    /// 1.0 where the transition was terminal.
    pub terminals: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReplayBuffer {
    capacity: usize,
    items: Vec<Transition>,
    /// Where the next transition goes once the ring is full.
    next: usize,
}

/// Bytes of one transition in [`ReplayBuffer::to_bytes`].
const RECORD: usize = 4 * (2 * OBSERVATIONS + 1) + 2;

impl ReplayBuffer {
    pub fn new(capacity: usize) -> Self {
        assert!(
            capacity > 0,
            "a replay buffer holds at least one transition"
        );
        Self {
            capacity,
            items: Vec::with_capacity(capacity.min(1 << 20)),
            next: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds a transition; once full, it replaces the oldest.
    pub fn push(&mut self, t: Transition) {
        if self.items.len() < self.capacity {
            self.items.push(t);
        } else {
            self.items[self.next] = t;
        }
        self.next = (self.next + 1) % self.capacity;
    }

    /// The transition `age` pushes ago (0: the newest).
    pub fn recent(&self, age: usize) -> Option<&Transition> {
        (age < self.items.len())
            .then(|| &self.items[(self.next + self.capacity - 1 - age) % self.capacity])
    }

    /// `size` transitions drawn uniformly with replacement (as DQN does).
    pub fn sample(&self, size: usize, rng: &mut SplitMix64) -> Batch {
        assert!(!self.items.is_empty(), "sampling an empty replay buffer");
        let mut batch = Batch::default();
        for _ in 0..size {
            let t = &self.items[rng.below(self.items.len() as u64) as usize];
            batch.observations.extend_from_slice(&t.observation);
            batch.actions.push(t.action as i64);
            batch.rewards.push(t.reward);
            batch
                .next_observations
                .extend_from_slice(&t.next_observation);
            batch.terminals.push(if t.terminal { 1.0 } else { 0.0 });
        }
        batch
    }

    /// The ring as bytes (little-endian f32s, action and terminal bytes), oldest first, for
    /// checkpoints.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + RECORD * self.items.len());
        out.extend_from_slice(&(self.capacity as u64).to_le_bytes());
        out.extend_from_slice(&(self.items.len() as u64).to_le_bytes());
        for age in (0..self.items.len()).rev() {
            let t = self.recent(age).expect("age < len");
            for v in t
                .observation
                .iter()
                .chain([&t.reward])
                .chain(&t.next_observation)
            {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.push(t.action);
            out.push(t.terminal as u8);
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes); an error names what does not fit.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let word = |i: usize| -> Result<u64, String> {
            let b = bytes
                .get(8 * i..8 * i + 8)
                .ok_or("shorter than its header")?;
            Ok(u64::from_le_bytes(b.try_into().expect("8 bytes")))
        };
        let (capacity, len) = (word(0)? as usize, word(1)? as usize);
        if capacity == 0 || len > capacity || bytes.len() != 16 + RECORD * len {
            return Err(format!(
                "{} bytes for {len} transitions in a ring of {capacity}: truncated or not a \
                 replay buffer",
                bytes.len()
            ));
        }
        let mut buffer = Self::new(capacity);
        for record in bytes[16..].chunks_exact(RECORD) {
            let f = |i: usize| f32::from_le_bytes(record[4 * i..4 * i + 4].try_into().unwrap());
            let mut t = Transition {
                observation: [0.0; OBSERVATIONS],
                action: record[RECORD - 2],
                reward: f(OBSERVATIONS),
                next_observation: [0.0; OBSERVATIONS],
                terminal: record[RECORD - 1] != 0,
            };
            for i in 0..OBSERVATIONS {
                t.observation[i] = f(i);
                t.next_observation[i] = f(OBSERVATIONS + 1 + i);
            }
            buffer.push(t);
        }
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(i: usize) -> Transition {
        Transition {
            observation: [i as f32; 4],
            action: (i % 2) as u8,
            reward: i as f32,
            next_observation: [i as f32 + 0.5; 4],
            terminal: i.is_multiple_of(3),
        }
    }

    #[test]
    fn the_ring_wraps_around_and_replaces_the_oldest() {
        let mut buffer = ReplayBuffer::new(3);
        (0..5).for_each(|i| buffer.push(step(i)));
        assert_eq!(buffer.len(), 3);
        let kept: Vec<f32> = (0..3)
            .map(|age| buffer.recent(age).unwrap().reward)
            .collect();
        assert_eq!(kept, [4.0, 3.0, 2.0], "the newest three, newest first");
        assert!(buffer.recent(3).is_none());
        let mut rng = SplitMix64::new(1);
        let batch = buffer.sample(300, &mut rng);
        for r in [2.0, 3.0, 4.0] {
            let n = batch.rewards.iter().filter(|&&x| x == r).count();
            assert!((70..130).contains(&n), "reward {r} drawn {n} of 300 times");
        }
        assert!(batch.rewards.iter().all(|r| [2.0, 3.0, 4.0].contains(r)));
        // Rows stay together.
        for (i, r) in batch.rewards.iter().enumerate() {
            assert_eq!(batch.observations[4 * i], *r);
            assert_eq!(batch.next_observations[4 * i], r + 0.5);
            assert_eq!(batch.actions[i], (*r as i64) % 2);
            assert_eq!(
                batch.terminals[i],
                if (*r as usize).is_multiple_of(3) {
                    1.0
                } else {
                    0.0
                }
            );
        }
    }

    #[test]
    fn bytes_round_trip_and_truncation_is_an_error() {
        let mut buffer = ReplayBuffer::new(4);
        (0..6).for_each(|i| buffer.push(step(i)));
        let bytes = buffer.to_bytes();
        let back = ReplayBuffer::from_bytes(&bytes).unwrap();
        assert_eq!(
            (0..4).map(|a| back.recent(a).copied()).collect::<Vec<_>>(),
            (0..4)
                .map(|a| buffer.recent(a).copied())
                .collect::<Vec<_>>()
        );
        // Same future: the next push replaces the same (oldest) transition in both.
        let (mut a, mut b) = (buffer.clone(), back);
        a.push(step(9));
        b.push(step(9));
        assert_eq!(a.recent(3), b.recent(3));
        let err = ReplayBuffer::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
    }
}
