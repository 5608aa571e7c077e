//! The fused training-mode batch norm (+ ReLU) against Burn's `BatchNorm` (+ `relu`) on the
//! same parameters and inputs: output, the gradients of the input, γ and β, and the running
//! statistics after the step; and Burn's own path outside training.

use burn::nn::{BatchNorm, BatchNormConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use kernels::Isa;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

fn assert_close(what: &str, fast: &[f32], reference: &[f32], tol: f32) {
    assert_eq!(fast.len(), reference.len(), "{what}: sizes");
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in fast.iter().zip(reference).enumerate() {
        assert!(
            (a - b).abs() <= tol * scale,
            "{what}[{i}]: fast {a} vs Burn {b}"
        );
    }
}

/// A batch norm with non-trivial γ, β and running statistics.
fn layer(channels: usize, device: &Device) -> BatchNorm {
    let mut bn: BatchNorm = BatchNormConfig::new(channels).init(device);
    let ramp = |a: f32, b: f32| {
        Tensor::<1>::from_data(
            TensorData::new(
                (0..channels).map(|c| a + b * c as f32).collect::<Vec<_>>(),
                [channels],
            ),
            device,
        )
    };
    let tracked = |t: Tensor<1>| {
        if device.is_autodiff() {
            t.require_grad()
        } else {
            t
        }
    };
    bn.gamma = bn.gamma.map(|_| tracked(ramp(0.5, 0.1)));
    bn.beta = bn.beta.map(|_| tracked(ramp(-0.3, 0.05)));
    bn
}

/// What follows the normalisation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Activation {
    None,
    Relu,
    Leaky(f64),
}

fn run(
    bn: &BatchNorm,
    x: &Tensor<4>,
    weigh: &Tensor<4>,
    activation: Activation,
    fast: bool,
) -> Vec<(&'static str, Vec<f32>)> {
    let x = x.clone().require_grad();
    let y = match (fast, activation) {
        (true, Activation::Leaky(slope)) => kernels::batch_norm_leaky_relu(bn, x.clone(), slope),
        (true, _) => kernels::batch_norm(bn, x.clone(), activation == Activation::Relu),
        (false, _) => {
            let y = bn.forward(x.clone());
            match activation {
                Activation::None => y,
                Activation::Relu => burn::tensor::activation::relu(y),
                Activation::Leaky(slope) => burn::tensor::activation::leaky_relu(y, slope),
            }
        }
    };
    let grads = (y.clone() * weigh.clone()).sum().backward();
    vec![
        ("y", values(y)),
        ("dx", values(x.grad(&grads).unwrap())),
        ("d gamma", values(bn.gamma.grad(&grads).unwrap())),
        ("d beta", values(bn.beta.grad(&grads).unwrap())),
        ("running mean", values(bn.running_mean.value())),
        ("running var", values(bn.running_var.value())),
    ]
}

#[test]
fn training_batch_norm_matches_burn() {
    let device = Device::default().autodiff();
    for (dims, activation) in [
        ([4, 16, 8, 8], Activation::Relu),
        ([3, 5, 7, 9], Activation::None),
        ([1, 17, 5, 5], Activation::Relu),
        ([8, 32, 4, 4], Activation::None),
        ([4, 16, 7, 7], Activation::Leaky(0.2)),
    ] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.5, 2.0), &device);
        let weigh = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let reference = run(&layer(dims[1], &device), &x, &weigh, activation, false);
        // Every instruction-set path this CPU has, forced in turn.
        for isa in Isa::ALL
            .into_iter()
            .filter(|isa| *isa <= kernels::isa::detected())
        {
            kernels::isa::force(Some(isa));
            let fast = run(&layer(dims[1], &device), &x, &weigh, activation, true);
            kernels::isa::force(None);
            for ((name, a), (_, b)) in fast.iter().zip(&reference) {
                let what = format!("{name} {dims:?} {activation:?} {}", isa.name());
                assert_close(&what, a, b, 1e-4);
            }
        }
    }
}

/// A layer with running statistics away from 0 and 1, as after some training.
fn trained(channels: usize, device: &Device) -> BatchNorm {
    let bn = layer(channels, device);
    let warm = Tensor::<4>::random([4, channels, 3, 3], Distribution::Normal(1.5, 3.0), device);
    let _ = bn.forward(warm);
    bn
}

#[test]
fn evaluation_uses_the_running_statistics() {
    let device = Device::default();
    let bn = trained(6, &device.clone().autodiff());
    let bn = burn::module::Module::valid(&bn);
    let x = Tensor::<4>::random([2, 6, 3, 3], Distribution::Default, &device);
    for relu in [true, false] {
        let fast = values(kernels::batch_norm(&bn, x.clone(), relu));
        let y = bn.forward(x.clone());
        let reference = values(if relu {
            burn::tensor::activation::relu(y)
        } else {
            y
        });
        assert_close(&format!("evaluation relu {relu}"), &fast, &reference, 1e-5);
    }
}

/// A frozen layer on the training device (`trainer::transfer::freeze_backbone`): running
/// statistics, and gradients that flow through them as constants.
#[test]
fn frozen_layer_matches_burn() {
    let device = Device::default().autodiff();
    let dims = [3, 8, 5, 5];
    let x = Tensor::<4>::random(dims, Distribution::Normal(0.5, 2.0), &device);
    let weigh = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
    let frozen = |bn: BatchNorm| {
        let mut bn = bn;
        bn.training = bn.training.map(|flag| flag.with(false));
        bn
    };
    let fast = run(
        &frozen(trained(8, &device)),
        &x,
        &weigh,
        Activation::Relu,
        true,
    );
    let reference = run(
        &frozen(trained(8, &device)),
        &x,
        &weigh,
        Activation::Relu,
        false,
    );
    for ((name, a), (_, b)) in fast.iter().zip(&reference) {
        assert_close(&format!("frozen {name}"), a, b, 1e-4);
    }
}
