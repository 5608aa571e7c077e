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
//! The cells' loops are `fused_lstm.rs` and `fused_gru.rs`: state and tape in host buffers,
//! each step a call of the `kernels` crate's step functions.

#![allow(deprecated)] // `NdArray`: deprecated in Burn 0.22 but still one of its CPU backends.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::strategy::CheckpointStrategy,
    ops::{Backward, NodeGuard, OpsKind},
};
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::prelude::*;

use crate::fused_gru::GruBackward;
use crate::fused_lstm::LstmBackward;
pub use crate::sequence_inputs::LayerInputs;

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
        FusedCell::Gru => crate::fused_gru::forward::<B>(inputs, reverse, false).0,
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
            FusedCell::Lstm => record::<B, C, _>(LstmBackward, nodes, |tracked| {
                crate::fused_lstm::forward::<B>(inputs_b(inputs), reverse, tracked)
            }),
            FusedCell::Gru => record::<B, C, _>(GruBackward, nodes, |tracked| {
                crate::fused_gru::forward::<B>(inputs_b(inputs), reverse, tracked)
            }),
        }
    }
}

/// Runs a cell's `forward` once, with its tape when autodiff tracks the layer, and records the
/// node whose backward is `backward`.
fn record<B: Backend, C: CheckpointStrategy, T: Clone + Send + std::fmt::Debug + 'static>(
    backward: impl Backward<B, 6, State = T>,
    nodes: [NodeGuard; 6],
    forward: impl FnOnce(bool) -> (FloatTensor<B>, Option<T>),
) -> FloatTensor<Autodiff<B, C>> {
    match backward.prepare::<C>(nodes).compute_bound().stateful() {
        OpsKind::Tracked(prep) => {
            let (output, tape) = forward(true);
            prep.finish(tape.expect("a tracked run keeps its tape"), output)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(false).0),
    }
}
