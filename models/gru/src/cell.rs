//! The GRU cell: Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for
//! Statistical Machine Translation", EMNLP 2014 (arXiv:1406.1078), in PyTorch's
//! parameterisation (`torch.nn.GRU`): gate blocks in the order r, z, n, two biases, and the
//! reset gate applied to the hidden projection *after* the matrix product (`reset_after`, as in
//! cuDNN and PyTorch; the paper applies it before).
//!
//! ```text
//! r = σ(x W_ir + b_ir + h W_hr + b_hr)          reset gate
//! z = σ(x W_iz + b_iz + h W_hz + b_hz)          update gate
//! n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))  candidate
//! h' = (1 - z) ⊙ n + z ⊙ h
//! ```

use burn::prelude::*;
use sequence::activation::{sigmoid, tanh};
use sequence::{Cell, FusedCell, State};

pub struct GruCell;

impl Cell for GruCell {
    const NAME: &'static str = "gru";
    const GATES: usize = 3;
    const CELL_STATE: bool = false;
    const FUSED: Option<FusedCell> = Some(FusedCell::Gru);

    fn step(input: Tensor<2>, hidden: Tensor<2>, state: &State) -> State {
        // [batch, 3 * hidden] each; only the r and z blocks are summed before the nonlinearity.
        let [x_rz, x_n] = <[Tensor<2>; 2]>::try_from(
            input.split_with_sizes(vec![2 * state.h.dims()[1], state.h.dims()[1]], 1),
        )
        .expect("two blocks");
        let [h_rz, h_n] = <[Tensor<2>; 2]>::try_from(
            hidden.split_with_sizes(vec![2 * state.h.dims()[1], state.h.dims()[1]], 1),
        )
        .expect("two blocks");
        let [r, z] =
            <[Tensor<2>; 2]>::try_from(sigmoid(x_rz + h_rz).chunk(2, 1)).expect("two gates");
        let n = tanh(x_n + r * h_n);
        // (1 - z) n + z h = n + z (h - n)
        let h = n.clone() + z * (state.h.clone() - n);
        State { h, c: None }
    }
}
