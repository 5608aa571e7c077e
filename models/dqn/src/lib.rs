//! Deep Q-learning on CartPole-v1: DQN (Mnih et al. 2015, "Human-level control through deep
//! reinforcement learning", Nature 518) with experience replay, a target network, ε-greedy
//! exploration and the Huber loss; Double DQN (van Hasselt, Guez & Silver 2016,
//! arXiv:1509.06461) as a flag. The environment is Gymnasium's CartPole-v1, step for step.
//!
//! ```no_run
//! use dqn::{CartPole, QNetwork, QNetworkConfig};
//! let device = burn::prelude::Device::flex();
//! let q = QNetwork::new(&QNetworkConfig::default(), 4, 2, &device);
//! let mut env = CartPole::from_state([0.0, 0.0, 0.02, 0.0]);
//! let action = q.greedy(&env.observation(), 4, &device)[0];
//! let step = env.step(action);
//! ```

#[cfg(feature = "cli")]
pub mod agent;
pub mod cartpole;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod config;
pub mod model;
#[cfg(feature = "cli")]
pub mod render;
pub mod replay;
#[cfg(feature = "cli")]
pub mod task;

pub use cartpole::{CartPole, Step};
#[cfg(feature = "cli")]
pub use cli::{Cli, Command, ENTRY, run};
pub use model::{QNetwork, QNetworkConfig, td_targets};
pub use replay::{ReplayBuffer, Transition};
