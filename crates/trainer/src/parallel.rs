//! Training one model on several devices (`--devices A,B,… [--strategy multi|ddp]`) through
//! Burn's own execution strategies, for the Learner's models (the image classifiers).
//!
//! - `multi` is Burn's `MultiDevice`: one worker thread per listed device (by position, so
//!   `flex,flex` gives two CPU workers), each running its own slice of the data; the gradients
//!   are summed on the first device, which takes one optimizer step. Any backend.
//! - `ddp` is distributed data parallel with an all-reduce (mean) of the gradients. Burn 0.22
//!   implements the all-reduce for CUDA only, and panics on other backends, so it is refused
//!   here for anything but `cuda` devices.

use crate::device::select_device;
use crate::flags::{RunFlags, Strategy};
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::train::{ExecutionStrategy, MultiDeviceOptim};

/// The execution strategy several `--devices` ask for, and how to name it in reports.
pub struct Parallel {
    pub strategy: ExecutionStrategy,
    pub description: String,
}

/// None for one device; the strategy for several, or a usage error (exit status 2) for an
/// unknown device or a strategy the devices cannot run.
pub fn strategy(flags: &RunFlags) -> anyhow::Result<Option<Parallel>> {
    if flags.devices.len() < 2 {
        if flags.strategy == Some(Strategy::Ddp) {
            return Err(crate::UsageError(
                "--strategy ddp needs several --devices, e.g. --devices cuda:0,cuda:1".into(),
            )
            .into());
        }
        return Ok(None);
    }
    let devices = flags
        .devices
        .iter()
        .map(|name| select_device(Some(name)).map(|(_, device)| device))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| crate::UsageError(format!("--devices: {e}")))?;
    let names = flags.devices.join(",");
    match flags.strategy.unwrap_or(Strategy::Multi) {
        Strategy::Multi => Ok(Some(Parallel {
            strategy: ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice),
            description: format!("{names} (multi-device data parallel)"),
        })),
        Strategy::Ddp => {
            if let Some(other) = flags.devices.iter().find(|d| !d.starts_with("cuda")) {
                return Err(crate::UsageError(format!(
                    "--strategy ddp on {other}: Burn 0.22's all-reduce exists for CUDA devices \
                     only; on CPU or other GPUs use --strategy multi (the default)"
                ))
                .into());
            }
            Ok(Some(Parallel {
                strategy: ExecutionStrategy::ddp(
                    devices,
                    DistributedConfig {
                        all_reduce_op: ReduceOperation::Mean,
                    },
                ),
                description: format!("{names} (distributed data parallel)"),
            }))
        }
    }
}
