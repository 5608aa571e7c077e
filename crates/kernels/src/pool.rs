//! Non-overlapping max pooling (window = stride, no padding: the seed CNN's and LeNet's 2×2)
//! as a Burn backend extension with a hand-written backward.
//!
//! Burn 0.22's CPU max pool visits each window with a scalar loop and a NaN check and keeps
//! the winner's position as an `i64` per output (twice the bytes of the output); its backward
//! scatters through those indices. Here each window's winner is kept as one byte (its offset
//! inside the window), planes run in parallel, and the backward writes every input position
//! once: the output gradient at the winner, zero elsewhere.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::sync::Arc;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{Backend, Dispatch, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::nn::PaddingConfig2d;
use burn::nn::pool::MaxPool2d;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use crate::host::{device_tensor, read};

/// Max pooling as a Burn backend extension; `window` is also the stride.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastPoolBackend: Backend {
    fn fast_max_pool2d(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self>;
}

/// `pool.forward(x)`, through the kernel when the windows do not overlap (stride = window, no
/// padding, dilation 1, floor mode) on a supported device in f32; Burn's otherwise.
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let window = pool.kernel_size;
    let [.., h, w] = x.dims();
    let fits = pool.stride == window
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
        && window[0] * window[1] <= 256
        && h >= window[0]
        && w >= window[1];
    if !fits || !crate::supported(&x.device()) || x.dtype() != DType::F32 {
        return pool.forward(x);
    }
    Tensor::from_dispatch(<Dispatch as FastPoolBackend>::fast_max_pool2d(
        x.into_dispatch(),
        window,
    ))
}

/// What the backward needs: each output's winner as its offset in the window.
#[derive(Clone, Debug)]
struct PoolTape {
    winners: Arc<Vec<u8>>,
    dims: [usize; 4],
    window: [usize; 2],
}

fn pool_forward<B: Backend>(x: FloatTensor<B>, window: [usize; 2]) -> (FloatTensor<B>, PoolTape) {
    let device = x.device();
    let [kh, kw] = window;
    let (y, winners, dims, out) = read::<B, _>(x, |x, shape| {
        let dims: [usize; 4] = shape.try_into().expect("a 4-D max pool input");
        let [batch, channels, h, w] = dims;
        let out = [h / kh, w / kw];
        let (plane, out_plane) = (h * w, out[0] * out[1]);
        let mut y = vec![0.0f32; batch * channels * out_plane];
        let mut winners = vec![0u8; y.len()];
        y.par_chunks_mut(out_plane)
            .zip(winners.par_chunks_mut(out_plane))
            .enumerate()
            .for_each(|(p, (y, winners))| {
                let x = &x[p * plane..(p + 1) * plane];
                for i in 0..out[0] {
                    for j in 0..out[1] {
                        let window = |a: usize| &x[(i * kh + a) * w + j * kw..][..kw];
                        // Selects, not branches: which value wins is data-dependent, and a
                        // mispredicted branch per element cost more than the comparisons.
                        let (mut best, mut at, mut nan) = (f32::NEG_INFINITY, 0u8, false);
                        for a in 0..kh {
                            for (b, &v) in window(a).iter().enumerate() {
                                let wins = v > best;
                                best = if wins { v } else { best };
                                at = if wins { (a * kw + b) as u8 } else { at };
                                nan |= v.is_nan();
                            }
                        }
                        if nan {
                            // The last NaN in row-major order wins, as in PyTorch and Burn
                            // (each takes any NaN it meets).
                            let last = (0..kh * kw)
                                .rfind(|&o| window(o / kw)[o % kw].is_nan())
                                .expect("a NaN in the window");
                            (best, at) = (window(last / kw)[last % kw], last as u8);
                        }
                        y[i * out[1] + j] = best;
                        winners[i * out[1] + j] = at;
                    }
                }
            });
        (y, winners, dims, out)
    });
    let y = device_tensor::<B>(y, &[dims[0], dims[1], out[0], out[1]], &device);
    let tape = PoolTape {
        winners: Arc::new(winners),
        dims,
        window,
    };
    (y, tape)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastPoolBackend for $backend {
            fn fast_max_pool2d(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self> {
                pool_forward::<Self>(x, window).0
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastPoolBackend for Autodiff<B, C> {
    fn fast_max_pool2d(x: FloatTensor<Self>, window: [usize; 2]) -> FloatTensor<Self> {
        let prep = PoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let (y, tape) = pool_forward::<B>(x.into_primitive(), window);
        match prep {
            OpsKind::Tracked(prep) => prep.finish(tape, y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

#[derive(Debug)]
struct PoolBackward;

impl<B: Backend> Backward<B, 1> for PoolBackward {
    type State = PoolTape;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let Some(node) = node_x else {
            return;
        };
        let device = dy.device();
        let PoolTape {
            winners,
            dims,
            window: [kh, kw],
        } = ops.state;
        let [batch, channels, h, w] = dims;
        let out = [h / kh, w / kw];
        let (plane, out_plane) = (h * w, out[0] * out[1]);
        let dx = read::<B, _>(dy, |dy, _| {
            let mut dx = vec![0.0f32; batch * channels * plane];
            // A winner's offset in its window → its distance from the window's corner in the
            // plane: a table instead of a division per element.
            let offsets: Vec<usize> = (0..kh * kw).map(|o| o / kw * w + o % kw).collect();
            dx.par_chunks_mut(plane).enumerate().for_each(|(p, dx)| {
                let at = p * out_plane;
                let (dy, winners) = (&dy[at..at + out_plane], &winners[at..at + out_plane]);
                for i in 0..out[0] {
                    for j in 0..out[1] {
                        let k = i * out[1] + j;
                        dx[i * kh * w + j * kw + offsets[winners[k] as usize]] = dy[k];
                    }
                }
            });
            dx
        });
        grads.register::<B>(node.id, device_tensor::<B>(dx, &dims, &device));
    }
}
