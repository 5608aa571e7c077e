//! An in-memory image classification set: one contiguous `u8` buffer, labels, class names, and
//! a view (a list of indices), so splits and limits never copy pixels.

use crate::error::{DataError, Result};
use crate::rng::SplitMix64;
use std::sync::Arc;
pub use zoo_core::{ImageShape, Normalization};

/// One image: `channels * height * width` bytes in CHW order, its label, and its index in the
/// full set (augmentation seeds from it).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageItem {
    pub pixels: Vec<u8>,
    pub label: u8,
    pub index: usize,
}

#[derive(Clone, Debug)]
pub struct ImageSet {
    name: String,
    shape: ImageShape,
    normalization: Normalization,
    pixels: Arc<[u8]>,
    labels: Arc<[u8]>,
    classes: Arc<[String]>,
    view: Arc<[u32]>,
}

impl ImageSet {
    /// Builds a set from parsed buffers. Lengths and labels are checked by the parsers; this
    /// checks them once more because a wrong length here would be a silent misread.
    pub fn new(
        name: impl Into<String>,
        shape: ImageShape,
        normalization: Normalization,
        pixels: Vec<u8>,
        labels: Vec<u8>,
        classes: Vec<String>,
    ) -> Result<Self> {
        let name = name.into();
        if pixels.len() != labels.len() * shape.pixels() {
            return Err(DataError::InvalidArgument(format!(
                "{name}: {} pixel bytes for {} labels of {} bytes each",
                pixels.len(),
                labels.len(),
                shape.pixels()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= classes.len()) {
            return Err(DataError::InvalidArgument(format!(
                "{name}: label {bad} with only {} classes",
                classes.len()
            )));
        }
        let view: Arc<[u32]> = (0..labels.len() as u32).collect();
        Ok(Self {
            name,
            shape,
            normalization,
            pixels: pixels.into(),
            labels: labels.into(),
            classes: classes.into(),
            view,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn shape(&self) -> ImageShape {
        self.shape
    }
    pub fn normalization(&self) -> &Normalization {
        &self.normalization
    }
    pub fn classes(&self) -> &[String] {
        &self.classes
    }
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }
    pub fn len(&self) -> usize {
        self.view.len()
    }
    pub fn is_empty(&self) -> bool {
        self.view.is_empty()
    }

    /// Pixels of the `i`-th image of this view.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.shape.pixels();
        let index = self.view[i] as usize;
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Label of the `i`-th image of this view.
    pub fn label(&self, i: usize) -> u8 {
        self.labels[self.view[i] as usize]
    }

    /// Number of images of each class in this view.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &i in self.view.iter() {
            counts[self.labels[i as usize] as usize] += 1;
        }
        counts
    }

    fn with_view(&self, name: String, view: Vec<u32>) -> Self {
        Self {
            name,
            view: view.into(),
            ..self.clone()
        }
    }

    /// Splits off a validation set: a seeded permutation puts `round(fraction * len)` images in
    /// validation, the rest in training; both keep ascending order. Same seed, same split.
    pub fn split_validation(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(DataError::InvalidArgument(format!(
                "validation fraction {fraction} must be in [0, 1)"
            )));
        }
        let mut order: Vec<u32> = self.view.to_vec();
        SplitMix64::new(seed).shuffle(&mut order);
        let n_valid = (fraction * order.len() as f64).round() as usize;
        let mut valid = order[..n_valid].to_vec();
        let mut train = order[n_valid..].to_vec();
        valid.sort_unstable();
        train.sort_unstable();
        Ok((
            self.with_view(format!("{}/train", self.name), train),
            self.with_view(format!("{}/valid", self.name), valid),
        ))
    }

    /// Fold `fold` of `folds` for k-fold cross-validation, stratified: each class's images are
    /// shuffled with `seed` and dealt round-robin into the folds, so every fold holds each
    /// class in its proportion. Returns (the other folds, this fold), both in ascending order.
    /// Same seed, same folds; every image is in exactly one fold.
    pub fn split_fold(&self, folds: usize, fold: usize, seed: u64) -> Result<(Self, Self)> {
        let class_of = |index: u32| self.labels[index as usize] as usize;
        let (train, valid) =
            crate::folds::stratified_fold(&self.view, class_of, &self.classes, folds, fold, seed)?;
        Ok((
            self.with_view(
                format!("{}/folds-{fold}-of-{folds}-train", self.name),
                train,
            ),
            self.with_view(format!("{}/fold-{fold}-of-{folds}", self.name), valid),
        ))
    }

    /// The first `n` images of this view (all of them when `n >= len`).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.len());
        self.with_view(self.name.clone(), self.view[..n].to_vec())
    }
}

impl ImageSet {
    /// The `index`-th item of this view (a copy of its pixels), or an error past the end.
    pub fn item(&self, index: usize) -> Result<ImageItem> {
        if index >= self.len() {
            return Err(DataError::InvalidArgument(format!(
                "{}: index {index} out of range (len {})",
                self.name,
                self.len()
            )));
        }
        Ok(ImageItem {
            pixels: self.image(index).to_vec(),
            label: self.label(index),
            index: self.view[index] as usize,
        })
    }
}

#[cfg(feature = "burn")]
impl burn::data::dataset::Dataset<ImageItem> for ImageSet {
    fn get(
        &self,
        index: usize,
    ) -> std::result::Result<ImageItem, burn::data::dataset::DatasetError> {
        self.item(index)
            .map_err(burn::data::dataset::DatasetError::new)
    }

    fn len(&self) -> usize {
        self.view.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny(n: usize) -> ImageSet {
        let shape = ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        let pixels = (0..n * 4).map(|i| i as u8).collect();
        let labels = (0..n).map(|i| (i % 3) as u8).collect();
        let classes = vec!["a".into(), "b".into(), "c".into()];
        ImageSet::new(
            "tiny",
            shape,
            Normalization::mnist(),
            pixels,
            labels,
            classes,
        )
        .unwrap()
    }

    #[test]
    fn validation_split_is_disjoint_complete_and_seeded() {
        let set = tiny(100);
        let (train, valid) = set.split_validation(0.1, 42).unwrap();
        assert_eq!((train.len(), valid.len()), (90, 10));
        let mut all: Vec<usize> = (0..train.len())
            .map(|i| train.item(i).unwrap().index)
            .chain((0..valid.len()).map(|i| valid.item(i).unwrap().index))
            .collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        let (_, again) = set.split_validation(0.1, 42).unwrap();
        let (_, other) = set.split_validation(0.1, 43).unwrap();
        let ids = |s: &ImageSet| {
            (0..s.len())
                .map(|i| s.item(i).unwrap().index)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&valid), ids(&again));
        assert_ne!(ids(&valid), ids(&other));
    }

    #[test]
    fn folds_partition_the_set_and_keep_class_proportions() {
        let set = tiny(90); // 30 of each class
        let ids = |s: &ImageSet| {
            (0..s.len())
                .map(|i| s.item(i).unwrap().index)
                .collect::<Vec<_>>()
        };
        let mut seen = Vec::new();
        for fold in 0..3 {
            let (train, valid) = set.split_fold(3, fold, 42).unwrap();
            assert_eq!((train.len(), valid.len()), (60, 30));
            assert_eq!(valid.class_counts(), [10, 10, 10], "stratified");
            let (valid_ids, train_ids) = (ids(&valid), ids(&train));
            assert!(valid_ids.iter().all(|i| !train_ids.contains(i)));
            seen.extend(valid_ids);
        }
        seen.sort();
        assert_eq!(
            seen,
            (0..90).collect::<Vec<_>>(),
            "each image in exactly one fold"
        );
        let (_, again) = set.split_fold(3, 1, 42).unwrap();
        let (_, other) = set.split_fold(3, 1, 7).unwrap();
        assert_eq!(ids(&again), ids(&set.split_fold(3, 1, 42).unwrap().1));
        assert_ne!(ids(&again), ids(&other));
        let err = tiny(6).split_fold(3, 0, 42).unwrap_err().to_string();
        assert!(err.contains("class a has 2 examples"), "{err}");
        assert!(set.split_fold(1, 0, 42).is_err());
    }

    #[test]
    fn items_carry_their_pixels_and_bad_lengths_are_rejected() {
        let set = tiny(5);
        let item = set.item(3).unwrap();
        assert_eq!(item.pixels, vec![12, 13, 14, 15]);
        assert_eq!(item.label, 0);
        assert!(set.item(5).is_err());
        let shape = set.shape();
        let err = ImageSet::new(
            "x",
            shape,
            Normalization::mnist(),
            vec![0; 7],
            vec![0, 1],
            vec!["a".into(), "b".into()],
        );
        assert!(err.is_err());
    }
}
