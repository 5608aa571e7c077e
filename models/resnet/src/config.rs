//! ResNet configuration: depth and layout, stem, shortcut type, zero-init of residual branches.

use serde::{Deserialize, Serialize};

/// ImageNet layout (`resnet18..152`, He et al. 2015, arXiv:1512.03385, as torchvision builds
/// them) or the CIFAR layout of the same paper's §4.2 (`resnet20..110`: 3 stages of 16/32/64
/// channels, depth 6n+2).
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResNetArch {
    Resnet18,
    Resnet34,
    Resnet50,
    Resnet101,
    Resnet152,
    Resnet20,
    Resnet32,
    Resnet44,
    Resnet56,
    Resnet110,
}

/// Which block, how many of each per stage, and the stage widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Basic,
    Bottleneck,
}

impl ResNetArch {
    /// Blocks per stage.
    pub fn stages(self) -> Vec<usize> {
        use ResNetArch::*;
        match self {
            Resnet18 => vec![2, 2, 2, 2],
            Resnet34 | Resnet50 => vec![3, 4, 6, 3],
            Resnet101 => vec![3, 4, 23, 3],
            Resnet152 => vec![3, 8, 36, 3],
            cifar => vec![(cifar.depth() - 2) / 6; 3],
        }
    }

    pub fn depth(self) -> usize {
        use ResNetArch::*;
        match self {
            Resnet18 => 18,
            Resnet34 => 34,
            Resnet50 => 50,
            Resnet101 => 101,
            Resnet152 => 152,
            Resnet20 => 20,
            Resnet32 => 32,
            Resnet44 => 44,
            Resnet56 => 56,
            Resnet110 => 110,
        }
    }

    pub fn block(self) -> BlockKind {
        match self {
            ResNetArch::Resnet50 | ResNetArch::Resnet101 | ResNetArch::Resnet152 => {
                BlockKind::Bottleneck
            }
            _ => BlockKind::Basic,
        }
    }

    /// The CIFAR family (16/32/64 channels, 3 stages).
    pub fn is_cifar_layout(self) -> bool {
        self.depth() % 6 == 2 && self.depth() != 152 && self.depth() != 50
    }

    /// Output channels of each stage's blocks (before the bottleneck expansion).
    pub fn widths(self) -> Vec<usize> {
        if self.is_cifar_layout() {
            vec![16, 32, 64]
        } else {
            vec![64, 128, 256, 512]
        }
    }
}

/// How a block's shortcut changes shape (He et al. 2015, §3.3).
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shortcut {
    /// Identity with stride-2 subsampling and zero-padded extra channels: no parameters.
    A,
    /// 1×1 convolution + batch norm ("projection"), torchvision's `downsample`.
    B,
}

#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResNetConfig {
    /// Depth and layout
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = ResNetArch::Resnet20))]
    pub arch: ResNetArch,
    /// ImageNet layouts only: a 3×3 stride-1 stem without max-pool, for 32×32 inputs
    #[cfg_attr(feature = "cli", arg(long))]
    pub cifar_stem: bool,
    /// Shortcut when shapes change, CIFAR layouts (ImageNet layouts always use B)
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value_t = Shortcut::A))]
    pub shortcut: Shortcut,
    /// Start each residual branch's last batch norm at zero (Goyal et al. 2017)
    #[cfg_attr(feature = "cli", arg(long))]
    pub zero_init_residual: bool,
}

impl Default for ResNetConfig {
    fn default() -> Self {
        Self {
            arch: ResNetArch::Resnet20,
            cifar_stem: false,
            shortcut: Shortcut::A,
            zero_init_residual: false,
        }
    }
}
