//! Where a BERT-Mini training step spends its time, one op at a time, at the step's shapes
//! (batch 32 × 128 tokens, hidden 256, 4 heads, feed-forward 1024), against
//! `python scripts/bench/repro/transformer_ops.py` (the same ops in PyTorch).
//!
//!     cargo run --release -p bench --bin transformer_ops
//!
//! `perf` on `bert-mini pretrain` put ~9% of the step in dropout-mask generation (a ChaCha
//! random draw per element on the host: `ElementRandom::random`, `Distribution::sampler`,
//! `chacha20`), ~3% in scalar `erff` for GELU and ~3% in `expf` for the softmax; the matmuls
//! are ~48%. Each elementwise op and the feed-forward linear layers are timed twice: Burn's own,
//! and the `kernels` crate's that bert-mini uses (forward, and forward + backward).

use burn::nn::{DropoutConfig, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{gelu, softmax};

#[path = "timing.rs"]
mod timing;
use timing::seconds;

fn main() {
    let device = Device::flex();
    let ad = device.clone().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    let probs = Tensor::<4>::random([32, 4, 128, 128], normal, &ad);
    let hidden = Tensor::<3>::random([32, 128, 256], normal, &ad);
    let wide = Tensor::<3>::random([32, 128, 1024], normal, &ad);
    let dropout = DropoutConfig::new(0.1).init();
    println!(
        "transformer ops at BERT-Mini's training shapes (Burn flex; forward, then forward + backward):"
    );
    // Burn's op and the kernel's on `input`: forward alone, then with the backward of a sum.
    let compare = |name: &str,
                   input: Tensor<4>,
                   burn_op: &dyn Fn(Tensor<4>) -> Tensor<4>,
                   kernel: &dyn Fn(Tensor<4>) -> Tensor<4>| {
        for (who, op) in [("Burn", burn_op), ("kernels", kernel)] {
            let forward = seconds(10, || {
                let _ = op(input.clone()).into_data();
            });
            let both = seconds(10, || {
                let x = input.clone().require_grad();
                let grads = op(x.clone()).sum().backward();
                let _ = x.grad(&grads).unwrap().into_data();
            });
            println!(
                "  {name:<38} {who:<8} {:8.2} ms {:8.2} ms",
                forward * 1e3,
                both * 1e3
            );
        }
    };
    compare(
        "dropout [32,4,128,128] (attention)",
        probs.clone(),
        &|x| dropout.forward(x),
        &|x| kernels::dropout(&dropout, x),
    );
    compare(
        "dropout [32,128,256] (hidden)",
        hidden.clone().unsqueeze(),
        &|x| dropout.forward(x),
        &|x| kernels::dropout(&dropout, x),
    );
    compare(
        "gelu (erf) [32,128,1024]",
        wide.clone().unsqueeze(),
        &|x| gelu(x),
        &|x| kernels::gelu(x),
    );
    compare(
        "softmax [32,4,128,128]",
        probs.clone(),
        &|x| softmax(x, 3),
        &|x| kernels::softmax(x, 3),
    );
    let feed_in = LinearConfig::new(256, 1024).init(&ad);
    compare(
        "linear 256->1024 [32,128,256]",
        hidden.clone().unsqueeze(),
        &|x| feed_in.forward(x),
        &|x| kernels::linear(&feed_in, x),
    );
    let feed_out = LinearConfig::new(1024, 256).init(&ad);
    compare(
        "linear 1024->256 [32,128,1024]",
        wide.clone().unsqueeze(),
        &|x| feed_out.forward(x),
        &|x| kernels::linear(&feed_out, x),
    );
    let x = Tensor::<2>::random([4096, 256], normal, &device);
    let w = Tensor::<2>::random([256, 1024], normal, &device);
    let t = seconds(10, || {
        let _ = x.clone().matmul(w.clone()).into_data();
    });
    let flops = 2.0 * 4096.0 * 256.0 * 1024.0;
    println!(
        "  matmul [4096,256]x[256,1024]              {:8.2} ms {:6.1} GFLOP/s",
        t * 1e3,
        flops / t / 1e9
    );
    let q = Tensor::<4>::random([32, 4, 128, 64], normal, &device);
    let t = seconds(10, || {
        let _ = q.clone().matmul(q.clone().swap_dims(2, 3)).into_data();
    });
    let flops = 2.0 * 32.0 * 4.0 * 128.0 * 128.0 * 64.0;
    println!(
        "  batched q k^T [32,4,128,64]               {:8.2} ms {:6.1} GFLOP/s",
        t * 1e3,
        flops / t / 1e9
    );
}
