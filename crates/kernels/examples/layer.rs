//! One convolution layer through `kernels::conv2d` on flex, repeated: a target for `perf`.
//!
//!     cargo build --release -p kernels --example layer
//!     perf record -g target/release/examples/layer forward|backward

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::prelude::*;
use burn::tensor::Distribution;

fn main() {
    let backward = std::env::args().nth(1).as_deref() == Some("backward");
    let device = if backward {
        Device::default().autodiff()
    } else {
        Device::default()
    };
    let conv = Conv2dConfig::new([16, 16], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    let x = Tensor::<4>::random([128, 16, 32, 32], Distribution::Default, &device);
    let x = if backward { x.require_grad() } else { x };
    let start = std::time::Instant::now();
    for _ in 0..20 {
        let y = kernels::conv2d(&conv, x.clone());
        if backward {
            let _ = y.sum().backward();
        } else {
            let _ = y.into_data();
        }
    }
    println!(
        "{:.2} ms per call",
        start.elapsed().as_secs_f64() * 1e3 / 20.0
    );
}
