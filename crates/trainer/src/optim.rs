//! Optimizers with PyTorch's defaults where Burn's differ (Adam/AdamW eps 1e-8, SGD dampening
//! 0, RMSprop momentum 0), built in one place, with the L1 penalty (`--l1`) as a gradient term,
//! and the check that refuses optimizer flags an optimizer does not have.

use crate::classifier::OptimizerKind;
use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamConfig, AdamWConfig, LearningRate, ModuleOptimizer, Optimizer, RmsPropConfig, SgdConfig,
};
use burn::prelude::*;

/// What picks and tunes an optimizer (the fields of a run's settings that do).
#[derive(Clone, Copy, Debug)]
pub struct OptimizerSettings {
    pub optimizer: OptimizerKind,
    pub momentum: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    /// λ of the L1 penalty λ·Σ|w| on the weights; 0 = off.
    pub l1: f64,
    /// Weights that are exactly zero stay zero ([`KeepZeros`]).
    pub keep_zeros: bool,
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
    let optim = match s.optimizer {
        // PyTorch: eps 1e-8 (Burn: 1e-5).
        OptimizerKind::Adam => finish(
            AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay)
                .build(),
            s,
        ),
        OptimizerKind::Adamw => finish(
            AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(s.weight_decay as f32)
                .build(),
            s,
        ),
        // PyTorch: dampening 0 (Burn: 0.1).
        OptimizerKind::Sgd => finish(
            SgdConfig::new()
                .with_momentum((s.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(s.momentum)
                        .with_dampening(0.0)
                        .with_nesterov(s.nesterov)
                }))
                .with_weight_decay(decay)
                .build(),
            s,
        ),
        // PyTorch: alpha 0.99, eps 1e-8, momentum 0 (Burn: eps 1e-5, momentum 0.9).
        OptimizerKind::Rmsprop => finish(
            RmsPropConfig::new()
                .with_alpha(0.99)
                .with_epsilon(1e-8)
                .with_momentum(s.momentum as f32)
                .with_weight_decay(decay)
                .build(),
            s,
        ),
    };
    match s.grad_clip {
        Some(norm) => optim.with_grad_clipping(GradientClippingConfig::Norm(norm as f32).init()),
        None => optim,
    }
}

/// `optim` with the L1 penalty and the zero mask when the settings ask for them.
fn finish<O: Optimizer>(optim: O, s: &OptimizerSettings) -> ModuleOptimizer {
    let l1 = |inner| L1 {
        inner,
        lambda: s.l1,
    };
    match (s.l1 > 0.0, s.keep_zeros) {
        (false, false) => optim.into(),
        (true, false) => l1(optim).into(),
        (false, true) => KeepZeros { inner: optim }.into(),
        (true, true) => KeepZeros { inner: l1(optim) }.into(),
    }
}

/// Keeps pruned weights pruned: after `inner`'s update, every weight (parameter of rank 2 and
/// more, as pruning counts them) that was exactly zero before the step is zero again. The mask
/// is the zero pattern itself, so it travels with the weights through checkpoints and resume
/// with nothing else to store; a trained weight landing on exactly 0.0 is vanishingly rare,
/// and would only join the pruned ones.
#[derive(Clone)]
pub struct KeepZeros<O> {
    pub inner: O,
}

impl<O: Optimizer> Optimizer for KeepZeros<O> {
    type State<const D: usize> = O::State<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if D < 2 {
            return self.inner.step(lr, tensor, grad, state);
        }
        let pruned = tensor.clone().equal_elem(0.0);
        let (updated, state) = self.inner.step(lr, tensor, grad, state);
        (updated.mask_fill(pruned, 0.0), state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        O::to_device(state, device)
    }
}

/// L1 regularisation: the penalty λ·Σ|w| over the weights, added to the loss through its
/// gradient λ·sign(w) (0 at w = 0), which joins each weight's gradient before `inner` uses it.
/// Weights are the parameters of rank 2 and more (matrices, kernels, embeddings); biases and
/// normalisation scales, of rank 1, are not penalised. The printed loss stays the data loss.
#[derive(Clone)]
pub struct L1<O> {
    pub inner: O,
    pub lambda: f64,
}

impl<O: Optimizer> Optimizer for L1<O> {
    type State<const D: usize> = O::State<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let grad = if D >= 2 {
            grad + tensor.clone().sign().mul_scalar(self.lambda)
        } else {
            grad
        };
        self.inner.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        O::to_device(state, device)
    }
}

/// Share of the weights (parameters of rank 2 and more) whose magnitude is below `threshold`,
/// percent: how sparse an L1 penalty made a model.
pub fn weights_below<M: burn::module::Module>(model: &M, threshold: f64) -> f64 {
    struct Count {
        threshold: f64,
        small: usize,
        total: usize,
    }
    impl burn::module::ModuleVisitor for Count {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
            if D >= 2 {
                let w = param.val();
                self.total += w.shape().num_elements();
                let small = w.abs().lower_elem(self.threshold).int().sum();
                self.small += small.into_scalar::<i64>() as usize;
            }
        }
    }
    let mut count = Count {
        threshold,
        small: 0,
        total: 0,
    };
    model.visit(&mut count);
    100.0 * count.small as f64 / count.total.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::optim::SgdConfig;

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec().unwrap()
    }

    /// The penalty's gradient is λ·sign(w): Burn's autodiff of λ·Σ|w| says so, and one plain SGD
    /// step (rate 1) with a zero data gradient moves each weight by exactly that.
    #[test]
    fn the_l1_gradient_is_lambda_times_the_sign() {
        let lambda = 0.01;
        let device = Device::default();
        let w = [0.5f32, -0.25, 0.0, 2.0, -3.0, 1e-4];
        let weights = || Tensor::<2>::from_data(TensorData::new(w.to_vec(), [2, 3]), &device);
        let expected: Vec<f32> = w
            .iter()
            .map(|&v| lambda as f32 * if v == 0.0 { 0.0 } else { v.signum() })
            .collect();

        let on_autodiff = Tensor::<2>::from_data(
            TensorData::new(w.to_vec(), [2, 3]),
            &device.clone().autodiff(),
        )
        .require_grad();
        let penalty = on_autodiff.clone().abs().sum().mul_scalar(lambda);
        let grads = penalty.backward();
        let autodiff = values(on_autodiff.grad(&grads).unwrap());
        let l1 = L1 {
            inner: SgdConfig::new().build(),
            lambda,
        };
        let (stepped, _) = l1.step(1.0, weights(), weights().zeros_like(), None);
        let moved: Vec<f32> = w.iter().zip(values(stepped)).map(|(a, b)| a - b).collect();
        for i in 0..w.len() {
            assert!(
                (autodiff[i] - expected[i]).abs() < 1e-7,
                "autodiff {autodiff:?}"
            );
            assert!((moved[i] - expected[i]).abs() < 1e-7, "step {moved:?}");
        }
    }

    /// Zero weights stay zero through Adam steps with weight decay and non-zero gradients,
    /// while the others move.
    #[test]
    fn zero_weights_stay_zero() {
        let device = Device::default();
        let w = vec![0.5f32, 0.0, -0.25, 0.0, 1.0, 0.0];
        let mut weights = Tensor::<2>::from_data(TensorData::new(w.clone(), [2, 3]), &device);
        let keep = KeepZeros {
            inner: AdamConfig::new()
                .with_weight_decay(Some(WeightDecayConfig::new(0.1)))
                .build(),
        };
        let mut state = None;
        for _ in 0..5 {
            let grad = weights.ones_like().mul_scalar(0.3);
            (weights, state) = keep.step(0.01, weights, grad, state);
        }
        let after = values(weights);
        for (before, after) in w.iter().zip(&after) {
            if *before == 0.0 {
                assert_eq!(*after, 0.0, "{after:?}");
            } else {
                assert!((before - after).abs() > 0.01, "{after:?}");
            }
        }
    }

    #[test]
    fn biases_are_not_penalised() {
        let device = Device::default();
        let bias = Tensor::<1>::from_data(TensorData::new(vec![0.5f32, -0.5], [2]), &device);
        let l1 = L1 {
            inner: SgdConfig::new().build(),
            lambda: 0.1,
        };
        let (stepped, _) = l1.step(1.0, bias.clone(), bias.zeros_like(), None);
        assert_eq!(values(stepped), [0.5, -0.5]);
    }
}
