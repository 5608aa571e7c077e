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

/// Fused multiply-adds on 12 independent accumulators of one vector (`L` lanes) each, enough
/// to hide the latency and few enough to stay in registers: the multiply-add peak.
#[inline(always)]
fn fma_chains<const L: usize>(rounds: usize) -> f32 {
    let mut acc = [[1.0f32; L]; 12];
    let (b, c) = (
        std::hint::black_box(0.999_99f32),
        std::hint::black_box(1e-6f32),
    );
    for _ in 0..rounds {
        for a in acc.iter_mut() {
            for v in a.iter_mut() {
                *v = v.mul_add(b, c);
            }
        }
    }
    acc.iter().flatten().sum()
}

/// The AVX-512 chains with explicit registers: on arrays of 16 floats LLVM vectorises this loop
/// into gathers and scatters at 512 bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn fma_avx512(rounds: usize) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_ps(1.0); 12];
    let b = _mm512_set1_ps(std::hint::black_box(0.999_99f32));
    let c = _mm512_set1_ps(std::hint::black_box(1e-6f32));
    for _ in 0..rounds {
        for a in acc.iter_mut() {
            *a = _mm512_fmadd_ps(*a, b, c);
        }
    }
    acc.iter().map(|&a| _mm512_reduce_add_ps(a)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_avx2(rounds: usize) -> f32 {
    fma_chains::<8>(rounds)
}

/// GFLOP/s of multiply-adds on every rayon thread at once (`None` on the portable path).
fn peak(isa: kernels::Isa) -> Option<f64> {
    use rayon::prelude::*;
    let rounds = 20_000_000;
    let threads = rayon::current_num_threads();
    let start = Instant::now();
    let sums: Vec<f32> = (0..threads)
        .into_par_iter()
        .map(|_| match isa {
            #[cfg(target_arch = "x86_64")]
            kernels::Isa::Avx512 => unsafe { fma_avx512(rounds) },
            #[cfg(target_arch = "x86_64")]
            kernels::Isa::Avx2 => unsafe { fma_avx2(rounds) },
            _ => f32::NAN,
        })
        .collect();
    let seconds = start.elapsed().as_secs_f64();
    // 12 chains of one vector each: 16 lanes on AVX-512, 8 on AVX2; 2 flops per multiply-add.
    let lanes = if isa == kernels::Isa::Avx512 { 16 } else { 8 };
    sums[0]
        .is_finite()
        .then(|| (threads * rounds * 12 * lanes * 2) as f64 / seconds / 1e9)
}

fn main() {
    let isa = kernels::isa::active();
    println!(
        "kernels path {}, {} threads",
        isa.name(),
        rayon::current_num_threads()
    );
    if let Some(peak) = peak(isa) {
        println!("  multiply-add peak ({}): {peak:.1} GFLOP/s", isa.name());
    }
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
                kernels::direct::input_padding([[p, p], [p, p]], s),
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
