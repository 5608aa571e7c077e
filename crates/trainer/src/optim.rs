//! Optimizers with PyTorch's defaults where Burn's differ (Adam/AdamW eps 1e-8, SGD dampening
//! 0, RMSprop momentum 0), built in one place, and the check that refuses optimizer flags an
//! optimizer does not have.

use crate::classifier::OptimizerKind;
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};

/// What picks and tunes an optimizer (the fields of a run's settings that do).
#[derive(Clone, Copy, Debug)]
pub struct OptimizerSettings {
    pub optimizer: OptimizerKind,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    pub grad_clip: Option<f64>,
}

/// Adam as PyTorch builds it by default (β 0.9/0.999, eps 1e-8, no decay).
pub fn adam() -> ModuleOptimizer {
    adam_config().init()
}

/// [`adam`]'s config, to change β₁ or add clipping.
pub fn adam_config() -> AdamConfig {
    AdamConfig::new().with_epsilon(1e-8)
}

/// Refuses `--momentum` / `--nesterov` with an optimizer that has no momentum (Adam, AdamW), and
/// `--nesterov` with anything but SGD: a flag is never dropped without a word.
pub fn check_flags(
    kind: OptimizerKind,
    momentum: Option<f64>,
    nesterov: Option<bool>,
) -> Result<(), crate::UsageError> {
    if let Some(m) = momentum
        && matches!(kind, OptimizerKind::Adam | OptimizerKind::Adamw)
    {
        return Err(crate::UsageError(format!(
            "--momentum {m} does not apply to --optimizer {}: Adam's momentum is its β₁ (0.9); \
             drop --momentum, or use --optimizer sgd or rmsprop",
            kind.name()
        )));
    }
    if nesterov == Some(true) && kind != OptimizerKind::Sgd {
        return Err(crate::UsageError(format!(
            "--nesterov applies to --optimizer sgd only, not {}",
            kind.name()
        )));
    }
    Ok(())
}

/// The optimizer the settings name, with PyTorch's defaults where Burn's differ.
pub fn build(s: &OptimizerSettings) -> ModuleOptimizer {
    let decay = (s.weight_decay > 0.0).then(|| WeightDecayConfig::new(s.weight_decay as f32));
    let clip = s.grad_clip.map(|c| GradientClippingConfig::Norm(c as f32));
    match s.optimizer {
        // PyTorch: eps 1e-8 (Burn: 1e-5).
        OptimizerKind::Adam => AdamConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(decay)
            .with_grad_clipping(clip)
            .init(),
        OptimizerKind::Adamw => AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(s.weight_decay as f32)
            .with_grad_clipping(clip)
            .init(),
        // PyTorch: dampening 0 (Burn: 0.1).
        OptimizerKind::Sgd => SgdConfig::new()
            .with_momentum((s.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(s.momentum)
                    .with_dampening(0.0)
                    .with_nesterov(s.nesterov)
            }))
            .with_weight_decay(decay)
            .with_gradient_clipping(clip)
            .init(),
        // PyTorch: alpha 0.99, eps 1e-8, momentum 0 (Burn: eps 1e-5, momentum 0.9).
        OptimizerKind::Rmsprop => RmsPropConfig::new()
            .with_alpha(0.99)
            .with_epsilon(1e-8)
            .with_momentum(s.momentum as f32)
            .with_weight_decay(decay)
            .with_grad_clipping(clip)
            .init(),
    }
}
