//! Gated recurrent unit networks (Cho et al. 2014) on burn-zoo's shared
//! recurrent stack: a character language model on Shakespeare, e-mail spam classification and
//! seed 003's sequence task, with weights that load into and out of `torch.nn.GRU`.
//!
//! ```no_run
//! use gru::{GruCell, ModelConfig, SequenceModel};
//! # fn demo(config: &ModelConfig, tokens: Vec<burn::prelude::Tensor<1, burn::prelude::Int>>, device: &burn::prelude::Device) {
//! let model = SequenceModel::new::<GruCell>(config, device);
//! let (logits, state) = model.forward_lm::<GruCell>(tokens, None); // [steps * batch, vocab]
//! # }
//! ```

pub mod cell;

pub use cell::GruCell;
pub use sequence::{InputKind, ModelConfig, SequenceModel, State, Task};
