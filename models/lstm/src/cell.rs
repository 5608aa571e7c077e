//! The LSTM cell: Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8),
//! 1997, with the forget gate of Gers, Schmidhuber & Cummins (2000), in PyTorch's
//! parameterisation (`torch.nn.LSTM`): gate blocks in the order i, f, g, o and two biases.
//!
//! ```text
//! i = σ(x W_ii + b_ii + h W_hi + b_hi)     input gate
//! f = σ(x W_if + b_if + h W_hf + b_hf)     forget gate
//! g = tanh(x W_ig + b_ig + h W_hg + b_hg)  candidate cell
//! o = σ(x W_io + b_io + h W_ho + b_ho)     output gate
//! c' = f ⊙ c + i ⊙ g
//! h' = o ⊙ tanh(c')
//! ```
//! No peepholes, no projection (`proj_size = 0`), as in PyTorch's default.

use burn::prelude::*;
use sequence::activation::{sigmoid, tanh};
use sequence::{Cell, FusedCell, State};

pub struct LstmCell;

impl Cell for LstmCell {
    const NAME: &'static str = "lstm";
    const GATES: usize = 4;
    const CELL_STATE: bool = true;
    const FUSED: Option<FusedCell> = Some(FusedCell::Lstm);

    fn step(input: Tensor<2>, hidden: Tensor<2>, state: &State) -> State {
        let gates = input + hidden; // [batch, 4 * hidden]
        let [i, f, g, o] = <[Tensor<2>; 4]>::try_from(gates.chunk(4, 1)).expect("four gate blocks");
        let c = state.c.clone().expect("an LSTM state has a cell");
        let c = sigmoid(f) * c + sigmoid(i) * tanh(g);
        let h = sigmoid(o) * tanh(c.clone());
        State { h, c: Some(c) }
    }
}
