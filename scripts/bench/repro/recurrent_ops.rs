//! Minimal reproductions of what bounds a recurrent network's training step on Burn's CPU
//! backend, for the `lstm`/`gru` rows of docs/BENCHMARKS.md. Run:
//!
//!     cargo run --release -p bench --bin recurrent_ops
//!     python scripts/bench/repro/recurrent_ops.py       # the same ops in PyTorch
//!
//! 1. Matmul throughput at the shapes of one LSTM step (batch 64, hidden 512): the forward
//!    products `[64, 512] x [512, 2048]`, the per-step weight gradients `[512, 64] x [64, 2048]`
//!    autodiff forms through the step loop, the one product over all steps the fused layer
//!    (`sequence::fused`) forms instead, and its backward product by `W_hhᵀ`.
//! 2. Backward of slicing: taking T steps out of one `[T, 64, 2048]` tensor costs a full-size
//!    zero tensor plus a slice-assign per slice in backward, so backward grows as T²; per-step
//!    tensors joined with `cat` stay linear. This is why the step loop of `sequence::Recurrent`
//!    keeps per-step tensors, and why the fused layer slices steps outside autodiff.
//! 3. Elementwise activations on `[64, 2048]`: sigmoid and tanh against a multiply.

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;

#[path = "timing.rs"]
mod timing;
use timing::seconds;

fn main() {
    let device = Device::default();
    let rand = |shape: [usize; 2]| Tensor::<2>::random(shape, Distribution::Default, &device);

    println!("1. matmul (Burn 0.22.1, flex)");
    for (m, k, n, what) in [
        (64, 512, 2048, "step forward  [64,512]x[512,2048]"),
        (512, 64, 2048, "weight grad   [512,64]x[64,2048] "),
        (8192, 512, 2048, "all steps     [8192,512]x[512,2048]"),
        (2048, 512, 64, "transposed    [2048,512]x[512,64] "),
        (64, 2048, 512, "step backward [64,2048]x[2048,512]"),
    ] {
        let (a, b) = (rand([m, k]), rand([k, n]));
        let s = seconds(20, || {
            let _ = a.clone().matmul(b.clone()).into_data();
        });
        println!(
            "   {what}: {:7.3} ms  {:6.1} GFLOP/s",
            s * 1e3,
            2.0 * (m * k * n) as f64 / s / 1e9
        );
    }

    // The products of the fused layer, the same 64 x 512 x 2048 multiply-adds in other layouts:
    // its backward multiplies by W_hh^T (a view, not a copy); (W_hh^T h^T)^T and (W_hh d^T)^T
    // through views; W_hh^T stored row-major times the state as a view (what it runs).
    let (d, w, h, wt) = (
        rand([64, 2048]),
        rand([512, 2048]),
        rand([64, 512]),
        rand([2048, 512]),
    );
    let step_flops = 2.0 * (64 * 2048 * 512) as f64;
    type Product<'a> = Box<dyn Fn() -> Tensor<2> + 'a>;
    let layouts: [(&str, Product); 4] = [
        (
            "step backward [64,2048]x[512,2048]^T",
            Box::new(|| d.clone().matmul(w.clone().transpose())),
        ),
        (
            "step forward as (W^T h^T)^T        ",
            Box::new(|| w.clone().transpose().matmul(h.clone().transpose())),
        ),
        (
            "step backward as (W d^T)^T         ",
            Box::new(|| w.clone().matmul(d.clone().transpose())),
        ),
        (
            "contiguous W^T x view h^T          ",
            Box::new(|| wt.clone().matmul(h.clone().transpose())),
        ),
    ];
    for (what, product) in layouts {
        let s = seconds(20, || {
            let _ = product().into_data();
        });
        println!(
            "   {what}: {:7.3} ms  {:6.1} GFLOP/s",
            s * 1e3,
            step_flops / s / 1e9
        );
    }

    println!("2. backward of T slices of [T, 64, 2048] against T per-step tensors + cat");
    let ad = device.clone().autodiff();
    for steps in [16, 32, 64, 128] {
        let whole =
            Tensor::<3>::random([steps, 64, 2048], Distribution::Default, &ad).require_grad();
        let sliced = seconds(3, || {
            let total = (0..steps)
                .map(|t| whole.clone().slice(s![t..t + 1, .., ..]).sum())
                .reduce(|a, b| a + b)
                .unwrap();
            let _ = total.backward();
        });
        let parts: Vec<Tensor<2>> = (0..steps)
            .map(|_| Tensor::<2>::random([64, 2048], Distribution::Default, &ad).require_grad())
            .collect();
        let per_step = seconds(3, || {
            let joined = Tensor::cat(parts.clone(), 0); // [steps * 64, 2048]
            let _ = joined.sum().backward();
        });
        println!(
            "   T = {steps:3}: slices {:8.1} ms   per-step + cat {:6.1} ms",
            sliced * 1e3,
            per_step * 1e3
        );
    }

    println!("3. elementwise on [64, 2048]");
    let x = rand([64, 2048]);
    for (name, s) in [
        (
            "mul    ",
            seconds(200, || {
                let _ = (x.clone() * x.clone()).into_data();
            }),
        ),
        (
            "exp    ",
            seconds(200, || {
                let _ = x.clone().exp().into_data();
            }),
        ),
        (
            "sigmoid",
            seconds(200, || {
                let _ = sigmoid(x.clone()).into_data();
            }),
        ),
        (
            "tanh   ",
            seconds(200, || {
                let _ = x.clone().tanh().into_data();
            }),
        ),
    ] {
        println!("   {name}: {:7.1} µs", s * 1e6);
    }
}
