//! Times each kernel of one convolution on host buffers: forward, input gradient (transposed)
//! and weight gradient, at the ResNet-20 and seed-CNN shapes, on the active instruction set.
//!
//!     cargo run --release -p kernels --example phases
//!     ZOO_CONV_ISA=portable cargo run --release -p kernels --example phases

use std::time::Instant;

use kernels::conv::{self, ChannelsLast, Transposed, Weights, Window};

fn numbers(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 % 2003) as f32 - 1001.0) / 1000.0)
        .collect()
}

/// Median seconds of `reps` runs after one warm-up.
fn median(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

fn main() {
    let isa = kernels::isa::active();
    println!(
        "kernels path {}, {} threads",
        isa.name(),
        rayon::current_num_threads()
    );
    // [batch, c_in, side, c_out, kernel, stride, padding]
    let shapes = [
        [128, 16, 32, 16, 3, 1, 1],
        [128, 32, 16, 32, 3, 1, 1],
        [128, 64, 8, 64, 3, 1, 1],
        [64, 32, 15, 64, 3, 1, 0],
    ];
    for [batch, c_in, side, c_out, k, s, p] in shapes {
        let out = (side + 2 * p - k) / s + 1;
        let x = numbers(batch * c_in * side * side);
        let w = numbers(c_out * c_in * k * k);
        let weights = Weights {
            data: &w,
            dims: [c_out, c_in, k, k],
        };
        let mut padded = None;
        let reorder = median(9, || {
            padded = Some(ChannelsLast::from_nchw(
                &x,
                [batch, c_in, side, side],
                [[p, p], [p, p]],
            ));
        });
        let padded = padded.unwrap();
        let mut y = Vec::new();
        let fwd = median(9, || {
            y = conv::forward(isa, &padded, weights, None, [s, s], [1, 1], [out, out]);
        });
        let geometry = Transposed {
            input: [batch, c_out, out, out],
            out: [side, side],
            stride: [s, s],
            pad: [p, p],
        };
        let dy = geometry.pad_input(&y, [k, k]);
        let dx = median(9, || {
            let _ = conv::transposed(isa, &geometry, &dy, weights, None);
        });
        let dw = median(9, || {
            let _ = conv::weight_grad(
                isa,
                &padded,
                &dy,
                geometry.leading([k, k]),
                [out, out],
                Window {
                    kernel: [k, k],
                    stride: [s, s],
                    dilation: [1, 1],
                },
            );
        });
        let flops = 2.0 * (batch * c_out * out * out * c_in * k * k) as f64;
        let rate = |t: f64| flops / t / 1e9;
        println!(
            "  {c_in:>2}->{c_out:<2} {side}x{side} k{k}: reorder {:6.2} ms | forward {:6.2} ms {:5.1} GFLOP/s | dx {:6.2} ms {:5.1} | dw {:6.2} ms {:5.1}",
            reorder * 1e3,
            fwd * 1e3,
            rate(fwd),
            dx * 1e3,
            rate(dx),
            dw * 1e3,
            rate(dw)
        );
    }
}
