//! Gated recurrent unit networks (Cho et al. 2014) on burn-zoo's shared
//! recurrent stack: a character language model on Shakespeare, e-mail spam classification and
//! the compare-halves sequence task, with weights that load into and out of `torch.nn.GRU`.
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
#[cfg(feature = "cli")]
pub use sequence::Task;
pub use sequence::{InputKind, ModelConfig, SequenceModel, State};

/// `gru` in the zoo's registry: its card (`zoo.json`) and its command line (burn-zoo's shared
/// recurrent stack, `sequence`, with this crate's cell).
#[cfg(feature = "cli")]
pub const ENTRY: trainer::entry::ModelEntry =
    sequence::entry::<GruCell>(include_str!("../zoo.json"));
