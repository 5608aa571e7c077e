//! burn-zoo data: real data sets read from their official files, split, augmented and batched.
//!
//! Where files come from is decided once, in [`source`]: `--data-dir` / `ZOO_DATA_DIR`, then the
//! workspace `datasets/` folder, then a verified download. Parsers validate every header, size
//! and label and return a [`DataError`] naming the file; nothing half-read is handed on.
//!
//! The `burn` feature (on by default) adds Burn's `Dataset` for [`ImageSet`], the augmenting
//! wrapper and the batcher; without it the crate is the parsers and sources alone (fuzzing).

#[cfg(feature = "burn")]
pub mod augment;
#[cfg(feature = "burn")]
pub mod batcher;
pub mod cifar;
pub mod error;
pub mod folder;
pub mod folds;
pub mod graph;
pub mod hub;
pub mod image_set;
pub mod mnist;
pub mod rng;
pub mod source;
pub mod text;

#[cfg(feature = "burn")]
pub use augment::{Augmentation, AugmentedSet};
#[cfg(feature = "burn")]
pub use batcher::{ImageBatch, ImageBatcher, SoftTargets};
pub use cifar::Cifar10;
pub use error::{DataError, Result};
pub use folder::{FolderPart, FolderSplit, ImageFolder, SkippedFile};
pub use graph::{Cora, EdgeListGraph, Graph, Karate, NodeSplits};
pub use image_set::{ImageItem, ImageSet, ImageShape, Normalization};
pub use mnist::{Mnist, MnistVariant};
pub use source::DataSource;
pub use text::{
    CharVocab, CompareHalves, Corpus, CsvLayout, LabeledText, LmStreams, TextSet, TokenVocab,
    Tokenization,
};

use std::io::Read;
use std::path::Path;

/// Which split of a data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// Reads a file, decompressing it when it starts with the gzip magic bytes.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_maybe_gzip(raw, path)
}

/// Decompresses `raw` when it starts with the gzip magic bytes (`path` names it in errors).
pub fn decode_maybe_gzip(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|source| DataError::Gzip {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Reads the members named in `names` (matched by file name, in any folder) from a gzipped tar,
/// streaming; members not found are simply absent from the map.
pub(crate) fn read_tar_gz_members(
    path: &Path,
    names: &[&str],
) -> Result<std::collections::HashMap<String, Vec<u8>>> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::with_capacity(1 << 20, file));
    let mut archive = tar::Archive::new(gz);
    let corrupt = |e: std::io::Error| DataError::Gzip {
        path: path.to_path_buf(),
        source: e,
    };
    let mut files = std::collections::HashMap::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let entry_path = entry.path().map_err(corrupt)?.into_owned();
        let Some(name) = entry_path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if names.contains(&name) && !files.contains_key(name) {
            let name = name.to_string();
            let mut bytes = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut bytes).map_err(corrupt)?;
            files.insert(name, bytes);
            if files.len() == names.len() {
                break;
            }
        }
    }
    Ok(files)
}
