//! The few plain types that both the data loaders and the model crates name: an image's shape,
//! its per-channel normalisation, and the seeded random generator. No dependencies, so a model
//! crate built without its command line (`default-features = false`) shares them with
//! `datasets` without pulling the loaders in.

pub mod rng;

/// Channels, height and width of every image in a set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// Per-channel mean and standard deviation applied after scaling pixels to [0, 1]:
/// `x = (p / 255 - mean[c]) / std[c]`. PyTorch weights trained on these sets expect them.
#[derive(Clone, Debug, PartialEq)]
pub struct Normalization {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalization {
    /// MNIST: mean 0.1307, std 0.3081 (the values of the PyTorch MNIST example).
    pub fn mnist() -> Self {
        Self {
            mean: vec![0.1307],
            std: vec![0.3081],
        }
    }

    /// Fashion-MNIST: mean 0.2860, std 0.3530 (computed over its training set).
    pub fn fashion_mnist() -> Self {
        Self {
            mean: vec![0.2860],
            std: vec![0.3530],
        }
    }

    /// CIFAR-10: per-channel mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616).
    pub fn cifar10() -> Self {
        Self {
            mean: vec![0.4914, 0.4822, 0.4465],
            std: vec![0.2470, 0.2435, 0.2616],
        }
    }

    /// ImageNet: per-channel mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225), the values
    /// torchvision's pretrained models expect and the usual choice for a folder of photos.
    pub fn imagenet() -> Self {
        Self {
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        }
    }
}
