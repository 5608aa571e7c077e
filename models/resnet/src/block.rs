//! Residual blocks (He et al., "Deep Residual Learning for Image Recognition", 2015,
//! arXiv:1512.03385): `BasicBlock` (two 3×3 convolutions) and `Bottleneck` (1×1, 3×3, 1×1,
//! with the stride on the 3×3 as in torchvision, "ResNet v1.5").
//!
//! A projection shortcut is a `downsample` list of one convolution and one batch norm, so its
//! parameters are `downsample.0.weight` and `downsample.1.{weight,bias,running_mean,running_var}`
//! exactly as torchvision's `nn.Sequential` names them.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::AvgPool2dConfig;
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use kernels::{batch_norm, conv2d};

/// torchvision's convolution init: Kaiming normal, fan-out, ReLU gain.
pub(crate) fn conv(
    c_in: usize,
    c_out: usize,
    kernel: usize,
    stride: usize,
    device: &Device,
) -> Conv2d {
    let pad = kernel / 2;
    Conv2dConfig::new([c_in, c_out], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal {
            gain: 2f64.sqrt(),
            fan_out_only: true,
        })
        .init(device)
}

pub(crate) fn norm(channels: usize, zero: bool, device: &Device) -> BatchNorm {
    let mut bn = BatchNormConfig::new(channels).init(device);
    if zero {
        bn.gamma = bn.gamma.map(|g| g.zeros_like());
    }
    bn
}

/// One layer of a projection shortcut.
#[derive(Module, Debug)]
pub enum DownsampleLayer {
    Conv(Conv2d),
    Norm(BatchNorm),
}

/// How a block's shortcut is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShortcutSpec {
    Identity,
    /// Option A: subsample by `stride`, add `pad` zero channels on each side.
    ZeroPad {
        stride: usize,
        pad: usize,
    },
    /// Option B: 1×1 convolution with `stride` to `c_out` channels, then batch norm.
    Projection {
        c_in: usize,
        c_out: usize,
        stride: usize,
    },
}

impl ShortcutSpec {
    /// The shortcut a block from `c_in` to `c_out` channels with `stride` needs.
    pub fn for_shape(c_in: usize, c_out: usize, stride: usize, option_a: bool) -> Self {
        if c_in == c_out && stride == 1 {
            ShortcutSpec::Identity
        } else if option_a {
            ShortcutSpec::ZeroPad {
                stride,
                pad: (c_out - c_in) / 2,
            }
        } else {
            ShortcutSpec::Projection {
                c_in,
                c_out,
                stride,
            }
        }
    }

    fn downsample(self, device: &Device) -> Vec<DownsampleLayer> {
        match self {
            ShortcutSpec::Projection {
                c_in,
                c_out,
                stride,
            } => vec![
                DownsampleLayer::Conv(conv(c_in, c_out, 1, stride, device)),
                DownsampleLayer::Norm(norm(c_out, false, device)),
            ],
            _ => Vec::new(),
        }
    }

    fn zero_pad(self) -> [usize; 2] {
        match self {
            ShortcutSpec::ZeroPad { stride, pad } => [stride, pad],
            _ => [1, 0],
        }
    }
}

/// The shortcut's output: the projection when there is one, else option A's subsampling and
/// zero channels (`zero_pad = [stride, pad]`), else `x` itself.
fn shortcut(x: Tensor<4>, downsample: &[DownsampleLayer], zero_pad: [usize; 2]) -> Tensor<4> {
    if !downsample.is_empty() {
        return downsample.iter().fold(x, |x, layer| match layer {
            DownsampleLayer::Conv(c) => conv2d(c, x),
            DownsampleLayer::Norm(n) => batch_norm(n, x, false),
        });
    }
    let [stride, pad] = zero_pad;
    let mut x = x;
    if stride > 1 {
        // A 1×1 average pool with stride s keeps every s-th pixel: x[:, :, ::s, ::s].
        x = AvgPool2dConfig::new([1, 1])
            .with_strides([stride, stride])
            .init()
            .forward(x);
    }
    if pad > 0 {
        let [b, _, h, w] = x.dims();
        let zeros = Tensor::<4>::zeros([b, pad, h, w], &x.device());
        x = Tensor::cat(vec![zeros.clone(), x, zeros], 1);
    }
    x
}

/// Two 3×3 convolutions with batch norm; expansion 1.
#[derive(Module, Debug)]
pub struct BasicBlock {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    /// Projection shortcut (torchvision's `downsample`); empty for identity or option A.
    pub downsample: Vec<DownsampleLayer>,
    /// Option A shortcut: `[stride, zero channels per side]`; `[1, 0]` otherwise.
    #[module(skip)]
    pub zero_pad: [usize; 2],
}

impl BasicBlock {
    pub fn new(
        c_in: usize,
        planes: usize,
        stride: usize,
        shortcut: ShortcutSpec,
        zero_init: bool,
        device: &Device,
    ) -> Self {
        Self {
            conv1: conv(c_in, planes, 3, stride, device),
            bn1: norm(planes, false, device),
            conv2: conv(planes, planes, 3, 1, device),
            bn2: norm(planes, zero_init, device),
            downsample: shortcut.downsample(device),
            zero_pad: shortcut.zero_pad(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = shortcut(x.clone(), &self.downsample, self.zero_pad);
        let out = batch_norm(&self.bn1, conv2d(&self.conv1, x), true);
        let out = batch_norm(&self.bn2, conv2d(&self.conv2, out), false);
        relu(out + identity)
    }
}

/// 1×1 reduce, 3×3 (strided), 1×1 expand by 4, each with batch norm.
#[derive(Module, Debug)]
pub struct Bottleneck {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub conv2: Conv2d,
    pub bn2: BatchNorm,
    pub conv3: Conv2d,
    pub bn3: BatchNorm,
    pub downsample: Vec<DownsampleLayer>,
    #[module(skip)]
    pub zero_pad: [usize; 2],
}

impl Bottleneck {
    pub const EXPANSION: usize = 4;

    pub fn new(
        c_in: usize,
        planes: usize,
        stride: usize,
        shortcut: ShortcutSpec,
        zero_init: bool,
        device: &Device,
    ) -> Self {
        Self {
            conv1: conv(c_in, planes, 1, 1, device),
            bn1: norm(planes, false, device),
            conv2: conv(planes, planes, 3, stride, device),
            bn2: norm(planes, false, device),
            conv3: conv(planes, planes * Self::EXPANSION, 1, 1, device),
            bn3: norm(planes * Self::EXPANSION, zero_init, device),
            downsample: shortcut.downsample(device),
            zero_pad: shortcut.zero_pad(),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = shortcut(x.clone(), &self.downsample, self.zero_pad);
        let out = batch_norm(&self.bn1, conv2d(&self.conv1, x), true);
        let out = batch_norm(&self.bn2, conv2d(&self.conv2, out), true);
        let out = batch_norm(&self.bn3, conv2d(&self.conv3, out), false);
        relu(out + identity)
    }
}

// One variant per architecture; the model is built once, so the size difference is harmless
// (Burn's own `Activation` enum allows it too).
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum ResidualBlock {
    Basic(BasicBlock),
    Bottleneck(Bottleneck),
}

impl ResidualBlock {
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            ResidualBlock::Basic(b) => b.forward(x),
            ResidualBlock::Bottleneck(b) => b.forward(x),
        }
    }
}
