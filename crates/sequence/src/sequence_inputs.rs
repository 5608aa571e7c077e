//! The inputs of a whole-sequence recurrent layer ([`crate::fused`]) and the order its steps
//! run in: shared by the layer's extension and its LSTM and GRU implementations.

use burn::backend::{Backend, ExtensionType, tensor::FloatTensor};
use kernels::host::read;

/// The tensors of one direction of one layer over a whole sequence (time-major rows:
/// step `t`'s batch is rows `t * batch .. (t + 1) * batch`).
#[derive(ExtensionType)]
pub struct LayerInputs<B: Backend> {
    /// `[steps * batch, gates * hidden]`: `x W_ih + b_ih` for every step.
    pub gates_x: FloatTensor<B>,
    /// `[hidden, gates * hidden]` and `[1, gates * hidden]`.
    pub w_hh: FloatTensor<B>,
    pub b_hh: FloatTensor<B>,
    /// `[batch, hidden]`; `c0` is the LSTM's cell state, `[0, hidden]` (empty) for the GRU.
    pub h0: FloatTensor<B>,
    pub c0: FloatTensor<B>,
    /// `[steps * batch, 1]`, 1 where the step is real and 0 where it is padding; `[0, 1]`
    /// (empty) when every step is real.
    pub mask: FloatTensor<B>,
}

/// Processing order of the time steps.
pub(crate) fn order(steps: usize, reverse: bool) -> Vec<usize> {
    if reverse {
        (0..steps).rev().collect()
    } else {
        (0..steps).collect()
    }
}

/// A tensor's values, row-major.
pub(crate) fn values<B: Backend>(t: FloatTensor<B>) -> Vec<f32> {
    read::<B, _>(t, |values, _| values.to_vec())
}
