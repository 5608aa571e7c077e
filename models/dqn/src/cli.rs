//! The `dqn` command line: `train`, `eval`, `play`, `quantize`, `info`, and the registry entry.

use crate::agent::{Returns, test_returns};
use crate::cartpole::{ACTIONS, CartPole, OBSERVATIONS};
use crate::config::{DqnArgs, ENVIRONMENT, NAME, RunConfig};
use crate::model::{QNetwork, QNetworkConfig};
use crate::task::train;
use burn::prelude::*;
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use trainer::device::select_device;
use trainer::driver::{RunFlags, RunFolder};
use zoo_core::rng::SplitMix64;

#[derive(Parser, Debug)]
#[command(
    name = "dqn",
    version,
    about = "Deep Q-learning (DQN, Double DQN) on CartPole-v1, with Gymnasium's dynamics"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train by acting in the environment. An epoch is --epoch-steps environment steps (5000);
    /// each ends with greedy evaluation episodes, and the best-evaluated network is kept.
    Train {
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        dqn: DqnArgs,
        #[command(flatten)]
        network: QNetworkConfig,
    },
    /// Mean ± std return of greedy episodes (the run's own test episodes by default).
    Eval {
        #[command(flatten)]
        saved: SavedArgs,
        #[command(flatten)]
        episodes: EpisodeArgs,
    },
    /// One greedy episode as pictures: an animated .gif, or a .png contact sheet.
    Play {
        #[command(flatten)]
        saved: SavedArgs,
        /// Seed of the start state
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The picture to write (.gif or .png)
        #[arg(long)]
        out: PathBuf,
    },
    /// Quantize the Q-network to 8 bits; file size, mean greedy return and time before and after.
    Quantize {
        #[command(flatten)]
        saved: SavedArgs,
        #[command(flatten)]
        episodes: EpisodeArgs,
        #[command(flatten)]
        quantize: trainer::cli::QuantizeFlags,
    },
    /// The environment, the network and its parameter count.
    Info {
        #[command(flatten)]
        network: QNetworkConfig,
    },
}

/// Saved weights and their run's config.
#[derive(Args, Debug, Clone)]
pub struct SavedArgs {
    #[command(flatten)]
    pub saved: trainer::cli::WeightsArgs,
    #[command(flatten)]
    pub network: QNetworkConfig,
    #[command(flatten)]
    pub device: trainer::cli::DeviceArgs,
}

#[derive(Args, Debug, Clone)]
pub struct EpisodeArgs {
    /// Greedy episodes to run
    #[arg(long, default_value_t = 100)]
    pub episodes: usize,
    /// Seed of their start states [default: the run's seed, i.e. its own test episodes]
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Runs one parsed command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { run, dqn, network } => train(run, dqn, network).map(|_| ()),
        Command::Eval { saved, episodes } => eval(&saved, &episodes).map(|_| ()),
        Command::Play { saved, seed, out } => play(&saved, seed, &out),
        Command::Quantize {
            saved,
            episodes,
            quantize,
        } => quantize_weights(&saved, &episodes, &quantize),
        Command::Info { network } => info(&network),
    }
}

/// The network of saved weights, the run's seed (42 without a config), and the device.
pub fn load(args: &SavedArgs) -> anyhow::Result<(QNetwork, QNetworkConfig, u64, String, Device)> {
    let (network, seed) = match args.saved.run_config() {
        Some(path) => {
            let saved: RunConfig = RunFolder::read_config(&path)?;
            (saved.network, saved.settings.seed)
        }
        None => (args.network.clone(), 42),
    };
    let (device_name, device) = select_device(args.device.device.as_deref())?;
    let fresh = QNetwork::new(&network, OBSERVATIONS, ACTIONS, &device);
    let model = trainer::weights::load_weights(fresh, &args.saved.weights, &[])?;
    Ok((model, network, seed, device_name, device))
}

fn check_episodes(episodes: &EpisodeArgs) -> Result<(), trainer::UsageError> {
    if episodes.episodes == 0 {
        return Err(trainer::UsageError("--episodes must be at least 1".into()));
    }
    Ok(())
}

/// `eval`: greedy returns.
pub fn eval(args: &SavedArgs, episodes: &EpisodeArgs) -> anyhow::Result<Returns> {
    check_episodes(episodes)?;
    let (model, _, seed, device_name, device) = load(args)?;
    let started = std::time::Instant::now();
    let returns = test_returns(
        &model,
        episodes.episodes,
        episodes.seed.unwrap_or(seed),
        &device,
    );
    println!(
        "{}: {} ({device_name}, {:.2} s)",
        args.saved.weights.display(),
        returns.line(),
        started.elapsed().as_secs_f64()
    );
    Ok(returns)
}

/// `play`: one greedy episode drawn.
pub fn play(args: &SavedArgs, seed: u64, out: &Path) -> anyhow::Result<()> {
    if !matches!(
        out.extension().and_then(|e| e.to_str()),
        Some("gif" | "png")
    ) {
        return Err(trainer::UsageError(format!(
            "--out {}: name a .gif (an animation) or a .png (a contact sheet)",
            out.display()
        ))
        .into());
    }
    let (model, ..) = load(args)?;
    let device = select_device(args.device.device.as_deref())?.1;
    let mut env = CartPole::reset(&mut SplitMix64::for_item(seed, 3, 0));
    let mut states = vec![env.state];
    loop {
        let action = model.greedy(&env.observation(), OBSERVATIONS, &device)[0];
        let step = env.step(action);
        states.push(env.state);
        if step.done() {
            println!(
                "episode of {} steps ({}): wrote {}",
                env.steps,
                if step.truncated {
                    "held the pole to the 500-step limit"
                } else {
                    "the pole fell or the cart left the track"
                },
                out.display()
            );
            break;
        }
    }
    crate::render::write(&states, out)
}

/// `quantize`: 8-bit Q-network; greedy return before and after.
pub fn quantize_weights(
    args: &SavedArgs,
    episodes: &EpisodeArgs,
    flags: &trainer::cli::QuantizeFlags,
) -> anyhow::Result<()> {
    trainer::quantize::check_out(&flags.out)?;
    check_episodes(episodes)?;
    let (model, network, seed, device_name, device) = load(args)?;
    let seed = episodes.seed.unwrap_or(seed);
    let score = |m: &QNetwork| Ok(test_returns(m, episodes.episodes, seed, &device).mean);
    let reload = |path: &Path| {
        let fresh = QNetwork::new(&network, OBSERVATIONS, ACTIONS, &device);
        trainer::weights::load_weights(fresh, path, &[])
    };
    let metric = format!("mean greedy return ({} episodes)", episodes.episodes);
    trainer::quantize::quantize_and_report(
        NAME,
        model,
        flags,
        &device_name,
        trainer::quantize::Judge {
            metric: &metric,
            score: &score,
            forward: None,
            workload: "the greedy episodes",
            reload: &reload,
        },
    )
}

/// `info`: the environment and the network.
pub fn info(network: &QNetworkConfig) -> anyhow::Result<()> {
    let device = select_device(None)?.1;
    let model = QNetwork::new(network, OBSERVATIONS, ACTIONS, &device);
    println!(
        "{}: observations [x, x_dot, theta, theta_dot], actions push left / push right; \
         reward 1 per step; terminates beyond ±{}° or ±{} m, truncated at {} steps; solved at \
         a mean return ≥ {} over 100 episodes",
        ENVIRONMENT,
        12,
        crate::cartpole::POSITION_LIMIT,
        crate::cartpole::MAX_STEPS,
        crate::cartpole::SOLVED
    );
    println!("parameters: {}", model.num_params());
    println!("{model}");
    println!(
        "devices compiled in: {}",
        trainer::device::compiled_devices().join(", ")
    );
    Ok(())
}

/// `dqn` in the zoo's registry: its card (`zoo.json`) and its command line.
pub const ENTRY: trainer::entry::ModelEntry = trainer::entry::ModelEntry {
    card: include_str!("../zoo.json"),
    command: || trainer::entry::named_command::<Cli>("dqn"),
    run: |args| trainer::entry::run_parsed::<Cli>("dqn", args, run),
    teacher: None,
};

#[cfg(test)]
mod tests {
    use super::Cli;

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
