//! The network every task uses: an embedding (token tasks) or raw features (compare-halves), the
//! recurrent stack, dropout and a linear head. PyTorch's module names (`embedding`, `rnn`,
//! `fc`) are kept, so a reference model is `nn.Embedding` + `nn.LSTM`/`nn.GRU` + `nn.Linear`.

use crate::cell::{Cell, State};
use crate::recurrent::Recurrent;
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// What one time step of the input is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    /// Token ids embedded in `embedding` dimensions.
    Tokens { vocab: usize, embedding: usize },
    /// A vector of `features` numbers per step.
    Features { features: usize },
}

/// How a classifier turns the per-step outputs into one vector.
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pool {
    /// The final state of the last layer: each sequence's own last step (both directions'
    /// final states when bidirectional), as `h_n` of packed sequences in PyTorch.
    #[default]
    Last,
    /// The element-wise maximum of the last layer's outputs over the real (unpadded) steps.
    Max,
}

/// Everything needed to rebuild the network (saved in `config.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// `lstm` or `gru`.
    pub cell: String,
    pub input: InputKind,
    pub hidden: usize,
    pub layers: usize,
    pub bidirectional: bool,
    /// Between recurrent layers and before the head.
    pub dropout: f64,
    /// Head outputs: the vocabulary (language model) or the classes.
    pub outputs: usize,
    /// Classification only.
    #[serde(default)]
    pub pool: Pool,
}

impl ModelConfig {
    fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// "2 layers × 256 (bidirectional)", for a run's first line.
    pub fn describe_stack(&self) -> String {
        let bidirectional = if self.bidirectional {
            " (bidirectional)"
        } else {
            ""
        };
        format!("{} layers × {}{bidirectional}", self.layers, self.hidden)
    }
}

/// Per-step inputs, time-major: one tensor per step.
pub enum Steps {
    /// `[batch]` token ids per step.
    Tokens(Vec<Tensor<1, Int>>),
    /// `[batch, features]` per step.
    Features(Vec<Tensor<2>>),
}

#[derive(Module, Debug)]
pub struct SequenceModel {
    pub embedding: Option<Embedding>,
    pub rnn: Recurrent,
    pub dropout: Dropout,
    pub fc: Linear,
    #[module(skip)]
    pub pool: Pool,
}

impl SequenceModel {
    pub fn new<C: Cell>(config: &ModelConfig, device: &Device) -> Self {
        assert_eq!(config.cell, C::NAME, "model config is for another cell");
        let (embedding, input) = match config.input {
            InputKind::Tokens { vocab, embedding } => (
                // PyTorch's nn.Embedding default: N(0, 1), which is also Burn's.
                Some(EmbeddingConfig::new(vocab, embedding).init(device)),
                embedding,
            ),
            InputKind::Features { features } => (None, features),
        };
        Self {
            embedding,
            rnn: Recurrent::new::<C>(
                input,
                config.hidden,
                config.layers,
                config.bidirectional,
                config.dropout,
                device,
            ),
            dropout: DropoutConfig::new(config.dropout).init(),
            fc: LinearConfig::new(config.directions() * config.hidden, config.outputs).init(device),
            pool: config.pool,
        }
    }

    fn step_inputs(&self, steps: Steps) -> Vec<Tensor<2>> {
        match (steps, &self.embedding) {
            (Steps::Tokens(ids), Some(embedding)) => {
                let table = embedding.weight.val(); // [vocab, embedding]
                ids.into_iter()
                    .map(|t| table.clone().select(0, t))
                    .collect()
            }
            (Steps::Features(x), None) => x,
            (Steps::Tokens(_), None) => panic!("this model reads feature vectors, not tokens"),
            (Steps::Features(_), Some(_)) => panic!("this model reads tokens, not features"),
        }
    }

    /// The recurrent stack's outputs, time-major (`[steps * batch, directions * hidden]`), and
    /// final states.
    pub fn encode<C: Cell>(
        &self,
        steps: Steps,
        mask: Option<&[Tensor<2>]>,
        state: Option<Vec<State>>,
    ) -> (Tensor<2>, Vec<State>) {
        self.rnn.forward::<C>(self.step_inputs(steps), mask, state)
    }

    /// Next-token logits for every step, time-major: `[steps * batch, vocab]`.
    pub fn forward_lm<C: Cell>(
        &self,
        tokens: Vec<Tensor<1, Int>>,
        state: Option<Vec<State>>,
    ) -> (Tensor<2>, Vec<State>) {
        let (outputs, state) = self.encode::<C>(Steps::Tokens(tokens), None, state);
        let h = self.dropout.forward(outputs); // [steps * batch, hidden]
        (self.fc.forward(h), state)
    }

    /// Class logits `[batch, classes]` from the pooled last layer ([`Pool`]); padding never
    /// reaches the result.
    pub fn forward_classify<C: Cell>(&self, steps: Steps, mask: Option<&[Tensor<2>]>) -> Tensor<2> {
        let (outputs, states) = self.encode::<C>(steps, mask, None);
        let pooled = match self.pool {
            Pool::Last if self.rnn.bidirectional() => {
                let n = states.len();
                Tensor::cat(vec![states[n - 2].h.clone(), states[n - 1].h.clone()], 1)
            }
            Pool::Last => states[states.len() - 1].h.clone(),
            Pool::Max => {
                let [rows, width] = outputs.dims();
                let batch = states[0].h.dims()[0];
                // [steps, batch, directions * hidden]
                let stacked: Tensor<3> = outputs.reshape([rows / batch, batch, width]);
                let stacked = match mask {
                    // Padded steps output zeros; push them below every real value.
                    Some(mask) => {
                        let mask: Tensor<3> = Tensor::stack(mask.to_vec(), 0); // [steps, batch, 1]
                        stacked + (mask - 1.0) * 1e9
                    }
                    None => stacked,
                };
                stacked.max_dim(0).squeeze_dim::<2>(0)
            }
        }; // [batch, directions * hidden]
        self.fc.forward(self.dropout.forward(pooled))
    }
}

/// PyTorch's parameter names for the recurrent stack, as (regex, replacement) pairs in both
/// directions; `embedding.weight` and `fc.*` need no renaming.
pub mod pytorch {
    /// `rnn.weight_ih_l0_reverse` → `rnn.layers.0.backward.ih.weight`, ...
    pub fn from_torch() -> Vec<(String, String)> {
        vec![
            (
                r"^rnn\.(weight|bias)_(ih|hh)_l(\d+)_reverse$".into(),
                "rnn.layers.${3}.backward.${2}.${1}".into(),
            ),
            (
                r"^rnn\.(weight|bias)_(ih|hh)_l(\d+)$".into(),
                "rnn.layers.${3}.forward.${2}.${1}".into(),
            ),
        ]
    }

    /// The inverse of [`from_torch`].
    pub fn to_torch() -> Vec<(String, String)> {
        vec![
            (
                r"^rnn\.layers\.(\d+)\.backward\.(ih|hh)\.(weight|bias)$".into(),
                "rnn.${3}_${2}_l${1}_reverse".into(),
            ),
            (
                r"^rnn\.layers\.(\d+)\.forward\.(ih|hh)\.(weight|bias)$".into(),
                "rnn.${3}_${2}_l${1}".into(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Examples;

    /// An Elman cell (h' = tanh(x W + h U)), enough to exercise the stack.
    struct Elman;
    impl Cell for Elman {
        const NAME: &'static str = "elman";
        const GATES: usize = 1;
        const CELL_STATE: bool = false;
        fn step(input: Tensor<2>, hidden: Tensor<2>, _: &State) -> State {
            State {
                h: (input + hidden).tanh(),
                c: None,
            }
        }
    }

    fn logits(model: &SequenceModel, sequences: Vec<Vec<u32>>) -> Vec<f32> {
        let examples = Examples::Tokens {
            labels: vec![0; sequences.len()],
            sequences,
        };
        let indices: Vec<usize> = (0..examples.len()).collect();
        let (steps, mask, _) = examples.batch(&indices, &Device::default());
        model
            .forward_classify::<Elman>(steps, mask.as_deref())
            .into_data()
            .try_to_vec()
            .unwrap()
    }

    #[test]
    fn padding_never_changes_a_sequences_logits() {
        for (pool, bidirectional) in [
            (Pool::Last, false),
            (Pool::Last, true),
            (Pool::Max, false),
            (Pool::Max, true),
        ] {
            let config = ModelConfig {
                cell: "elman".into(),
                input: InputKind::Tokens {
                    vocab: 9,
                    embedding: 4,
                },
                hidden: 5,
                layers: 2,
                bidirectional,
                dropout: 0.0,
                outputs: 3,
                pool,
            };
            let model = SequenceModel::new::<Elman>(&config, &Device::default());
            let short = vec![3, 1, 4];
            let alone = logits(&model, vec![short.clone()]);
            let padded = logits(&model, vec![short, vec![2, 7, 1, 8, 2, 8, 1]]);
            let diff = alone
                .iter()
                .zip(&padded[..3])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(
                diff < 1e-5,
                "{pool:?} bidirectional={bidirectional}: {diff}"
            );
        }
    }
}
