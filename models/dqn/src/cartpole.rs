//! CartPole-v1 as Gymnasium defines it (Barto, Sutton & Anderson 1983, "Neuronlike adaptive
//! elements that can solve difficult learning control problems"; Gymnasium's
//! `classic_control/cartpole.py`): a pole hinged on a cart that a force of ±10 N pushes left or
//! right. Euler integration with τ = 0.02 s; an episode terminates when the pole leans more than
//! 12° or the cart leaves ±2.4, and is truncated after 500 steps; every step earns 1.
//!
//! The state is kept in f64 as Gymnasium keeps it; observations are its f32 copy. The start
//! state is uniform in ±0.05 from the caller's generator (Gymnasium draws from numpy's PCG64,
//! which is why the parity test starts from Gymnasium's recorded state instead).

use serde::{Deserialize, Serialize};
use zoo_core::rng::SplitMix64;

pub const GRAVITY: f64 = 9.8;
pub const MASS_CART: f64 = 1.0;
pub const MASS_POLE: f64 = 0.1;
pub const TOTAL_MASS: f64 = MASS_CART + MASS_POLE;
/// Half the pole's length (m).
pub const HALF_POLE: f64 = 0.5;
pub const POLE_MASS_LENGTH: f64 = MASS_POLE * HALF_POLE;
pub const FORCE: f64 = 10.0;
/// Seconds between state updates.
pub const TAU: f64 = 0.02;
/// 12 degrees.
pub const ANGLE_LIMIT: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
pub const POSITION_LIMIT: f64 = 2.4;
/// CartPole-v1's `max_episode_steps`.
pub const MAX_STEPS: usize = 500;
/// CartPole-v1's `reward_threshold`: the mean return over 100 episodes that counts as solved.
pub const SOLVED: f64 = 475.0;
pub const OBSERVATIONS: usize = 4;
pub const ACTIONS: usize = 2;

/// What one step returns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub observation: [f32; OBSERVATIONS],
    pub reward: f32,
    /// The pole fell or the cart left the track: no future reward (the TD target stops here).
    pub terminated: bool,
    /// The 500-step limit: the episode ends but the state is not terminal (bootstrap from it).
    pub truncated: bool,
}

impl Step {
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// One cart and pole: `[x, x_dot, theta, theta_dot]` and the steps taken this episode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CartPole {
    pub state: [f64; OBSERVATIONS],
    pub steps: usize,
}

impl CartPole {
    /// A new episode from a start state uniform in ±0.05, drawn from `rng`.
    pub fn reset(rng: &mut SplitMix64) -> Self {
        let mut state = [0.0; OBSERVATIONS];
        state.iter_mut().for_each(|s| *s = -0.05 + 0.1 * rng.unit());
        Self::from_state(state)
    }

    /// A new episode from a given start state.
    pub fn from_state(state: [f64; OBSERVATIONS]) -> Self {
        Self { state, steps: 0 }
    }

    pub fn observation(&self) -> [f32; OBSERVATIONS] {
        self.state.map(|s| s as f32)
    }

    /// Pushes left (action 0) or right (action 1) for one τ.
    pub fn step(&mut self, action: usize) -> Step {
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action == 1 { FORCE } else { -FORCE };
        let (sin, cos) = theta.sin_cos();
        // The same expression order as Gymnasium (np.square included), so rounding matches too:
        // the pole is chaotic enough that one ulp per step shows after a few hundred steps.
        let temp = (force + POLE_MASS_LENGTH * (theta_dot * theta_dot) * sin) / TOTAL_MASS;
        let theta_acc = (GRAVITY * sin - cos * temp)
            / (HALF_POLE * (4.0 / 3.0 - MASS_POLE * (cos * cos) / TOTAL_MASS));
        let x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS;
        // Explicit Euler: positions move with the old velocities.
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * x_acc,
            theta + TAU * theta_dot,
            theta_dot + TAU * theta_acc,
        ];
        self.steps += 1;
        let [x, _, theta, _] = self.state;
        let terminated = !(-POSITION_LIMIT..=POSITION_LIMIT).contains(&x)
            || !(-ANGLE_LIMIT..=ANGLE_LIMIT).contains(&theta);
        Step {
            observation: self.observation(),
            reward: 1.0,
            terminated,
            truncated: !terminated && self.steps >= MAX_STEPS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_push_topples_the_pole_within_a_few_dozen_steps() {
        let mut env = CartPole::from_state([0.0; 4]);
        let mut steps = 0;
        while !env.step(1).done() {
            steps += 1;
        }
        assert!((5..60).contains(&steps), "{steps}");
        assert!(
            env.state[2] < -ANGLE_LIMIT,
            "pushing right tips the pole left"
        );
    }

    #[test]
    fn resets_are_seeded_and_within_the_start_range() {
        let a = CartPole::reset(&mut SplitMix64::new(3));
        let b = CartPole::reset(&mut SplitMix64::new(3));
        assert_eq!(a, b);
        assert!(a.state.iter().all(|s| s.abs() <= 0.05));
    }
}
