//! The linear layer on the convolution kernels against Burn's `Linear`, on the same weights and
//! inputs: output and the gradients of the input, weight and bias, on every instruction-set
//! path this CPU has; with and without bias, 2-D and 3-D inputs, ragged sizes (rows not a
//! multiple of a tile, outputs not a multiple of 16), a non-contiguous input, and untracked
//! autodiff.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use kernels::Isa;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

/// |a - b| ≤ tol · max(1, max |b|), element by element.
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

fn paths() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| *isa <= kernels::isa::detected())
        .collect()
}

/// Output and gradients of x, W and b for `loss = Σ y · weigh`.
fn run<const D: usize>(
    layer: &Linear,
    x: &Tensor<D>,
    weigh: &Tensor<D>,
    fast: bool,
) -> Vec<(&'static str, Vec<f32>)> {
    let x = x.clone().require_grad();
    let y = if fast {
        kernels::linear(layer, x.clone())
    } else {
        layer.forward(x.clone())
    };
    let grads = (y.clone() * weigh.clone()).sum().backward();
    let mut out = vec![
        ("y", values(y)),
        ("dx", values(x.grad(&grads).unwrap())),
        ("dW", values(layer.weight.grad(&grads).unwrap())),
    ];
    if let Some(bias) = &layer.bias {
        out.push(("db", values(bias.grad(&grads).unwrap())));
    }
    out
}

fn compare<const D: usize>(dims: [usize; D], outputs: usize, bias: bool) {
    let device = Device::default().autodiff();
    let inputs = dims[D - 1];
    let layer = LinearConfig::new(inputs, outputs)
        .with_bias(bias)
        .init(&device);
    let x = Tensor::<D>::random(dims, Distribution::Normal(0.0, 1.0), &device);
    let mut out_dims = dims;
    out_dims[D - 1] = outputs;
    let weigh = Tensor::<D>::random(out_dims, Distribution::Normal(0.0, 1.0), &device);
    let reference = run(&layer, &x, &weigh, false);
    for isa in paths() {
        kernels::isa::force(Some(isa));
        let fast = run(&layer, &x, &weigh, true);
        kernels::isa::force(None);
        assert_eq!(fast.len(), reference.len());
        for ((name, a), (_, b)) in fast.iter().zip(&reference) {
            let what = format!("{name} {dims:?} → {outputs} bias {bias} {}", isa.name());
            assert_close(&what, a, b, 1e-4);
        }
    }
}

#[test]
fn linear_matches_burn() {
    compare([128, 784], 128, true); // the MLP's hidden layer
    compare([128, 128], 10, true); // its head: 10 of 16 lanes
    compare([4, 33, 64], 256, true); // 3-D, 132 rows: a partial job and a partial tile
    compare([1, 17], 8, false); // one row, no bias
    compare([7, 3], 33, true); // 3 inputs, 33 outputs
}

#[test]
fn non_contiguous_and_untracked_inputs() {
    let device = Device::default().autodiff();
    let layer = LinearConfig::new(24, 40).init(&device);
    let x = Tensor::<3>::random([5, 24, 9], Distribution::Normal(0.0, 1.0), &device);
    let swapped = x.swap_dims(1, 2); // [5, 9, 24], not contiguous
    let fast = values(kernels::linear(&layer, swapped.clone()));
    assert_close(
        "swapped",
        &fast,
        &values(layer.forward(swapped.clone())),
        1e-5,
    );
    let plain = swapped.detach();
    let fast = values(kernels::linear(&layer, plain.clone()));
    assert_close("untracked", &fast, &values(layer.forward(plain)), 1e-5);
    // On the plain (non-autodiff) device too.
    let inner = Device::default();
    let layer = LinearConfig::new(24, 40).init(&inner);
    let x = Tensor::<2>::random([11, 24], Distribution::Normal(0.0, 1.0), &inner);
    let fast = values(kernels::linear(&layer, x.clone()));
    assert_close("inference", &fast, &values(layer.forward(x)), 1e-5);
}

#[test]
fn few_outputs_use_burns_linear() {
    // Fewer than 8 outputs (a discriminator's logit) go to Burn's op: same values exactly.
    let device = Device::default();
    let layer = LinearConfig::new(32, 1).init(&device);
    let x = Tensor::<2>::random([6, 32], Distribution::Default, &device);
    assert_eq!(
        values(kernels::linear(&layer, x.clone())),
        values(layer.forward(x))
    );
}

#[test]
fn tied_decoder_weight_matches_burn() {
    // A masked-LM decoder tied to the embedding table: `h · Eᵀ + b`, Eᵀ a transposed view.
    let device = Device::default().autodiff();
    let table =
        Tensor::<2>::random([40, 24], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let bias = Tensor::<1>::random([40], Distribution::Normal(0.0, 1.0), &device).require_grad();
    let h = Tensor::<2>::random([13, 24], Distribution::Normal(0.0, 1.0), &device);
    let weigh = Tensor::<2>::random([13, 40], Distribution::Normal(0.0, 1.0), &device);
    let run = |fast: bool| {
        let y = if fast {
            kernels::linear_with(h.clone(), table.clone().transpose(), Some(bias.clone()))
        } else {
            h.clone().matmul(table.clone().transpose()) + bias.clone().unsqueeze::<2>()
        };
        let grads = (y.clone() * weigh.clone()).sum().backward();
        [
            values(y),
            values(table.grad(&grads).unwrap()),
            values(bias.grad(&grads).unwrap()),
        ]
    };
    for (name, (a, b)) in ["y", "d table", "d bias"]
        .iter()
        .zip(run(true).iter().zip(&run(false)))
    {
        assert_close(name, a, b, 1e-4);
    }
}

#[test]
fn a_packed_weight_multiplies_as_the_matrix_and_its_transpose() {
    // An RNN's recurrent products: `h W` and `d Wᵀ` with the weight packed once (an odd count
    // of blocks, a partial last block, rows not a multiple of a tile, more rows than one job,
    // and the char-LM's [64, 512] × [512, 2048]).
    let device = Device::default();
    for (rows, inputs, outputs) in [(64, 512, 2048), (13, 24, 85), (1, 5, 16), (70, 33, 200)] {
        let x = Tensor::<2>::random([rows, inputs], Distribution::Normal(0.0, 1.0), &device);
        let dy = Tensor::<2>::random([rows, outputs], Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<2>::random([inputs, outputs], Distribution::Normal(0.0, 1.0), &device);
        let expected = values(x.clone().matmul(w.clone()));
        let expected_t = values(dy.clone().matmul(w.clone().transpose()));
        let (x, dy, w) = (values(x), values(dy), values(w));
        let (forward, backward) = (
            kernels::linear::PackedWeight::new(&w, [inputs, outputs], false),
            kernels::linear::PackedWeight::new(&w, [inputs, outputs], true),
        );
        for isa in paths() {
            kernels::isa::force(Some(isa));
            let (mut y, mut dx) = (vec![0.0; rows * outputs], vec![0.0; rows * inputs]);
            forward.product_on_this_thread(isa, &x, &mut y);
            backward.product_on_this_thread(isa, &dy, &mut dx);
            kernels::isa::force(None);
            let what = format!("[{rows}, {inputs}] x [{inputs}, {outputs}] {}", isa.name());
            assert_close(&format!("x W {what}"), &y, &expected, 1e-4);
            assert_close(&format!("dy Wᵀ {what}"), &dx, &expected_t, 1e-4);
        }
    }
}
