//! Everything a DQN run is set by: DQN's own flags (defaults: RL Baselines3 Zoo's tuned
//! CartPole-v1 recipe), the merged settings with the ε schedule, and the run's `config.json`.

use crate::model::QNetworkConfig;
use clap::Args;
use serde::{Deserialize, Serialize};

pub const NAME: &str = "dqn";
pub const ENVIRONMENT: &str = "CartPole-v1";

/// DQN's own flags. Defaults: RL Baselines3 Zoo's tuned CartPole-v1 recipe (50k steps).
#[derive(Args, Clone, Debug, Serialize, Deserialize)]
pub struct DqnArgs {
    /// Environment steps per epoch (`--epochs` counts these)
    #[arg(long, default_value_t = 5000)]
    pub epoch_steps: usize,
    /// Discount factor γ
    #[arg(long, default_value_t = 0.99)]
    pub gamma: f64,
    /// Transitions the replay buffer keeps
    #[arg(long, default_value_t = 100_000)]
    pub buffer_size: usize,
    /// Uniformly random actions, and no learning, for the first N steps
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub learning_starts: usize,
    /// Learn every N environment steps
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub train_freq: usize,
    /// Gradient steps each time it learns
    #[arg(long, default_value_t = 128)]
    pub gradient_steps: usize,
    /// Update the target network every N environment steps
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub target_update: usize,
    /// Polyak factor of the target update (1 = copy the online network)
    #[arg(long, default_value_t = 1.0)]
    pub tau: f64,
    /// ε at the start of training
    #[arg(long, default_value_t = 1.0)]
    pub epsilon_start: f64,
    /// ε after the decay
    #[arg(long, default_value_t = 0.04)]
    pub epsilon_end: f64,
    /// Fraction of all training steps over which ε decays linearly
    #[arg(long, default_value_t = 0.16)]
    pub exploration_fraction: f64,
    /// Double DQN (van Hasselt et al. 2016): the online network picks the next action, the
    /// target network values it
    #[arg(long)]
    pub double: bool,
    /// Greedy evaluation episodes after each epoch
    #[arg(long, default_value_t = 10)]
    pub eval_episodes: usize,
    /// Greedy test episodes at the end (CartPole-v1 is solved at a mean ≥ 475 over 100)
    #[arg(long, default_value_t = 100)]
    pub test_episodes: usize,
}

impl DqnArgs {
    pub fn check(&self) -> Result<(), trainer::UsageError> {
        let bad = |flag: &str, why: &str| Err(trainer::UsageError(format!("{flag}: {why}")));
        if !(0.0..=1.0).contains(&self.gamma) {
            return bad("--gamma", "the discount factor must lie in [0, 1]");
        }
        if !(self.tau > 0.0 && self.tau <= 1.0) {
            return bad("--tau", "the Polyak factor must lie in (0, 1]");
        }
        for (flag, value) in [
            ("--epsilon-start", self.epsilon_start),
            ("--epsilon-end", self.epsilon_end),
            ("--exploration-fraction", self.exploration_fraction),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return bad(flag, "must lie in [0, 1]");
            }
        }
        for (flag, value) in [
            ("--epoch-steps", self.epoch_steps),
            ("--buffer-size", self.buffer_size),
            ("--train-freq", self.train_freq),
            ("--gradient-steps", self.gradient_steps),
            ("--target-update", self.target_update),
            ("--eval-episodes", self.eval_episodes),
            ("--test-episodes", self.test_episodes),
        ] {
            if value == 0 {
                return bad(flag, "must be at least 1");
            }
        }
        Ok(())
    }
}

/// Every setting of a run after flags and the recipe are merged.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Per-parameter gradient norm clip (Burn clips each tensor; SB3 clips the global norm).
    pub grad_clip: Option<f64>,
    pub seed: u64,
    pub checkpoint_every: usize,
    pub early_stop: Option<usize>,
    pub dqn: DqnArgs,
}

impl Settings {
    pub fn total_steps(&self) -> u64 {
        (self.epochs * self.dqn.epoch_steps) as u64
    }

    /// ε after `step` environment steps: linear from start to end over the exploration fraction.
    pub fn epsilon(&self, step: u64) -> f64 {
        let d = &self.dqn;
        let span = d.exploration_fraction * self.total_steps() as f64;
        let progress = if span > 0.0 {
            (step as f64 / span).min(1.0)
        } else {
            1.0
        };
        d.epsilon_start + (d.epsilon_end - d.epsilon_start) * progress
    }
}

/// `config.json`: enough to rebuild the network and repeat the run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunConfig {
    pub model: String,
    pub environment: String,
    pub network: QNetworkConfig,
    pub settings: Settings,
}
