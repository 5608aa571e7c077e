//! Burn's `Conv2d` and `ConvTranspose2d` modules run through the fast kernels: the models call
//! [`conv2d`] / [`conv_transpose2d`] where they called `forward`, and keep Burn's modules (and
//! so their records, their initialisers and the PyTorch weight names).

use burn::backend::Dispatch;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::prelude::*;
use burn::tensor::DType;

use crate::direct::MIN_OUTPUT_CHANNELS;
use crate::op::{ConvInputs, ConvSpec, FastConvBackend, TransposeSpec};

/// Whether `device` runs the fast convolutions: Burn's CPU backends compiled into this crate
/// (`flex`, `ndarray`), with or without autodiff, unless `ZOO_KERNELS=0` asks for Burn's own
/// (to compare the two). GPU backends keep Burn's kernels. (`sequence::fused::supported` has
/// the same shape on purpose: the `cfg`s must be each extension crate's own features, the ones
/// its `#[backend_extension]` implementations were compiled with.)
pub fn supported(device: &Device) -> bool {
    if std::env::var("ZOO_KERNELS").is_ok_and(|v| v == "0") {
        return false;
    }
    #[allow(unused_imports)]
    use burn::backend::DispatchDevice;
    let inner = device.clone().inner();
    #[allow(clippy::match_like_matches_macro)]
    match inner.as_dispatch() {
        #[cfg(feature = "flex")]
        DispatchDevice::Flex(_) => true,
        #[cfg(feature = "ndarray")]
        DispatchDevice::NdArray(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

/// The options of `conv` on `x` when the fast path covers them: a supported device, f32,
/// groups 1, dilation 1, explicit or no padding, a kernel that fits, at least
/// [`MIN_OUTPUT_CHANNELS`] outputs.
fn conv_spec(conv: &Conv2d, x: &Tensor<4>, weight: &Tensor<4>) -> Option<ConvSpec> {
    if conv.groups != 1
        || conv.dilation != [1, 1]
        || weight.dims()[0] < MIN_OUTPUT_CHANNELS
        || !fast_dtypes(x, weight)
    {
        return None;
    }
    let padding = match conv.padding {
        PaddingConfig2d::Valid => [[0, 0], [0, 0]],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [[top, bottom], [left, right]],
        PaddingConfig2d::Same => return None,
    };
    let spec = ConvSpec {
        stride: conv.stride,
        padding,
        dilation: conv.dilation,
    };
    let [.., h, w] = x.dims();
    spec.out_size([h, w], conv.kernel_size)?;
    Some(spec)
}

fn fast_dtypes(x: &Tensor<4>, weight: &Tensor<4>) -> bool {
    supported(&x.device()) && x.dtype() == DType::F32 && weight.dtype() == DType::F32
}

fn inputs(x: Tensor<4>, weight: Tensor<4>, bias: Option<Tensor<1>>) -> ConvInputs<Dispatch> {
    let device = x.device();
    ConvInputs {
        x: x.into_dispatch(),
        weight: weight.into_dispatch(),
        bias: bias
            .unwrap_or_else(|| Tensor::zeros([0], &device))
            .into_dispatch(),
    }
}

/// `conv.forward(x)`, through the fast kernels where they apply.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    // The kernels read f32: weights quantized by `quantize` are expanded (a no-op for float
    // weights), as Burn's own conv does.
    let weight = conv.weight.val().dequantize();
    let Some(spec) = conv_spec(conv, &x, &weight) else {
        return conv.forward(x);
    };
    let bias = conv.bias.as_ref().map(|b| b.val().dequantize());
    Tensor::from_dispatch(<Dispatch as FastConvBackend>::fast_conv2d(
        inputs(x, weight, bias),
        spec,
    ))
}

/// `conv.forward(x)` for a transposed convolution, through the fast kernels where they apply.
pub fn conv_transpose2d(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let weight = conv.weight.val().dequantize();
    let spec = TransposeSpec {
        stride: conv.stride,
        padding: conv.padding,
        padding_out: conv.padding_out,
    };
    let [.., h, w] = x.dims();
    let fits = spec.out_size([h, w], conv.kernel_size).is_some()
        && (0..2).all(|d| conv.padding_out[d] < conv.stride[d]);
    if conv.groups != 1
        || conv.dilation != [1, 1]
        || weight.dims()[1] < MIN_OUTPUT_CHANNELS
        || !fits
        || !fast_dtypes(&x, &weight)
    {
        return conv.forward(x);
    }
    let bias = conv.bias.as_ref().map(|b| b.val().dequantize());
    Tensor::from_dispatch(<Dispatch as FastConvBackend>::fast_conv_transpose2d(
        inputs(x, weight, bias),
        spec,
    ))
}
