//! The Q-network of DQN (Mnih et al. 2015, "Human-level control through deep reinforcement
//! learning", Nature 518): an MLP from the observation to one value per action. CartPole needs
//! no convolutions; the hidden widths follow RL Baselines3 Zoo's tuned CartPole-v1 recipe
//! (two layers of 256).

use burn::module::Param;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The network's shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct QNetworkConfig {
    /// Hidden layer widths, comma-separated
    #[cfg_attr(
        feature = "cli",
        arg(long, value_delimiter = ',', default_value = "256,256")
    )]
    pub hidden: Vec<usize>,
}

impl Default for QNetworkConfig {
    fn default() -> Self {
        Self {
            hidden: vec![256, 256],
        }
    }
}

#[derive(Module, Debug)]
pub struct QNetwork {
    pub layers: Vec<Linear>,
    activation: Relu,
}

impl QNetwork {
    pub fn new(
        config: &QNetworkConfig,
        observations: usize,
        actions: usize,
        device: &Device,
    ) -> Self {
        let widths: Vec<usize> = std::iter::once(observations)
            .chain(config.hidden.iter().copied())
            .chain(std::iter::once(actions))
            .collect();
        Self {
            layers: widths
                .windows(2)
                .map(|w| LinearConfig::new(w[0], w[1]).init(device))
                .collect(),
            activation: Relu::new(),
        }
    }

    /// `[batch, observations]` → `[batch, actions]` action values.
    pub fn forward(&self, observations: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers
            .iter()
            .enumerate()
            .fold(observations, |x, (i, layer)| {
                let x = layer.forward(x);
                if i < last {
                    self.activation.forward(x)
                } else {
                    x
                }
            })
    }

    /// The greedy action of each row of `observations` (`[batch, observations]`, row-major).
    pub fn greedy(&self, observations: &[f32], width: usize, device: &Device) -> Vec<usize> {
        let rows = observations.len() / width;
        let x = Tensor::from_data(
            TensorData::new(observations.to_vec(), [rows, width]),
            device,
        );
        let best: Vec<i64> = self
            .forward(x)
            .argmax(1)
            .into_data()
            .convert::<i64>()
            .try_to_vec()
            .expect("argmax gives integers");
        best.into_iter().map(|a| a as usize).collect()
    }

    /// Every parameter, layer by layer (weight, then bias), as one vector: for comparing
    /// networks.
    pub fn values(&self) -> Vec<f32> {
        self.layers
            .iter()
            .flat_map(|l| {
                let mut v: Vec<f32> = l.weight.val().into_data().try_to_vec().expect("f32");
                if let Some(b) = &l.bias {
                    v.extend(b.val().into_data().try_to_vec::<f32>().expect("f32"));
                }
                v
            })
            .collect()
    }

    /// Polyak averaging of a target network: τ·`online` + (1 − τ)·`self`, parameter by
    /// parameter (τ = 1 copies `online`). Both must have the same shape.
    pub fn soft_update(self, online: &QNetwork, tau: f64) -> QNetwork {
        let mix = |target: Tensor<2>, online: Tensor<2>| target * (1.0 - tau) + online * tau;
        let layers = self
            .layers
            .into_iter()
            .zip(&online.layers)
            .map(|(t, o)| Linear {
                weight: Param::from_tensor(mix(t.weight.val(), o.weight.val())),
                bias: t.bias.zip(o.bias.as_ref()).map(|(tb, ob)| {
                    let mixed = tb.val() * (1.0 - tau) + ob.val() * tau;
                    Param::from_tensor(mixed)
                }),
            })
            .collect();
        QNetwork {
            layers,
            activation: Relu::new(),
        }
    }
}

/// The TD targets y = r + γ·(1 − terminal)·next_value of a batch (the Bellman backup DQN
/// regresses Q(s, a) onto). `next_value` is max_a' Q_target(s', a') for DQN, or
/// Q_target(s', argmax_a' Q_online(s', a')) for Double DQN.
pub fn td_targets(rewards: &[f32], terminals: &[f32], next_value: &[f32], gamma: f64) -> Vec<f32> {
    rewards
        .iter()
        .zip(terminals)
        .zip(next_value)
        .map(|((&r, &done), &v)| r + (gamma as f32) * (1.0 - done) * v)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn td_targets_stop_at_terminal_states() {
        // r + γ·v: 1 + 0.99·2 = 2.98; terminal: just r = 1; negative values bootstrap too.
        let y = td_targets(&[1.0, 1.0, 0.5], &[0.0, 1.0, 0.0], &[2.0, 2.0, -1.0], 0.99);
        let expected = [2.98, 1.0, 0.5 - 0.99];
        for (a, b) in y.iter().zip(expected) {
            assert!((a - b).abs() < 1e-6, "{y:?}");
        }
    }

    #[test]
    fn soft_update_mixes_and_tau_one_copies() {
        let device = Device::flex();
        let config = QNetworkConfig { hidden: vec![3] };
        let online = QNetwork::new(&config, 4, 2, &device);
        let target = QNetwork::new(&config, 4, 2, &device);
        let (o, t) = (online.values(), target.values());
        assert_ne!(o, t);
        let mixed = target.clone().soft_update(&online, 0.25).values();
        for ((m, o), t) in mixed.iter().zip(&o).zip(&t) {
            assert!((m - (0.25 * o + 0.75 * t)).abs() < 1e-6);
        }
        assert_eq!(target.soft_update(&online, 1.0).values(), o);
    }
}
