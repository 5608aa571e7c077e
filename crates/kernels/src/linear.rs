//! A fully connected layer, `y = x W + b`, on the convolution kernels: a linear layer is a 1 × 1
//! convolution whose pixels are the rows of `x`, and `x` (`[rows, inputs]`, row-major) is
//! already channels-last. Burn's CPU backends hand these products to the `gemm` crate, which
//! reaches about half of the multiply-add peak at these shapes (BERT-Mini's feed-forward:
//! 57–74 GFLOP/s where PyTorch reaches 122–129, docs/BENCHMARKS.md); the direct kernels reach
//! 70–85% of it.
//!
//! - **Forward**: [`RowJob`]s over blocks of 64 rows, weights packed once per call into
//!   `[outputs / 16][inputs][16]`, each tile written straight into the row-major result.
//! - **Input gradient**: `dy Wᵀ`, the same kernel with the weight packed the other way round.
//! - **Weight gradient**: [`GradJob`]s, one per block of rows, each thread adding into its own
//!   packed partial; the partials are added and unpacked into `[inputs, outputs]`.
//! - **Bias gradient**: column sums of `dy`.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use std::borrow::Cow;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, Dispatch, ExtensionType, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::DType;
use rayon::prelude::*;

use crate::conv::{Shared, blocks, padded_bias};
use crate::direct::{GradJob, LANES, MAX_TILE, MIN_OUTPUT_CHANNELS, RowJob};
use crate::host::{device_tensor, read};
use crate::isa::{self, Isa};

/// Rows per parallel job: a multiple of every tile height, so only the last job can end in a
/// partial tile.
const ROWS: usize = 64;

/// `layer.forward(x)` through the kernels on a supported device (f32 weights, at least
/// [`MIN_OUTPUT_CHANNELS`] outputs); Burn's own linear otherwise.
pub fn linear<const D: usize>(layer: &Linear, x: Tensor<D>) -> Tensor<D> {
    linear_with(x, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()))
}

/// `x · weight + bias` for `weight` `[inputs, outputs]`, as [`linear`]: for products that are
/// a linear layer without being a `Linear` module (a decoder tied to an embedding table).
pub fn linear_with<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    let [inputs, outputs] = weight.dims();
    let device = x.device();
    if D < 2
        || outputs < MIN_OUTPUT_CHANNELS
        || !crate::supported(&device)
        || x.dtype() != DType::F32
        || weight.dtype() != DType::F32
    {
        return burn::tensor::module::linear(x, weight, bias);
    }
    let dims = x.dims();
    let rows = dims[..D - 1].iter().product();
    let y =
        Tensor::<2>::from_dispatch(<Dispatch as FastLinearBackend>::fast_linear(LinearInputs {
            x: x.reshape([rows, inputs]).into_dispatch(),
            weight: weight.into_dispatch(),
            bias: bias
                .unwrap_or_else(|| Tensor::zeros([0], &device))
                .into_dispatch(),
        }));
    let mut out = dims;
    out[D - 1] = outputs;
    y.reshape(out)
}

/// `x` `[rows, inputs]`, `weight` `[inputs, outputs]` (Burn's layout), `bias` `[outputs]` or
/// `[0]` for none.
#[derive(ExtensionType)]
pub struct LinearInputs<B: Backend> {
    pub x: FloatTensor<B>,
    pub weight: FloatTensor<B>,
    pub bias: FloatTensor<B>,
}

/// The linear layer as a Burn backend extension.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FastLinearBackend: Backend {
    fn fast_linear(#[extension_type] inputs: LinearInputs<Self>) -> FloatTensor<Self>;
}

// ---------------------------------------------------------------------------------------------
// The kernels on host slices.

/// `x` with `MAX_TILE - 1` zero rows after it when its last job ends in a partial tile (the
/// tile is computed whole, reading up to that many rows past the end).
fn with_tile_slack(x: &[f32], rows: usize, width: usize) -> Cow<'_, [f32]> {
    if rows.is_multiple_of(MAX_TILE) {
        return Cow::Borrowed(x);
    }
    let mut padded = Vec::with_capacity((rows + MAX_TILE - 1) * width);
    padded.extend_from_slice(&x[..rows * width]);
    padded.resize((rows + MAX_TILE - 1) * width, 0.0);
    Cow::Owned(padded)
}

/// `y[r][o] = Σ_i x[r][i] · packed(o, i) + bias[o]`: `x` `[rows, inputs]` with tile slack,
/// `packed` from [`pack`] for `outputs`, `bias` from [`padded_bias`]. Row-major `[rows,
/// outputs]`.
fn dense(
    isa: Isa,
    x: &[f32],
    [rows, inputs, outputs]: [usize; 3],
    packed: &[f32],
    bias: &[f32],
) -> Vec<f32> {
    assert!(
        x.len() >= rows.next_multiple_of(MAX_TILE) * inputs,
        "x and its tile slack"
    );
    assert_eq!(
        packed.len(),
        blocks(outputs) * inputs * LANES,
        "packed weights"
    );
    let len = rows * outputs;
    let mut y = Vec::<f32>::with_capacity(len);
    let y_ptr = Shared(y.as_mut_ptr());
    (0..rows.div_ceil(ROWS)).into_par_iter().for_each(|job| {
        let first = job * ROWS;
        let job = RowJob {
            x: x[first * inputs..].as_ptr(),
            x_step: inputs,
            tap_row: 0,
            tap_col: 0,
            taps: [1, 1],
            channels: inputs,
            w: packed.as_ptr(),
            blocks: blocks(outputs),
            outputs,
            bias: bias.as_ptr(),
            // SAFETY: inside `y`; the jobs' rows are disjoint.
            out: unsafe { y_ptr.at(first * outputs) },
            out_channel: 1,
            out_step: outputs,
            width: ROWS.min(rows - first),
        };
        // SAFETY: the asserts bound every read of `x` (whole tiles included) and `packed`;
        // `bias` is padded to whole blocks.
        unsafe { job.run(isa) };
    });
    // SAFETY: the jobs wrote every (row, output) element.
    unsafe { y.set_len(len) };
    y
}

/// A weight matrix packed once for many products with few rows each: an RNN layer's recurrent
/// weight, multiplied by every step's `[batch, hidden]` state ([`crate::recurrent`], which
/// gives each core a block of the rows). [`linear`] packs the weight on every call.
#[derive(Clone, Debug)]
pub struct PackedWeight {
    packed: Vec<f32>,
    /// Columns of `x` (the sum's length) and of the product.
    channels: usize,
    outputs: usize,
    zero_bias: Vec<f32>,
}

impl PackedWeight {
    /// `w` row-major `[inputs, outputs]`, for products `x W` (`x` `[rows, inputs]`) or, with
    /// `transposed`, `x Wᵀ` (`x` `[rows, outputs]`).
    pub fn new(w: &[f32], [inputs, outputs]: [usize; 2], transposed: bool) -> Self {
        assert_eq!(w.len(), inputs * outputs, "w is [inputs, outputs]");
        let (channels, product_outputs) = if transposed {
            (outputs, inputs)
        } else {
            (inputs, outputs)
        };
        Self {
            packed: packed_weight(w, [inputs, outputs], transposed),
            channels,
            outputs: product_outputs,
            zero_bias: padded_bias(None, product_outputs),
        }
    }

    /// Columns of the `x` a product takes.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Columns of a product.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// `x` (row-major, `[rows, channels]`) times the weight into `out` (`[rows, outputs]`), on
    /// the calling thread with `isa`'s kernels: for callers that split rows between threads
    /// themselves.
    pub fn product_on_this_thread(&self, isa: Isa, x: &[f32], out: &mut [f32]) {
        let (channels, outputs) = (self.channels, self.outputs);
        assert!(x.len().is_multiple_of(channels), "x has {channels} columns");
        let rows = x.len() / channels;
        assert_eq!(out.len(), rows * outputs, "out is [rows, outputs]");
        let isa = isa.min(isa::detected());
        let x = with_tile_slack(x, rows, channels);
        for first in (0..rows).step_by(ROWS) {
            let job = RowJob {
                x: x[first * channels..].as_ptr(),
                x_step: channels,
                tap_row: 0,
                tap_col: 0,
                taps: [1, 1],
                channels,
                w: self.packed.as_ptr(),
                blocks: blocks(outputs),
                outputs,
                bias: self.zero_bias.as_ptr(),
                out: out[first * outputs..].as_mut_ptr(),
                out_channel: 1,
                out_step: outputs,
                width: ROWS.min(rows - first),
            };
            // SAFETY: `x` has tile slack after its last row, `out` holds `rows` rows; the
            // blocks are those of `packed` and `zero_bias`; `isa` is at most what the CPU has.
            unsafe { job.run(isa) };
        }
    }
}

/// `dW[i][o] = Σ_r x[r][i] · dy[r][o]`, `[inputs, outputs]`.
fn weight_grad(isa: Isa, x: &[f32], dy: &[f32], [rows, inputs, outputs]: [usize; 3]) -> Vec<f32> {
    // The gradient tiles load whole blocks of 16 outputs: slack after the last row.
    let mut dy_slack = Vec::new();
    let dy = if outputs.is_multiple_of(LANES) {
        dy
    } else {
        dy_slack.extend_from_slice(&dy[..rows * outputs]);
        dy_slack.resize(rows * outputs + LANES, 0.0);
        &dy_slack
    };
    let packed_len = blocks(outputs) * inputs * LANES;
    let jobs = rows.div_ceil(ROWS);
    let per_task = jobs.div_ceil(rayon::current_num_threads().max(1)).max(1);
    let packed = (0..jobs)
        .into_par_iter()
        .with_min_len(per_task)
        .fold(
            || vec![0.0f32; packed_len],
            |mut partial, job| {
                let first = job * ROWS;
                let grad = GradJob {
                    x: x[first * inputs..].as_ptr(),
                    x_row: 0,
                    channels: inputs,
                    stride: [1, 1],
                    dilation: [1, 1],
                    taps: [1, 1],
                    dy: dy[first * outputs..].as_ptr(),
                    dy_row: 0,
                    dy_pixel: outputs,
                    size: [1, ROWS.min(rows - first)],
                    blocks: blocks(outputs),
                    dw: partial.as_mut_ptr(),
                };
                // SAFETY: rows `first..first + size` of `x` and `dy` exist, `dy` has LANES
                // elements of slack; `partial` is this fold's own.
                unsafe { grad.run(isa) };
                partial
            },
        )
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        })
        .unwrap_or_else(|| vec![0.0; packed_len]);
    // Unpacked 16 contiguous values at a time: packed row (block, i) is dW[i][block·16..].
    let mut dw = vec![0.0f32; inputs * outputs];
    for (block, panel) in packed.chunks_exact(inputs * LANES).enumerate() {
        let first = block * LANES;
        let lanes = LANES.min(outputs - first);
        for (i, packed_row) in panel.chunks_exact(LANES).enumerate() {
            dw[i * outputs + first..][..lanes].copy_from_slice(&packed_row[..lanes]);
        }
    }
    dw
}

/// `db[o] = Σ_r dy[r][o]`: per block of rows in f32, the blocks added in f64.
fn bias_grad(dy: &[f32], outputs: usize) -> Vec<f32> {
    let sums = dy
        .par_chunks(ROWS * outputs)
        .map(|block| {
            let mut acc = vec![0.0f32; outputs];
            for row in block.chunks_exact(outputs) {
                acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            }
            acc.into_iter().map(f64::from).collect::<Vec<_>>()
        })
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        })
        .unwrap_or_else(|| vec![0.0; outputs]);
    sums.into_iter().map(|v| v as f32).collect()
}

/// The weight `[inputs, outputs]` packed as the kernels read it, `[blocks][channels][LANES]`:
/// for the forward (`outputs` are the kernel's output channels: each packed row is 16
/// contiguous values of a weight row) or for the input gradient (`inputs` are: 16 weight rows
/// side by side, written lane by lane).
fn packed_weight(w: &[f32], [inputs, outputs]: [usize; 2], transposed: bool) -> Vec<f32> {
    let (kernel_outputs, channels) = if transposed {
        (inputs, outputs)
    } else {
        (outputs, inputs)
    };
    let mut packed = vec![0.0f32; blocks(kernel_outputs) * channels * LANES];
    for (block, panel) in packed.chunks_exact_mut(channels * LANES).enumerate() {
        let first = block * LANES;
        let lanes = LANES.min(kernel_outputs - first);
        if transposed {
            for lane in 0..lanes {
                let row = &w[(first + lane) * outputs..][..outputs];
                for (o, value) in row.iter().enumerate() {
                    panel[o * LANES + lane] = *value;
                }
            }
        } else {
            for (i, packed_row) in panel.chunks_exact_mut(LANES).enumerate() {
                packed_row[..lanes].copy_from_slice(&w[i * outputs + first..][..lanes]);
            }
        }
    }
    packed
}

// ---------------------------------------------------------------------------------------------
// The extension on the CPU backends and the autodiff decorator.

fn dims2(shape: &[usize]) -> [usize; 2] {
    shape.try_into().expect("a 2-D tensor")
}

fn linear_forward<B: Backend>(inputs: &LinearInputs<B>) -> FloatTensor<B> {
    let isa = isa::active();
    let device = inputs.x.device();
    let [_, outputs] = dims2(&inputs.weight.shape());
    let packed = read::<B, _>(inputs.weight.clone(), |w, shape| {
        packed_weight(w, dims2(shape), false)
    });
    let bias = read::<B, _>(inputs.bias.clone(), |b, _| {
        padded_bias((!b.is_empty()).then_some(b), outputs)
    });
    let (y, rows) = read::<B, _>(inputs.x.clone(), |x, shape| {
        let [rows, inputs] = dims2(shape);
        let x = with_tile_slack(x, rows, inputs);
        (
            dense(isa, &x, [rows, inputs, outputs], &packed, &bias),
            rows,
        )
    });
    device_tensor::<B>(y, &[rows, outputs], &device)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        impl FastLinearBackend for $backend {
            fn fast_linear(inputs: LinearInputs<Self>) -> FloatTensor<Self> {
                linear_forward::<Self>(&inputs)
            }
        }
    };
}

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex);
#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray);

impl<B: Backend, C: CheckpointStrategy> FastLinearBackend for Autodiff<B, C> {
    fn fast_linear(inputs: LinearInputs<Self>) -> FloatTensor<Self> {
        let nodes = [inputs.x.node(), inputs.weight.node(), inputs.bias.node()];
        let prep = LinearBackward
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful();
        let inputs = LinearInputs::<B> {
            x: inputs.x.into_primitive(),
            weight: inputs.weight.into_primitive(),
            bias: inputs.bias.into_primitive(),
        };
        let y = linear_forward::<B>(&inputs);
        match prep {
            OpsKind::Tracked(prep) => prep.finish((inputs.x, inputs.weight), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}

/// Keeps the input and the weight.
#[derive(Debug)]
struct LinearBackward;

impl<B: Backend> Backward<B, 3> for LinearBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<B>(&ops.node);
        let device = dy.device();
        let isa = isa::active();
        let (x, weight) = ops.state;
        let [inputs, outputs] = dims2(&weight.shape());
        read::<B, _>(dy, |dy, shape| {
            let [rows, _] = dims2(shape);
            if let Some(node) = node_x {
                let packed = read::<B, _>(weight, |w, _| packed_weight(w, [inputs, outputs], true));
                let dy = with_tile_slack(dy, rows, outputs);
                let no_bias = padded_bias(None, inputs);
                let dx = dense(isa, &dy, [rows, outputs, inputs], &packed, &no_bias);
                grads.register::<B>(node.id, device_tensor::<B>(dx, &[rows, inputs], &device));
            }
            if let Some(node) = node_w {
                let dw = read::<B, _>(x, |x, _| weight_grad(isa, x, dy, [rows, inputs, outputs]));
                let dw = device_tensor::<B>(dw, &[inputs, outputs], &device);
                grads.register::<B>(node.id, dw);
            }
            if let Some(node) = node_b {
                let db = device_tensor::<B>(bias_grad(dy, outputs), &[outputs], &device);
                grads.register::<B>(node.id, db);
            }
        });
    }
}
