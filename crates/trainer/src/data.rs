//! From a `--dataset` choice to image sets and loaders.

use crate::classifier::{AugmentKind, DatasetKind};
use crate::cli::DataArgs;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::{DataLoader, DataLoaderBuilder};
use burn::data::dataset::Dataset;
use burn::prelude::Device;
use datasets::{
    Augmentation, AugmentedSet, Cifar10, DataSource, FolderPart, ImageBatch, ImageFolder,
    ImageItem, ImageSet, Mnist, MnistVariant, Split,
};
use std::sync::Arc;

/// The side of an image folder's images when `--image-size` is not given (CIFAR's).
pub const DEFAULT_IMAGE_SIZE: usize = 32;

impl DatasetKind {
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Cifar10 => "cifar10",
            DatasetKind::Folder => "folder",
        }
    }
}

/// Loads one split of a data set through the usual sources (`data.dataset` is not read: the
/// kind may come from a saved run).
pub fn load_split(kind: DatasetKind, split: Split, data: &DataArgs) -> anyhow::Result<ImageSet> {
    Ok(load_split_counting_skips(kind, split, data)?.0)
}

/// [`load_split`], and how many files an image folder had to skip (each named in a warning).
pub fn load_split_counting_skips(
    kind: DatasetKind,
    split: Split,
    data: &DataArgs,
) -> anyhow::Result<(ImageSet, usize)> {
    let source = DataSource::new(data.data_dir.clone());
    let set = match kind {
        DatasetKind::Mnist => Mnist::load(&source, MnistVariant::Mnist, split)?,
        DatasetKind::FashionMnist => Mnist::load(&source, MnistVariant::FashionMnist, split)?,
        DatasetKind::Cifar10 => Cifar10::load(&source, split)?,
        DatasetKind::Folder => {
            let part = match split {
                Split::Train => FolderPart::Train,
                Split::Test => FolderPart::Test,
            };
            return load_folder_part(data, part);
        }
    };
    Ok((set, 0))
}

/// The image folder `--data-dir` names, at `--image-size`.
pub fn image_folder(data: &DataArgs) -> anyhow::Result<ImageFolder> {
    let root = data.data_dir.clone().ok_or_else(|| {
        crate::UsageError(
            "--dataset folder reads your own images: give the folder with --data-dir DIR \
             (DIR/train/<class>/*.png|jpg, DIR/test/<class>/…)"
                .into(),
        )
    })?;
    Ok(ImageFolder::open(
        &root,
        data.image_size.unwrap_or(DEFAULT_IMAGE_SIZE),
    )?)
}

fn load_folder_part(data: &DataArgs, part: FolderPart) -> anyhow::Result<(ImageSet, usize)> {
    let split = image_folder(data)?.load(part)?;
    for skipped in &split.skipped {
        eprintln!(
            "warning: skipped {}: {}",
            skipped.path.display(),
            skipped.reason
        );
    }
    if !split.skipped.is_empty() {
        eprintln!(
            "warning: {} file(s) of {} skipped",
            split.skipped.len(),
            split.set.name()
        );
    }
    Ok((split.set, split.skipped.len()))
}

/// An image folder's own validation split (`DIR/valid`), when the data set is a folder that
/// has one; otherwise validation is carved from the training split.
pub fn folder_validation(
    kind: DatasetKind,
    data: &DataArgs,
) -> anyhow::Result<Option<(ImageSet, usize)>> {
    if kind != DatasetKind::Folder || !image_folder(data)?.has(FolderPart::Valid) {
        return Ok(None);
    }
    load_folder_part(data, FolderPart::Valid).map(Some)
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
    /// The normalisation of this data set, without loading it.
    pub fn normalization(self) -> datasets::Normalization {
        match self {
            DatasetKind::Mnist => datasets::Normalization::mnist(),
            DatasetKind::FashionMnist => datasets::Normalization::fashion_mnist(),
            DatasetKind::Cifar10 => datasets::Normalization::cifar10(),
            DatasetKind::Folder => datasets::Normalization::imagenet(),
        }
    }

    /// Shape and classes of this data set without loading its images (an image folder's
    /// classes are its sub-folders' names).
    pub fn spec(self, data: &DataArgs) -> anyhow::Result<crate::classifier::DataSpec> {
        let (channels, side) = match self {
            DatasetKind::Mnist | DatasetKind::FashionMnist => (1, 28),
            DatasetKind::Cifar10 => (3, 32),
            DatasetKind::Folder => {
                let folder = image_folder(data)?;
                let spec = crate::classifier::DataSpec::new(folder.shape(), 0)
                    .with_classes(folder.classes().to_vec());
                return Ok(spec);
            }
        };
        Ok(crate::classifier::DataSpec {
            channels,
            height: side,
            width: side,
            num_classes: 10,
            classes: Vec::new(),
            resize: None,
        })
    }
}
