//! DQN's training loop on the run driver: an "epoch" is a fixed number of environment steps
//! (`--epoch-steps`). Each step acts ε-greedily, stores the transition in the replay buffer and,
//! every `--train-freq` steps, takes `--gradient-steps` Adam steps on the Huber loss between
//! Q(s, a) and the TD target from the target network; the target network follows the online one
//! every `--target-update` steps (Polyak with `--tau` < 1). Every epoch ends with greedy
//! evaluation episodes, and the best-evaluated network is kept. Checkpoints hold the online,
//! target and kept networks, Adam's state, the replay buffer, the environment mid-episode and the
//! generator, so `--resume` continues the same run step for step.

use crate::cartpole::{ACTIONS, CartPole, OBSERVATIONS, SOLVED};
use crate::model::{QNetwork, QNetworkConfig, td_targets};
use crate::replay::{ReplayBuffer, Transition};
use burn::nn::loss::{HuberLossConfig, Reduction};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use clap::Args;
use serde::{Deserialize, Serialize};
use std::path::Path;
use trainer::device::select_device;
use trainer::driver::{
    EpochResult, Plan, RunFlags, RunFolder, Select, Training, Validation, fit, load_module,
    load_optimizer, save_module, save_optimizer,
};
use trainer::report::Provenance;
use zoo_core::rng::SplitMix64;

pub const NAME: &str = "dqn";
pub const ENVIRONMENT: &str = "CartPole-v1";
/// Generator streams: evaluation episodes during training, and the final test episodes.
const VALID_STREAM: u64 = 1;
const TEST_STREAM: u64 = 2;

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
    fn check(&self) -> Result<(), trainer::UsageError> {
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
    fn total_steps(&self) -> u64 {
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

/// `report.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DqnReport {
    pub model: String,
    pub environment: String,
    pub device: String,
    pub seed: u64,
    pub double: bool,
    pub epochs_completed: usize,
    pub epochs_requested: usize,
    pub resumed_from_epoch: Option<usize>,
    pub env_steps: u64,
    pub episodes: usize,
    pub gradient_steps: u64,
    /// The epoch whose network evaluated best (the one saved as model.bpk).
    pub best_epoch: usize,
    pub wall_seconds: f64,
    pub env_steps_per_second: f64,
    pub parameters: usize,
    /// Greedy test episodes of model.bpk, from start states the run never trained or
    /// validated on.
    pub test: Returns,
    pub provenance: Provenance,
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
            let target = std::mem::replace(&mut self.target, self.policy.clone());
            self.target = target.soft_update(&self.online.valid(), d.tau);
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

/// `returns.png`: training episodes' returns (and their moving mean) and the greedy
/// evaluations, against environment steps.
fn plot_returns(run: &RunFolder, episodes: &[Episode], epoch_steps: usize) -> anyhow::Result<()> {
    let raw: Vec<(f64, f64)> = episodes
        .iter()
        .map(|e| (e.end_step as f64, e.ret()))
        .collect();
    let window = 20;
    let smooth: Vec<(f64, f64)> = (0..raw.len())
        .map(|i| {
            let from = i.saturating_sub(window - 1);
            let mean = raw[from..=i].iter().map(|p| p.1).sum::<f64>() / (i + 1 - from) as f64;
            (raw[i].0, mean)
        })
        .collect();
    let greedy: Vec<(f64, f64)> = run
        .rows()
        .iter()
        .filter(|r| r.split == "valid" && r.metric == "return")
        .map(|r| ((r.epoch * epoch_steps) as f64, r.value))
        .collect();
    let steps = episodes.last().map(|e| e.end_step).unwrap_or(1).max(1) as f64;
    let curves = [
        ("training episodes".to_string(), raw),
        (format!("mean of the last {window}"), smooth),
        ("greedy evaluation".to_string(), greedy),
    ];
    trainer::plots::LinePlot {
        curves: &curves,
        axes: ["environment steps", "return"],
        x: 0.0..steps,
        y: 0.0..520.0,
        diagonal: false,
        legend: plotters::chart::SeriesLabelPosition::UpperLeft,
        title: &format!("DQN on {ENVIRONMENT}"),
    }
    .draw(&run.dir.join("returns.png"))
}

/// `dqn train`: the run, its report (also written to report.json).
pub fn train(args: RunFlags, dqn: DqnArgs, network: QNetworkConfig) -> anyhow::Result<DqnReport> {
    let out = args.out_dir(NAME);
    args.refuse(
        NAME,
        "it learns from the environment with Adam at a constant rate (no data set, no weight \
         decay, no schedule, no folds)",
        &[
            "--optimizer",
            "--momentum",
            "--weight-decay",
            "--l1",
            "--schedule",
            "--warmup-epochs",
            "--folds",
            "--limit-train",
            "--limit-valid",
            "--limit-test",
        ],
    )?;
    let (settings, network) = if args.resume {
        let saved: RunConfig = RunFolder::read_config(&out.join("config.json"))?;
        let mut settings = saved.settings;
        if let Some(epochs) = args.epochs {
            settings.epochs = epochs;
        }
        (settings, saved.network)
    } else {
        dqn.check()?;
        let settings = Settings {
            epochs: args.epochs.unwrap_or(10),
            batch_size: args.batch_size.unwrap_or(64),
            lr: args.lr.unwrap_or(2.3e-3),
            grad_clip: match args.grad_clip {
                Some(n) if n <= 0.0 => None,
                Some(n) => Some(n),
                None => Some(10.0),
            },
            seed: args.seed,
            checkpoint_every: args.checkpoint_every.max(1),
            early_stop: args.early_stop,
            dqn,
        };
        (settings, network)
    };
    if settings.epochs == 0 {
        return Err(trainer::UsageError("--epochs must be at least 1".into()).into());
    }
    if settings.batch_size == 0 {
        return Err(trainer::UsageError("--batch-size must be at least 1".into()).into());
    }
    if !(settings.lr > 0.0 && settings.lr.is_finite()) {
        return Err(trainer::UsageError("--lr must be a positive number".into()).into());
    }
    if network.hidden.contains(&0) {
        return Err(trainer::UsageError("--hidden: every width must be at least 1".into()).into());
    }
    let (device_name, device) = select_device(args.device.device.as_deref())?;
    device.seed(settings.seed);
    let run_config = RunConfig {
        model: NAME.into(),
        environment: ENVIRONMENT.into(),
        network: network.clone(),
        settings: settings.clone(),
    };
    let mut run = RunFolder::open(&out, settings.epochs, args.resume, &run_config)?;
    let d = &settings.dqn;
    println!(
        "training {NAME}{} on {ENVIRONMENT}: {} epochs of {} steps ({} in all), Q-network \
         4-{}-2, batch {}, Adam {}, γ {}, ε {}→{} over {:.0}% of the steps, target every {} steps \
         (τ {}), {device_name}; output in {}",
        if d.double { " (double)" } else { "" },
        settings.epochs,
        d.epoch_steps,
        settings.total_steps(),
        network
            .hidden
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join("-"),
        settings.batch_size,
        settings.lr,
        d.gamma,
        d.epsilon_start,
        d.epsilon_end,
        100.0 * d.exploration_fraction,
        d.target_update,
        d.tau,
        out.display()
    );
    let mut agent = Agent::new(&network, &settings, &device);
    let plan = Plan {
        epochs: settings.epochs,
        resume: args.resume,
        checkpoint_every: settings.checkpoint_every,
        early_stop: settings.early_stop,
        select: Select::HighestScore,
    };
    let fitted = fit(&mut run, &plan, &mut agent)?;
    let wall_seconds = run.elapsed();
    save_module(&agent.best, &out, "model")?;
    let test = test_returns(&agent.best, d.test_episodes, settings.seed, &device);
    run.plot("DQN TD loss", "loss");
    if let Err(e) = plot_returns(&run, &agent.progress.episodes, d.epoch_steps) {
        eprintln!("warning: cannot draw returns.png: {e}");
    }
    let steps_this_process = agent.progress.env_steps - (fitted.start * d.epoch_steps) as u64;
    let report = DqnReport {
        model: NAME.into(),
        environment: ENVIRONMENT.into(),
        device: device_name,
        seed: settings.seed,
        double: d.double,
        epochs_completed: fitted.last_epoch,
        epochs_requested: settings.epochs,
        resumed_from_epoch: (fitted.start > 0).then_some(fitted.start),
        env_steps: agent.progress.env_steps,
        episodes: agent.progress.episodes.len(),
        gradient_steps: agent.progress.gradient_steps,
        best_epoch: fitted.best_epoch,
        wall_seconds,
        env_steps_per_second: steps_this_process as f64 / fitted.wall_seconds.max(1e-9),
        parameters: agent.best.num_params(),
        test,
        provenance: Provenance::now(),
    };
    run.write_json("report.json", &report)?;
    println!(
        "test: {} (model.bpk = epoch {}; {:.1} s, {:.0} steps/s{})",
        report.test.line(),
        report.best_epoch,
        wall_seconds,
        report.env_steps_per_second,
        report.provenance.rss_note()
    );
    println!("wrote {}", out.display());
    Ok(report)
}
