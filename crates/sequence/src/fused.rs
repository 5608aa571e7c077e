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
//! r, z, n) and the same as the cells' [`crate::Cell::step`]; `tests` check both against each
//! other, forward and every gradient. GPU backends keep the step-by-step path.

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

/// One direction of one layer over a whole sequence.
///
/// - `gates_x`: `[steps * batch, gates * hidden]`, time-major, the input projection with its
///   bias (for the LSTM also the recurrent bias, which enters the same sum);
/// - `w_hh`: `[hidden, gates * hidden]`; `b_hh`: `[1, gates * hidden]` (GRU only: its n block
///   is scaled by the reset gate, so it cannot be folded into `gates_x`);
/// - `h0`, `c0`: `[batch, hidden]`.
///
/// Returns `[steps * batch, hidden]` hidden states in time order (for `reverse`, step `t`'s
/// state is the one after reading steps `t..steps`), and for the LSTM `batch` more rows: the
/// final cell state.
#[backend_extension(Autodiff, Flex: cfg(feature = "flex"), NdArray: cfg(feature = "ndarray"))]
pub trait FusedRecurrentBackend: Backend {
    fn lstm_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self>;

    fn gru_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self>;
}

/// Runs `cell` over the whole sequence (see [`FusedRecurrentBackend`]); on any device for
/// which [`supported`] holds.
pub fn sequence(
    cell: FusedCell,
    gates_x: Tensor<2>,
    w_hh: Tensor<2>,
    b_hh: Tensor<2>,
    h0: Tensor<2>,
    c0: Option<Tensor<2>>,
    reverse: bool,
) -> Tensor<2> {
    use burn::backend::Dispatch;
    let output = match cell {
        FusedCell::Lstm => <Dispatch as FusedRecurrentBackend>::lstm_sequence(
            (gates_x + b_hh).into_dispatch(),
            w_hh.into_dispatch(),
            h0.into_dispatch(),
            c0.expect("an LSTM state has a cell").into_dispatch(),
            reverse,
        ),
        FusedCell::Gru => <Dispatch as FusedRecurrentBackend>::gru_sequence(
            gates_x.into_dispatch(),
            w_hh.into_dispatch(),
            b_hh.into_dispatch(),
            h0.into_dispatch(),
            reverse,
        ),
    };
    Tensor::from_dispatch(output)
}

#[cfg(feature = "flex")]
impl FusedRecurrentBackend for burn::backend::Flex {
    fn lstm_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        lstm_forward::<Self>(gates_x, w_hh, h0, c0, reverse).0
    }

    fn gru_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        gru_forward::<Self>(gates_x, w_hh, b_hh, h0, reverse).0
    }
}

#[cfg(feature = "ndarray")]
impl FusedRecurrentBackend for burn::backend::NdArray {
    fn lstm_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        lstm_forward::<Self>(gates_x, w_hh, h0, c0, reverse).0
    }

    fn gru_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        gru_forward::<Self>(gates_x, w_hh, b_hh, h0, reverse).0
    }
}

impl<B: Backend, C: CheckpointStrategy> FusedRecurrentBackend for Autodiff<B, C> {
    fn lstm_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        c0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let nodes = [gates_x.node(), w_hh.node(), h0.node(), c0.node()];
        match LstmBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (output, tape) = lstm_forward::<B>(
                    gates_x.into_primitive(),
                    w_hh.into_primitive(),
                    h0.into_primitive(),
                    c0.into_primitive(),
                    reverse,
                );
                prep.finish(tape, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                lstm_forward::<B>(
                    gates_x.into_primitive(),
                    w_hh.into_primitive(),
                    h0.into_primitive(),
                    c0.into_primitive(),
                    reverse,
                )
                .0,
            ),
        }
    }

    fn gru_sequence(
        gates_x: FloatTensor<Self>,
        w_hh: FloatTensor<Self>,
        b_hh: FloatTensor<Self>,
        h0: FloatTensor<Self>,
        reverse: bool,
    ) -> FloatTensor<Self> {
        let nodes = [gates_x.node(), w_hh.node(), b_hh.node(), h0.node()];
        match GruBackward.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let (output, tape) = gru_forward::<B>(
                    gates_x.into_primitive(),
                    w_hh.into_primitive(),
                    b_hh.into_primitive(),
                    h0.into_primitive(),
                    reverse,
                );
                prep.finish(tape, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(
                gru_forward::<B>(
                    gates_x.into_primitive(),
                    w_hh.into_primitive(),
                    b_hh.into_primitive(),
                    h0.into_primitive(),
                    reverse,
                )
                .0,
            ),
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

/// `a bᵀ` for 2-D tensors.
fn matmul_t<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_matmul(a, B::float_transpose(b))
}

/// `aᵀ b` for 2-D tensors.
fn t_matmul<B: Backend>(a: FloatTensor<B>, b: FloatTensor<B>) -> FloatTensor<B> {
    B::float_matmul(B::float_transpose(a), b)
}

/// A `[1, 4 * hidden]` row holding `g` on the LSTM's g block and `other` elsewhere.
fn g_block_row<B: Backend>(
    hidden: usize,
    other: f32,
    g: f32,
    device: &B::Device,
) -> FloatTensor<B> {
    let mut row = vec![other; 4 * hidden];
    row[2 * hidden..3 * hidden].fill(g);
    B::float_from_data(TensorData::new(row, [1, 4 * hidden]), device)
}

/// Processing order of the time steps.
fn order(steps: usize, reverse: bool) -> Vec<usize> {
    if reverse {
        (0..steps).rev().collect()
    } else {
        (0..steps).collect()
    }
}

/// Stacks per-step `[batch, n]` tensors, given in processing order, into `[steps * batch, n]`
/// in time order.
fn in_time_order<B: Backend>(mut per_step: Vec<FloatTensor<B>>, reverse: bool) -> FloatTensor<B> {
    if reverse {
        per_step.reverse();
    }
    B::float_cat(per_step, 0)
}

/// The incoming gradient of the step at time `t` (`[batch, hidden]`).
fn step_grad<B: Backend>(grad: &FloatTensor<B>, t: usize, batch: usize) -> FloatTensor<B> {
    rows::<B>(grad, t * batch, (t + 1) * batch)
}

// ---------------------------------------------------------------------------------------------
// LSTM: i, f, g, o = σ, σ, tanh, σ of (x W_ih + b_ih + h W_hh + b_hh);
// c' = f c + i g; h' = o tanh(c').

/// What the LSTM backward needs from the forward pass, per step in processing order.
#[derive(Clone, Debug)]
struct LstmTape<B: Backend> {
    /// Gate activations i, f, g, o: `[batch, 4 * hidden]`.
    gates: Vec<FloatTensor<B>>,
    /// Cell state before the step and `tanh` of the one after it: `[batch, hidden]`.
    c_prev: Vec<FloatTensor<B>>,
    tanh_c: Vec<FloatTensor<B>>,
    /// Hidden state before each step, stacked in processing order: `[steps * batch, hidden]`.
    h_prev: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    reverse: bool,
}

fn lstm_forward<B: Backend>(
    gates_x: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    h0: FloatTensor<B>,
    c0: FloatTensor<B>,
    reverse: bool,
) -> (FloatTensor<B>, LstmTape<B>) {
    let [batch, hidden] = h0.shape().dims();
    let steps = gates_x.shape()[0] / batch;
    // tanh(x) = 2σ(2x) - 1: one sigmoid over all four blocks, the g block scaled by 2 in and
    // out and shifted by -1.
    let device = gates_x.device();
    let scale = g_block_row::<B>(hidden, 1.0, 2.0, &device);
    let shift = g_block_row::<B>(hidden, 0.0, -1.0, &device);
    let (mut h, mut c) = (h0, c0);
    let mut outputs = Vec::with_capacity(steps);
    let mut tape = LstmTape {
        gates: Vec::with_capacity(steps),
        c_prev: Vec::with_capacity(steps),
        tanh_c: Vec::with_capacity(steps),
        h_prev: h.clone(),
        w_hh: w_hh.clone(),
        reverse,
    };
    let mut h_prev = Vec::with_capacity(steps);
    for t in order(steps, reverse) {
        let pre = add::<B>(
            rows::<B>(&gates_x, t * batch, (t + 1) * batch),
            B::float_matmul(h.clone(), w_hh.clone()),
        ); // [batch, 4 * hidden]
        let gates = add::<B>(
            mul::<B>(sigmoid::<B>(mul::<B>(pre, scale.clone())), scale.clone()),
            shift.clone(),
        );
        let block = |k: usize| cols::<B>(&gates, k * hidden, (k + 1) * hidden);
        let (i, f, g, o) = (block(0), block(1), block(2), block(3));
        let c_next = add::<B>(mul::<B>(f, c.clone()), mul::<B>(i, g));
        let tanh_c = tanh::<B>(c_next.clone());
        let h_next = mul::<B>(o, tanh_c.clone());
        h_prev.push(h);
        tape.gates.push(gates);
        tape.c_prev.push(c);
        tape.tanh_c.push(tanh_c);
        outputs.push(h_next.clone());
        (h, c) = (h_next, c_next);
    }
    tape.h_prev = B::float_cat(h_prev, 0);
    let mut output = in_time_order::<B>(outputs, reverse);
    output = B::float_cat(vec![output, c], 0);
    (output, tape)
}

#[derive(Debug)]
struct LstmBackward;

impl<B: Backend> Backward<B, 4> for LstmBackward {
    type State = LstmTape<B>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_h0, node_c0] = ops.parents;
        let grad = grads.consume::<B>(&ops.node); // [(steps + 1) * batch, hidden]
        let tape = ops.state;
        let [batch, hidden] = tape.c_prev[0].shape().dims();
        let steps = tape.gates.len();

        // g's derivative is 1 - g², the sigmoids' a (1 - a): both (a + [g]) (1 - a), where
        // [g] is 1 on the g block and 0 elsewhere.
        let device = grad.device();
        let g_block = g_block_row::<B>(hidden, 0.0, 1.0, &device);

        let mut dh_next: Option<FloatTensor<B>> = None;
        let mut dc = rows::<B>(&grad, steps * batch, (steps + 1) * batch);
        let mut dgates_all = Vec::with_capacity(steps);
        for (k, t) in order(steps, tape.reverse).into_iter().enumerate().rev() {
            let gates = &tape.gates[k];
            let block = |k: usize| cols::<B>(gates, k * hidden, (k + 1) * hidden);
            let (i, f, g, o) = (block(0), block(1), block(2), block(3));
            let tanh_c = tape.tanh_c[k].clone();
            let mut dh = step_grad::<B>(&grad, t, batch);
            if let Some(next) = dh_next {
                dh = add::<B>(dh, next);
            }
            // dc += dh o (1 - tanh²(c))
            let dtanh = one_minus::<B>(mul::<B>(tanh_c.clone(), tanh_c.clone()));
            dc = add::<B>(dc, mul::<B>(mul::<B>(dh.clone(), o), dtanh));
            let d_o = mul::<B>(dh, tanh_c);
            let d_i = mul::<B>(dc.clone(), g);
            let d_f = mul::<B>(dc.clone(), tape.c_prev[k].clone());
            let d_g = mul::<B>(dc.clone(), i);
            let dgates = B::float_cat(vec![d_i, d_f, d_g, d_o], 1);
            let slope = mul::<B>(
                add::<B>(gates.clone(), g_block.clone()),
                one_minus::<B>(gates.clone()),
            );
            let dpre = mul::<B>(dgates, slope); // [batch, 4 * hidden]
            dh_next = Some(matmul_t::<B>(dpre.clone(), tape.w_hh.clone()));
            dc = mul::<B>(dc, f);
            dgates_all.push(dpre);
        }
        dgates_all.reverse(); // processing order
        let dpre = B::float_cat(dgates_all.clone(), 0); // [steps * batch, 4 * hidden]

        if let Some(node) = node_x {
            let dx = match tape.reverse {
                true => in_time_order::<B>(dgates_all, true),
                false => dpre.clone(),
            };
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_w {
            grads.register::<B>(node.id, t_matmul::<B>(tape.h_prev, dpre));
        }
        if let Some(node) = node_h0 {
            let dh0 = dh_next.expect("at least one step");
            grads.register::<B>(node.id, dh0);
        }
        if let Some(node) = node_c0 {
            grads.register::<B>(node.id, dc);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GRU: r, z = σ(x W_ih + b_ih + h W_hh + b_hh) on their blocks;
// n = tanh(x_n + r (h W_hn + b_hn)); h' = (1 - z) n + z h.

#[derive(Clone, Debug)]
struct GruTape<B: Backend> {
    /// r and z: `[batch, 2 * hidden]`; n and the recurrent n block `h W_hn + b_hn`:
    /// `[batch, hidden]`, per step in processing order.
    rz: Vec<FloatTensor<B>>,
    n: Vec<FloatTensor<B>>,
    hn: Vec<FloatTensor<B>>,
    /// Hidden state before each step, stacked in processing order: `[steps * batch, hidden]`.
    h_prev: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    reverse: bool,
}

fn gru_forward<B: Backend>(
    gates_x: FloatTensor<B>,
    w_hh: FloatTensor<B>,
    b_hh: FloatTensor<B>,
    h0: FloatTensor<B>,
    reverse: bool,
) -> (FloatTensor<B>, GruTape<B>) {
    let [batch, hidden] = h0.shape().dims();
    let steps = gates_x.shape()[0] / batch;
    let mut h = h0;
    let mut outputs = Vec::with_capacity(steps);
    let mut tape = GruTape {
        rz: Vec::with_capacity(steps),
        n: Vec::with_capacity(steps),
        hn: Vec::with_capacity(steps),
        h_prev: h.clone(),
        w_hh: w_hh.clone(),
        reverse,
    };
    let mut h_prev = Vec::with_capacity(steps);
    for t in order(steps, reverse) {
        let gx = rows::<B>(&gates_x, t * batch, (t + 1) * batch); // [batch, 3 * hidden]
        let gh = add::<B>(B::float_matmul(h.clone(), w_hh.clone()), b_hh.clone());
        let rz = sigmoid::<B>(add::<B>(
            cols::<B>(&gx, 0, 2 * hidden),
            cols::<B>(&gh, 0, 2 * hidden),
        ));
        let r = cols::<B>(&rz, 0, hidden);
        let z = cols::<B>(&rz, hidden, 2 * hidden);
        let hn = cols::<B>(&gh, 2 * hidden, 3 * hidden);
        let n = tanh::<B>(add::<B>(
            cols::<B>(&gx, 2 * hidden, 3 * hidden),
            mul::<B>(r, hn.clone()),
        ));
        // (1 - z) n + z h = n + z (h - n)
        let h_next = add::<B>(n.clone(), mul::<B>(z, sub::<B>(h.clone(), n.clone())));
        h_prev.push(h);
        tape.rz.push(rz);
        tape.n.push(n);
        tape.hn.push(hn);
        outputs.push(h_next.clone());
        h = h_next;
    }
    tape.h_prev = B::float_cat(h_prev, 0);
    (in_time_order::<B>(outputs, reverse), tape)
}

#[derive(Debug)]
struct GruBackward;

impl<B: Backend> Backward<B, 4> for GruBackward {
    type State = GruTape<B>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b, node_h0] = ops.parents;
        let grad = grads.consume::<B>(&ops.node); // [steps * batch, hidden]
        let tape = ops.state;
        let [batch, hidden] = tape.n[0].shape().dims();
        let steps = tape.n.len();

        let mut dh_next: Option<FloatTensor<B>> = None;
        let (mut dx_all, mut dh_all) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        for (k, t) in order(steps, tape.reverse).into_iter().enumerate().rev() {
            let rz = &tape.rz[k];
            let (r, z) = (cols::<B>(rz, 0, hidden), cols::<B>(rz, hidden, 2 * hidden));
            let n = tape.n[k].clone();
            let h_prev = rows::<B>(&tape.h_prev, k * batch, (k + 1) * batch);
            let mut dh = step_grad::<B>(&grad, t, batch);
            if let Some(next) = dh_next {
                dh = add::<B>(dh, next);
            }
            let dn = mul::<B>(dh.clone(), one_minus::<B>(z.clone()));
            let dz = mul::<B>(dh.clone(), sub::<B>(h_prev, n.clone()));
            let dn_pre = mul::<B>(dn, one_minus::<B>(mul::<B>(n.clone(), n)));
            let dr = mul::<B>(dn_pre.clone(), tape.hn[k].clone());
            let dhn = mul::<B>(dn_pre.clone(), r);
            let drz = mul::<B>(
                B::float_cat(vec![dr, dz], 1),
                mul::<B>(rz.clone(), one_minus::<B>(rz.clone())),
            ); // [batch, 2 * hidden]
            let dgh = B::float_cat(vec![drz.clone(), dhn], 1); // [batch, 3 * hidden]
            let dgx = B::float_cat(vec![drz, dn_pre], 1);
            dh_next = Some(add::<B>(
                mul::<B>(dh, z),
                matmul_t::<B>(dgh.clone(), tape.w_hh.clone()),
            ));
            dx_all.push(dgx);
            dh_all.push(dgh);
        }
        dx_all.reverse();
        dh_all.reverse(); // processing order
        let dgh = B::float_cat(dh_all, 0); // [steps * batch, 3 * hidden]

        if let Some(node) = node_w {
            grads.register::<B>(node.id, t_matmul::<B>(tape.h_prev, dgh.clone()));
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::float_sum_dim(dgh, 0));
        }
        if let Some(node) = node_x {
            grads.register::<B>(node.id, in_time_order::<B>(dx_all, tape.reverse));
        }
        if let Some(node) = node_h0 {
            grads.register::<B>(node.id, dh_next.expect("at least one step"));
        }
    }
}
