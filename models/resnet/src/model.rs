//! ResNet (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
//! arXiv:1512.03385).
//!
//! - ImageNet layout (`resnet18..152`): 7×7/2 stem + 3×3/2 max-pool, four stages of 64..512
//!   channels, global average pool, `fc`. Built and named as torchvision's `resnet*` (v1.5:
//!   stride on the bottleneck's 3×3), so its `state_dict` loads with no remapping. Optional
//!   CIFAR stem (3×3/1, no max-pool) for 32×32 inputs.
//! - CIFAR layout (`resnet20..110`, the paper's §4.2): 3×3 stem with 16 channels, three stages
//!   of 16/32/64 channels with n basic blocks each (depth 6n+2), shortcuts of option A
//!   (parameter-free, the paper's choice) or B.
//!
//! Convolutions are initialised Kaiming-normal (fan-out), batch norms at γ=1, β=0, as
//! torchvision does; `zero_init_residual` starts each block's last γ at 0.

use crate::block::{BasicBlock, Bottleneck, ResidualBlock, ShortcutSpec, conv, norm};
use crate::config::{BlockKind, ResNetConfig, Shortcut};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use kernels::{batch_norm, conv2d};

#[derive(Module, Debug)]
pub struct ResNet {
    pub conv1: Conv2d,
    pub bn1: BatchNorm,
    pub maxpool: MaxPool2d,
    /// Whether the stem max-pools (ImageNet stem only).
    #[module(skip)]
    pub use_maxpool: bool,
    pub layer1: Vec<ResidualBlock>,
    pub layer2: Vec<ResidualBlock>,
    pub layer3: Vec<ResidualBlock>,
    /// Empty in the CIFAR layout, which has three stages.
    pub layer4: Vec<ResidualBlock>,
    pub fc: Linear,
}

impl ResNet {
    pub fn new(
        config: &ResNetConfig,
        in_channels: usize,
        num_classes: usize,
        device: &Device,
    ) -> Self {
        let arch = config.arch;
        let cifar_layout = arch.is_cifar_layout();
        let small_stem = cifar_layout || config.cifar_stem;
        let widths = arch.widths();
        let conv1 = if small_stem {
            conv(in_channels, widths[0], 3, 1, device)
        } else {
            Conv2dConfig::new([in_channels, 64], [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .with_initializer(Initializer::KaimingNormal {
                    gain: 2f64.sqrt(),
                    fan_out_only: true,
                })
                .init(device)
        };
        let expansion = match arch.block() {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => Bottleneck::EXPANSION,
        };
        // The CIFAR layout's option A shortcuts; the ImageNet layout always projects.
        let option_a = cifar_layout && config.shortcut == Shortcut::A;
        let mut c_in = widths[0];
        let mut stages: Vec<Vec<ResidualBlock>> = Vec::new();
        for (stage, (&blocks, &planes)) in arch.stages().iter().zip(&widths).enumerate() {
            let mut layer = Vec::with_capacity(blocks);
            for i in 0..blocks {
                let stride = if stage > 0 && i == 0 { 2 } else { 1 };
                let c_out = planes * expansion;
                let shortcut = ShortcutSpec::for_shape(c_in, c_out, stride, option_a);
                let zero = config.zero_init_residual;
                layer.push(match arch.block() {
                    BlockKind::Basic => ResidualBlock::Basic(BasicBlock::new(
                        c_in, planes, stride, shortcut, zero, device,
                    )),
                    BlockKind::Bottleneck => ResidualBlock::Bottleneck(Bottleneck::new(
                        c_in, planes, stride, shortcut, zero, device,
                    )),
                });
                c_in = c_out;
            }
            stages.push(layer);
        }
        stages.resize_with(4, Vec::new);
        let mut stages = stages.into_iter();
        let mut next = || stages.next().expect("four stages");
        Self {
            conv1,
            bn1: norm(widths[0], false, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            use_maxpool: !small_stem,
            layer1: next(),
            layer2: next(),
            layer3: next(),
            layer4: next(),
            fc: LinearConfig::new(c_in, num_classes).init(device),
        }
    }

    /// `[batch, channels, height, width]` normalised images to `[batch, classes]` logits.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = batch_norm(&self.bn1, conv2d(&self.conv1, images), true);
        if self.use_maxpool {
            x = self.maxpool.forward(x);
        }
        for block in self
            .layer1
            .iter()
            .chain(&self.layer2)
            .chain(&self.layer3)
            .chain(&self.layer4)
        {
            x = block.forward(x);
        }
        // Global average pool: [batch, channels, h, w] -> [batch, channels].
        let [b, c, _, _] = x.dims();
        let x = x.mean_dim(3).mean_dim(2).reshape([b, c]);
        self.fc.forward(x) // [batch, classes]
    }
}
