//! A stack of recurrent layers, optionally bidirectional, with dropout between layers: the
//! layout of `torch.nn.LSTM` / `torch.nn.GRU` (`num_layers`, `bidirectional`, `dropout`).
//!
//! Two paths compute the same function. On Burn's CPU backends, a cell with a fused layer
//! ([`crate::fused`]: LSTM, GRU) runs each layer and direction as one autodiff node with a
//! hand-written backward through time, on whole `[steps * batch, features]` tensors. Otherwise
//! (GPU backends, other cells) the loop runs one time step at a time on per-step
//! tensors (`Vec` of `[batch, features]`): slicing a step out of a `[time, batch, features]`
//! tensor would cost a full-size gradient buffer per step in backward (Burn's slice backward is
//! zeros + slice-assign), which dominates at 128 steps; per-step inputs and one `cat` at the end
//! keep backward linear in the length. Variable-length batches carry a mask: padded steps leave
//! the state unchanged and output zeros, which is what PyTorch's `pack_padded_sequence`
//! computes.

use crate::cell::{Cell, State};
use crate::fused::{self, FusedCell};
use burn::nn::{Dropout, DropoutConfig, Initializer, Linear, LinearConfig};
use burn::prelude::*;

/// The projections of one direction of one layer: `ih` (`[input, gates * hidden]` in Burn's
/// layout) and `hh` (`[hidden, gates * hidden]`), both with a bias, as in PyTorch.
#[derive(Module, Debug)]
pub struct Direction {
    pub ih: Linear,
    pub hh: Linear,
}

impl Direction {
    fn new(input: usize, hidden: usize, gates: usize, device: &Device) -> Self {
        // PyTorch initialises every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden)).
        let bound = 1.0 / (hidden as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let linear = |from: usize| {
            LinearConfig::new(from, gates * hidden)
                .with_initializer(init.clone())
                .init(device)
        };
        Self {
            ih: linear(input),
            hh: linear(hidden),
        }
    }

    /// Runs the cell over `inputs` (forwards, or backwards when `reverse`) from `state`;
    /// returns the per-step hidden states and the final state.
    fn run<C: Cell>(
        &self,
        inputs: &[Tensor<2>],
        mask: Option<&[Tensor<2>]>,
        reverse: bool,
        mut state: State,
    ) -> (Vec<Tensor<2>>, State) {
        let steps = inputs.len();
        let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
        let order: Box<dyn Iterator<Item = usize>> = if reverse {
            Box::new((0..steps).rev())
        } else {
            Box::new(0..steps)
        };
        for t in order {
            let input = self.ih.forward(inputs[t].clone()); // [batch, gates * hidden]
            let hidden = self.hh.forward(state.h.clone()); // [batch, gates * hidden]
            let next = C::step(input, hidden, &state);
            outputs[t] = Some(match mask {
                Some(mask) => {
                    state = state.keep_where_padded(next, &mask[t]);
                    state.h.clone() * mask[t].clone()
                }
                None => {
                    state = next;
                    state.h.clone()
                }
            });
        }
        let outputs = outputs
            .into_iter()
            .map(|o| o.expect("every step ran"))
            .collect();
        (outputs, state)
    }

    /// [`Direction::run`] over the whole sequence at once with the fused layer: inputs
    /// `[steps * batch, input]` and masks `[steps * batch, 1]`; returns `[steps * batch, hidden]`
    /// and the final state.
    fn run_fused(
        &self,
        cell: FusedCell,
        inputs: Tensor<2>,
        mask: Option<Tensor<2>>,
        reverse: bool,
        state: State,
    ) -> (Tensor<2>, State) {
        let gates_x = self.ih.forward(inputs); // [steps * batch, gates * hidden]
        let w_hh = self.hh.weight.val(); // [hidden, gates * hidden]
        let b_hh = match &self.hh.bias {
            Some(bias) => bias.val().unsqueeze_dim::<2>(0), // [1, gates * hidden]
            None => Tensor::zeros([1, w_hh.dims()[1]], &w_hh.device()),
        };
        let out = fused::layer(cell, gates_x, w_hh, b_hh, state.h, state.c, mask, reverse);
        (out.outputs, State { h: out.h, c: out.c })
    }
}

/// One layer: a forward direction and, when bidirectional, a backward one.
#[derive(Module, Debug)]
pub struct Layer {
    pub forward: Direction,
    pub backward: Option<Direction>,
}

/// The layer stack. Burn parameter paths are `layers.{l}.{forward|backward}.{ih|hh}.{weight|bias}`;
/// [`crate::pytorch`] maps them to `weight_ih_l{l}[_reverse]` and back.
#[derive(Module, Debug)]
pub struct Recurrent {
    pub layers: Vec<Layer>,
    /// Between layers, not after the last (PyTorch's `dropout` argument).
    pub dropout: Dropout,
    pub hidden: usize,
}

impl Recurrent {
    pub fn new<C: Cell>(
        input: usize,
        hidden: usize,
        layers: usize,
        bidirectional: bool,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let directions = if bidirectional { 2 } else { 1 };
        let layers = (0..layers)
            .map(|l| {
                let input = if l == 0 { input } else { directions * hidden };
                Layer {
                    forward: Direction::new(input, hidden, C::GATES, device),
                    backward: bidirectional
                        .then(|| Direction::new(input, hidden, C::GATES, device)),
                }
            })
            .collect();
        Self {
            layers,
            dropout: DropoutConfig::new(dropout).init(),
            hidden,
        }
    }

    pub fn bidirectional(&self) -> bool {
        self.layers.first().is_some_and(|l| l.backward.is_some())
    }

    /// Zero states for every layer and direction, in PyTorch's `h_n` order
    /// (layer 0 forward, layer 0 backward, layer 1 forward, ...).
    pub fn zero_states<C: Cell>(&self, batch: usize, device: &Device) -> Vec<State> {
        let per_layer = if self.bidirectional() { 2 } else { 1 };
        (0..self.layers.len() * per_layer)
            .map(|_| State::zeros::<C>(batch, self.hidden, device))
            .collect()
    }

    /// Runs the stack over per-step inputs (`[batch, input]` each) with optional per-step masks
    /// (`[batch, 1]`, 1 = real token). Returns the last layer's outputs, time-major
    /// (`[steps * batch, directions * hidden]`), and the final states in `h_n` order.
    pub fn forward<C: Cell>(
        &self,
        inputs: Vec<Tensor<2>>,
        mask: Option<&[Tensor<2>]>,
        initial: Option<Vec<State>>,
    ) -> (Tensor<2>, Vec<State>) {
        assert!(!inputs.is_empty(), "a sequence needs at least one step");
        let device = inputs[0].device();
        let batch = inputs[0].dims()[0];
        let initial = initial.unwrap_or_else(|| self.zero_states::<C>(batch, &device));
        match C::FUSED.filter(|_| fused::supported(&device)) {
            Some(cell) => {
                let mask = mask.map(|m| Tensor::cat(m.to_vec(), 0)); // [steps * batch, 1]
                self.forward_fused(cell, Tensor::cat(inputs, 0), mask, initial)
            }
            None => {
                let (outputs, states) = self.forward_steps::<C>(inputs, mask, initial);
                (Tensor::cat(outputs, 0), states)
            }
        }
    }

    /// The stack on whole `[steps * batch, features]` tensors with the fused layers.
    fn forward_fused(
        &self,
        cell: FusedCell,
        inputs: Tensor<2>,
        mask: Option<Tensor<2>>,
        initial: Vec<State>,
    ) -> (Tensor<2>, Vec<State>) {
        let mut initial = initial.into_iter();
        let mut finals = Vec::new();
        let mut x = inputs;
        for (l, layer) in self.layers.iter().enumerate() {
            if l > 0 {
                x = self.dropout.forward(x);
            }
            let start = initial.next().expect("one state per layer and direction");
            let (out, last) = layer
                .forward
                .run_fused(cell, x.clone(), mask.clone(), false, start);
            finals.push(last);
            x = match &layer.backward {
                None => out,
                Some(backward) => {
                    let start = initial.next().expect("one state per layer and direction");
                    let (back, last) = backward.run_fused(cell, x, mask.clone(), true, start);
                    finals.push(last);
                    Tensor::cat(vec![out, back], 1)
                }
            };
        }
        (x, finals)
    }

    /// The stack step by step on per-step tensors, on any backend and with masks: the
    /// reference the fused path is tested against. Returns per-step outputs.
    pub fn forward_steps<C: Cell>(
        &self,
        inputs: Vec<Tensor<2>>,
        mask: Option<&[Tensor<2>]>,
        initial: Vec<State>,
    ) -> (Vec<Tensor<2>>, Vec<State>) {
        let mut initial = initial.into_iter();
        let mut finals = Vec::new();
        let mut x = inputs;
        for (l, layer) in self.layers.iter().enumerate() {
            if l > 0 {
                x = x.into_iter().map(|t| self.dropout.forward(t)).collect();
            }
            let start = initial.next().expect("one state per layer and direction");
            let (out, last) = layer.forward.run::<C>(&x, mask, false, start);
            finals.push(last);
            x = match &layer.backward {
                None => out,
                Some(backward) => {
                    let start = initial.next().expect("one state per layer and direction");
                    let (back, last) = backward.run::<C>(&x, mask, true, start);
                    finals.push(last);
                    out.into_iter()
                        .zip(back)
                        .map(|(f, b)| Tensor::cat(vec![f, b], 1))
                        .collect()
                }
            };
        }
        (x, finals)
    }
}
