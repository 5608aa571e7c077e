//! The fast convolutions against Burn's own, on the same weights and inputs: the output and the
//! gradients of the input, the weight and the bias of a loss that weighs every output, over
//! kernel sizes, strides, paddings, odd channel counts, batch 1, non-contiguous inputs, tracked
//! and untracked autodiff, every instruction-set path, and a conv → batch-norm → ReLU → conv
//! network; and the transposed convolution at DCGAN's shapes.

use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::Distribution;
use kernels::Isa;

/// Every path this CPU has (the portable one always), each forced in turn.
fn paths() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|isa| *isa <= kernels::isa::detected())
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec().unwrap()
}

/// `|a - b| ≤ tol · max(1, |b|)` elementwise, or, with `relative_to_max`, `≤ tol · max(1,
/// max |b|)` (for sums over many terms, such as weight gradients).
fn assert_close(what: &str, fast: &[f32], reference: &[f32], tol: f32, relative_to_max: bool) {
    assert_eq!(fast.len(), reference.len(), "{what}: sizes");
    let scale = reference.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in fast.iter().zip(reference).enumerate() {
        let bound = if relative_to_max {
            tol * scale
        } else {
            tol * b.abs().max(1.0)
        };
        assert!(
            (a - b).abs() <= bound && a.is_finite(),
            "{what}[{i}]: fast {a} vs Burn {b} (bound {bound})"
        );
    }
}

#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    channels: [usize; 2],
    size: [usize; 2],
    kernel: usize,
    stride: usize,
    padding: usize,
    bias: bool,
}

struct Outcome {
    y: Vec<f32>,
    dx: Option<Vec<f32>>,
    dw: Option<Vec<f32>>,
    db: Option<Vec<f32>>,
}

/// The case through Burn's conv (`fast = false`) or the kernels, with the same weights.
/// `permuted` builds the input as a permuted (non-contiguous) view.
fn run(conv: &Conv2d, x: &Tensor<4>, weigh: &Tensor<4>, fast: bool, tracked: bool) -> Outcome {
    let x = if tracked {
        x.clone().require_grad()
    } else {
        x.clone()
    };
    let y = if fast {
        kernels::conv2d(conv, x.clone())
    } else {
        conv.forward(x.clone())
    };
    if !tracked {
        return Outcome {
            y: values(y),
            dx: None,
            dw: None,
            db: None,
        };
    }
    let grads = (y.clone() * weigh.clone()).sum().backward();
    Outcome {
        y: values(y),
        dx: x.grad(&grads).map(values),
        dw: conv.weight.grad(&grads).map(values),
        db: conv.bias.as_ref().and_then(|b| b.grad(&grads)).map(values),
    }
}

fn check(case: Case, isa: Isa, permuted: bool, tracked: bool) {
    let device = if tracked {
        Device::default().autodiff()
    } else {
        Device::default()
    };
    let Case {
        batch,
        channels: [c_in, c_out],
        size: [h, w],
        kernel: k,
        stride: s,
        padding: p,
        bias,
    } = case;
    let conv = Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([s, s])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(bias)
        .init(&device);
    let normal = Distribution::Normal(0.0, 1.0);
    let x = if permuted {
        Tensor::<4>::random([batch, h, w, c_in], normal, &device).permute([0, 3, 1, 2])
    } else {
        Tensor::<4>::random([batch, c_in, h, w], normal, &device)
    };
    let [oh, ow] = [(h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1];
    let weigh = Tensor::<4>::random([batch, c_out, oh, ow], normal, &device);
    kernels::isa::force(Some(isa));
    let fast = run(&conv, &x, &weigh, true, tracked);
    kernels::isa::force(None);
    let reference = run(&conv, &x, &weigh, false, tracked);
    let what = |part: &str| format!("{part} {case:?} {isa:?} permuted {permuted}");
    assert_close(&what("y"), &fast.y, &reference.y, 1e-4, false);
    if tracked {
        let pairs = [
            ("dx", fast.dx, reference.dx, false),
            ("dw", fast.dw, reference.dw, true),
            ("db", fast.db, reference.db, true),
        ];
        for (part, fast, reference, relative) in pairs {
            assert_eq!(fast.is_some(), reference.is_some(), "{}", what(part));
            if let (Some(fast), Some(reference)) = (fast, reference) {
                assert_close(&what(part), &fast, &reference, 1e-4, relative);
            }
        }
    }
}

fn case(
    batch: usize,
    channels: [usize; 2],
    size: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Case {
    Case {
        batch,
        channels,
        size: [size, size],
        kernel,
        stride,
        padding,
        bias: true,
    }
}

#[test]
fn kernel_sizes_strides_and_paddings_match_burn() {
    for kernel in [1, 3, 5, 7] {
        for stride in [1, 2] {
            for padding in [0, 1, 3] {
                let c = case(2, [9, 19], 9, kernel, stride, padding);
                for isa in paths() {
                    check(c, isa, false, true);
                }
            }
        }
    }
}

#[test]
fn model_shapes_odd_channels_and_batch_one_match_burn() {
    let cases = [
        case(3, [16, 16], 12, 3, 1, 1), // ResNet-20's first stage
        case(2, [16, 32], 12, 3, 2, 1), // a downsampling block
        case(2, [16, 32], 11, 1, 2, 0), // its 1×1 shortcut, odd size
        case(2, [3, 32], 10, 5, 1, 2),  // the seed CNN's first layer
        case(1, [17, 33], 7, 3, 1, 1),  // batch 1, odd channels
        case(2, [1, 6], 14, 5, 1, 0),   // LeNet
        Case {
            size: [13, 6],
            bias: false,
            ..case(2, [4, 8], 0, 3, 2, 1)
        }, // not square, no bias
    ];
    for c in cases {
        for isa in paths() {
            check(c, isa, false, true);
        }
    }
}

#[test]
fn non_contiguous_and_untracked_inputs_match_burn() {
    let c = case(2, [6, 20], 10, 3, 1, 1);
    for isa in paths() {
        check(c, isa, true, true);
        check(c, isa, false, false);
        check(c, isa, true, false);
    }
}

/// conv → batch norm → ReLU → conv, all through the kernels or all through Burn: the loss and
/// every parameter's gradient, in training mode (batch statistics).
#[test]
fn conv_batch_norm_relu_network_matches_burn() {
    let device = Device::default().autodiff();
    let padding = PaddingConfig2d::Explicit(1, 1, 1, 1);
    let conv1 = Conv2dConfig::new([3, 16], [3, 3])
        .with_padding(padding.clone())
        .init(&device);
    let norm: BatchNorm = BatchNormConfig::new(16).init(&device);
    let conv2 = Conv2dConfig::new([16, 8], [3, 3])
        .with_stride([2, 2])
        .with_padding(padding)
        .init(&device);
    let x = Tensor::<4>::random([4, 3, 10, 10], Distribution::Normal(0.0, 1.0), &device);
    let run = |fast: bool| {
        let conv = |c: &Conv2d, x| {
            if fast {
                kernels::conv2d(c, x)
            } else {
                c.forward(x)
            }
        };
        let hidden = conv(&conv1, x.clone());
        let hidden = if fast {
            kernels::batch_norm(&norm, hidden, true)
        } else {
            burn::tensor::activation::relu(norm.forward(hidden))
        };
        let y = conv(&conv2, hidden);
        let loss = (y.clone() * y).mean();
        let grads = loss.clone().backward();
        let mut out = vec![("loss", values(loss))];
        out.push(("conv1.weight", values(conv1.weight.grad(&grads).unwrap())));
        out.push(("conv2.weight", values(conv2.weight.grad(&grads).unwrap())));
        out.push(("norm.gamma", values(norm.gamma.grad(&grads).unwrap())));
        out.push((
            "conv1.bias",
            values(conv1.bias.as_ref().unwrap().grad(&grads).unwrap()),
        ));
        out
    };
    for ((name, fast), (_, reference)) in run(true).into_iter().zip(run(false)) {
        assert_close(name, &fast, &reference, 1e-4, true);
    }
}

fn check_transposed(transposed: &ConvTranspose2d, x_dims: [usize; 4], device: &Device, isa: Isa) {
    let x = Tensor::<4>::random(x_dims, Distribution::Normal(0.0, 1.0), device);
    let run = |fast: bool| {
        let x = x.clone().require_grad();
        let y = if fast {
            kernels::conv_transpose2d(transposed, x.clone())
        } else {
            transposed.forward(x.clone())
        };
        let weigh = Tensor::<4>::random(y.dims(), Distribution::Default, device);
        let weigh = Tensor::from_data(
            TensorData::new(
                (0..weigh.shape().num_elements())
                    .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
                    .collect::<Vec<_>>(),
                y.dims(),
            ),
            device,
        );
        let grads = (y.clone() * weigh).sum().backward();
        vec![
            ("y", values(y)),
            ("dx", values(x.grad(&grads).unwrap())),
            ("dw", values(transposed.weight.grad(&grads).unwrap())),
            (
                "db",
                values(transposed.bias.as_ref().unwrap().grad(&grads).unwrap()),
            ),
        ]
    };
    kernels::isa::force(Some(isa));
    let fast = run(true);
    kernels::isa::force(None);
    for ((name, fast), (_, reference)) in fast.into_iter().zip(run(false)) {
        let what = format!("{name} {x_dims:?} {isa:?}");
        assert_close(&what, &fast, &reference, 1e-4, name != "y" && name != "dx");
    }
}

#[test]
fn transposed_convolution_matches_burn_at_dcgan_shapes() {
    let device = Device::default().autodiff();
    // DCGAN's generator: 7×7 → 14×14 → 28×28 (k4 s2 p1), 64 → 32 → 1 channels.
    let layers = [([64, 32], [2, 64, 7, 7]), ([32, 1], [2, 32, 14, 14])];
    for ([c_in, c_out], x_dims) in layers {
        let transposed = ConvTranspose2dConfig::new([c_in, c_out], [4, 4])
            .with_stride([2, 2])
            .with_padding([1, 1])
            .init(&device);
        for isa in paths() {
            check_transposed(&transposed, x_dims, &device, isa);
        }
    }
    // Odd cases: stride 3 with a kernel smaller than it (phases with no taps), output padding,
    // stride 1.
    for (kernel, stride, padding, padding_out) in [(2, 3, 0, 1), (3, 2, 1, 1), (3, 1, 1, 0)] {
        let transposed = ConvTranspose2dConfig::new([5, 9], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding([padding, padding])
            .with_padding_out([padding_out, padding_out])
            .init(&device);
        for isa in paths() {
            check_transposed(&transposed, [2, 5, 6, 5], &device, isa);
        }
    }
}

/// The fallbacks: groups, dilation and `Same` padding go through Burn's own conv unchanged.
#[test]
fn unsupported_options_fall_back_to_burn() {
    let device = Device::default();
    let x = Tensor::<4>::random([2, 4, 9, 9], Distribution::Default, &device);
    let convs = [
        Conv2dConfig::new([4, 4], [3, 3])
            .with_groups(2)
            .init(&device),
        Conv2dConfig::new([4, 4], [3, 3])
            .with_dilation([2, 2])
            .init(&device),
        Conv2dConfig::new([4, 4], [3, 3])
            .with_padding(PaddingConfig2d::Same)
            .init(&device),
    ];
    for conv in convs {
        let fast = values(kernels::conv2d(&conv, x.clone()));
        assert_eq!(fast, values(conv.forward(x.clone())));
    }
}
