//! CIFAR-10 (Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009), binary
//! version: `data_batch_1..5.bin` and `test_batch.bin`, each 10,000 records of 3,073 bytes
//! (1 label byte, then 1024 R, 1024 G, 1024 B bytes, row-major 32x32), and `batches.meta.txt`
//! with one class name per line. Read from `cifar-10-binary.tar.gz` directly (no extraction) or
//! from an extracted `cifar-10-batches-bin/` folder.

use crate::Split;
use crate::error::{DataError, Result};
use crate::image_set::{ImageSet, ImageShape, Normalization};
use crate::mnist::check_labels;
use crate::source::{Checksum, DataSource, RemoteFile};
use std::collections::HashMap;
use std::path::Path;

/// Bytes of one record: label + 3 * 32 * 32 pixels.
pub const RECORD_BYTES: usize = 1 + 3 * 32 * 32;
/// Records in each official batch file.
pub const RECORDS_PER_BATCH: usize = 10_000;
const BATCH_DIR: &str = "cifar-10-batches-bin";
const TRAIN_BATCHES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
const TEST_BATCH: &str = "test_batch.bin";
const META: &str = "batches.meta.txt";

/// The official archive; md5 as published on the CIFAR page.
pub const ARCHIVE: RemoteFile = RemoteFile {
    name: "cifar-10-binary.tar.gz",
    alternatives: &[BATCH_DIR],
    urls: &["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"],
    checksum: Checksum::Md5("c32a1d4ab5d03f1284b67883e8d87530"),
};

/// Splits one batch file into (labels, pixels), checking its size and labels.
pub fn parse_batch(bytes: &[u8], path: &Path, num_classes: usize) -> Result<(Vec<u8>, Vec<u8>)> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(DataError::format(
            path,
            format!(
                "size {} is not a whole number of {RECORD_BYTES}-byte records (CIFAR-10 binary \
                 batches are {} bytes); the file is truncated or not a CIFAR-10 batch",
                bytes.len(),
                RECORD_BYTES * RECORDS_PER_BATCH
            ),
        ));
    }
    let n = bytes.len() / RECORD_BYTES;
    let mut labels = Vec::with_capacity(n);
    let mut pixels = Vec::with_capacity(n * (RECORD_BYTES - 1));
    for record in bytes.chunks_exact(RECORD_BYTES) {
        labels.push(record[0]);
        pixels.extend_from_slice(&record[1..]);
    }
    check_labels(path, &labels, num_classes)?;
    Ok((labels, pixels))
}

/// Parses `batches.meta.txt`: non-empty lines are the class names, label = line index.
pub fn parse_meta(text: &str, path: &Path) -> Result<Vec<String>> {
    let classes: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if classes.len() != 10 {
        return Err(DataError::format(
            path,
            format!("expected 10 class names, found {}", classes.len()),
        ));
    }
    Ok(classes)
}

pub struct Cifar10;

impl Cifar10 {
    /// Loads one split through `source` (archive or extracted folder, else download).
    pub fn load(source: &DataSource, split: Split) -> Result<ImageSet> {
        let path = source.resolve("cifar-10", &ARCHIVE)?;
        Self::load_path(&path, split)
    }

    /// Loads from `cifar-10-binary.tar.gz` or from a `cifar-10-batches-bin/` folder.
    pub fn load_path(path: &Path, split: Split) -> Result<ImageSet> {
        let wanted: Vec<&str> = match split {
            Split::Train => TRAIN_BATCHES.to_vec(),
            Split::Test => vec![TEST_BATCH],
        };
        let mut files = if path.is_dir() {
            read_folder(path, &wanted)?
        } else {
            {
                let mut names = wanted.clone();
                names.push(META);
                crate::read_tar_gz_members(path, &names)?
            }
        };
        let meta_path = path.join(META);
        let meta = files
            .remove(META)
            .ok_or_else(|| DataError::format(path, format!("{META} is missing")))?;
        let classes = parse_meta(&String::from_utf8_lossy(&meta), &meta_path)?;

        let mut labels = Vec::new();
        let mut pixels = Vec::new();
        for name in &wanted {
            let member = path.join(name);
            let bytes = files
                .remove(*name)
                .ok_or_else(|| DataError::format(path, format!("{BATCH_DIR}/{name} is missing")))?;
            if bytes.len() != RECORD_BYTES * RECORDS_PER_BATCH {
                return Err(DataError::Truncated {
                    path: member,
                    expected: (RECORD_BYTES * RECORDS_PER_BATCH) as u64,
                    found: bytes.len() as u64,
                });
            }
            let (l, p) = parse_batch(&bytes, &member, classes.len())?;
            labels.extend(l);
            pixels.extend(p);
        }
        let split_name = match split {
            Split::Train => "train",
            Split::Test => "test",
        };
        let shape = ImageShape {
            channels: 3,
            height: 32,
            width: 32,
        };
        ImageSet::new(
            format!("cifar-10/{split_name}"),
            shape,
            Normalization::cifar10(),
            pixels,
            labels,
            classes,
        )
    }
}

fn read_folder(dir: &Path, wanted: &[&str]) -> Result<HashMap<String, Vec<u8>>> {
    let mut files = HashMap::new();
    for name in wanted.iter().chain(std::iter::once(&META)) {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
        files.insert(name.to_string(), bytes);
    }
    Ok(files)
}
