//! The DQN agent on the run driver: an "epoch" is a fixed number of environment steps
//! (`--epoch-steps`). Each step acts ε-greedily, stores the transition in the replay buffer and,
//! every `--train-freq` steps, takes `--gradient-steps` Adam steps on the Huber loss between
//! Q(s, a) and the TD target from the target network; the target network follows the online one
//! every `--target-update` steps (Polyak with `--tau` < 1). Every epoch ends with greedy
//! evaluation episodes, and the best-evaluated network is kept. Checkpoints hold the online,
//! target, acting and kept networks, Adam's state, the replay buffer, the environment
//! mid-episode and the generator, so `--resume` continues the same run step for step.

use crate::cartpole::{ACTIONS, CartPole, OBSERVATIONS, SOLVED};
use crate::config::Settings;
use crate::model::{QNetwork, QNetworkConfig, td_targets};
use crate::replay::{ReplayBuffer, Transition};
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use trainer::driver::{
    EpochResult, RunFolder, Training, Validation, load_module, load_optimizer, save_module,
    save_optimizer,
};
use zoo_core::rng::SplitMix64;

/// Generator streams: evaluation episodes during training, and the final test episodes.
const VALID_STREAM: u64 = 1;
const TEST_STREAM: u64 = 2;

/// Returns of greedy episodes.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Returns {
    pub episodes: usize,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
    /// Mean ≥ 475 (CartPole-v1's threshold; it is defined over 100 episodes).
    pub solved: bool,
}

impl Returns {
    pub fn of(returns: &[f64]) -> Self {
        let n = returns.len().max(1) as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let var = returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / n;
        Self {
            episodes: returns.len(),
            mean,
            std: var.sqrt(),
            min: returns.iter().copied().fold(f64::INFINITY, f64::min),
            max: returns.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            solved: mean >= SOLVED,
        }
    }

    pub fn line(&self) -> String {
        format!(
            "mean return {:.2} ± {:.2} over {} greedy episodes (min {}, max {}){}",
            self.mean,
            self.std,
            self.episodes,
            self.min,
            self.max,
            if self.solved { ": solved" } else { "" }
        )
    }
}

/// One finished training episode (for episodes.csv and the return curve).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Episode {
    /// Environment steps when it ended.
    pub end_step: u64,
    pub length: usize,
    pub epsilon: f64,
}

impl Episode {
    /// Every step earns 1, so the return is the length.
    pub fn ret(&self) -> f64 {
        self.length as f64
    }
}

/// Where training stands: everything besides modules and the buffer that `--resume` needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    pub env: CartPole,
    pub env_steps: u64,
    pub gradient_steps: u64,
    /// The generator's state (actions, ε draws, batches, resets).
    pub rng: u64,
    pub episodes: Vec<Episode>,
}

/// Greedy returns of `episodes` episodes from seeded start states, run side by side (one
/// forward pass per step for every episode still going).
pub fn evaluate(
    network: &QNetwork,
    episodes: usize,
    seed: u64,
    stream: u64,
    device: &Device,
) -> Vec<f64> {
    let mut envs: Vec<CartPole> = (0..episodes as u64)
        .map(|i| CartPole::reset(&mut SplitMix64::for_item(seed, stream, i)))
        .collect();
    let mut returns = vec![0.0; episodes];
    let mut running: Vec<usize> = (0..episodes).collect();
    while !running.is_empty() {
        let observations: Vec<f32> = running
            .iter()
            .flat_map(|&i| envs[i].observation())
            .collect();
        let actions = network.greedy(&observations, OBSERVATIONS, device);
        running = running
            .iter()
            .zip(actions)
            .filter_map(|(&i, action)| {
                let step = envs[i].step(action);
                returns[i] += step.reward as f64;
                (!step.done()).then_some(i)
            })
            .collect();
    }
    returns
}

/// The greedy test returns of a network, as the run's final evaluation draws them.
pub fn test_returns(network: &QNetwork, episodes: usize, seed: u64, device: &Device) -> Returns {
    Returns::of(&evaluate(network, episodes, seed, TEST_STREAM, device))
}

/// The DQN agent as the run driver sees it.
pub struct Agent<'a> {
    /// The trained network, on the autodiff device.
    pub online: QNetwork,
    pub target: QNetwork,
    /// The online network as of the last learning burst: it picks the ε-greedy actions.
    policy: QNetwork,
    pub best: QNetwork,
    optim: ModuleOptimizer,
    pub buffer: ReplayBuffer,
    pub progress: Progress,
    settings: &'a Settings,
    device: Device,
    autodiff: Device,
}

impl<'a> Agent<'a> {
    pub fn new(network: &QNetworkConfig, settings: &'a Settings, device: &Device) -> Self {
        let autodiff = device.clone().autodiff();
        let online = QNetwork::new(network, OBSERVATIONS, ACTIONS, &autodiff);
        let mut rng = SplitMix64::new(settings.seed);
        let env = CartPole::reset(&mut rng);
        let clip = settings
            .grad_clip
            .map(|n| burn::grad_clipping::GradientClippingConfig::Norm(n as f32));
        Self {
            target: online.valid(),
            policy: online.valid(),
            best: online.valid(),
            online,
            optim: trainer::optim::adam_config()
                .with_grad_clipping(clip)
                .init(),
            buffer: ReplayBuffer::new(settings.dqn.buffer_size),
            progress: Progress {
                env,
                env_steps: 0,
                gradient_steps: 0,
                rng: rng.state(),
                episodes: Vec::new(),
            },
            settings,
            device: device.clone(),
            autodiff,
        }
    }

    /// One gradient step on a sampled batch; the Huber loss.
    fn learn(&mut self, rng: &mut SplitMix64) -> f64 {
        let b = self.settings.batch_size;
        let batch = self.buffer.sample(b, rng);
        let next = Tensor::<2>::from_data(
            TensorData::new(batch.next_observations, [b, OBSERVATIONS]),
            &self.device,
        );
        let next_q = self.target.forward(next.clone()); // [batch, actions]
        let next_value = if self.settings.dqn.double {
            let pick = self.online.valid().forward(next).argmax(1); // [batch, 1]
            next_q.gather(1, pick)
        } else {
            next_q.max_dim(1)
        }; // [batch, 1]
        let next_value: Vec<f32> = next_value.into_data().try_to_vec().expect("f32 values");
        let y = td_targets(
            &batch.rewards,
            &batch.terminals,
            &next_value,
            self.settings.dqn.gamma,
        );
        let y = Tensor::<1>::from_data(TensorData::new(y, [b]), &self.autodiff);
        let observations = Tensor::<2>::from_data(
            TensorData::new(batch.observations, [b, OBSERVATIONS]),
            &self.autodiff,
        );
        let actions =
            Tensor::<2, Int>::from_data(TensorData::new(batch.actions, [b, 1]), &self.autodiff);
        let q = self
            .online
            .forward(observations)
            .gather(1, actions)
            .reshape([b]); // [batch]: Q(s, a) of the actions taken
        let loss = HuberLossConfig::new(1.0)
            .init()
            .forward(q, y, Reduction::Mean);
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &self.online);
        self.online = self
            .optim
            .step(self.settings.lr, self.online.clone(), grads);
        self.progress.gradient_steps += 1;
        value
    }

    /// One environment step, then the target update and learning when they are due; the
    /// losses of any gradient steps taken.
    fn act(&mut self, rng: &mut SplitMix64, losses: &mut Vec<f64>) {
        let d = &self.settings.dqn;
        let t = self.progress.env_steps;
        let epsilon = self.settings.epsilon(t);
        let observation = self.progress.env.observation();
        let explore = t < d.learning_starts as u64 || rng.unit() < epsilon;
        let action = if explore {
            rng.below(ACTIONS as u64) as usize
        } else {
            self.policy.greedy(&observation, OBSERVATIONS, &self.device)[0]
        };
        let step = self.progress.env.step(action);
        self.buffer.push(Transition {
            observation,
            action: action as u8,
            reward: step.reward,
            next_observation: step.observation,
            terminal: step.terminated,
        });
        self.progress.env_steps += 1;
        let t = self.progress.env_steps;
        if step.done() {
            self.progress.episodes.push(Episode {
                end_step: t,
                length: self.progress.env.steps,
                epsilon,
            });
            self.progress.env = CartPole::reset(rng);
        }
        if t.is_multiple_of(d.target_update as u64) {
            self.target = self.target.clone().soft_update(&self.online.valid(), d.tau);
        }
        if t >= d.learning_starts as u64 && t.is_multiple_of(d.train_freq as u64) {
            for _ in 0..d.gradient_steps {
                losses.push(self.learn(rng));
            }
            self.policy = self.online.valid();
        }
    }
}

impl Training for Agent<'_> {
    type State = Progress;

    fn train_epoch(&mut self, epoch: usize, run: &mut RunFolder) -> anyhow::Result<EpochResult> {
        let mut rng = SplitMix64::new(self.progress.rng);
        let episodes_before = self.progress.episodes.len();
        let mut losses = Vec::new();
        for _ in 0..self.settings.dqn.epoch_steps {
            self.act(&mut rng, &mut losses);
            if let Some(&loss) = losses.last()
                && !loss.is_finite()
            {
                trainer::driver::check_finite(run, loss, epoch, None)?;
            }
        }
        self.progress.rng = rng.state();
        let finished = &self.progress.episodes[episodes_before..];
        let mean_return = if finished.is_empty() {
            f64::NAN
        } else {
            finished.iter().map(Episode::ret).sum::<f64>() / finished.len() as f64
        };
        // Before learning starts there is no loss yet: 0 keeps the driver's check quiet.
        let loss = if losses.is_empty() {
            0.0
        } else {
            losses.iter().sum::<f64>() / losses.len() as f64
        };
        let epsilon = self.settings.epsilon(self.progress.env_steps);
        run.record(epoch, "train", "loss", loss);
        if mean_return.is_finite() {
            run.record(epoch, "train", "return", mean_return);
        }
        run.record(epoch, "train", "episodes", finished.len() as f64);
        run.record(epoch, "train", "epsilon", epsilon);
        run.record(epoch, "train", "env_steps", self.progress.env_steps as f64);
        write_episodes(&run.dir, &self.progress.episodes)?;
        Ok(EpochResult {
            loss,
            summary: format!(
                "step {:>6}  episodes {:>4}  return {:>6.1}  ε {:.3}  TD loss {:.4}",
                self.progress.env_steps,
                finished.len(),
                mean_return,
                epsilon,
                loss
            ),
        })
    }

    fn validate(
        &mut self,
        epoch: usize,
        run: &mut RunFolder,
    ) -> anyhow::Result<Option<Validation>> {
        let network = self.online.valid();
        let returns = Returns::of(&evaluate(
            &network,
            self.settings.dqn.eval_episodes,
            self.settings.seed,
            VALID_STREAM + 16 * epoch as u64,
            &self.device,
        ));
        run.record(epoch, "valid", "return", returns.mean);
        run.record(epoch, "valid", "return_std", returns.std);
        Ok(Some(Validation {
            // Lower is better for the driver: the shortfall from a perfect 500.
            loss: crate::cartpole::MAX_STEPS as f64 - returns.mean,
            score: Some(returns.mean),
            summary: format!("greedy {:.1} ± {:.1}", returns.mean, returns.std),
        }))
    }

    fn keep_best(&mut self) {
        self.best = self.online.valid();
    }

    fn save(&self, dir: &Path) -> anyhow::Result<()> {
        save_module(&self.online, dir, "online")?;
        save_module(&self.target, dir, "target")?;
        save_module(&self.policy, dir, "policy")?;
        save_module(&self.best, dir, "best")?;
        save_optimizer(&self.optim, dir, "optim")?;
        let path = dir.join("replay.bin");
        std::fs::write(&path, self.buffer.to_bytes())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }

    fn state(&self) -> Progress {
        self.progress.clone()
    }

    fn load(&mut self, dir: &Path, progress: Progress) -> anyhow::Result<()> {
        let online = load_module(self.online.clone(), dir, "online")?;
        let target = load_module(self.target.clone(), dir, "target")?;
        let policy = load_module(self.policy.clone(), dir, "policy")?;
        let best = load_module(self.best.clone(), dir, "best")?;
        let optim = load_optimizer(trainer::optim::adam(), dir, "optim")?;
        let path = dir.join("replay.bin");
        let bytes = std::fs::read(&path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let buffer = ReplayBuffer::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        anyhow::ensure!(
            buffer.capacity() == self.settings.dqn.buffer_size,
            "{}: a buffer of {} transitions, the run's config says {}",
            path.display(),
            buffer.capacity(),
            self.settings.dqn.buffer_size
        );
        (self.online, self.target, self.policy, self.best) = (online, target, policy, best);
        (self.optim, self.buffer, self.progress) = (optim, buffer, progress);
        Ok(())
    }
}

/// `episodes.csv`: every finished training episode.
fn write_episodes(dir: &Path, episodes: &[Episode]) -> anyhow::Result<()> {
    let mut text = String::from("episode,end_step,return,epsilon\n");
    for (i, e) in episodes.iter().enumerate() {
        text.push_str(&format!(
            "{},{},{},{:.4}\n",
            i + 1,
            e.end_step,
            e.ret(),
            e.epsilon
        ));
    }
    let path = dir.join("episodes.csv");
    std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
