//! Whole-sequence LSTM and GRU layers with a hand-written backward through time, the
//! formulation of cuDNN and of PyTorch's fused CPU kernels, for Burn's CPU backends.
//!
//! Autodiff over the step-by-step loop ([`crate::recurrent`]) pays twice: every step adds the
//! weight gradients `x_tᵀ · dgates_t` and `h_{t-1}ᵀ · dgates_t`, matrix products with an inner
//! dimension of only the batch (64), where Burn's CPU matmul reaches a quarter of its
//! large-matrix rate; and a graph node for every small op. Here a layer is one autodiff node:
//!
//! - outside it, the input projection of all steps is one matmul `[steps·batch, input] ×
//!   [input, gates·hidden]` whose weight gradient autodiff forms as one product too;
//! - inside it, the forward loop keeps the gate activations, and the backward loop walks the
//!   steps in reverse computing each step's gate gradients and `dh_{t-1} = dgates_t · W_hhᵀ`;
//!   the recurrent weight gradient is then one `[hidden, steps·batch] × [steps·batch,
//!   gates·hidden]` product.
//!
//! The equations are PyTorch's (`torch.nn.LSTM` / `torch.nn.GRU`, gate blocks i, f, g, o and
//! r, z, n) and the same as the cells' [`crate::Cell::step`], padding masks included (a padded
//! step keeps the state and outputs zeros); [`crate::testing::fused_matches_steps`] checks the
//! two paths against each other, forward and every gradient, and the parity tests check the
//! fused one against PyTorch. GPU backends keep the step-by-step path.
//!
//! The GRU's steps here are Burn tensor ops; the LSTM's run on host buffers with one
//! vectorised pass for a step's pointwise part (`fused_lstm.rs`).

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::{
    Backend, Scalar, Slice, TensorMetadata, backend_extension, tensor::FloatTensor,
};
use burn::prelude::*;

use crate::fused_lstm::LstmBackward;
pub use crate::sequence_inputs::LayerInputs;
use crate::sequence_inputs::order;

/// A cell whose whole-sequence layer is implemented here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FusedCell {
    Lstm,
    Gru,
}

/// Whether `device` runs the fused layers: Burn's CPU backends compiled into this crate
/// (`flex`, `ndarray`), with or without autodiff, unless `ZOO_FUSED_RNN=0` asks for the
/// step-by-step loop (to compare the two).
pub fn supported(device: &Device) -> bool {
    if std::env::var("ZOO_FUSED_RNN").is_ok_and(|v| v == "0") {
        return false;
    }
    #[allow(unused_imports)]
    use burn::backend::DispatchDevice;
    let inner = device.clone().inner();
    #[allow(clippy::match_like_matches_macro)]
    match inner.as_dispatch() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The fused layer as a Burn backend extension: the CPU backends run the forward loop, the
/// autodiff decorator adds the hand-written backward.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FusedRecurrentBackend: Backend {
    /// Runs `cell` over the sequence (backwards in time when `reverse`). Returns
    /// `[steps * batch, hidden]` outputs in time order (zero at padded steps), then the final
    /// hidden state (`batch` rows) and, for the LSTM, the final cell state (`batch` rows).
    fn recurrent_layer(
        #[extension_type] inputs: LayerInputs<Self>,
        cell: FusedCell,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// The output of one direction of one layer: per-step outputs and final state.
pub struct LayerOutput {
    /// `[steps * batch, hidden]`, time-major.
    pub outputs: Tensor<2>,
    pub h: Tensor<2>,
    pub c: Option<Tensor<2>>,
}

/// Runs `cell` over a whole sequence (see [`LayerInputs`]) on a device for which
/// [`supported`] holds. `mask` is `[steps * batch, 1]`.
#[allow(clippy::too_many_arguments)]
pub fn layer(
    cell: FusedCell,
    gates_x: Tensor<2>,
    w_hh: Tensor<2>,
    b_hh: Tensor<2>,
    h0: Tensor<2>,
    c0: Option<Tensor<2>>,
    mask: Option<Tensor<2>>,
    reverse: bool,
) -> LayerOutput {
    use burn::backend::Dispatch;
    let [batch, hidden] = h0.dims();
    let rows = gates_x.dims()[0];
    let device = gates_x.device();
    // The kernel reads f32: weights quantized by `quantize` are expanded here (a no-op for
    // float weights), as Burn's own matmul does.
    let inputs = LayerInputs::<Dispatch> {
        gates_x: gates_x.into_dispatch(),
        w_hh: w_hh.dequantize().into_dispatch(),
        b_hh: b_hh.dequantize().into_dispatch(),
        h0: h0.into_dispatch(),
        c0: c0
            .unwrap_or_else(|| Tensor::zeros([0, hidden], &device))
            .into_dispatch(),
        mask: mask
            .unwrap_or_else(|| Tensor::zeros([0, 1], &device))
            .into_dispatch(),
    };
    let out: Tensor<2> = Tensor::from_dispatch(
        <Dispatch as FusedRecurrentBackend>::recurrent_layer(inputs, cell, reverse),
    );
    LayerOutput {
        outputs: out.clone().slice(0..rows),
        h: out.clone().slice(rows..rows + batch),
        c: (cell == FusedCell::Lstm).then(|| out.slice(rows + batch..rows + 2 * batch)),
    }
}

#[cfg(feature = "flex")]
impl FusedRecurrentBackend for burn::backend::Flex {
    fn recurrent_layer(
        inputs: LayerInputs<Self>,
        cell: FusedCell,
        reverse: bool,
    ) -> FloatTensor<Self> {
        run::<Self>(inputs, cell, reverse)
    }
}

#[cfg(feature = "ndarray")]
impl FusedRecurrentBackend for burn::backend::NdArray {
    fn recurrent_layer(
        inputs: LayerInputs<Self>,
        cell: FusedCell,
        reverse: bool,
    ) -> FloatTensor<Self> {
        run::<Self>(inputs, cell, reverse)
    }
}

/// The layer without a tape.
fn run<B: Backend>(inputs: LayerInputs<B>, cell: FusedCell, reverse: bool) -> FloatTensor<B> {
    match cell {
        FusedCell::Lstm => crate::fused_lstm::forward::<B>(inputs, reverse, false).0,
        FusedCell::Gru => forward::<B>(inputs, reverse).0,
    }
}

impl<B: Backend, C: CheckpointStrategy> FusedRecurrentBackend for Autodiff<B, C> {
    fn recurrent_layer(
        inputs: LayerInputs<Self>,
        cell: FusedCell,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let nodes = [
            inputs.gates_x.node(),
            inputs.w_hh.node(),
            inputs.b_hh.node(),
            inputs.h0.node(),
            inputs.c0.node(),
            inputs.mask.node(),
        ];
        let inputs_b = |inputs: LayerInputs<Self>| LayerInputs::<B> {
            gates_x: inputs.gates_x.into_primitive(),
            w_hh: inputs.w_hh.into_primitive(),
            b_hh: inputs.b_hh.into_primitive(),
            h0: inputs.h0.into_primitive(),
            c0: inputs.c0.into_primitive(),
            mask: inputs.mask.into_primitive(),
        };
        match cell {
            FusedCell::Lstm => {
                let prep = LstmBackward.prepare::<C>(nodes).compute_bound().stateful();
                let forward =
                    |tracked| crate::fused_lstm::forward::<B>(inputs_b(inputs), reverse, tracked);
                match prep {
                    OpsKind::Tracked(prep) => {
                        let (output, tape) = forward(true);
                        prep.finish(tape.expect("a tracked run keeps its tape"), output)
                    }
                    OpsKind::UnTracked(prep) => prep.finish(forward(false).0),
                }
            }
            FusedCell::Gru => {
                let prep = GruBackward.prepare::<C>(nodes).compute_bound().stateful();
                let (output, tape) = forward::<B>(inputs_b(inputs), reverse);
                match prep {
                    OpsKind::Tracked(prep) => prep.finish(tape, output),
                    OpsKind::UnTracked(prep) => prep.finish(output),
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Primitive helpers: the loops below run on the backend's own tensors, outside autodiff.

fn scalar(value: f32) -> Scalar {
    value.into()
}

/// Rows `[from, to)` of a 2-D tensor.
fn rows<B: Backend>(t: &FloatTensor<B>, from: usize, to: usize) -> FloatTensor<B> {
    B::float_slice(t.clone(), &[Slice::from(from..to), Slice::from(..)])
}

/// Columns `[from, to)` of a 2-D tensor.
fn cols<B: Backend>(t: &FloatTensor<B>, from: usize, to: usize) -> FloatTensor<B> {
    B::float_slice(t.clone(), &[Slice::from(..), Slice::from(from..to)])
}

fn add<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_add(a, b)
}

fn sub<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_sub(a, b)
}

fn mul<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_mul(a, b)
}

/// `1 - x`.
fn one_minus<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_add_scalar(B::float_neg(x), scalar(1.0))
}

/// `1 / (1 + e^-x)` on `exp` (see [`crate::activation`] for why not the library sigmoid).
fn sigmoid<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_recip(B::float_add_scalar(
        B::float_exp(B::float_neg(x)),
        scalar(1.0),
    ))
}

/// `2 sigmoid(2x) - 1`.
fn tanh<B: Backend>(x: FloatTensor<B>) -> FloatTensor<B> {
    B::float_add_scalar(
        B::float_mul_scalar(
            sigmoid::<B>(B::float_mul_scalar(x, scalar(2.0))),
            scalar(2.0),
        ),
        scalar(-1.0),
    )
}

/// `a bᵀ` for a thin `a` (`[batch, n]`), formed as `(b aᵀ)ᵀ`: Burn's GEMM runs that layout
/// faster (`scripts/bench/repro/recurrent_ops.rs`). The result is a transposed view.
fn matmul_t<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_transpose(B::float_matmul(b, B::float_transpose(a)))
}

/// `tᵀ` materialised in row-major order (flattening a transposed view forces the copy).
fn transposed_copy<B: Backend>(t: &FloatTensor<B>) -> FloatTensor<B> {
    let [rows, cols] = t.shape().dims();
    let flat = B::float_reshape(B::float_transpose(t.clone()), Shape::new([rows * cols]));
    B::float_reshape(flat, Shape::new([cols, rows]))
}

/// `aᵀ b` for 2-D tensors.
fn t_matmul<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_matmul(B::float_transpose(a), b)
}

/// Stacks per-step `[batch, n]` tensors, given in processing order, into `[steps * batch, n]`
/// in time order.
fn in_time_order<B: Backend>(mut per_step: Vec<FloatTensor<B>>, reverse: bool) -> FloatTensor<B> {
    if reverse {
        per_step.reverse();
    }
    B::float_cat(per_step, 0)
}

// ---------------------------------------------------------------------------------------------
// The GRU (the LSTM is in `crate::fused_lstm`).
// r, z = σ of (x W_ih + b_ih + h W_hh + b_hh) on their blocks; n = tanh(x_n + r (h W_hn + b_hn));
// h' = (1 - z) n + z h.
// Masked step (m = 0 at padding): state = old + m (new - old), output = m h'.

/// What one step keeps for the backward pass.
#[derive(Clone, Debug)]
struct StepTape<B: Backend> {
    /// r and z `[batch, 2 * hidden]`; n and the recurrent n block `h W_hn + b_hn`.
    rz: FloatTensor<B>,
    n: FloatTensor<B>,
    hn: FloatTensor<B>,
}

/// What the backward pass needs from the forward pass.
#[derive(Clone, Debug)]
struct Tape<B: Backend> {
    reverse: bool,
    batch: usize,
    /// `W_hhᵀ` in row-major order (`[3 * hidden, hidden]`), as the forward pass made it: the
    /// backward pass's `d W_hhᵀ` is then a plain product, 1.8× faster than `(W_hh dᵀ)ᵀ` at
    /// `[64, 2048] × [2048, 512]` (recurrent_ops: 0.34 against 0.61 ms).
    w_hh_t: FloatTensor<B>,
    mask: Option<FloatTensor<B>>,
    /// The hidden state before each step, stacked in processing order: `[steps * batch, hidden]`.
    h_prev: FloatTensor<B>,
    /// One per step, in processing order.
    steps: Vec<StepTape<B>>,
}

fn forward<B: Backend>(inputs: LayerInputs<B>, reverse: bool) -> (FloatTensor<B>, Tape<B>) {
    let LayerInputs {
        gates_x,
        w_hh,
        b_hh,
        h0,
        mask,
        ..
    } = inputs;
    let [batch, hidden] = h0.shape().dims();
    let steps = gates_x.shape()[0] / batch;
    let mask = (mask.shape()[0] > 0).then_some(mask);

    // h W_hh as (W_hhᵀ hᵀ)ᵀ with W_hhᵀ stored row-major: 2.5× faster in Burn's GEMM at
    // [64, 512] × [512, 2048] (recurrent_ops: 0.80 against 2.01 ms).
    let w_hh_t = transposed_copy::<B>(&w_hh); // [gates * hidden, hidden]
    let mut h = h0;
    let mut outputs = Vec::with_capacity(steps);
    let mut h_prev = Vec::with_capacity(steps);
    let mut tape_steps = Vec::with_capacity(steps);
    for t in order(steps, reverse) {
        let gx = rows::<B>(&gates_x, t * batch, (t + 1) * batch); // [batch, gates * hidden]
        let gh = add::<B>(matmul_t::<B>(h.clone(), w_hh_t.clone()), b_hh.clone());
        let rz = sigmoid::<B>(add::<B>(
            cols::<B>(&gx, 0, 2 * hidden),
            cols::<B>(&gh, 0, 2 * hidden),
        ));
        let (r, z) = (
            cols::<B>(&rz, 0, hidden),
            cols::<B>(&rz, hidden, 2 * hidden),
        );
        let hn = cols::<B>(&gh, 2 * hidden, 3 * hidden);
        let n = tanh::<B>(add::<B>(
            cols::<B>(&gx, 2 * hidden, 3 * hidden),
            mul::<B>(r, hn.clone()),
        ));
        // (1 - z) n + z h = n + z (h - n)
        let h_new = add::<B>(n.clone(), mul::<B>(z, sub::<B>(h.clone(), n.clone())));
        h_prev.push(h.clone());
        tape_steps.push(StepTape { rz, n, hn });
        match &mask {
            None => {
                outputs.push(h_new.clone());
                h = h_new;
            }
            Some(mask) => {
                let m = rows::<B>(mask, t * batch, (t + 1) * batch); // [batch, 1]
                outputs.push(mul::<B>(h_new.clone(), m.clone()));
                h = add::<B>(h.clone(), mul::<B>(m, sub::<B>(h_new, h)));
            }
        }
    }
    let output = B::float_cat(vec![in_time_order::<B>(outputs, reverse), h], 0);
    let tape = Tape {
        reverse,
        batch,
        w_hh_t,
        mask,
        h_prev: B::float_cat(h_prev, 0),
        steps: tape_steps,
    };
    (output, tape)
}

#[derive(Debug)]
struct GruBackward;

impl<B: Backend> Backward<B, 6> for GruBackward {
    type State = Tape<B>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b, node_h0, _c0, _mask] = ops.parents;
        let grad = grads.consume::<B>(&ops.node); // rows: outputs, final h
        let Tape {
            reverse,
            batch,
            w_hh_t,
            mask,
            h_prev,
            steps: tape,
        } = ops.state;
        let steps = tape.len();
        let end = steps * batch;
        let hidden = grad.shape()[1];

        // The gradient reaching the state after the step being undone.
        let mut d_h = rows::<B>(&grad, end, end + batch);
        // Per step in reverse processing order: the gradient of the input-side and of the
        // recurrent-side pre-activations.
        let (mut d_gx, mut d_gh) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        for (k, t) in order(steps, reverse).into_iter().enumerate().rev() {
            let m = mask
                .as_ref()
                .map(|m| rows::<B>(m, t * batch, (t + 1) * batch));
            let d_out = rows::<B>(&grad, t * batch, (t + 1) * batch);
            // A padded step keeps the state (state = old + m (new - old)) and outputs m h':
            // the state gradient splits into m d (to the new value) and (1 - m) d (kept).
            let (d_h_new, h_kept) = match &m {
                None => (add::<B>(d_h, d_out), None),
                Some(m) => (
                    mul::<B>(add::<B>(d_h.clone(), d_out), m.clone()),
                    Some(mul::<B>(d_h, one_minus::<B>(m.clone()))),
                ),
            };
            let StepTape { rz, n, hn } = &tape[k];
            let (r, z) = (cols::<B>(rz, 0, hidden), cols::<B>(rz, hidden, 2 * hidden));
            let h_before = rows::<B>(&h_prev, k * batch, (k + 1) * batch);
            let d_n = mul::<B>(d_h_new.clone(), one_minus::<B>(z.clone()));
            let d_z = mul::<B>(d_h_new.clone(), sub::<B>(h_before, n.clone()));
            let d_n_pre = mul::<B>(d_n, one_minus::<B>(mul::<B>(n.clone(), n.clone())));
            let d_r = mul::<B>(d_n_pre.clone(), hn.clone());
            let d_hn = mul::<B>(d_n_pre.clone(), r);
            let d_rz = mul::<B>(
                B::float_cat(vec![d_r, d_z], 1),
                mul::<B>(rz.clone(), one_minus::<B>(rz.clone())),
            ); // [batch, 2 * hidden]
            let d_gh_step = B::float_cat(vec![d_rz.clone(), d_hn], 1);
            d_gx.push(B::float_cat(vec![d_rz, d_n_pre], 1));
            d_gh.push(d_gh_step.clone());
            let d_h_prev = add::<B>(
                mul::<B>(d_h_new, z),
                B::float_matmul(d_gh_step, w_hh_t.clone()),
            );
            d_h = match h_kept {
                Some(kept) => add::<B>(d_h_prev, kept),
                None => d_h_prev,
            };
        }
        d_gx.reverse(); // processing order
        d_gh.reverse();
        let d_gh = B::float_cat(d_gh, 0); // [steps * batch, 3 * hidden], processing order

        if let Some(node) = node_x {
            grads.register::<B>(node.id, in_time_order::<B>(d_gx, reverse));
        }
        if let Some(node) = node_w {
            grads.register::<B>(node.id, t_matmul::<B>(h_prev, d_gh.clone()));
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::float_sum_dim(d_gh, 0));
        }
        if let Some(node) = node_h0 {
            grads.register::<B>(node.id, d_h);
        }
    }
}
