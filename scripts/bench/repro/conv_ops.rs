//! Each convolution of the convolutional rows of docs/BENCHMARKS.md (seed CNN, LeNet, ResNet,
//! DCGAN) alone, forward and forward + backward (input and weight gradients), at the models'
//! batch shapes: Burn's own flex convolution and the zoo's kernels (`kernels::conv2d`) in the
//! same process, on the same weights. Run:
//!
//!     cargo run --release -p bench --bin conv_ops
//!     ZOO_CONV_ISA=avx2 cargo run --release -p bench --bin conv_ops   # force a kernel path
//!     python scripts/bench/repro/conv_ops.py      # the same layers in PyTorch
//!
//! GFLOP/s counts 2·(multiply-adds) of the forward; forward + backward counts three times that.

use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

#[path = "timing.rs"]
mod timing;
use timing::seconds;

/// One convolution of a benchmarked model.
struct Layer {
    what: &'static str,
    batch: usize,
    c_in: usize,
    side: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    transposed: bool,
}

const fn layer(
    what: &'static str,
    [batch, c_in, side, c_out, kernel, stride, padding]: [usize; 7],
    transposed: bool,
) -> Layer {
    Layer {
        what,
        batch,
        c_in,
        side,
        c_out,
        kernel,
        stride,
        padding,
        transposed,
    }
}

/// [batch, in channels, side, out channels, kernel, stride, padding]
const LAYERS: [Layer; 8] = [
    layer(
        "seed CNN conv1 3->32 k3     ",
        [64, 3, 32, 32, 3, 1, 0],
        false,
    ),
    layer(
        "seed CNN conv2 32->64 k3    ",
        [64, 32, 15, 64, 3, 1, 0],
        false,
    ),
    layer(
        "LeNet conv2 32->64 k5       ",
        [64, 32, 14, 64, 5, 1, 0],
        false,
    ),
    layer(
        "ResNet-20 16->16 k3 p1      ",
        [128, 16, 32, 16, 3, 1, 1],
        false,
    ),
    layer(
        "ResNet-20 32->32 k3 p1      ",
        [128, 32, 16, 32, 3, 1, 1],
        false,
    ),
    layer(
        "ResNet-20 64->64 k3 p1      ",
        [128, 64, 8, 64, 3, 1, 1],
        false,
    ),
    layer(
        "DCGAN D conv2 32->64 k4 s2  ",
        [128, 32, 14, 64, 4, 2, 1],
        false,
    ),
    layer(
        "DCGAN G deconv1 64->32 k4 s2",
        [128, 64, 7, 32, 4, 2, 1],
        true,
    ),
];

/// Forward and forward + backward seconds of `layer` built on each device.
fn time(
    build: impl Fn(&Device) -> Box<dyn Fn(Tensor<4>) -> Tensor<4>>,
    x: impl Fn(&Device) -> Tensor<4>,
) -> (f64, f64) {
    let device = Device::default();
    let ad = device.clone().autodiff();
    let (eval, train) = (build(&device), build(&ad));
    let (xe, xa) = (x(&device), x(&ad).require_grad());
    let fwd = seconds(10, || {
        let _ = eval(xe.clone()).into_data();
    });
    let both = seconds(5, || {
        let _ = train(xa.clone()).sum().backward();
    });
    (fwd, both)
}

fn main() {
    println!(
        "conv layers (Burn 0.22.1, flex; kernels path {}): Burn forward | Burn forward + backward | kernels forward | kernels forward + backward",
        kernels::isa::active().name()
    );
    for Layer {
        what,
        batch,
        c_in,
        side,
        c_out,
        kernel: k,
        stride,
        padding: pad,
        transposed,
    } in LAYERS
    {
        // The layer as a function of its input, built on `device`: Burn's forward or the
        // kernels'.
        let build = |fast: bool| {
            move |device: &Device| -> Box<dyn Fn(Tensor<4>) -> Tensor<4>> {
                if transposed {
                    let conv = ConvTranspose2dConfig::new([c_in, c_out], [k, k])
                        .with_stride([stride, stride])
                        .with_padding([pad, pad])
                        .init(device);
                    Box::new(move |x| match fast {
                        true => kernels::conv_transpose2d(&conv, x),
                        false => conv.forward(x),
                    })
                } else {
                    let conv = Conv2dConfig::new([c_in, c_out], [k, k])
                        .with_stride([stride, stride])
                        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                        .init(device);
                    Box::new(move |x| match fast {
                        true => kernels::conv2d(&conv, x),
                        false => conv.forward(x),
                    })
                }
            }
        };
        let x = |device: &Device| {
            Tensor::<4>::random([batch, c_in, side, side], Distribution::Default, device)
        };
        let (fwd, both) = time(build(false), x);
        let (fast_fwd, fast_both) = time(build(true), x);
        let out_side = if transposed {
            (side - 1) * stride + k - 2 * pad
        } else {
            (side + 2 * pad - k) / stride + 1
        };
        // Transposed: each input pixel meets k·k·c_out weights; direct: each output pixel c_in·k·k.
        let macs = if transposed {
            batch * c_in * side * side * c_out * k * k
        } else {
            batch * c_out * out_side * out_side * c_in * k * k
        };
        let flops = 2.0 * macs as f64;
        let rate = |s: f64, passes: f64| passes * flops / s / 1e9;
        println!(
            "  {what}: {:8.2} ms {:6.1} GFLOP/s | {:8.2} ms {:6.1} GFLOP/s | {:8.2} ms {:6.1} GFLOP/s | {:8.2} ms {:6.1} GFLOP/s",
            fwd * 1e3,
            rate(fwd, 1.0),
            both * 1e3,
            rate(both, 3.0),
            fast_fwd * 1e3,
            rate(fast_fwd, 1.0),
            fast_both * 1e3,
            rate(fast_both, 3.0),
        );
    }
}
