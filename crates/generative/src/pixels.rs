//! Images as `[0, 1]` pixel tensors (no mean/std normalisation: the decoders model pixel
//! intensities), and seeded minibatch orders.

use burn::prelude::*;
use clap::Args;
use datasets::rng::SplitMix64;
use datasets::{ImageBatcher, ImageSet, Normalization, Split};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use trainer::DatasetKind;

/// Which images to model, and the slices of them a run used (set from the training flags
/// `--limit-train` / `--limit-test`, or [`ImageLimits`] for the commands that read saved
/// weights).
#[derive(Args, Debug, Clone, Serialize, Deserialize)]
pub struct ImageDataArgs {
    /// Data set
    #[arg(long, value_enum, default_value = "mnist")]
    pub dataset: DatasetKind,
    /// Folder holding data sets in their official layout, e.g. <DIR>/mnist/*.gz [env: ZOO_DATA_DIR]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    #[arg(skip)]
    #[serde(default)]
    pub limit_train: Option<usize>,
    #[arg(skip)]
    #[serde(default)]
    pub limit_test: Option<usize>,
}

/// Slices of the data for the commands that read saved weights (evaluation, pictures, codes).
#[derive(Args, Debug, Clone, Default)]
pub struct ImageLimits {
    /// Use only the first N training images
    #[arg(long, value_name = "N")]
    pub limit_train: Option<usize>,
    /// Use only the first N test images
    #[arg(long, value_name = "N")]
    pub limit_test: Option<usize>,
}

impl ImageDataArgs {
    /// The same data cut to `limits`.
    pub fn limited(self, limits: &ImageLimits) -> Self {
        Self {
            limit_train: limits.limit_train,
            limit_test: limits.limit_test,
            ..self
        }
    }

    /// A saved run's data, read from this invocation's `--data-dir` (the folder may have moved).
    pub fn with_data_dir_of(self, current: &ImageDataArgs) -> Self {
        Self {
            data_dir: current.data_dir.clone(),
            ..self
        }
    }

    /// The split, cut to `--limit-train` / `--limit-test`.
    pub fn load(&self, split: Split) -> anyhow::Result<ImageSet> {
        let data = trainer::cli::DataArgs {
            dataset: Some(self.dataset),
            data_dir: self.data_dir.clone(),
            image_size: None,
            num_classes: None,
        };
        let set = trainer::data::load_split(self.dataset, split, &data)?;
        let limit = match split {
            Split::Train => self.limit_train,
            Split::Test => self.limit_test,
        };
        Ok(match limit {
            Some(n) => set.take(n),
            None => set,
        })
    }
}

/// Images `indices` of `set` as `[n, channels, height, width]` floats in `[0, 1]`.
pub fn pixel_batch(set: &ImageSet, indices: &[usize], device: &Device) -> Tensor<4> {
    let shape = set.shape();
    let unit = Normalization {
        mean: vec![0.0; shape.channels],
        std: vec![1.0; shape.channels],
    };
    let images: Vec<&[u8]> = indices.iter().map(|&i| set.image(i)).collect();
    ImageBatcher::new(shape, &unit).images(&images, device)
}

/// Images `[n, c, h, w]` in `[0, 1]` rounded to bytes, as a PNG would store them.
pub fn to_bytes(images: Tensor<4>) -> anyhow::Result<Vec<Vec<u8>>> {
    let [n, c, h, w] = images.dims();
    let values: Vec<f32> = images.into_data().try_to_vec()?;
    Ok(values
        .chunks_exact(c * h * w)
        .take(n)
        .map(|img| {
            img.iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect()
        })
        .collect())
}

/// Seed stream of minibatch orders (other streams seed noise).
const ORDER_STREAM: u64 = 1;

/// The minibatches of one epoch over `len` items: a permutation seeded by `seed` and `epoch`,
/// so a resumed run sees the order the interrupted one would have.
pub fn epoch_batches(len: usize, batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..len).collect();
    SplitMix64::for_item(seed, ORDER_STREAM, epoch as u64).shuffle(&mut order);
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}
