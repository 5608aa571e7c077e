//! Files of a Hugging Face Hub repository, pinned to a commit and checked against the Hub's own
//! content hashes.
//!
//! `{endpoint}/{repo}/resolve/{revision}/{file}` serves one file as it was at a commit, so a
//! 40-digit revision pins the bytes. Before the download, a `HEAD` request (redirects not
//! followed, as `huggingface_hub` does it) reads what the Hub says of the file: the commit it
//! resolved (`X-Repo-Commit`), and its content hash: for a file kept in Git LFS (weights) the
//! sha256 of its bytes (`X-Linked-Etag`), for a plain Git file (`config.json`, `vocab.txt`) its
//! Git blob id (`ETag`, the SHA-1 of `blob <size>\0<bytes>`). The downloaded file must match
//! both, then it is moved into place through [`crate::source::download_checked`] (atomic,
//! resumed when cut short). `HF_ENDPOINT` points at a mirror, as for `huggingface_hub`.

use crate::error::{DataError, Result};
use crate::source::{download_checked, hex, sha256_hex};
use sha1::{Digest, Sha1};
use std::path::Path;

/// Environment variable naming another Hub endpoint (a mirror), as `huggingface_hub` reads it.
pub const ENDPOINT_ENV: &str = "HF_ENDPOINT";
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// `$HF_ENDPOINT`, else huggingface.co.
pub fn endpoint() -> String {
    std::env::var(ENDPOINT_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The download URL of `file` in `repo` at `revision`.
pub fn file_url(endpoint: &str, repo: &str, revision: &str, file: &str) -> String {
    format!("{endpoint}/{repo}/resolve/{revision}/{file}")
}

/// A file's content hash as the Hub states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContentHash {
    /// sha256 of the bytes (files in Git LFS).
    Sha256(String),
    /// Git blob id: SHA-1 of `blob <size>\0` followed by the bytes (plain Git files).
    GitBlob(String),
}

impl ContentHash {
    /// From an ETag value: `"…"` or `W/"…"`, 64 or 40 hex digits.
    fn from_etag(etag: &str) -> Option<Self> {
        let digits = etag.trim().trim_start_matches("W/").trim_matches('"');
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        match digits.len() {
            64 => Some(Self::Sha256(digits.to_ascii_lowercase())),
            40 => Some(Self::GitBlob(digits.to_ascii_lowercase())),
            _ => None,
        }
    }

    /// Checks `path` against this hash.
    pub fn verify(&self, path: &Path) -> Result<()> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        let (expected, actual, what) = match self {
            Self::Sha256(expected) => (expected, sha256_hex(&bytes), "the sha256 of the file"),
            Self::GitBlob(expected) => (expected, git_blob_id(&bytes), "the Git blob id"),
        };
        if &actual != expected {
            return Err(DataError::Checksum {
                path: path.to_path_buf(),
                expected: expected.clone(),
                actual,
                what: format!("{what} (the Hugging Face Hub's hash for it)"),
            });
        }
        Ok(())
    }
}

/// The Git blob id of `bytes` (what `git hash-object` prints).
pub fn git_blob_id(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

/// What the Hub says of a file before it is downloaded.
#[derive(Clone, Debug)]
pub struct FileInfo {
    /// The commit the revision resolved to.
    pub commit: Option<String>,
    pub hash: ContentHash,
    pub size: Option<u64>,
}

/// `HEAD` of a resolve URL without following the CDN redirect (whose headers carry the LFS
/// hash); a relative redirect (a renamed repository) is followed.
pub fn file_info(url: &str) -> Result<FileInfo> {
    let error = |message: String| DataError::Download {
        url: url.to_string(),
        message,
    };
    let mut current = url.to_string();
    for _ in 0..5 {
        let response = ureq::head(&current)
            .header("Accept-Encoding", "identity")
            .config()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .call()
            .map_err(|e| error(e.to_string()))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let linked = header("x-linked-etag");
        if (300..400).contains(&status) && linked.is_none() {
            match header("location").filter(|l| l.starts_with('/')) {
                Some(path) => {
                    current = format!("{}{path}", origin(&current));
                    continue;
                }
                None => return Err(error(format!("HTTP {status} without a content hash"))),
            }
        }
        if status >= 400 {
            return Err(error(format!("HTTP {status} for the file's metadata")));
        }
        let etag = linked.or_else(|| header("etag")).unwrap_or_default();
        let hash = ContentHash::from_etag(&etag).ok_or_else(|| {
            error(format!(
                "the server gave no content hash (ETag `{etag}`); is this a Hugging Face Hub \
                 endpoint? ({ENDPOINT_ENV} sets another)"
            ))
        })?;
        let size = header("x-linked-size")
            .or_else(|| header("content-length"))
            .and_then(|v| v.parse().ok());
        return Ok(FileInfo {
            commit: header("x-repo-commit"),
            hash,
            size,
        });
    }
    Err(error("too many redirects".into()))
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// Downloads `url` (a resolve URL at `revision`) to `dest`: the Hub's commit must be the
/// revision, and the bytes must match the Hub's hash and size; otherwise nothing is kept.
pub fn download(url: &str, revision: &str, dest: &Path) -> Result<()> {
    let info = file_info(url)?;
    if let Some(commit) = &info.commit
        && revision.len() == 40
        && commit != revision
    {
        return Err(DataError::Download {
            url: url.to_string(),
            message: format!("the Hub resolved revision {revision} to commit {commit}"),
        });
    }
    download_checked(url, dest, |path| {
        if let Some(size) = info.size {
            let found = std::fs::metadata(path)
                .map_err(|e| DataError::io(path, e))?
                .len();
            if found != size {
                return Err(DataError::Truncated {
                    path: path.to_path_buf(),
                    expected: size,
                    found,
                });
            }
        }
        info.hash.verify(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_ids_are_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn etags_name_their_hash() {
        let sha = "a".repeat(64);
        assert_eq!(
            ContentHash::from_etag(&format!("\"{sha}\"")),
            Some(ContentHash::Sha256(sha))
        );
        let blob = "B".repeat(40);
        assert_eq!(
            ContentHash::from_etag(&format!("W/\"{blob}\"")),
            Some(ContentHash::GitBlob("b".repeat(40)))
        );
        assert_eq!(ContentHash::from_etag("\"1234-abcd\""), None);
        assert_eq!(origin("http://127.0.0.1:8/a/b"), "http://127.0.0.1:8");
    }
}
