//! One error type for every way data can be missing or wrong. Each variant names the file and
//! says what was expected, so the message alone tells a user what to fix.

use std::path::PathBuf;

/// Result alias for the data crate.
pub type Result<T> = std::result::Result<T, DataError>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path} is not a valid gzip stream ({source}); the file is corrupt or was cut short: delete it and download or copy it again"
    )]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path} is truncated: expected {expected} bytes, found {found}; delete it and download or copy it again"
    )]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    #[error("{path} has trailing data: expected {expected} bytes, found {found}")]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    #[error("{path} has magic number {found:#010x}, expected {expected:#010x} ({what})")]
    BadMagic {
        path: PathBuf,
        expected: u32,
        found: u32,
        what: &'static str,
    },

    #[error("{path}: {message}")]
    BadFormat { path: PathBuf, message: String },

    #[error("{path}: record {index} has label {label}, expected a class index below {num_classes}")]
    LabelOutOfRange {
        path: PathBuf,
        index: usize,
        label: u8,
        num_classes: usize,
    },

    #[error(
        "{path}: {what} is {actual}, which does not match the expected {expected}; the file is corrupt or not the canonical release: delete it and fetch it again"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        actual: String,
        what: String,
    },

    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    CountMismatch {
        images: PathBuf,
        image_count: usize,
        labels: PathBuf,
        label_count: usize,
    },

    #[error("{message}")]
    NotFound { message: String },

    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },

    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        DataError::BadFormat {
            path: path.into(),
            message: message.into(),
        }
    }
}
