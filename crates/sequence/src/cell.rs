//! What distinguishes one recurrent cell from another: how many gate blocks its projections
//! produce and how a step combines them. The layer stack ([`crate::Recurrent`]) owns the
//! weights and the loop; a cell is only its equations, so `lstm` and `gru` each state theirs in
//! a few lines.

use crate::fused::FusedCell;
use burn::prelude::*;

/// The recurrent state of one layer and direction.
#[derive(Clone, Debug)]
pub struct State {
    /// Hidden state `[batch, hidden]`.
    pub h: Tensor<2>,
    /// Cell state `[batch, hidden]` (LSTM only).
    pub c: Option<Tensor<2>>,
}

impl State {
    pub fn zeros<C: Cell>(batch: usize, hidden: usize, device: &Device) -> Self {
        let zeros = || Tensor::zeros([batch, hidden], device);
        Self {
            h: zeros(),
            c: C::CELL_STATE.then(zeros),
        }
    }

    /// The state cut from the graph that produced it (truncated backpropagation through time).
    pub fn detach(self) -> Self {
        Self {
            h: self.h.detach(),
            c: self.c.map(|c| c.detach()),
        }
    }

    /// `new` where `mask` (`[batch, 1]`, 1 = a real token) is set, `self` elsewhere: padded
    /// steps leave the state as it was, as PyTorch's packed sequences do.
    pub fn keep_where_padded(self, new: State, mask: &Tensor<2>) -> State {
        let blend = |old: Tensor<2>, new: Tensor<2>| old.clone() + (new - old) * mask.clone();
        State {
            h: blend(self.h, new.h),
            c: match (self.c, new.c) {
                (Some(old), Some(new)) => Some(blend(old, new)),
                _ => None,
            },
        }
    }
}

/// A recurrent cell in PyTorch's parameterisation: every step computes
/// `x W_ih^T + b_ih` and `h W_hh^T + b_hh` (each `[batch, GATES * hidden]`, gate blocks in
/// PyTorch's order) and the cell turns them and the previous state into the next state.
pub trait Cell: 'static {
    /// Lower-case name (`lstm`, `gru`), used in output folders and reports.
    const NAME: &'static str;
    /// Gate blocks in the projections: 4 for the LSTM (i, f, g, o), 3 for the GRU (r, z, n).
    const GATES: usize;
    /// Whether the state carries a cell vector besides the hidden state.
    const CELL_STATE: bool;
    /// The whole-sequence layer with a hand-written backward ([`crate::fused`]) computing the
    /// same equations as [`Cell::step`], if there is one; used on the CPU backends.
    const FUSED: Option<FusedCell> = None;

    /// One time step: `input` is `x W_ih^T + b_ih`, `hidden` is `h W_hh^T + b_hh`.
    fn step(input: Tensor<2>, hidden: Tensor<2>, state: &State) -> State;
}
