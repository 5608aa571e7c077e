//! Batch normalisation with batch statistics (training), optionally followed by ReLU or leaky
//! ReLU, as one Burn backend extension with a hand-written backward.
//!
//! Burn 0.22's CPU `batch_norm_train` is a composite of about eight whole-tensor passes forward
//! (two of them `swap_dims` copies to reduce over channels) and twelve backward. Here a
//! channel's values are `batch` contiguous planes of an NCHW tensor, so each pass runs per
//! channel over those planes, in parallel over channels: forward reads the input twice (mean,
//! then centred variance) and writes the output once with the scale, shift and activation
//! applied; backward recomputes the normalised input and the activation's slope from the input
//! (nothing else is kept), sums `dy` and `dy · x̂` per channel, and writes `dx` in one more
//! pass. The equations and the biased batch variance are Burn's (`ModuleOps::batch_norm_train`
//! and its backward),
//! so running statistics and parity with PyTorch are unchanged.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::mem::MaybeUninit;
use std::sync::{Arc, Mutex};

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, Dispatch, ExtensionType, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::nn::BatchNorm;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use crate::host::{device_tensor, par_filled, read};
use crate::isa::{self, with_isa};

/// The batch mean and (biased) variance per channel of the last forward, for the running
/// statistics; filled by the kernel.
#[derive(Clone, Debug, Default)]
pub struct BatchStats(Arc<Mutex<Option<Moments>>>);

/// Per-channel mean and variance.
pub type Moments = (Vec<f32>, Vec<f32>);

/// Options of a batch norm.
#[derive(Clone, Debug)]
pub struct NormSpec {
    pub epsilon: f64,
    /// The activation after the normalisation: none, ReLU (`Some(0.0)`) or leaky ReLU with
    /// this slope for negative inputs.
    pub negative_slope: Option<f32>,
    /// Fixed per-channel mean and variance (the running statistics: evaluation, or a frozen
    /// layer), or `None` for the batch's own (training), reported through `stats`.
    pub fixed: Option<Moments>,
    pub stats: BatchStats,
}

/// `x` NCHW, `gamma` and `beta` `[channels]`.
#[derive(ExtensionType)]
pub struct NormInputs<B: Backend> {
    pub x: FloatTensor<B>,
    pub gamma: FloatTensor<B>,
    pub beta: FloatTensor<B>,
}

/// Training-mode batch norm (+ ReLU) as a Burn backend extension.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastNormBackend: Backend {
    fn fast_batch_norm(
        #[extension_type] inputs: NormInputs<Self>,
        spec: NormSpec,
    ) -> FloatTensor<Self>;
}

/// `bn.forward(x)`, followed by ReLU when `relu`, through the fused kernel where it applies
/// (a supported device, f32); Burn's modules otherwise. As `BatchNorm::forward`, a layer in
/// training mode on an autodiff device uses the batch's statistics and updates the running
/// ones; otherwise it normalises with the running statistics.
pub fn batch_norm(bn: &BatchNorm, x: Tensor<4>, relu: bool) -> Tensor<4> {
    batch_norm_activated(bn, x, relu.then_some(0.0))
}

/// `leaky_relu(bn.forward(x), negative_slope)` in one fused pass, as [`batch_norm`].
pub fn batch_norm_leaky_relu(bn: &BatchNorm, x: Tensor<4>, negative_slope: f64) -> Tensor<4> {
    batch_norm_activated(bn, x, Some(negative_slope as f32))
}

fn batch_norm_activated(bn: &BatchNorm, x: Tensor<4>, negative_slope: Option<f32>) -> Tensor<4> {
    let device = x.device();
    let training = device.is_autodiff() && bn.training.is_enabled();
    let gamma = bn.gamma.val();
    if !crate::supported(&device) || x.dtype() != DType::F32 || gamma.dtype() != DType::F32 {
        let y = bn.forward(x);
        return match negative_slope {
            None => y,
            Some(0.0) => burn::tensor::activation::relu(y),
            Some(slope) => burn::tensor::activation::leaky_relu(y, slope as f64),
        };
    }
    let running = |state: &burn::module::RunningState<Tensor<1>>| {
        state
            .value()
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("f32 statistics")
    };
    let stats = BatchStats::default();
    let spec = NormSpec {
        epsilon: bn.epsilon,
        negative_slope,
        fixed: (!training).then(|| (running(&bn.running_mean), running(&bn.running_var))),
        stats: stats.clone(),
    };
    let inputs = NormInputs::<Dispatch> {
        x: x.into_dispatch(),
        gamma: gamma.into_dispatch(),
        beta: bn.beta.val().into_dispatch(),
    };
    let y = Tensor::from_dispatch(<Dispatch as FastNormBackend>::fast_batch_norm(inputs, spec));
    if !training {
        return y;
    }
    let (mean, variance) = stats
        .0
        .lock()
        .expect("batch statistics")
        .take()
        .expect("filled by the kernel");
    // Burn's running-statistics update (`BatchNorm::forward_train`).
    let m = bn.momentum;
    let update = |running: &burn::module::RunningState<Tensor<1>>, batch: Vec<f32>| {
        let batch = Tensor::<1>::from_data(TensorData::new(batch, [bn.gamma.dims()[0]]), &device);
        let old = running.value_sync().to_device(&device);
        running.update(old.mul_scalar(1.0 - m).add(batch.mul_scalar(m)).detach());
    };
    update(&bn.running_mean, mean);
    update(&bn.running_var, variance);
    y
}

/// Per-channel statistics of NCHW `x`: mean and biased variance, in f64 sums.
fn statistics(x: &[f32], dims: [usize; 4]) -> Moments {
    let [batch, channels, h, w] = dims;
    let plane = h * w;
    let count = (batch * plane) as f64;
    let isa = isa::active();
    let planes = |c: usize| (0..batch).map(move |n| &x[(n * channels + c) * plane..][..plane]);
    (0..channels)
        .into_par_iter()
        .map(|c| {
            with_isa(
                isa,
                #[inline(always)]
                || {
                    let mean = planes(c).map(|p| sum(p, |v| v as f64)).sum::<f64>() / count;
                    let variance = planes(c)
                        .map(|p| sum(p, |v| (v as f64 - mean) * (v as f64 - mean)))
                        .sum::<f64>()
                        / count;
                    (mean as f32, variance as f32)
                },
            )
        })
        .unzip()
}

/// `Σ f(v)` over a plane, in eight independent partial sums (so the loop vectorises).
#[inline(always)]
fn sum(plane: &[f32], f: impl Fn(f32) -> f64) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = plane.chunks_exact(8);
    let rest: f64 = chunks.remainder().iter().map(|v| f(*v)).sum();
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += f(*v);
        }
    }
    acc.iter().sum::<f64>() + rest
}

/// Per channel, the affine map `x ↦ x · scale + shift` the normalisation is.
fn affine(
    mean: &[f32],
    variance: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> Vec<(f32, f32)> {
    (0..mean.len())
        .map(|c| {
            let inv_std = (1.0 / (variance[c] as f64 + epsilon).sqrt()) as f32;
            let scale = gamma[c] * inv_std;
            (scale, beta[c] - mean[c] * scale)
        })
        .collect()
}

/// Applies `affine` (and the activation) to every plane of NCHW `x`.
fn normalise(
    x: &[f32],
    dims: [usize; 4],
    maps: &[(f32, f32)],
    negative_slope: Option<f32>,
) -> Vec<f32> {
    let [_, channels, h, w] = dims;
    let plane = h * w;
    let isa = isa::active();
    let slope = slope_of(negative_slope);
    par_filled(x.len(), plane, |i, out| {
        let (scale, shift) = maps[i % channels];
        let x = &x[i * plane..(i + 1) * plane];
        with_isa(
            isa,
            #[inline(always)]
            || normalise_plane(x, [scale, shift, slope], out),
        )
    })
}

/// The slope below 0 of the activation: 0 for ReLU, 1 for none (the identity), so that every
/// case is the same branch-free select in the loops.
fn slope_of(negative_slope: Option<f32>) -> f32 {
    negative_slope.unwrap_or(1.0)
}

/// The activation of a pre-activation value: below 0, times the slope ([`slope_of`]).
#[inline(always)]
fn activate(pre_activation: f32, slope: f32) -> f32 {
    if pre_activation < 0.0 {
        pre_activation * slope
    } else {
        pre_activation
    }
}

/// What the backward needs: the input (still on the device) and the statistics.
#[derive(Clone, Debug)]
struct NormTape<B: Backend> {
    x: FloatTensor<B>,
    gamma: Vec<f32>,
    beta: Vec<f32>,
    mean: Vec<f32>,
    variance: Vec<f32>,
    spec: NormSpec,
}

fn norm_forward<B: Backend>(
    inputs: NormInputs<B>,
    spec: NormSpec,
) -> (FloatTensor<B>, NormTape<B>) {
    let device = inputs.x.device();
    let gamma = read::<B, _>(inputs.gamma, |g, _| g.to_vec());
    let beta = read::<B, _>(inputs.beta, |b, _| b.to_vec());
    let x = inputs.x;
    let (y, shape, mean, variance) = read::<B, _>(x.clone(), |x, shape| {
        let dims: [usize; 4] = shape.try_into().expect("a 4-D batch norm input");
        let (mean, variance) = spec.fixed.clone().unwrap_or_else(|| statistics(x, dims));
        let maps = affine(&mean, &variance, &gamma, &beta, spec.epsilon);
        (
            normalise(x, dims, &maps, spec.negative_slope),
            shape.to_vec(),
            mean,
            variance,
        )
    });
    *spec.stats.0.lock().expect("batch statistics") = Some((mean.clone(), variance.clone()));
    let tape = NormTape {
        x,
        gamma,
        beta,
        mean,
        variance,
        spec,
    };
    (device_tensor::<B>(y, &shape, &device), tape)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastNormBackend for $backend {
            fn fast_batch_norm(inputs: NormInputs<Self>, spec: NormSpec) -> FloatTensor<Self> {
                norm_forward::<Self>(inputs, spec).0
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastNormBackend for Autodiff<B, C> {
    fn fast_batch_norm(inputs: NormInputs<Self>, spec: NormSpec) -> FloatTensor<Self> {
        let nodes = [inputs.x.node(), inputs.gamma.node(), inputs.beta.node()];
        let prep = NormBackward.prepare::<C>(nodes).compute_bound().stateful();
        let inputs = NormInputs::<B> {
            x: inputs.x.into_primitive(),
            gamma: inputs.gamma.into_primitive(),
            beta: inputs.beta.into_primitive(),
        };
        let (y, tape) = norm_forward::<B>(inputs, spec);
        match prep {
            OpsKind::Tracked(prep) => prep.finish(tape, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

#[derive(Debug)]
struct NormBackward;

impl<B: Backend> Backward<B, 3> for NormBackward {
    type State = NormTape<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let device = dy.device();
        let tape = ops.state;
        let (dx, d_gamma, d_beta, shape) = read::<B, _>(tape.x.clone(), |x, shape| {
            let dims: [usize; 4] = shape.try_into().expect("a 4-D batch norm input");
            let (dx, d_gamma, d_beta) =
                read::<B, _>(dy, |dy, _| norm_grads(x, dy, dims, &tape, node_x.is_some()));
            (dx, d_gamma, d_beta, shape.to_vec())
        });
        let channels = shape[1];
        if let (Some(node), Some(dx)) = (node_x, dx) {
            grads.register::<B>(node.id, device_tensor::<B>(dx, &shape, &device));
        }
        if let Some(node) = node_gamma {
            grads.register::<B>(node.id, device_tensor::<B>(d_gamma, &[channels], &device));
        }
        if let Some(node) = node_beta {
            grads.register::<B>(node.id, device_tensor::<B>(d_beta, &[channels], &device));
        }
    }
}

/// `dx` (when wanted), `dγ`, `dβ` from the input and the output gradient.
fn norm_grads<B: Backend>(
    x: &[f32],
    dy: &[f32],
    dims: [usize; 4],
    tape: &NormTape<B>,
    want_dx: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let [batch, channels, h, w] = dims;
    let plane = h * w;
    let count = (batch * plane) as f64;
    let inv_std: Vec<f32> = tape
        .variance
        .iter()
        .map(|v| (1.0 / (*v as f64 + tape.spec.epsilon).sqrt()) as f32)
        .collect();
    let slope = slope_of(tape.spec.negative_slope);
    // The forward's own affine maps, so that the ReLU mask is exactly the forward's.
    let maps = affine(
        &tape.mean,
        &tape.variance,
        &tape.gamma,
        &tape.beta,
        tape.spec.epsilon,
    );
    // Per channel: Σ g and Σ g·x̂, where g is dy masked by the ReLU (pre-activation > 0).
    let isa = isa::active();
    let sums: Vec<(f64, f64)> = (0..channels)
        .into_par_iter()
        .map(|c| {
            let (mean, inv, (scale, shift)) = (tape.mean[c], inv_std[c], maps[c]);
            let (mut sum_g, mut sum_gx) = (0.0f64, 0.0f64);
            for n in 0..batch {
                let at = (n * channels + c) * plane;
                let (g, gx) = with_isa(
                    isa,
                    #[inline(always)]
                    || {
                        plane_grad_sums(
                            &x[at..at + plane],
                            &dy[at..at + plane],
                            [mean, inv, scale, shift],
                            slope,
                        )
                    },
                );
                sum_g += g;
                sum_gx += gx;
            }
            (sum_g, sum_gx)
        })
        .collect();
    let d_beta: Vec<f32> = sums.iter().map(|s| s.0 as f32).collect();
    let d_gamma: Vec<f32> = sums.iter().map(|s| s.1 as f32).collect();
    let dx = want_dx.then(|| {
        par_filled(x.len(), plane, |i, out| {
            let c = i % channels;
            let at = i * plane;
            let (mean, inv, (scale, shift)) = (tape.mean[c], inv_std[c], maps[c]);
            // With batch statistics, the mean and variance depend on x too; fixed ones do not.
            let (mean_g, mean_gx) = match tape.spec.fixed {
                None => ((sums[c].0 / count) as f32, (sums[c].1 / count) as f32),
                Some(_) => (0.0, 0.0),
            };
            with_isa(
                isa,
                #[inline(always)]
                || {
                    plane_input_grad(
                        &x[at..at + plane],
                        &dy[at..at + plane],
                        [mean, inv, scale, shift, slope, mean_g, mean_gx],
                        out,
                    )
                },
            )
        })
    });
    (dx, d_gamma, d_beta)
}

/// `dy` times the activation's derivative at the pre-activation: 1 above 0, the slope
/// ([`slope_of`]) at or below it.
#[inline(always)]
fn activation_grad(dy: f32, pre_activation: f32, slope: f32) -> f32 {
    if pre_activation <= 0.0 {
        dy * slope
    } else {
        dy
    }
}

/// Σ g and Σ g·x̂ over one plane of a channel (`[mean, inv_std, scale, shift]`), in eight f32
/// lanes of partial sums, added up in f64.
///
/// This and the other per-plane loops take their scalars by value: read through a closure's
/// captures, which the compiler cannot prove unaliased with the output, they kept the loops
/// scalar.
#[inline(always)]
fn plane_grad_sums(
    x: &[f32],
    dy: &[f32],
    [mean, inv, scale, shift]: [f32; 4],
    slope: f32,
) -> (f64, f64) {
    let (mut g_acc, mut gx_acc) = ([0.0f32; 8], [0.0f32; 8]);
    let (xs, dys) = (x.chunks_exact(8), dy.chunks_exact(8));
    let (x_rest, dy_rest) = (xs.remainder(), dys.remainder());
    for (x, dy) in xs.zip(dys) {
        for lane in 0..8 {
            let g = activation_grad(dy[lane], x[lane] * scale + shift, slope);
            g_acc[lane] += g;
            gx_acc[lane] += g * ((x[lane] - mean) * inv);
        }
    }
    for (lane, (x, dy)) in x_rest.iter().zip(dy_rest).enumerate() {
        let g = activation_grad(*dy, x * scale + shift, slope);
        g_acc[lane] += g;
        gx_acc[lane] += g * ((x - mean) * inv);
    }
    let total = |acc: [f32; 8]| acc.iter().map(|v| *v as f64).sum::<f64>();
    (total(g_acc), total(gx_acc))
}

/// One plane of the output: `activate(x · scale + shift)`.
#[inline(always)]
fn normalise_plane(x: &[f32], [scale, shift, slope]: [f32; 3], out: &mut [MaybeUninit<f32>]) {
    for (o, v) in out.iter_mut().zip(x) {
        o.write(activate(v * scale + shift, slope));
    }
}

/// One plane of dx: `scale · (g - mean(g) - x̂ · mean(g x̂))`, g the activation's gradient.
#[inline(always)]
fn plane_input_grad(
    x: &[f32],
    dy: &[f32],
    [mean, inv, scale, shift, slope, mean_g, mean_gx]: [f32; 7],
    out: &mut [MaybeUninit<f32>],
) {
    for ((o, x), dy) in out.iter_mut().zip(x).zip(dy) {
        let x_hat = (x - mean) * inv;
        let g = activation_grad(*dy, x * scale + shift, slope);
        o.write(scale * (g - mean_g - x_hat * mean_gx));
    }
}
