//! The LSTM's whole-sequence layer ([`crate::fused`]) with its state and tape in host buffers.
//! Each step is one call of [`kernels::recurrent::lstm_forward_step`] (the recurrent product
//! `h W_hh` with `W_hh` packed once per layer call, then one vectorised pass for the gates,
//! cell and output, each core taking a block of batch rows); backward, one call of
//! [`kernels::recurrent::lstm_backward_step`]. The input projection of all steps and the
//! recurrent weight gradient stay single large products on the backend, outside the loop.
//!
//! Through Burn's tensor ops a step was about fifteen whole-tensor passes forward and twenty
//! backward around a 64-row GEMM that packs its weight afresh: the char-LM train step went
//! from 650–685 to 458–463 ms with this layer (docs/BENCHMARKS.md, "The recurrent layers'
//! steps on host buffers").

use burn::backend::autodiff::{
    checkpoint::base::Checkpointer,
    grads::Gradients,
    ops::{Backward, Ops},
};
use burn::backend::{Backend, TensorMetadata, tensor::FloatTensor};
use kernels::host::{device_tensor, read};
use kernels::linear::PackedWeight;
use kernels::recurrent::{BackwardStep, ForwardStep, lstm_backward_step, lstm_forward_step};

use crate::sequence_inputs::{LayerInputs, order, values};

/// What the backward pass needs from the forward pass. Per-step buffers are in time order:
/// step `t`'s batch is rows `t * batch .. (t + 1) * batch`.
#[derive(Clone, Debug)]
pub(crate) struct LstmTape<B: Backend> {
    reverse: bool,
    batch: usize,
    hidden: usize,
    /// `W_hh` packed for `d_pre W_hhᵀ`.
    w_hh_t: PackedWeight,
    device: B::Device,
    /// `[steps * batch]`, `None` when every step is real.
    mask: Option<Vec<f32>>,
    /// Gate activations i, f, g, o: `[steps * batch, 4 hidden]`.
    gates: Vec<f32>,
    /// The hidden and cell states before each step and `tanh` of the cell state after it:
    /// `[steps * batch, hidden]`.
    h_prev: Vec<f32>,
    c_prev: Vec<f32>,
    tanh_c: Vec<f32>,
}

/// Runs the layer; the output is `[steps * batch + 2 batch, hidden]`: the outputs in time
/// order, then the final hidden and cell states. The tape is kept only when `tracked` (the
/// backward pass will run); otherwise one step's gates are all it holds at a time.
pub(crate) fn forward<B: Backend>(
    inputs: LayerInputs<B>,
    reverse: bool,
    tracked: bool,
) -> (FloatTensor<B>, Option<LstmTape<B>>) {
    let LayerInputs {
        gates_x,
        w_hh,
        b_hh,
        h0,
        c0,
        mask,
    } = inputs;
    let [batch, hidden] = h0.shape().dims();
    let width = 4 * hidden;
    let rows = gates_x.shape()[0];
    let steps = rows / batch;
    let device = gates_x.device();
    let mask = (mask.shape()[0] > 0).then(|| values::<B>(mask));
    let b_hh = values::<B>(b_hh);
    let w_hh = values::<B>(w_hh); // [hidden, 4 hidden]
    let w_hh_t = tracked.then(|| PackedWeight::new(&w_hh, [hidden, width], true));
    let w_hh = PackedWeight::new(&w_hh, [hidden, width], false);
    let (mut h, mut c) = (values::<B>(h0), values::<B>(c0));
    let kept = if tracked { rows } else { batch }; // rows of the per-step buffers
    let mut gates = vec![0.0; kept * width];
    let mut tanh_c = vec![0.0; kept * hidden];
    let (mut h_prev, mut c_prev) = if tracked {
        (vec![0.0; rows * hidden], vec![0.0; rows * hidden])
    } else {
        (Vec::new(), Vec::new())
    };
    // The outputs, then room for the final state.
    let mut output = vec![0.0; (rows + 2 * batch) * hidden];
    read::<B, _>(gates_x, |gates_x, _| {
        for t in order(steps, reverse) {
            let state = t * batch * hidden..(t + 1) * batch * hidden;
            let row_gates = t * batch * width..(t + 1) * batch * width;
            let (kept_gates, kept_state) = if tracked {
                h_prev[state.clone()].copy_from_slice(&h);
                c_prev[state.clone()].copy_from_slice(&c);
                (row_gates.clone(), state.clone())
            } else {
                (0..batch * width, 0..batch * hidden)
            };
            let step = ForwardStep {
                gates_x: &gates_x[row_gates],
                b_hh: &b_hh,
                mask: mask.as_ref().map(|m| &m[t * batch..(t + 1) * batch]),
                h: &mut h,
                c: &mut c,
                gates: &mut gates[kept_gates],
                tanh_c: &mut tanh_c[kept_state],
                output: &mut output[state],
            };
            lstm_forward_step(&w_hh, hidden, step);
        }
    });
    let end = rows * hidden;
    output[end..end + batch * hidden].copy_from_slice(&h);
    output[end + batch * hidden..].copy_from_slice(&c);
    let output = device_tensor::<B>(output, &[rows + 2 * batch, hidden], &device);
    let tape = w_hh_t.map(|w_hh_t| LstmTape {
        reverse,
        batch,
        hidden,
        w_hh_t,
        device,
        mask,
        gates,
        h_prev,
        c_prev,
        tanh_c,
    });
    (output, tape)
}

#[derive(Debug)]
pub(crate) struct LstmBackward;

impl<B: Backend> Backward<B, 6> for LstmBackward {
    type State = LstmTape<B>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b, node_h0, node_c0, _mask] = ops.parents;
        let grad = grads.consume::<B>(&ops.node); // rows: outputs, final h, final c
        let LstmTape {
            reverse,
            batch,
            hidden,
            w_hh_t,
            device,
            mask,
            gates,
            h_prev,
            c_prev,
            tanh_c,
        } = ops.state;
        let width = 4 * hidden;
        let rows = h_prev.len() / hidden;
        let steps = rows / batch;
        let grad = values::<B>(grad);
        let end = rows * hidden;
        // Gradients reaching the state after the step being undone.
        let mut d_h = grad[end..end + batch * hidden].to_vec();
        let mut d_c = grad[end + batch * hidden..].to_vec();
        let mut d_pre = vec![0.0; rows * width]; // [steps * batch, 4 hidden], time order
        for t in order(steps, reverse).into_iter().rev() {
            let state = t * batch * hidden..(t + 1) * batch * hidden;
            let row_gates = t * batch * width..(t + 1) * batch * width;
            let step = BackwardStep {
                gates: &gates[row_gates.clone()],
                tanh_c: &tanh_c[state.clone()],
                c_prev: &c_prev[state.clone()],
                mask: mask.as_ref().map(|m| &m[t * batch..(t + 1) * batch]),
                d_output: &grad[state],
                d_h: &mut d_h,
                d_c: &mut d_c,
                d_pre: &mut d_pre[row_gates],
            };
            lstm_backward_step(&w_hh_t, hidden, step);
        }
        let d_pre = device_tensor::<B>(d_pre, &[rows, width], &device);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, d_pre.clone());
        }
        if let Some(node) = node_w {
            let h_prev = device_tensor::<B>(h_prev, &[rows, hidden], &device);
            // h_prevᵀ d_pre: [hidden, 4 hidden]
            let d_w = B::float_matmul(B::float_transpose(h_prev), d_pre.clone());
            grads.register::<B>(node.id, d_w);
        }
        if let Some(node) = node_b {
            grads.register::<B>(node.id, B::float_sum_dim(d_pre, 0));
        }
        if let Some(node) = node_h0 {
            grads.register::<B>(node.id, device_tensor::<B>(d_h, &[batch, hidden], &device));
        }
        if let Some(node) = node_c0 {
            grads.register::<B>(node.id, device_tensor::<B>(d_c, &[batch, hidden], &device));
        }
    }
}
