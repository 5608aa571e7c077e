//! Finds the newest complete checkpoint of a run and checks it loads before burn-train sees it
//! (burn-train panics on a missing or corrupt checkpoint).

use burn::module::Module;
use burn::optim::OptimizerRecord;
use burn::optim::lr_scheduler::LrSchedulerRecord;
use burn::store::ModuleRecord;
use std::path::{Path, PathBuf};

const PARTS: [&str; 3] = ["model", "optim", "scheduler"];

/// Epochs for which `<dir>/checkpoint/` holds all three files, newest first.
pub fn checkpoint_epochs(run_dir: &Path) -> Vec<usize> {
    let dir = run_dir.join("checkpoint");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut epochs: Vec<usize> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .filter(|&epoch| PARTS.iter().all(|p| part_path(run_dir, p, epoch).is_file()))
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs
}

fn part_path(run_dir: &Path, part: &str, epoch: usize) -> PathBuf {
    run_dir
        .join("checkpoint")
        .join(format!("{part}-{epoch}.bpk"))
}

/// Checks that all three files of `epoch` load and that the model record fits `model`.
pub fn validate_checkpoint<M: Module>(
    run_dir: &Path,
    epoch: usize,
    model: &M,
) -> anyhow::Result<()> {
    let model_path = part_path(run_dir, "model", epoch);
    let record = ModuleRecord::load(model_path.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", model_path.display()))?;
    model
        .clone()
        .try_load_record(record)
        .map_err(|e| anyhow::anyhow!("{}: does not fit this model: {e}", model_path.display()))?;
    let optim_path = part_path(run_dir, "optim", epoch);
    OptimizerRecord::load(optim_path.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", optim_path.display()))?;
    let scheduler_path = part_path(run_dir, "scheduler", epoch);
    LrSchedulerRecord::load(scheduler_path.clone())
        .map_err(|e| anyhow::anyhow!("{}: {e}", scheduler_path.display()))?;
    Ok(())
}

/// The newest checkpoint that loads. Broken newer ones (a run killed while writing) are
/// reported and skipped; none at all is an error that says what was found.
pub fn latest_valid_checkpoint<M: Module>(run_dir: &Path, model: &M) -> anyhow::Result<usize> {
    let epochs = checkpoint_epochs(run_dir);
    let mut problems = Vec::new();
    for epoch in epochs {
        match validate_checkpoint(run_dir, epoch, model) {
            Ok(()) => {
                for problem in &problems {
                    eprintln!("warning: skipping a broken checkpoint: {problem}");
                }
                return Ok(epoch);
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let dir = run_dir.join("checkpoint");
    if problems.is_empty() {
        anyhow::bail!(
            "--resume: no complete checkpoint in {} (expected model-N.bpk, optim-N.bpk and \
             scheduler-N.bpk for some epoch N); start a new run without --resume",
            dir.display()
        )
    }
    anyhow::bail!(
        "--resume: every checkpoint in {} is unreadable:\n  {}\nDelete the folder and start again",
        dir.display(),
        problems.join("\n  ")
    )
}
