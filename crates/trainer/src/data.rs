//! From a `--dataset` choice to image sets and loaders.

use crate::classifier::{AugmentKind, DatasetKind};
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset;
use burn::prelude::Device;
use datasets::{
    Augmentation, AugmentedSet, Cifar10, DataSource, ImageBatch, ImageItem, ImageSet, Mnist,
    MnistVariant, Split,
};
use std::path::PathBuf;
use std::sync::Arc;

impl DatasetKind {
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Cifar10 => "cifar10",
        }
    }
}

/// Loads one split of a data set through the usual sources.
pub fn load_split(
    kind: DatasetKind,
    split: Split,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<ImageSet> {
    let source = DataSource::new(data_dir);
    let set = match kind {
        DatasetKind::Mnist => Mnist::load(&source, MnistVariant::Mnist, split)?,
        DatasetKind::FashionMnist => Mnist::load(&source, MnistVariant::FashionMnist, split)?,
        DatasetKind::Cifar10 => Cifar10::load(&source, split)?,
    };
    Ok(set)
}

impl AugmentKind {
    pub fn augmentation(self) -> Augmentation {
        match self {
            AugmentKind::None => Augmentation::None,
            AugmentKind::CropFlip => Augmentation::CropFlip { padding: 4 },
            AugmentKind::ShiftRotate => Augmentation::ShiftRotate {
                max_shift: 2,
                max_degrees: 10.0,
            },
        }
    }
}

/// A loader over `set`; shuffled (seeded) when `shuffle` is given.
pub fn loader<D, Bt>(
    dataset: D,
    batcher: Bt,
    batch_size: usize,
    shuffle: Option<u64>,
    num_workers: usize,
    device: &Device,
) -> Arc<dyn DataLoader<ImageBatch>>
where
    D: Dataset<ImageItem> + 'static,
    Bt: Batcher<ImageItem, ImageBatch> + 'static,
{
    let mut builder = DataLoaderBuilder::new(batcher)
        .batch_size(batch_size)
        .set_device(device.clone());
    if let Some(seed) = shuffle {
        builder = builder.shuffle(seed);
    }
    if num_workers > 0 {
        builder = builder.num_workers(num_workers);
    }
    builder.build(dataset)
}

/// Where a training run's random draws (shuffling, augmentation) start: its seed, and the
/// epochs a resumed run has already done.
#[derive(Clone, Copy, Debug)]
pub struct Draws {
    pub seed: u64,
    pub epochs_done: usize,
}

/// The training loader, augmented when asked; `epochs_done` continues the augmentation draws
/// of a resumed run. `batcher` is a [`datasets::ImageBatcher`] for `set`, or one that adds a teacher's
/// logits (`crate::distill`).
pub fn train_loader(
    set: &ImageSet,
    batcher: impl Batcher<ImageItem, ImageBatch> + 'static,
    augment: AugmentKind,
    draws: Draws,
    batch_size: usize,
    num_workers: usize,
    device: &Device,
) -> Arc<dyn DataLoader<ImageBatch>> {
    // Shuffle order differs per resumed start so a resumed run does not replay epoch 1's order.
    let Draws { seed, epochs_done } = draws;
    let shuffle_seed = seed.wrapping_add(epochs_done as u64);
    match augment {
        AugmentKind::None => loader(
            set.clone(),
            batcher,
            batch_size,
            Some(shuffle_seed),
            num_workers,
            device,
        ),
        kind => {
            let augmented = AugmentedSet::new(set.clone(), kind.augmentation(), seed)
                .starting_after(epochs_done as u32);
            loader(
                augmented,
                batcher,
                batch_size,
                Some(shuffle_seed),
                num_workers,
                device,
            )
        }
    }
}

impl DatasetKind {
    /// The normalisation and class names of this data set, without loading it.
    pub fn normalization(self) -> datasets::Normalization {
        match self {
            DatasetKind::Mnist => datasets::Normalization::mnist(),
            DatasetKind::FashionMnist => datasets::Normalization::fashion_mnist(),
            DatasetKind::Cifar10 => datasets::Normalization::cifar10(),
        }
    }

    pub fn spec(self) -> crate::classifier::DataSpec {
        let (channels, side) = match self {
            DatasetKind::Mnist | DatasetKind::FashionMnist => (1, 28),
            DatasetKind::Cifar10 => (3, 32),
        };
        crate::classifier::DataSpec {
            channels,
            height: side,
            width: side,
            num_classes: 10,
        }
    }
}
