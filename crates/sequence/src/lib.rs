//! Recurrent networks shared by burn-zoo's `lstm` and `gru`: the layer stack (layers,
//! bidirectional, dropout between layers, padding masks), the network around it (embedding or
//! features in, linear head out), and, with the `cli` feature, three tasks with their command
//! line: a character language model with truncated backpropagation through time, text
//! classification, and the compare-halves sequence task.
//!
//! A model crate supplies only its [`Cell`]: the gate count and the step equations. On Burn's
//! CPU backends the LSTM and GRU run each layer as one autodiff node with a hand-written
//! backward through time ([`fused`]), tested against autodiff through the cells' step loop.
//!
//! ```no_run
//! use sequence::{Cell, ModelConfig, SequenceModel, State};
//! use burn::prelude::*;
//! # struct MyCell;
//! # impl Cell for MyCell { const NAME: &'static str = "my"; const GATES: usize = 1;
//! #   const CELL_STATE: bool = false;
//! #   fn step(x: Tensor<2>, h: Tensor<2>, _: &State) -> State { State { h: (x + h).tanh(), c: None } } }
//! # fn demo(config: &ModelConfig, tokens: Vec<Tensor<1, Int>>, device: &Device) {
//! let model = SequenceModel::new::<MyCell>(config, device);
//! let (logits, state) = model.forward_lm::<MyCell>(tokens, None); // [steps * batch, vocab]
//! # }
//! ```

pub mod activation;
pub mod cell;
#[cfg(feature = "cli")]
pub mod classify;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "cli")]
pub mod config;
#[cfg(feature = "cli")]
pub mod folds;
pub mod fused;
mod fused_gru;
mod fused_lstm;
#[cfg(feature = "cli")]
pub mod lm;
pub mod model;
pub mod recurrent;
mod sequence_inputs;
#[cfg(feature = "cli")]
pub mod task;
#[doc(hidden)]
#[cfg(feature = "testing")]
pub mod testing;

pub use cell::{Cell, State};
#[cfg(feature = "cli")]
pub use cli::{Cli, Command, cli, command, entry, run};
#[cfg(feature = "cli")]
pub use config::{NetArgs, Recipe, Task, TextArgs};
pub use fused::FusedCell;
pub use model::{InputKind, ModelConfig, Pool, SequenceModel, Steps, pytorch};
pub use recurrent::{Direction, Layer, Recurrent};
// Model crates name one version of each.
pub use burn;
