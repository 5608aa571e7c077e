//! Training one model on several devices (`--devices A,B,… [--strategy multi|ddp]`): through
//! Burn's own execution strategies for the Learner's models (the image classifiers), and through
//! [`Workers`], the same arithmetic, for the models on the run driver.
//!
//! - `multi` is Burn's `MultiDevice`: one worker thread per listed device (by position, so
//!   `flex,flex` gives two CPU workers), each running its own slice of the data; the gradients
//!   are summed on the first device, which takes one optimizer step. Any backend.
//! - `ddp` is distributed data parallel with an all-reduce (mean) of the gradients. Burn 0.22
//!   implements the all-reduce for CUDA only, and panics on other backends, so it is refused
//!   here for anything but `cuda` devices.

use crate::UsageError;
use crate::device::select_device;
use crate::flags::{RunFlags, Strategy};
use burn::module::Module;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
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
    crate::metrics::set_metrics_device(None);
    if flags.devices.len() < 2 {
        if flags.strategy == Some(Strategy::Ddp) {
            return Err(crate::UsageError(
                "--strategy ddp needs several --devices, e.g. --devices cuda:0,cuda:1".into(),
            )
            .into());
        }
        return Ok(None);
    }
    let devices = listed_devices(flags)?;
    if let Strategy::Multi = flags.strategy.unwrap_or(Strategy::Multi) {
        crate::metrics::set_metrics_device(Some(devices[0].clone()));
    }
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

/// The devices `--devices` names, or a usage error naming the one that does not exist here.
fn listed_devices(flags: &RunFlags) -> Result<Vec<Device>, UsageError> {
    flags
        .devices
        .iter()
        .map(|name| select_device(Some(name)).map(|(_, device)| device))
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| UsageError(format!("--devices: {e}")))
}

/// The data-parallel step of the models on the run driver: Burn's `MultiDevice` arithmetic
/// (`OptimMainDevice`) for a hand-written loop. Each optimizer step takes one batch per worker,
/// times `--grad-accumulation`; every worker runs forward and backward on its own fork of the
/// model, and the gradients are summed on the first device, which takes the one optimizer step.
/// So `--devices flex,flex` takes the same steps as one device with `--grad-accumulation 2`.
#[derive(Clone, Debug)]
pub struct Workers {
    /// Autodiff devices; the first is the main one, where the model and optimizer live.
    devices: Vec<Device>,
    /// Batches each worker runs per step, one after another.
    accumulation: usize,
}

impl Workers {
    /// The workers `--devices` and `--grad-accumulation` ask for; one worker on `device` (the
    /// run's device) when `--devices` lists fewer than two.
    pub fn new(flags: &RunFlags, device: &Device) -> Result<Self, UsageError> {
        if flags.grad_accumulation == 0 {
            return Err(UsageError(
                "--grad-accumulation 0: give the number of batches per step, 1 or more".into(),
            ));
        }
        if flags.strategy == Some(Strategy::Ddp) {
            return Err(UsageError(
                "--strategy ddp is for the image classifiers (Burn's Learner) on CUDA; this \
                 model's data-parallel step sums the gradients on the first device: leave \
                 --strategy out (multi)"
                    .into(),
            ));
        }
        let devices = if flags.devices.len() < 2 {
            vec![device.clone()]
        } else {
            listed_devices(flags)?
        };
        Ok(Self {
            devices: devices.into_iter().map(Device::autodiff).collect(),
            accumulation: flags.grad_accumulation,
        })
    }

    /// Batches one optimizer step takes.
    pub fn batches_per_step(&self) -> usize {
        self.devices.len() * self.accumulation
    }

    /// Optimizer steps in an epoch of `batches` batches (the last step may take fewer).
    pub fn steps(&self, batches: usize) -> usize {
        batches.div_ceil(self.batches_per_step())
    }

    /// How the run shares out its steps, to follow the device name in the run's first line:
    /// e.g. ` (2 workers × 1 batch per step)`; empty for one batch per step.
    pub fn label(&self) -> String {
        if self.batches_per_step() == 1 {
            return String::new();
        }
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            " ({} × {} per step)",
            plural(self.devices.len(), "worker", "workers"),
            plural(self.accumulation, "batch", "batches")
        )
    }

    /// The summed gradients of one optimizer step over `batches` (at most
    /// [`batches_per_step`](Self::batches_per_step)), and each batch's output in order.
    ///
    /// `loss_of(model, batch, device)` builds the batch on `device`, runs the model and returns
    /// the loss to differentiate with what the loop logs; batch `i` runs on worker `i % n`,
    /// the workers in parallel threads. Outputs should be host values (sums, counts): a
    /// tensor in them would live on its worker's device. Gradients are summed in batch order,
    /// so a run does not depend on thread timing. Random draws (dropout, sampling) come from
    /// each worker's device in thread order, so with several workers they are not
    /// reproducible run to run.
    pub fn step<M, B, O, F>(
        &self,
        model: &M,
        batches: impl IntoIterator<Item = B>,
        loss_of: F,
    ) -> anyhow::Result<(GradientsParams, Vec<O>)>
    where
        M: Module,
        B: Send,
        O: Send,
        F: Fn(&M, B, &Device) -> anyhow::Result<(Tensor<1>, O)> + Sync,
    {
        let mut sum = GradientsAccumulator::<M>::new();
        let mut outputs = Vec::new();
        if self.devices.len() == 1 {
            for batch in batches {
                let (loss, output) = loss_of(model, batch, &self.devices[0])?;
                sum.accumulate(model, GradientsParams::from_grads(loss.backward(), model));
                outputs.push(output);
            }
            return Ok((sum.grads(), outputs));
        }
        let n = self.devices.len();
        let mut shares: Vec<Vec<(usize, B)>> = (0..n).map(|_| Vec::new()).collect();
        for (i, batch) in batches.into_iter().enumerate() {
            shares[i % n].push((i, batch));
        }
        let loss_of = &loss_of;
        let mut results = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .zip(&self.devices)
                .map(|(share, device)| {
                    let worker = model.clone();
                    scope.spawn(move || {
                        // A fork has its own autodiff graph and keeps the parameter ids, so
                        // its gradients map onto the main model's parameters.
                        let worker = worker.fork(device);
                        share
                            .into_iter()
                            .map(|(i, batch)| {
                                let (loss, output) = loss_of(&worker, batch, device)?;
                                let grads = GradientsParams::from_grads(loss.backward(), &worker);
                                Ok((i, grads, output))
                            })
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&self.devices)
                .map(|(handle, device)| match handle.join() {
                    Ok(result) => result,
                    Err(panic) => Err(anyhow::anyhow!(
                        "the training worker on {device:?} failed: {}",
                        panic_message(panic.as_ref())
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })?
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
        results.sort_by_key(|(i, ..)| *i);
        let main = &self.devices[0];
        for (_, grads, output) in results {
            sum.accumulate(model, grads.to_device(main, model));
            outputs.push(output);
        }
        Ok((sum.grads(), outputs))
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// Four batches of 3 examples with 4 features each, deterministic and distinct.
    fn batches() -> Vec<Vec<f32>> {
        (0..4)
            .map(|b| {
                (0..12)
                    .map(|i| ((b * 12 + i) as f32 * 0.37).sin())
                    .collect()
            })
            .collect()
    }

    fn loss_of(
        model: &Linear,
        batch: Vec<f32>,
        device: &Device,
    ) -> anyhow::Result<(Tensor<1>, f32)> {
        let x = Tensor::<2>::from_data(TensorData::new(batch.clone(), [3, 4]), device);
        let loss = model.forward(x).powi_scalar(2).mean().reshape([1]); // [1]
        Ok((loss.clone(), batch[0]))
    }

    fn gradients(workers: &Workers, model: &Linear) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (mut grads, firsts) = workers.step(model, batches(), loss_of).unwrap();
        let weight: Tensor<2> = grads.remove(model.weight.id).unwrap();
        let bias: Tensor<1> = grads.remove(model.bias.as_ref().unwrap().id).unwrap();
        let values = |t: TensorData| t.try_into_vec::<f32>().unwrap();
        (values(weight.into_data()), values(bias.into_data()), firsts)
    }

    #[test]
    fn two_workers_sum_the_gradients_one_worker_accumulates() {
        let device = Device::flex().autodiff();
        device.seed(7);
        let model = LinearConfig::new(4, 2).init(&device);
        let two = Workers {
            devices: vec![device.clone(), Device::flex().autodiff()],
            accumulation: 2,
        };
        let one = Workers {
            devices: vec![device.clone()],
            accumulation: 4,
        };
        assert_eq!((two.batches_per_step(), one.batches_per_step()), (4, 4));
        assert_eq!(two.steps(9), 3);
        assert_eq!(two.label(), " (2 workers × 2 batches per step)");
        let (w2, b2, firsts2) = gradients(&two, &model);
        let (w1, b1, firsts1) = gradients(&one, &model);
        // Outputs come back in batch order whichever worker ran them.
        let expected: Vec<f32> = batches().iter().map(|b| b[0]).collect();
        assert_eq!(firsts2, expected);
        assert_eq!(firsts1, expected);
        assert!(max_abs_diff(&w2, &w1) <= 1e-6, "{w2:?} vs {w1:?}");
        assert!(max_abs_diff(&b2, &b1) <= 1e-6, "{b2:?} vs {b1:?}");
        // The sum is of all four batches: one batch alone gives a different gradient.
        let single = Workers {
            devices: vec![device],
            accumulation: 1,
        };
        let (mut grads, _) = single
            .step(&model, batches()[..1].to_vec(), loss_of)
            .unwrap();
        let w: Tensor<2> = grads.remove(model.weight.id).unwrap();
        let w = w.into_data().try_into_vec::<f32>().unwrap();
        assert!(max_abs_diff(&w, &w1) > 1e-3);
    }

    #[test]
    fn a_failing_batch_fails_the_step_with_its_message() {
        let device = Device::flex().autodiff();
        let model = LinearConfig::new(4, 2).init(&device);
        let two = Workers {
            devices: vec![device.clone(), device],
            accumulation: 1,
        };
        let error = two
            .step(
                &model,
                batches()[..2].to_vec(),
                |_: &Linear, _: Vec<f32>, _: &Device| { anyhow::bail!("batch could not be read") }
                    as anyhow::Result<(Tensor<1>, ())>,
            )
            .unwrap_err();
        assert!(
            error.to_string().contains("batch could not be read"),
            "{error}"
        );
    }
}
