//! GELU (the exact, erf form), softmax over the last dimension and leaky ReLU as one Burn
//! backend extension with hand-written backwards: BERT's two elementwise costs and the DCGAN
//! discriminator's on Burn's CPU backends.
//!
//! Burn 0.22's CPU GELU calls libm's scalar `erff` per element and its backward is a composite
//! of about ten whole-tensor passes; its softmax is four passes (max, subtract-exp, sum,
//! divide) with a scalar `expf`. Here each is one pass forward and one backward, in vector
//! instructions ([`crate::vmath`]) on both cores:
//! - GELU: y = x Φ(x); dx = dy (Φ(x) + x φ(x)), recomputed from the input the forward keeps.
//! - softmax: y = e^(x - max) / Σ e^(x - max) per row; dx = y (dy - Σ dy y), from the output
//!   the forward keeps.
//! - leaky ReLU: Burn's is a comparison, a multiply and a `mask_where` forward (three tensors)
//!   and as many again backward; here y = x or slope·x and dx = dy or slope·dy in one pass each.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::mem::MaybeUninit;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{Backend, Dispatch, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use burn::tensor::DType;

use crate::host::{map, par_filled, read};
use crate::isa::{self, with_isa};
use crate::vmath::{exp, normal_cdf_and_density};

/// Elements per parallel task of the GELU passes.
const GELU_CHUNK: usize = 16 * 1024;
/// Elements per parallel task of the softmax passes (whole rows).
const SOFTMAX_CHUNK: usize = 16 * 1024;

/// GELU and last-dimension softmax as a Burn backend extension.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastActivationBackend: Backend {
    fn fast_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;
    fn fast_softmax(x: FloatTensor<Self>) -> FloatTensor<Self>;
    fn fast_leaky_relu(x: FloatTensor<Self>, negative_slope: f32) -> FloatTensor<Self>;
}

/// `burn::tensor::activation::gelu(x)`, through the vectorised kernel on a supported device.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !crate::supported(&x.device()) || x.dtype() != DType::F32 {
        return burn::tensor::activation::gelu(x);
    }
    Tensor::from_dispatch(<Dispatch as FastActivationBackend>::fast_gelu(
        x.into_dispatch(),
    ))
}

/// `burn::tensor::activation::softmax(x, dim)`, through the vectorised kernel on a supported
/// device when `dim` is the last dimension.
pub fn softmax<const D: usize>(x: Tensor<D>, dim: usize) -> Tensor<D> {
    if dim + 1 != D || !crate::supported(&x.device()) || x.dtype() != DType::F32 {
        return burn::tensor::activation::softmax(x, dim);
    }
    Tensor::from_dispatch(<Dispatch as FastActivationBackend>::fast_softmax(
        x.into_dispatch(),
    ))
}

/// `burn::tensor::activation::leaky_relu(x, negative_slope)`, through the one-pass kernel on a
/// supported device.
pub fn leaky_relu<const D: usize>(x: Tensor<D>, negative_slope: f64) -> Tensor<D> {
    if !crate::supported(&x.device()) || x.dtype() != DType::F32 {
        return burn::tensor::activation::leaky_relu(x, negative_slope);
    }
    Tensor::from_dispatch(<Dispatch as FastActivationBackend>::fast_leaky_relu(
        x.into_dispatch(),
        negative_slope as f32,
    ))
}

// ---------------------------------------------------------------------------------------------
// The kernels on host slices.

/// `value` below 0 times `slope`, else itself: Burn's `x < 0` mask, for the output (`value` =
/// x) and the gradient (`value` = dy, `x` decides).
#[inline(always)]
fn leaky(x: f32, value: f32, slope: f32) -> f32 {
    if x < 0.0 { value * slope } else { value }
}

/// Leaky ReLU of `x` (`dy` = `None`) or its input gradient.
fn leaky_relu_pass(x: &[f32], dy: Option<&[f32]>, slope: f32) -> Vec<f32> {
    let isa = isa::active();
    par_filled(x.len(), GELU_CHUNK, |i, out| {
        let x = &x[i * GELU_CHUNK..][..out.len()];
        let dy = dy.map(|dy| &dy[i * GELU_CHUNK..][..out.len()]);
        with_isa(
            isa,
            #[inline(always)]
            || leaky_chunk(x, dy, slope, out),
        )
    })
}

/// One chunk of [`leaky_relu_pass`], its scalars by value so that the loops vectorise.
#[inline(always)]
fn leaky_chunk(x: &[f32], dy: Option<&[f32]>, slope: f32, out: &mut [MaybeUninit<f32>]) {
    match dy {
        None => {
            for (o, x) in out.iter_mut().zip(x) {
                o.write(leaky(*x, *x, slope));
            }
        }
        Some(dy) => {
            for ((o, x), dy) in out.iter_mut().zip(x).zip(dy) {
                o.write(leaky(*x, *dy, slope));
            }
        }
    }
}

fn gelu_forward(x: &[f32]) -> Vec<f32> {
    let isa = isa::active();
    par_filled(x.len(), GELU_CHUNK, |i, out| {
        let x = &x[i * GELU_CHUNK..][..out.len()];
        with_isa(
            isa,
            #[inline(always)]
            || gelu_chunk(x, out),
        )
    })
}

#[inline(always)]
fn gelu_chunk(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    for (o, x) in out.iter_mut().zip(x) {
        o.write(x * normal_cdf_and_density(*x).0);
    }
}

fn gelu_backward(x: &[f32], dy: &[f32]) -> Vec<f32> {
    let isa = isa::active();
    par_filled(x.len(), GELU_CHUNK, |i, out| {
        let at = i * GELU_CHUNK;
        let (x, dy) = (&x[at..][..out.len()], &dy[at..][..out.len()]);
        with_isa(
            isa,
            #[inline(always)]
            || gelu_grad_chunk(x, dy, out),
        )
    })
}

#[inline(always)]
fn gelu_grad_chunk(x: &[f32], dy: &[f32], out: &mut [MaybeUninit<f32>]) {
    for ((o, x), dy) in out.iter_mut().zip(x).zip(dy) {
        let (cdf, density) = normal_cdf_and_density(*x);
        o.write(dy * (cdf + x * density));
    }
}

/// Rows of `row` elements per parallel task: whole rows, about [`SOFTMAX_CHUNK`] elements.
fn softmax_chunk(row: usize) -> usize {
    (SOFTMAX_CHUNK / row).max(1) * row
}

fn softmax_forward(x: &[f32], row: usize) -> Vec<f32> {
    let isa = isa::active();
    let chunk = softmax_chunk(row);
    par_filled(x.len(), chunk, |i, out| {
        let x = &x[i * chunk..][..out.len()];
        with_isa(
            isa,
            #[inline(always)]
            || {
                for (x, out) in x.chunks_exact(row).zip(out.chunks_exact_mut(row)) {
                    softmax_row(x, out);
                }
            },
        )
    })
}

/// One row: its maximum, then e^(x - max) in a plain loop over the row (which the loop
/// vectoriser takes; an unrolled 8-wide body holding `exp` it did not), then the sum in eight
/// partial sums and the scaling, all on a row that stays in L1.
#[inline(always)]
fn softmax_row(x: &[f32], out: &mut [MaybeUninit<f32>]) {
    let mut maxima = [f32::NEG_INFINITY; 8];
    let chunks = x.chunks_exact(8);
    let mut max = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, v| m.max(*v));
    for chunk in chunks {
        for (m, v) in maxima.iter_mut().zip(chunk) {
            *m = m.max(*v);
        }
    }
    max = maxima.iter().fold(max, |m, v| m.max(*v));
    for (o, x) in out.iter_mut().zip(x) {
        o.write(exp(x - max));
    }
    // SAFETY: every element was written just above.
    let out = unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) };
    let mut sums = [0f32; 8];
    let chunks = out.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (s, e) in sums.iter_mut().zip(chunk) {
            *s += e;
        }
    }
    let scale = 1.0 / (sums.iter().sum::<f32>() + rest);
    for e in out.iter_mut() {
        *e *= scale;
    }
}

fn softmax_backward(y: &[f32], dy: &[f32], row: usize) -> Vec<f32> {
    let isa = isa::active();
    let chunk = softmax_chunk(row);
    par_filled(y.len(), chunk, |i, out| {
        let at = i * chunk;
        let (y, dy) = (&y[at..][..out.len()], &dy[at..][..out.len()]);
        with_isa(
            isa,
            #[inline(always)]
            || {
                for ((y, dy), out) in y
                    .chunks_exact(row)
                    .zip(dy.chunks_exact(row))
                    .zip(out.chunks_exact_mut(row))
                {
                    let mut sums = [0f32; 8];
                    for (y, dy) in y.chunks_exact(8).zip(dy.chunks_exact(8)) {
                        for ((s, y), dy) in sums.iter_mut().zip(y).zip(dy) {
                            *s += y * dy;
                        }
                    }
                    let tail = row / 8 * 8;
                    let dot = sums.iter().sum::<f32>()
                        + y[tail..]
                            .iter()
                            .zip(&dy[tail..])
                            .map(|(y, dy)| y * dy)
                            .sum::<f32>();
                    for ((o, y), dy) in out.iter_mut().zip(y).zip(dy) {
                        o.write(y * (dy - dot));
                    }
                }
            },
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The extension on the CPU backends and the autodiff decorator.

fn last(shape: &[usize]) -> usize {
    shape.last().copied().unwrap_or(1).max(1)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastActivationBackend for $backend {
            fn fast_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
                map::<Self>(x, |x, _| gelu_forward(x))
            }
            fn fast_softmax(x: FloatTensor<Self>) -> FloatTensor<Self> {
                map::<Self>(x, |x, shape| softmax_forward(x, last(shape)))
            }
            fn fast_leaky_relu(x: FloatTensor<Self>, negative_slope: f32) -> FloatTensor<Self> {
                map::<Self>(x, |x, _| leaky_relu_pass(x, None, negative_slope))
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastActivationBackend for Autodiff<B, C> {
    fn fast_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = GeluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let x = x.into_primitive();
        let y = map::<B>(x.clone(), |x, _| gelu_forward(x));
        match prep {
            OpsKind::Tracked(prep) => prep.finish(x, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fast_softmax(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = SoftmaxBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let y = map::<B>(x.into_primitive(), |x, shape| {
            softmax_forward(x, last(shape))
        });
        match prep {
            OpsKind::Tracked(prep) => prep.finish(y.clone(), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fast_leaky_relu(x: FloatTensor<Self>, negative_slope: f32) -> FloatTensor<Self> {
        let prep = LeakyReluBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let x = x.into_primitive();
        let y = map::<B>(x.clone(), |x, _| leaky_relu_pass(x, None, negative_slope));
        match prep {
            OpsKind::Tracked(prep) => prep.finish((x, negative_slope), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// Keeps leaky ReLU's input and slope.
#[derive(Debug)]
struct LeakyReluBackward;

impl<B: Backend> Backward<B, 1> for LeakyReluBackward {
    type State = (FloatTensor<B>, f32);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let dy = grads.consume::<B>(&ops.node);
        let (x, slope) = ops.state;
        let dx = read::<B, _>(x, |x, _| {
            map::<B>(dy, |dy, _| leaky_relu_pass(x, Some(dy), slope))
        });
        grads.register::<B>(node.id, dx);
    }
}

/// Keeps GELU's input.
#[derive(Debug)]
struct GeluBackward;

impl<B: Backend> Backward<B, 1> for GeluBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let dy = grads.consume::<B>(&ops.node);
        let dx = read::<B, _>(ops.state, |x, _| map::<B>(dy, |dy, _| gelu_backward(x, dy)));
        grads.register::<B>(node.id, dx);
    }
}

/// Keeps softmax's output.
#[derive(Debug)]
struct SoftmaxBackward;

impl<B: Backend> Backward<B, 1> for SoftmaxBackward {
    type State = FloatTensor<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [Some(node)] = ops.parents else { return };
        let dy = grads.consume::<B>(&ops.node);
        let dx = read::<B, _>(ops.state, |y, shape| {
            let row = last(shape);
            map::<B>(dy, |dy, _| softmax_backward(y, dy, row))
        });
        grads.register::<B>(node.id, dx);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Isa;
    use burn::tensor::Distribution;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().to_vec::<f32>().unwrap()
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    /// The kernel and Burn's op on the same input: outputs and input gradients for a random
    /// upstream gradient, on every path this CPU has. With `exact_dx` (x, upstream → dx in
    /// f64) the gradients are checked against it instead of Burn's backward.
    fn compare<const D: usize>(
        shape: [usize; D],
        scale: f32,
        fast: impl Fn(Tensor<D>) -> Tensor<D>,
        burn_op: impl Fn(Tensor<D>) -> Tensor<D>,
        exact_dx: Option<fn(f64, f64) -> f64>,
        tolerance: f32,
    ) {
        let device = Device::default().autodiff();
        let x0 =
            Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device).mul_scalar(scale);
        let upstream = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device);
        let run = |op: &dyn Fn(Tensor<D>) -> Tensor<D>| {
            let x = x0.clone().detach().require_grad();
            let y = op(x.clone());
            let grads = (y.clone() * upstream.clone()).sum().backward();
            (values(y), values(x.grad(&grads).unwrap()))
        };
        let (want_y, mut want_dx) = run(&burn_op);
        if let Some(exact) = exact_dx {
            let (x, up) = (values(x0.clone()), values(upstream.clone()));
            want_dx = x
                .iter()
                .zip(&up)
                .map(|(x, u)| exact(*x as f64, *u as f64) as f32)
                .collect();
        }
        for isa in Isa::ALL.into_iter().filter(|isa| *isa <= isa::detected()) {
            isa::force(Some(isa));
            let (y, dx) = run(&fast);
            isa::force(None);
            let (ey, edx) = (max_diff(&y, &want_y), max_diff(&dx, &want_dx));
            assert!(
                ey <= tolerance && edx <= tolerance,
                "{} {shape:?}: y {ey}, dx {edx}",
                isa.name()
            );
        }
    }

    #[test]
    fn gelu_matches_burn_forward_and_backward() {
        for (shape, scale) in [([3, 5, 7], 1.0), ([2, 64, 1031], 3.0), ([1, 1, 1], 1.0)] {
            // Burn's own GELU backward is off by up to 1.8e-3 on ndarray: the gradient is
            // checked against Φ(x) + x φ(x) in f64 instead.
            let exact: fn(f64, f64) -> f64 = |x, up| {
                let density = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
                up * (crate::vmath::reference::normal_cdf64(x) + x * density)
            };
            compare(
                shape,
                scale,
                gelu,
                burn::tensor::activation::gelu,
                Some(exact),
                1e-5,
            );
        }
        // Far tails, zero, infinities and NaN as Burn gives them.
        let device = Device::default();
        let special = [-30.0, -8.0, -0.0, 0.0, 8.0, 30.0, f32::INFINITY];
        let x = Tensor::<1>::from_floats(special, &device);
        let got = values(gelu(x.clone()));
        let want = values(burn::tensor::activation::gelu(x));
        assert!(max_diff(&got, &want) <= 1e-6, "{got:?} vs {want:?}");
        assert!(values(gelu(Tensor::<1>::from_floats([f32::NAN], &device)))[0].is_nan());
    }

    #[test]
    fn softmax_matches_burn_forward_and_backward() {
        for shape in [[2, 4, 128, 128], [3, 5, 1, 13], [1, 2, 3, 1]] {
            compare(
                shape,
                4.0,
                |x| softmax(x, 3),
                |x| burn::tensor::activation::softmax(x, 3),
                None,
                1e-5,
            );
        }
        // Large logits do not overflow; other dimensions go to Burn's op.
        let device = Device::default();
        let x = Tensor::<2>::from_floats([[1000.0, 0.0, -1000.0], [88.0, 89.0, 90.0]], &device);
        let got = values(softmax(x.clone(), 1));
        assert_eq!(got[2], 0.0, "a masked entry is exactly 0, as in Burn");
        assert!(
            max_diff(
                &got,
                &values(burn::tensor::activation::softmax(x.clone(), 1))
            ) <= 1e-6
        );
        assert_eq!(
            values(softmax(x.clone(), 0)),
            values(burn::tensor::activation::softmax(x, 0))
        );
    }

    #[test]
    fn leaky_relu_matches_burn_forward_and_backward() {
        for (shape, slope) in [([3, 5, 7], 0.2), ([2, 64, 1031], 0.01), ([1, 1, 1], 1.5)] {
            compare(
                shape,
                2.0,
                |x| leaky_relu(x, slope),
                |x| burn::tensor::activation::leaky_relu(x, slope),
                None,
                1e-6,
            );
        }
        let device = Device::default();
        let x = Tensor::<1>::from_floats([-0.0, 0.0, f32::NEG_INFINITY, f32::INFINITY], &device);
        let got = values(leaky_relu(x.clone(), 0.2));
        assert_eq!(got, values(burn::tensor::activation::leaky_relu(x, 0.2)));
    }

    #[test]
    fn untracked_and_non_contiguous_inputs() {
        let device = Device::default().autodiff();
        let x = Tensor::<3>::random([4, 6, 10], Distribution::Normal(0.0, 2.0), &device);
        let swapped = x.clone().swap_dims(1, 2); // [4, 10, 6], not contiguous
        let want = values(burn::tensor::activation::softmax(swapped.clone(), 2));
        assert!(max_diff(&values(softmax(swapped.clone(), 2)), &want) <= 1e-6);
        let want = values(burn::tensor::activation::gelu(swapped.clone()));
        assert!(max_diff(&values(gelu(swapped)), &want) <= 1e-5);
        // No gradient tracked: the forward alone.
        let plain = x.detach();
        assert!(
            max_diff(
                &values(gelu(plain.clone())),
                &values(burn::tensor::activation::gelu(plain))
            ) <= 1e-5
        );
    }
}
