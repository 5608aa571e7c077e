//! MNIST and Fashion-MNIST in the IDX format of LeCun et al. (1998) and Xiao et al. (2017).
//!
//! IDX: a big-endian header `00 00 <type> <ndim>` then `ndim` u32 sizes, then the payload.
//! Images are type 0x08 (u8) with 3 dims `[n, rows, cols]`, labels type 0x08 with 1 dim `[n]`.
//! Files may be gzipped (`.gz`) or raw; both are read.

use crate::error::{DataError, Result};
use crate::image_set::{ImageSet, ImageShape, Normalization};
use crate::source::{Checksum, DataSource, RemoteFile, sha256_hex};
use crate::{Split, read_maybe_gzip};
use std::path::Path;

const IDX_UBYTE: u8 = 0x08;

/// A parsed IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// Parses an IDX array of `u8` with `expected_ndim` dimensions. `path` is only used in errors.
pub fn parse_idx(bytes: &[u8], path: &Path, expected_ndim: u8) -> Result<IdxArray> {
    let expected_magic = 0x0000_0800 | expected_ndim as u32;
    let what = if expected_ndim == 1 {
        "IDX labels: u8, 1 dimension"
    } else {
        "IDX images: u8, 3 dimensions"
    };
    if bytes.len() < 4 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: 4,
            found: bytes.len() as u64,
        });
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != IDX_UBYTE || bytes[3] != expected_ndim {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: expected_magic,
            found: magic,
            what,
        });
    }
    let header_len = 4 + 4 * expected_ndim as usize;
    if bytes.len() < header_len {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected: header_len as u64,
            found: bytes.len() as u64,
        });
    }
    let dims: Vec<usize> = bytes[4..header_len]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let payload = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| DataError::format(path, format!("dimensions {dims:?} overflow")))?;
    let expected = (header_len + payload) as u64;
    let found = bytes.len() as u64;
    if found < expected {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(DataError::TrailingBytes {
            path: path.to_path_buf(),
            expected,
            found,
        });
    }
    Ok(IdxArray {
        dims,
        data: bytes[header_len..].to_vec(),
    })
}

pub(crate) fn check_labels(path: &Path, labels: &[u8], num_classes: usize) -> Result<()> {
    match labels.iter().position(|&l| l as usize >= num_classes) {
        Some(index) => Err(DataError::LabelOutOfRange {
            path: path.to_path_buf(),
            index,
            label: labels[index],
            num_classes,
        }),
        None => Ok(()),
    }
}

/// MNIST digits or Zalando's Fashion-MNIST: same format, same sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MnistVariant {
    Mnist,
    FashionMnist,
}

/// One split's image and label files.
struct SplitFiles {
    images: RemoteFile,
    labels: RemoteFile,
    /// sha256 of the uncompressed canonical files (MNIST only).
    payload_sha256: Option<(&'static str, &'static str)>,
}

macro_rules! mirrors {
    ($name:literal, $($base:literal),+) => {
        &[$(concat!($base, $name)),+]
    };
}

impl MnistVariant {
    /// Folder name under the data root.
    pub fn folder(self) -> &'static str {
        match self {
            MnistVariant::Mnist => "mnist",
            MnistVariant::FashionMnist => "fashion-mnist",
        }
    }

    pub fn classes(self) -> Vec<String> {
        let names: [&str; 10] = match self {
            MnistVariant::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            MnistVariant::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        };
        names.iter().map(|s| s.to_string()).collect()
    }

    pub fn normalization(self) -> Normalization {
        match self {
            MnistVariant::Mnist => Normalization::mnist(),
            MnistVariant::FashionMnist => Normalization::fashion_mnist(),
        }
    }

    fn files(self, split: Split) -> SplitFiles {
        use MnistVariant::*;
        use Split::*;
        match (self, split) {
            (Mnist, Train) => SplitFiles {
                images: RemoteFile {
                    name: "train-images-idx3-ubyte.gz",
                    alternatives: &["train-images-idx3-ubyte"],
                    urls: mirrors!(
                        "train-images-idx3-ubyte.gz",
                        "https://ossci-datasets.s3.amazonaws.com/mnist/",
                        "https://storage.googleapis.com/cvdf-datasets/mnist/"
                    ),
                    checksum: Checksum::GunzippedSha256(
                        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                    ),
                },
                labels: RemoteFile {
                    name: "train-labels-idx1-ubyte.gz",
                    alternatives: &["train-labels-idx1-ubyte"],
                    urls: mirrors!(
                        "train-labels-idx1-ubyte.gz",
                        "https://ossci-datasets.s3.amazonaws.com/mnist/",
                        "https://storage.googleapis.com/cvdf-datasets/mnist/"
                    ),
                    checksum: Checksum::GunzippedSha256(
                        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                    ),
                },
                payload_sha256: Some((
                    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                )),
            },
            (Mnist, Test) => SplitFiles {
                images: RemoteFile {
                    name: "t10k-images-idx3-ubyte.gz",
                    alternatives: &["t10k-images-idx3-ubyte"],
                    urls: mirrors!(
                        "t10k-images-idx3-ubyte.gz",
                        "https://ossci-datasets.s3.amazonaws.com/mnist/",
                        "https://storage.googleapis.com/cvdf-datasets/mnist/"
                    ),
                    checksum: Checksum::GunzippedSha256(
                        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                    ),
                },
                labels: RemoteFile {
                    name: "t10k-labels-idx1-ubyte.gz",
                    alternatives: &["t10k-labels-idx1-ubyte"],
                    urls: mirrors!(
                        "t10k-labels-idx1-ubyte.gz",
                        "https://ossci-datasets.s3.amazonaws.com/mnist/",
                        "https://storage.googleapis.com/cvdf-datasets/mnist/"
                    ),
                    checksum: Checksum::GunzippedSha256(
                        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                    ),
                },
                payload_sha256: Some((
                    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                )),
            },
            // Fashion-MNIST publishes md5 sums of its gzip files.
            (FashionMnist, Train) => SplitFiles {
                images: RemoteFile {
                    name: "train-images-idx3-ubyte.gz",
                    alternatives: &["train-images-idx3-ubyte"],
                    urls: mirrors!(
                        "train-images-idx3-ubyte.gz",
                        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
                    ),
                    checksum: Checksum::Md5("8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                },
                labels: RemoteFile {
                    name: "train-labels-idx1-ubyte.gz",
                    alternatives: &["train-labels-idx1-ubyte"],
                    urls: mirrors!(
                        "train-labels-idx1-ubyte.gz",
                        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
                    ),
                    checksum: Checksum::Md5("25c81989df183df01b3e8a0aad5dffbe"),
                },
                payload_sha256: None,
            },
            (FashionMnist, Test) => SplitFiles {
                images: RemoteFile {
                    name: "t10k-images-idx3-ubyte.gz",
                    alternatives: &["t10k-images-idx3-ubyte"],
                    urls: mirrors!(
                        "t10k-images-idx3-ubyte.gz",
                        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
                    ),
                    checksum: Checksum::Md5("bef4ecab320f06d8554ea6380940ec79"),
                },
                labels: RemoteFile {
                    name: "t10k-labels-idx1-ubyte.gz",
                    alternatives: &["t10k-labels-idx1-ubyte"],
                    urls: mirrors!(
                        "t10k-labels-idx1-ubyte.gz",
                        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"
                    ),
                    checksum: Checksum::Md5("bb300cfdad3c16e7a12a480ee83cd310"),
                },
                payload_sha256: None,
            },
        }
    }
}

/// Loader for MNIST-format data sets.
pub struct Mnist;

impl Mnist {
    /// Loads one split, resolving its files through `source`. For MNIST the decompressed files
    /// are checked against the canonical sha256 sums.
    pub fn load(source: &DataSource, variant: MnistVariant, split: Split) -> Result<ImageSet> {
        let files = variant.files(split);
        let images_path = source.resolve(variant.folder(), &files.images)?;
        let labels_path = source.resolve(variant.folder(), &files.labels)?;
        let expected = files.payload_sha256;
        Self::load_files(&images_path, &labels_path, variant, split, expected)
    }

    /// Loads an image file and a label file from given paths. With `payload_sha256`, the
    /// decompressed bytes must match these sums (images, labels).
    pub fn load_files(
        images_path: &Path,
        labels_path: &Path,
        variant: MnistVariant,
        split: Split,
        payload_sha256: Option<(&str, &str)>,
    ) -> Result<ImageSet> {
        let classes = variant.classes();
        let (image_bytes, label_bytes) = std::thread::scope(|s| {
            let images = s.spawn(|| read_maybe_gzip(images_path));
            let labels = read_maybe_gzip(labels_path);
            (images.join().expect("reader thread"), labels)
        });
        let (image_bytes, label_bytes) = (image_bytes?, label_bytes?);
        if let Some((images_sha, labels_sha)) = payload_sha256 {
            for (path, bytes, expected) in [
                (images_path, &image_bytes, images_sha),
                (labels_path, &label_bytes, labels_sha),
            ] {
                let actual = sha256_hex(bytes);
                if actual != expected {
                    return Err(DataError::Checksum {
                        path: path.to_path_buf(),
                        expected: expected.to_string(),
                        actual,
                        what: "the sha256 of the decompressed IDX payload (canonical MNIST)".into(),
                    });
                }
            }
        }
        let images = parse_idx(&image_bytes, images_path, 3)?;
        let labels = parse_idx(&label_bytes, labels_path, 1)?;
        check_labels(labels_path, &labels.data, classes.len())?;
        let (n, rows, cols) = (images.dims[0], images.dims[1], images.dims[2]);
        if n != labels.data.len() {
            return Err(DataError::CountMismatch {
                images: images_path.to_path_buf(),
                image_count: n,
                labels: labels_path.to_path_buf(),
                label_count: labels.data.len(),
            });
        }
        let shape = ImageShape {
            channels: 1,
            height: rows,
            width: cols,
        };
        let split_name = match split {
            Split::Train => "train",
            Split::Test => "test",
        };
        ImageSet::new(
            format!("{}/{split_name}", variant.folder()),
            shape,
            variant.normalization(),
            images.data,
            labels.data,
            classes,
        )
    }
}
