//! Dropout with its mask drawn from a counter-based hash, in one pass, as a Burn backend
//! extension.
//!
//! Burn 0.22's `Dropout::forward` draws a Bernoulli mask on the host, one ChaCha draw per
//! element, then multiplies twice (mask, then 1/keep): three passes and the slowest part of
//! the MLP's step. Here element i is kept when a hash of (seed, i) is at or above p · 2³²,
//! which vectorises, and the backward hashes the same (seed, i) again instead of storing a
//! mask. The seed of each call is drawn from the device's generator, so `--seed` still fixes
//! every mask; the masks differ from Burn's own (another generator), not their distribution.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::mem::MaybeUninit;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{Backend, Dispatch, backend_extension, tensor::FloatTensor};
use burn::nn::Dropout;
use burn::prelude::*;
use burn::tensor::{DType, Distribution};

use crate::host::{map, par_filled};
use crate::isa::{self, with_isa};

/// Elements per parallel task.
const CHUNK: usize = 16 * 1024;

/// One dropout call: drop probability and the seed of its mask.
#[derive(Clone, Copy, Debug)]
pub struct DropoutSpec {
    pub prob: f64,
    pub seed: u64,
}

impl DropoutSpec {
    /// Elements whose hash is below this are dropped: p · 2³².
    fn threshold(&self) -> u32 {
        (self.prob * 4_294_967_296.0).min(u32::MAX as f64) as u32
    }

    /// 1 / (1 - p): what kept elements are scaled by.
    fn scale(&self) -> f32 {
        (1.0 / (1.0 - self.prob)) as f32
    }
}

/// Dropout as a Burn backend extension.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastDropoutBackend: Backend {
    fn fast_dropout(x: FloatTensor<Self>, spec: DropoutSpec) -> FloatTensor<Self>;
}

/// `layer.forward(x)`: identity outside training (as Burn's), the one-pass kernel on a supported
/// device, Burn's module otherwise.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !layer.training.is_enabled() || !device.is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    if !crate::supported(&device) || x.dtype() != DType::F32 {
        return layer.forward(x);
    }
    // 64 bits from the device's generator (seeded by `--seed`), as two 32-bit draws.
    let draws = Tensor::<1>::random(
        [2],
        Distribution::Uniform(0.0, 1.0),
        &device.without_autodiff(),
    )
    .into_data()
    .to_vec::<f32>()
    .expect("f32 draws");
    let bits = |u: f32| (u as f64 * 4_294_967_296.0) as u64;
    let spec = DropoutSpec {
        prob: layer.prob,
        seed: bits(draws[0]) << 32 | bits(draws[1]),
    };
    Tensor::from_dispatch(<Dispatch as FastDropoutBackend>::fast_dropout(
        x.into_dispatch(),
        spec,
    ))
}

/// A 32-bit integer hash with good avalanche (Chris Wellons' `lowbias32`); multiplies and
/// shifts on 32-bit lanes only, so it vectorises on AVX2.
#[inline(always)]
fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// `values[i] · scale` where element `start + i` is kept, 0 where it is dropped.
#[inline(always)]
fn masked(values: &[f32], start: usize, spec: DropoutSpec, out: &mut [MaybeUninit<f32>]) {
    let (low, high) = (spec.seed as u32, (spec.seed >> 32) as u32);
    let (threshold, scale) = (spec.threshold(), spec.scale());
    for (i, (o, v)) in out.iter_mut().zip(values).enumerate() {
        let index = (start + i) as u32;
        let keep = hash32(hash32(index.wrapping_add(low)) ^ high) >= threshold;
        o.write(if keep { v * scale } else { 0.0 });
    }
}

/// The forward (`values` = x) and the backward (`values` = dy): the same mask both ways.
fn apply(values: &[f32], spec: DropoutSpec) -> Vec<f32> {
    let isa = isa::active();
    par_filled(values.len(), CHUNK, |i, out| {
        let at = i * CHUNK;
        let values = &values[at..][..out.len()];
        with_isa(
            isa,
            #[inline(always)]
            || masked(values, at, spec, out),
        )
    })
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastDropoutBackend for $backend {
            fn fast_dropout(x: FloatTensor<Self>, spec: DropoutSpec) -> FloatTensor<Self> {
                map::<Self>(x, |x, _| apply(x, spec))
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastDropoutBackend for Autodiff<B, C> {
    fn fast_dropout(x: FloatTensor<Self>, spec: DropoutSpec) -> FloatTensor<Self> {
        let prep = DropoutBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let y = map::<B>(x.into_primitive(), |x, _| apply(x, spec));
        match prep {
            OpsKind::Tracked(prep) => prep.finish(spec, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// Keeps the seed only: the backward hashes the same elements again.
#[derive(Debug)]
struct DropoutBackward;

impl<B: Backend> Backward<B, 1> for DropoutBackward {
    type State = DropoutSpec;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let dy = grads.consume::<B>(&ops.node);
        let spec = ops.state;
        grads.register::<B>(node.id, map::<B>(dy, |dy, _| apply(dy, spec)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Isa;
    use burn::nn::DropoutConfig;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    #[test]
    fn keeps_the_expected_share_scales_it_and_routes_gradients_through_the_same_mask() {
        let device = Device::default().autodiff();
        device.seed(7);
        let layer = DropoutConfig::new(0.1).init();
        let n = 1 << 20;
        let x = Tensor::<2>::random([1024, n / 1024], Distribution::Uniform(1.0, 2.0), &device)
            .require_grad();
        for isa in Isa::ALL.into_iter().filter(|isa| *isa <= isa::detected()) {
            isa::force(Some(isa));
            device.seed(11);
            let y = dropout(&layer, x.clone());
            let grads = (y.clone() * 3.0).sum().backward();
            let dx = values(x.grad(&grads).unwrap());
            isa::force(None);
            let (y, xs) = (values(y), values(x.clone()));
            let kept = y.iter().filter(|v| **v != 0.0).count() as f64 / n as f64;
            // Binomial: the kept share is within 6 standard deviations (3e-4) of 0.9.
            assert!((kept - 0.9).abs() < 2e-3, "{}: kept {kept}", isa.name());
            for ((y, x), dx) in y.iter().zip(&xs).zip(&dx) {
                if *y == 0.0 {
                    assert_eq!(*dx, 0.0);
                } else {
                    assert!((y - x / 0.9).abs() <= 1e-6 * y.abs());
                    assert!((dx - 3.0 / 0.9).abs() <= 1e-5);
                }
            }
        }
    }

    #[test]
    fn seeded_masks_repeat_and_successive_calls_differ() {
        let device = Device::default().autodiff();
        let layer = DropoutConfig::new(0.5).init();
        let x = Tensor::<1>::ones([4096], &device);
        device.seed(3);
        let (a, b) = (
            values(dropout(&layer, x.clone())),
            values(dropout(&layer, x.clone())),
        );
        device.seed(3);
        assert_eq!(values(dropout(&layer, x.clone())), a);
        assert_ne!(a, b);
        // Neighbouring elements are independent: no runs longer than chance allows.
        let longest = a
            .iter()
            .fold((0, 0), |(run, best), v| {
                let run = if *v == 0.0 { run + 1 } else { 0 };
                (run, best.max(run))
            })
            .1;
        assert!(longest < 25, "a run of {longest} dropped elements");
    }

    #[test]
    fn identity_outside_training_and_without_autodiff() {
        let layer = DropoutConfig::new(0.5).init();
        let plain = Tensor::<1>::ones([64], &Device::default());
        assert_eq!(values(dropout(&layer, plain.clone())), values(plain));
        let tracked = Tensor::<1>::ones([64], &Device::default().autodiff());
        let validating = burn::module::Module::valid(&layer);
        assert_eq!(
            values(dropout(&validating, tracked.clone())),
            values(tracked.clone())
        );
        let off = DropoutConfig::new(0.0).init();
        assert_eq!(values(dropout(&off, tracked.clone())), values(tracked));
    }
}
