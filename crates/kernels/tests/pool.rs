//! The non-overlapping max pool against Burn's `MaxPool2d`: output and input gradient, odd
//! sizes (the floor drops a row and a column), 2×2 and 3×3 windows, batch 1, untracked; and
//! Burn's own path for overlapping windows.

use burn::nn::pool::MaxPool2dConfig;
use burn::prelude::*;
use burn::tensor::Distribution;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

#[test]
fn max_pool_matches_burn() {
    let device = Device::default().autodiff();
    for (dims, window) in [
        ([2, 3, 8, 8], 2),
        ([1, 5, 7, 9], 2),
        ([2, 4, 10, 11], 3),
        ([3, 16, 30, 30], 2),
    ] {
        let pool = window_config(window).init();
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let run = |fast: bool| {
            let x = x.clone().require_grad();
            let y = if fast {
                kernels::max_pool2d(&pool, x.clone())
            } else {
                pool.forward(x.clone())
            };
            let weigh = Tensor::<4>::random(y.dims(), Distribution::Normal(0.0, 1.0), &device);
            (y, x, weigh)
        };
        let (y_fast, x_fast, weigh) = run(true);
        let grads = (y_fast.clone() * weigh.clone()).sum().backward();
        let dx_fast = values(x_fast.grad(&grads).unwrap());
        let (y_ref, x_ref, _) = run(false);
        let grads = (y_ref.clone() * weigh).sum().backward();
        let dx_ref = values(x_ref.grad(&grads).unwrap());
        assert_eq!(
            values(y_fast),
            values(y_ref),
            "output {dims:?} window {window}"
        );
        assert_eq!(dx_fast, dx_ref, "input gradient {dims:?} window {window}");
    }
    // Untracked, and overlapping windows (Burn's path).
    let plain = Device::default();
    let x = Tensor::<4>::random([2, 3, 9, 9], Distribution::Default, &plain);
    let pool = window_config(2).init();
    assert_eq!(
        values(kernels::max_pool2d(&pool, x.clone())),
        values(pool.forward(x.clone()))
    );
    let overlapping = MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init();
    assert_eq!(
        values(kernels::max_pool2d(&overlapping, x.clone())),
        values(overlapping.forward(x))
    );
}

/// Ties (the first maximum wins), −∞ everywhere, and NaNs (the last NaN wins, its gradient goes
/// to it) against Burn: the kernel picks winners with selects and checks for NaN apart.
#[test]
fn ties_infinities_and_nans_match_burn() {
    let device = Device::default().autodiff();
    let (inf, nan) = (f32::NEG_INFINITY, f32::NAN);
    #[rustfmt::skip]
    let x: [f32; 24] = [
        1.0, 1.0,   inf, inf,   2.0, nan,
        0.5, 1.0,   inf, inf,   nan, 3.0,
        -1.0, -2.0, 7.0, nan,   4.0, 4.0,
        -3.0, -1.0, nan, 7.0,   4.0, 0.0,
    ];
    let pool = window_config(2).init();
    let run = |fast: bool| {
        let x = Tensor::<1>::from_floats(x, &device)
            .reshape([1, 1, 4, 6])
            .require_grad();
        let y = if fast {
            kernels::max_pool2d(&pool, x.clone())
        } else {
            pool.forward(x.clone())
        };
        let weigh =
            Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &device).reshape([1, 1, 2, 3]);
        let grads = (y.clone() * weigh).sum().backward();
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        (bits(values(y)), bits(values(x.grad(&grads).unwrap())))
    };
    let (y_fast, dx_fast) = run(true);
    let (y_ref, dx_ref) = run(false);
    assert_eq!(y_fast, y_ref, "outputs (as bits)");
    assert_eq!(dx_fast, dx_ref, "input gradients (as bits)");
}

/// A window of `window` × `window`, stride the same.
fn window_config(window: usize) -> MaxPool2dConfig {
    MaxPool2dConfig::new([window, window])
}
