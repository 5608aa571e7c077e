//! `dqn train`: the settings from the flags, the agent fitted by the run driver, the test
//! episodes, `report.json` and the return curve.

use crate::agent::{Agent, Episode, Returns, test_returns};
use crate::config::{DqnArgs, ENVIRONMENT, NAME, RunConfig, Settings};
use crate::model::QNetworkConfig;
use burn::module::Module;
use serde::{Deserialize, Serialize};
use trainer::device::select_device;
use trainer::driver::{Plan, RunFlags, RunFolder, Select, fit, save_module};
use trainer::report::Provenance;

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
    args.one_batch_per_step(
        NAME,
        "each step learns from a replay minibatch that the agent's last actions just filled, \
         so steps cannot be shared out (use --batch-size for larger minibatches)",
    )?;
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
    let (device_name, device) = select_device(args.device_name())?;
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
