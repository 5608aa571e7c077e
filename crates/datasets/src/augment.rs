//! Seeded training-time augmentation. Each image's random draw depends only on the run seed,
//! the image's position and how many times it has been read (its epoch), so results do not
//! depend on worker threads or batch order.

use crate::image_set::{ImageItem, ImageSet, ImageShape};
use crate::rng::SplitMix64;
use burn::data::dataset::{Dataset, DatasetError};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Augmentation {
    None,
    /// Zero-pad by `padding` pixels, take a random crop of the original size, flip left-right
    /// with probability 1/2 (the CIFAR recipe of He et al. 2016).
    CropFlip {
        padding: usize,
    },
    /// Rotate by up to `max_degrees` and shift by up to `max_shift` pixels (nearest neighbour,
    /// zero fill): small affine jitter for MNIST.
    ShiftRotate {
        max_shift: usize,
        max_degrees: f32,
    },
}

impl Augmentation {
    /// Transforms `pixels` (CHW) in place.
    pub fn apply(&self, pixels: &mut [u8], shape: ImageShape, rng: &mut SplitMix64) {
        let (c, h, w) = (shape.channels, shape.height, shape.width);
        match *self {
            Augmentation::None => {}
            Augmentation::CropFlip { padding } => {
                let dy = rng.below(2 * padding as u64 + 1) as isize - padding as isize;
                let dx = rng.below(2 * padding as u64 + 1) as isize - padding as isize;
                let flip = rng.below(2) == 1;
                let source = pixels.to_vec();
                for ch in 0..c {
                    let plane = &source[ch * h * w..(ch + 1) * h * w];
                    for y in 0..h {
                        for x in 0..w {
                            let sx = if flip { w - 1 - x } else { x } as isize + dx;
                            let sy = y as isize + dy;
                            let inside =
                                sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h;
                            pixels[ch * h * w + y * w + x] = if inside {
                                plane[sy as usize * w + sx as usize]
                            } else {
                                0
                            };
                        }
                    }
                }
            }
            Augmentation::ShiftRotate {
                max_shift,
                max_degrees,
            } => {
                let angle = (rng.unit() * 2.0 - 1.0) as f32 * max_degrees.to_radians();
                let tx = rng.below(2 * max_shift as u64 + 1) as f32 - max_shift as f32;
                let ty = rng.below(2 * max_shift as u64 + 1) as f32 - max_shift as f32;
                let (sin, cos) = angle.sin_cos();
                let (cx, cy) = ((w as f32 - 1.0) / 2.0, (h as f32 - 1.0) / 2.0);
                let source = pixels.to_vec();
                for ch in 0..c {
                    let plane = &source[ch * h * w..(ch + 1) * h * w];
                    for y in 0..h {
                        for x in 0..w {
                            // Inverse map: where in the source does this output pixel come from.
                            let (ox, oy) = (x as f32 - cx - tx, y as f32 - cy - ty);
                            let sx = (cos * ox + sin * oy + cx).round();
                            let sy = (-sin * ox + cos * oy + cy).round();
                            let inside = sx >= 0.0 && sy >= 0.0 && sx < w as f32 && sy < h as f32;
                            pixels[ch * h * w + y * w + x] = if inside {
                                plane[sy as usize * w + sx as usize]
                            } else {
                                0
                            };
                        }
                    }
                }
            }
        }
    }
}

/// A training set whose items are augmented on read.
#[derive(Clone)]
pub struct AugmentedSet {
    set: ImageSet,
    augmentation: Augmentation,
    seed: u64,
    first_epoch: u32,
    reads: Arc<[AtomicU32]>,
}

impl AugmentedSet {
    pub fn new(set: ImageSet, augmentation: Augmentation, seed: u64) -> Self {
        let reads = (0..set.len()).map(|_| AtomicU32::new(0)).collect();
        Self {
            set,
            augmentation,
            seed,
            first_epoch: 0,
            reads,
        }
    }

    /// Continue the per-image draws as if `epochs_done` epochs had already run (resume).
    pub fn starting_after(mut self, epochs_done: u32) -> Self {
        self.first_epoch = epochs_done;
        self
    }
}

impl Dataset<ImageItem> for AugmentedSet {
    fn get(&self, index: usize) -> Result<ImageItem, DatasetError> {
        let mut item = self.set.item(index).map_err(DatasetError::new)?;
        let epoch = self.first_epoch + self.reads[index].fetch_add(1, Ordering::Relaxed);
        let mut rng = SplitMix64::for_item(self.seed, item.index as u64, epoch as u64);
        self.augmentation
            .apply(&mut item.pixels, self.set.shape(), &mut rng);
        Ok(item)
    }

    fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_set::Normalization;

    fn one_image_set() -> ImageSet {
        let shape = ImageShape {
            channels: 1,
            height: 8,
            width: 8,
        };
        let pixels: Vec<u8> = (1..=64).collect();
        ImageSet::new(
            "t",
            shape,
            Normalization::mnist(),
            pixels,
            vec![0],
            vec!["a".into()],
        )
        .unwrap()
    }

    #[test]
    fn crop_flip_keeps_pixels_and_is_seeded_per_epoch() {
        let set = one_image_set();
        let a = AugmentedSet::new(set.clone(), Augmentation::CropFlip { padding: 2 }, 1);
        let b = AugmentedSet::new(set.clone(), Augmentation::CropFlip { padding: 2 }, 1);
        let epochs_a: Vec<Vec<u8>> = (0..6).map(|_| a.get(0).unwrap().pixels).collect();
        let epochs_b: Vec<Vec<u8>> = (0..6).map(|_| b.get(0).unwrap().pixels).collect();
        assert_eq!(epochs_a, epochs_b, "same seed, same draws");
        assert!(
            epochs_a.windows(2).any(|w| w[0] != w[1]),
            "draws change with the epoch"
        );
        // Every output pixel is either zero padding or a pixel of the source image.
        for img in &epochs_a {
            assert!(img.iter().all(|&p| p == 0 || (1..=64).contains(&p)));
            assert!(img.iter().filter(|&&p| p != 0).count() >= 36);
        }
        let resumed =
            AugmentedSet::new(set, Augmentation::CropFlip { padding: 2 }, 1).starting_after(3);
        assert_eq!(resumed.get(0).unwrap().pixels, epochs_a[3]);
    }

    #[test]
    fn zero_shift_rotate_is_identity() {
        let set = one_image_set();
        let mut pixels = set.image(0).to_vec();
        let aug = Augmentation::ShiftRotate {
            max_shift: 0,
            max_degrees: 0.0,
        };
        aug.apply(&mut pixels, set.shape(), &mut SplitMix64::new(3));
        assert_eq!(pixels, set.image(0));
    }
}
