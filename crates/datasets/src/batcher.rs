//! Turns image items into one normalised `[batch, channels, height, width]` tensor, written
//! into a single contiguous buffer (no per-item tensors).

use crate::image_set::{ImageItem, ImageSet, ImageShape, Normalization};
use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct ImageBatch {
    /// `[batch, channels, height, width]`, normalised.
    pub images: Tensor<4>,
    /// `[batch]` class indices.
    pub targets: Tensor<1, Int>,
    /// A teacher's logits for these images, when a student is trained by knowledge
    /// distillation; `None` for plain training and evaluation.
    pub soft_targets: Option<SoftTargets>,
}

/// What knowledge distillation (Hinton et al. 2015) adds to a batch: the teacher's logits and
/// how its softened probabilities weigh against the labels.
#[derive(Clone, Debug)]
pub struct SoftTargets {
    /// `[batch, classes]` teacher logits, without autodiff (a constant for the student).
    pub logits: Tensor<2>,
    /// Softmax temperature T: above 1 it spreads the teacher's probabilities.
    pub temperature: f64,
    /// Weight α of the soft-target term; the hard-label cross-entropy gets 1 − α.
    pub alpha: f64,
}

/// Normalises with a per-channel lookup table of the 256 byte values.
#[derive(Clone, Debug)]
pub struct ImageBatcher {
    shape: ImageShape,
    lut: Arc<Vec<[f32; 256]>>,
}

impl ImageBatcher {
    pub fn new(shape: ImageShape, normalization: &Normalization) -> Self {
        let lut = (0..shape.channels)
            .map(|c| {
                let (mean, std) = (normalization.mean[c], normalization.std[c]);
                std::array::from_fn(|v| (v as f32 / 255.0 - mean) / std)
            })
            .collect();
        Self {
            shape,
            lut: Arc::new(lut),
        }
    }

    pub fn for_set(set: &ImageSet) -> Self {
        Self::new(set.shape(), set.normalization())
    }

    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// Normalises one image's bytes (CHW) into `out`.
    pub fn normalize_into(&self, pixels: &[u8], out: &mut [f32]) {
        let plane = self.shape.height * self.shape.width;
        for (c, lut) in self.lut.iter().enumerate() {
            let range = c * plane..(c + 1) * plane;
            for (o, &p) in out[range.clone()].iter_mut().zip(&pixels[range]) {
                *o = lut[p as usize];
            }
        }
    }

    /// Builds the image tensor of several images given as raw bytes.
    pub fn images(&self, images: &[&[u8]], device: &Device) -> Tensor<4> {
        let n = self.shape.pixels();
        let mut buffer = vec![0f32; images.len() * n];
        for (image, out) in images.iter().zip(buffer.chunks_exact_mut(n)) {
            self.normalize_into(image, out);
        }
        let ImageShape {
            channels,
            height,
            width,
        } = self.shape;
        Tensor::from_data(
            TensorData::new(buffer, [images.len(), channels, height, width]),
            device,
        )
    }
}

impl Batcher<ImageItem, ImageBatch> for ImageBatcher {
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let pixels: Vec<&[u8]> = items.iter().map(|item| item.pixels.as_slice()).collect();
        let targets: Vec<i64> = items.iter().map(|item| item.label as i64).collect();
        let n = targets.len();
        ImageBatch {
            images: self.images(&pixels, device),
            targets: Tensor::from_data(TensorData::new(targets, [n]), device),
            soft_targets: None,
        }
    }
}
