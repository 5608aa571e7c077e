//! Transfer learning: start a classifier from weights trained elsewhere (another run, a
//! PyTorch checkpoint, a registry entry), with a new head when the classes differ, and
//! optionally train the head alone.
//!
//! `train --init W` loads every tensor of W that fits (same name, same shape) and says which
//! ones kept their fresh initialisation: a head with another class count does not fit and is
//! re-learnt; `--reset-head` re-learns it even when it fits. `--freeze-backbone` trains the head
//! only: every other parameter stops requiring gradients and every other layer's training
//! behaviour (batch-norm statistics, dropout) is switched off, as for a fixed feature extractor.

use crate::classifier::ImageClassifier;
use burn::module::{Flag, Module, ModuleMapper, Param};
use burn::prelude::*;
use std::path::Path;

/// Loads `init` into `model` for transfer: all that fits, the head afresh when `reset_head`.
pub fn init_from<M: ImageClassifier>(
    model: M,
    init: &Path,
    config: &M::Config,
    data: &crate::DataSpec,
    reset_head: bool,
) -> anyhow::Result<M> {
    let fresh = if reset_head {
        M::head(config, data)
    } else {
        Vec::new()
    };
    let (model, fitted) = weights::load_fitting(model, init, &M::pytorch_names(config), &fresh)?;
    println!("--init {}: {}", init.display(), fitted.describe());
    Ok(model)
}

/// `model` with everything outside its head frozen; the head's parameter count and the frozen
/// count are returned for the console.
pub fn freeze_backbone<M: Module>(model: M, head: &[String]) -> (M, usize, usize) {
    let mut mapper = Freezer {
        path: Vec::new(),
        head,
        trainable: 0,
        frozen: 0,
    };
    let model = model.map(&mut mapper);
    (model, mapper.trainable, mapper.frozen)
}

/// Walks the module tree with Burn's parameter paths (enum variants left out, as in weight
/// files), freezing what is not below a head prefix.
struct Freezer<'a> {
    /// Each entered container: its name, or None for an enum variant.
    path: Vec<Option<String>>,
    head: &'a [String],
    trainable: usize,
    frozen: usize,
}

impl Freezer<'_> {
    fn in_head(&self) -> bool {
        let path: Vec<&str> = self.path.iter().flatten().map(String::as_str).collect();
        let path = path.join(".");
        self.head
            .iter()
            .any(|h| path == *h || path.starts_with(&format!("{h}.")))
    }
}

impl ModuleMapper for Freezer<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path
            .push((!container_type.starts_with("Enum:")).then(|| name.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let count = param.lazy_shape().num_elements();
        if self.in_head() {
            self.trainable += count;
            param
        } else {
            self.frozen += count;
            param.set_require_grad(false)
        }
    }

    fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
        if self.in_head() {
            flag
        } else {
            flag.with_value(false)
        }
    }
}
