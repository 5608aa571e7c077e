//! The GRU's whole-sequence layer ([`crate::fused`]) with its state and tape in host buffers,
//! as `fused_lstm.rs` does for the LSTM: each step is one call of
//! [`kernels::recurrent_gru::gru_forward_step`] (the recurrent product with `W_hh` packed once
//! per layer call, then one vectorised pass, each core taking a block of batch rows);
//! backward, one call of [`kernels::recurrent_gru::gru_backward_step`]. The input projection
//! of all steps and the recurrent weight gradient stay single large products on the backend.

use burn::backend::autodiff::{
    checkpoint::base::Checkpointer,
    grads::Gradients,
    ops::{Backward, Ops},
};
use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};
use kernels::host::{device_tensor, read};
use kernels::linear::PackedWeight;
use kernels::recurrent_gru::{
    GruBackwardStep, GruForwardStep, gru_backward_step, gru_forward_step,
};

use crate::sequence_inputs::{LayerInputs, order, values};

/// What the backward pass needs from the forward pass. Per-step buffers are in time order:
/// step `t`'s batch is rows `t * batch .. (t + 1) * batch`.
#[derive(Clone, Debug)]
pub(crate) struct GruTape<B: Backend> {
    reverse: bool,
    batch: usize,
    hidden: usize,
    /// `W_hh` packed for `d_gates_h W_hhᵀ`.
    w_hh_t: PackedWeight,
    device: B::Device,
    /// `[steps * batch]`, `None` when every step is real.
    mask: Option<Vec<f32>>,
    /// r and z `[steps * batch, 2 hidden]`; n, `h W_hn + b_hn` and the hidden state before
    /// each step, `[steps * batch, hidden]`.
    rz: Vec<f32>,
    n: Vec<f32>,
    hn: Vec<f32>,
    h_prev: Vec<f32>,
}

/// Runs the layer; the output is `[steps * batch + batch, hidden]`: the outputs in time order,
/// then the final hidden state. The tape is kept only when `tracked` (the backward pass will
/// run); otherwise one step's gates are all it holds at a time.
pub(crate) fn forward<B: Backend>(
    inputs: LayerInputs<B>,
    reverse: bool,
    tracked: bool,
) -> (FloatTensor<B>, Option<GruTape<B>>) {
    let LayerInputs {
        gates_x,
        w_hh,
        b_hh,
        h0,
        mask,
        ..
    } = inputs;
    let [batch, hidden] = h0.shape().dims();
    let width = 3 * hidden;
    let rows = gates_x.shape()[0];
    let steps = rows / batch;
    let device = gates_x.device();
    let mask = (mask.shape()[0] > 0).then(|| values::<B>(mask));
    let b_hh = values::<B>(b_hh);
    let w_hh = values::<B>(w_hh); // [hidden, 3 hidden]
    let w_hh_t = tracked.then(|| PackedWeight::new(&w_hh, [hidden, width], true));
    let w_hh = PackedWeight::new(&w_hh, [hidden, width], false);
    let mut h = values::<B>(h0);
    let kept = if tracked { rows } else { batch }; // rows of the per-step buffers
    let mut rz = vec![0.0; kept * 2 * hidden];
    let (mut n, mut hn) = (vec![0.0; kept * hidden], vec![0.0; kept * hidden]);
    let mut h_prev = if tracked {
        vec![0.0; rows * hidden]
    } else {
        Vec::new()
    };
    // The outputs, then room for the final state.
    let mut output = vec![0.0; (rows + batch) * hidden];
    read::<B, _>(gates_x, |gates_x, _| {
        for t in order(steps, reverse) {
            let state = t * batch * hidden..(t + 1) * batch * hidden;
            let (kept_rz, kept_state) = if tracked {
                h_prev[state.clone()].copy_from_slice(&h);
                (2 * state.start..2 * state.end, state.clone())
            } else {
                (0..2 * batch * hidden, 0..batch * hidden)
            };
            let step = GruForwardStep {
                gates_x: &gates_x[t * batch * width..(t + 1) * batch * width],
                b_hh: &b_hh,
                mask: mask.as_ref().map(|m| &m[t * batch..(t + 1) * batch]),
                h: &mut h,
                rz: &mut rz[kept_rz],
                n: &mut n[kept_state.clone()],
                hn: &mut hn[kept_state],
                output: &mut output[state],
            };
            gru_forward_step(&w_hh, hidden, step);
        }
    });
    output[rows * hidden..].copy_from_slice(&h);
    let output = device_tensor::<B>(output, &[rows + batch, hidden], &device);
    let tape = w_hh_t.map(|w_hh_t| GruTape {
        reverse,
        batch,
        hidden,
        w_hh_t,
        device,
        mask,
        rz,
        n,
        hn,
        h_prev,
    });
    (output, tape)
}

#[derive(Debug)]
pub(crate) struct GruBackward;

impl<B: Backend> Backward<B, 6> for GruBackward {
    type State = GruTape<B>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b, node_h0, _c0, _mask] = ops.parents;
        let grad = grads.consume::<B>(&ops.node); // rows: outputs, final h
        let GruTape {
            reverse,
            batch,
            hidden,
            w_hh_t,
            device,
            mask,
            rz,
            n,
            hn,
            h_prev,
        } = ops.state;
        let width = 3 * hidden;
        let rows = h_prev.len() / hidden;
        let steps = rows / batch;
        let grad = values::<B>(grad);
        // The gradient reaching the state after the step being undone.
        let mut d_h = grad[rows * hidden..].to_vec();
        // [steps * batch, 3 hidden], time order.
        let (mut d_gates_x, mut d_gates_h) = (vec![0.0; rows * width], vec![0.0; rows * width]);
        for t in order(steps, reverse).into_iter().rev() {
            let state = t * batch * hidden..(t + 1) * batch * hidden;
            let row_gates = t * batch * width..(t + 1) * batch * width;
            let step = GruBackwardStep {
                rz: &rz[2 * state.start..2 * state.end],
                n: &n[state.clone()],
                hn: &hn[state.clone()],
                h_prev: &h_prev[state.clone()],
                mask: mask.as_ref().map(|m| &m[t * batch..(t + 1) * batch]),
                d_output: &grad[state],
                d_h: &mut d_h,
                d_gates_x: &mut d_gates_x[row_gates.clone()],
                d_gates_h: &mut d_gates_h[row_gates],
            };
            gru_backward_step(&w_hh_t, hidden, step);
        }
        if let Some(node) = node_x {
            let d_gates_x = device_tensor::<B>(d_gates_x, &[rows, width], &device);
            grads.register::<B>(node.id, d_gates_x);
        }
        let d_gates_h = device_tensor::<B>(d_gates_h, &[rows, width], &device);
        if let Some(node) = node_w {
            // h_prevᵀ d_gates_h: [hidden, 3 hidden]
            let h_prev = device_tensor::<B>(h_prev, &[rows, hidden], &device);
            let d_w = B::float_matmul(B::float_transpose(h_prev), d_gates_h.clone());
            grads.register::<B>(node.id, d_w);
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::float_sum_dim(d_gates_h, 0));
        }
        if let Some(node) = node_h0 {
            grads.register::<B>(node.id, device_tensor::<B>(d_h, &[batch, hidden], &device));
        }
    }
}
