//! Where data comes from: `--data-dir` / `ZOO_DATA_DIR`, then the workspace `datasets/` folder,
//! then a download from the canonical URLs into a cache (mirrors, checksum, atomic rename).

use crate::error::{DataError, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Environment variable naming a folder that holds data sets in their official layout.
pub const DATA_DIR_ENV: &str = "ZOO_DATA_DIR";
/// Set to `1` to forbid downloads (the loaders then only look on disk).
pub const OFFLINE_ENV: &str = "ZOO_OFFLINE";

/// How a downloaded file is checked before it is moved into place.
#[derive(Clone, Copy, Debug)]
pub enum Checksum {
    /// sha256 of the bytes as downloaded.
    Sha256(&'static str),
    /// md5 of the bytes as downloaded (what some data sets publish).
    Md5(&'static str),
    /// sha256 of the gzip-decoded payload (MNIST: mirrors recompress, the payload is canonical).
    GunzippedSha256(&'static str),
    /// The first hex digits of the sha256 (torchvision names its checkpoints with them, e.g.
    /// `resnet18-f37072fd.pth`, and checks only those).
    Sha256Prefix(&'static str),
}

/// One file of a data set as published.
#[derive(Clone, Copy, Debug)]
pub struct RemoteFile {
    /// File name inside the data set folder, e.g. `train-images-idx3-ubyte.gz`.
    pub name: &'static str,
    /// Other names that hold the same content, e.g. the uncompressed `train-images-idx3-ubyte`
    /// or an extracted folder; any of them found on disk is used instead of downloading.
    pub alternatives: &'static [&'static str],
    /// Mirrors, tried in order.
    pub urls: &'static [&'static str],
    pub checksum: Checksum,
}

/// Resolves data set files to paths on disk.
#[derive(Clone, Debug)]
pub struct DataSource {
    explicit: Option<PathBuf>,
    workspace: Option<PathBuf>,
    cache: Option<PathBuf>,
    allow_download: bool,
}

impl Default for DataSource {
    fn default() -> Self {
        Self::new(None)
    }
}

impl DataSource {
    /// `data_dir` (from `--data-dir`) wins over `ZOO_DATA_DIR`.
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        let explicit = data_dir.or_else(|| {
            std::env::var_os(DATA_DIR_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let workspace = workspace_data_dir();
        let cache = workspace.clone().or_else(user_cache_dir);
        let allow_download = std::env::var(OFFLINE_ENV).map(|v| v != "1").unwrap_or(true);
        Self {
            explicit,
            workspace,
            cache,
            allow_download,
        }
    }

    /// A source that looks only in `dir` and never downloads (tests, fixtures).
    pub fn only(dir: impl Into<PathBuf>) -> Self {
        Self {
            explicit: Some(dir.into()),
            workspace: None,
            cache: None,
            allow_download: false,
        }
    }

    /// Allow or forbid downloading missing files.
    pub fn with_download(mut self, allow: bool) -> Self {
        self.allow_download = allow;
        self
    }

    /// The folders searched, in order.
    pub fn roots(&self) -> Vec<PathBuf> {
        let mut roots = Vec::new();
        for dir in [&self.explicit, &self.workspace, &self.cache]
            .into_iter()
            .flatten()
        {
            if !roots.contains(dir) {
                roots.push(dir.clone());
            }
        }
        roots
    }

    /// The path of `file` inside the data set folder `subdir`, downloading it if needed.
    pub fn resolve(&self, subdir: &str, file: &RemoteFile) -> Result<PathBuf> {
        let names: Vec<&str> = std::iter::once(file.name)
            .chain(file.alternatives.iter().copied())
            .collect();
        let roots = self.roots();
        for root in &roots {
            for name in &names {
                let candidate = root.join(subdir).join(name);
                if candidate.exists() {
                    return Ok(candidate);
                }
            }
        }

        let looked_in: Vec<PathBuf> = roots.iter().map(|r| r.join(subdir)).collect();
        let not_found = |why: String| DataError::NotFound {
            message: format!(
                "{subdir}/{name} not found.\n  looked in: {dirs}\n  expected one of: {names}\n  {why}\n  \
                 fix: download {url} and place it in one of the folders above, or point \
                 --data-dir / {DATA_DIR_ENV} at a folder holding {subdir}/{name}",
                name = file.name,
                dirs = if looked_in.is_empty() {
                    "(no folder: set --data-dir or ZOO_DATA_DIR)".to_string()
                } else {
                    looked_in
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                names = names.join(", "),
                url = file.urls.first().copied().unwrap_or("it"),
            ),
        };

        if file.urls.is_empty() {
            return Err(not_found(
                "this file has no download: it ships with burn-zoo under datasets/ (restore it \
                 with `git checkout datasets/`)"
                    .into(),
            ));
        }
        let Some(cache) = self.cache.as_ref().filter(|_| self.allow_download) else {
            return Err(not_found(format!(
                "downloads are off ({OFFLINE_ENV}=1 or a fixed source)"
            )));
        };
        let dest = cache.join(subdir).join(file.name);
        let mut failures = Vec::new();
        for url in file.urls {
            match download(url, &dest, file.checksum) {
                Ok(()) => return Ok(dest),
                Err(e) => failures.push(e.to_string()),
            }
        }
        Err(not_found(format!(
            "download failed from every mirror:\n    {}",
            failures.join("\n    ")
        )))
    }
}

/// The workspace's committed `datasets/` folder: next to the source tree this binary was built
/// from, or found by walking up from the current directory.
fn workspace_data_dir() -> Option<PathBuf> {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    if built_from.join("README.md").is_file() {
        return built_from.canonicalize().ok();
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .map(|dir| dir.join("datasets"))
        .find(|dir| dir.join("README.md").is_file())
}

fn user_cache_dir() -> Option<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(xdg).join("burn-zoo"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/burn-zoo"))
}

/// Downloads `url` to `dest` through a temporary file in the same folder, with a progress bar;
/// the file is moved into place only when complete and matching `checksum`, so an interrupted,
/// truncated or wrong download leaves nothing behind.
pub fn download(url: &str, dest: &Path, checksum: Checksum) -> Result<()> {
    download_checked(url, dest, |path| verify(path, checksum))
}

/// [`download`] with any check of the finished temporary file (the Hugging Face Hub's hashes
/// come from the server, see [`crate::hub`]).
pub fn download_checked(
    url: &str,
    dest: &Path,
    check: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let dir = dest.parent().expect("destination has a folder");
    std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.part-{}",
        dest.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let result = fetch_to(url, &tmp)
        .and_then(|()| check(&tmp))
        .and_then(|()| std::fs::rename(&tmp, dest).map_err(|e| DataError::io(dest, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// How many times a transfer cut short is taken up again (with an HTTP `Range` request from
/// the bytes already on disk) before the download fails.
const RESUMES: usize = 3;

/// Writes the body of `url` to `tmp`. A connection that drops mid-body is resumed from the
/// bytes received when the server honours `Range` (status 206), and restarted when it does not.
fn fetch_to(url: &str, tmp: &Path) -> Result<()> {
    let download_error = |message: String| DataError::Download {
        url: url.to_string(),
        message,
    };
    let mut out = File::create(tmp).map_err(|e| DataError::io(tmp, e))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("downloading {url}"));
    let mut total = 0u64;
    let mut failure = String::new();
    for attempt in 0..=RESUMES {
        let mut request = ureq::get(url);
        if total > 0 {
            request = request.header("Range", &format!("bytes={total}-"));
        }
        let mut response = match request.call() {
            Ok(response) => response,
            // Nothing came yet (404, refused connection): no point asking again.
            Err(e) if attempt == 0 => return Err(download_error(e.to_string())),
            Err(e) => {
                failure = e.to_string();
                continue;
            }
        };
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if total > 0 && response.status().as_u16() != 206 {
            // The server sends the whole file again.
            out.set_len(0).map_err(|e| DataError::io(tmp, e))?;
            out.seek(SeekFrom::Start(0))
                .map_err(|e| DataError::io(tmp, e))?;
            total = 0;
        }
        let expected = length.map(|n| n + total);
        if let Some(n) = expected {
            bar.set_length(n);
        }
        let mut reader = response.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        let read = loop {
            match reader.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    out.write_all(&buf[..n])
                        .map_err(|e| DataError::io(tmp, e))?;
                    total += n as u64;
                    bar.set_position(total);
                }
                Err(e) => break Err(e.to_string()),
            }
        };
        match (read, expected) {
            (Ok(()), Some(n)) if n != total => {
                failure = format!("connection closed after {total} of {n} bytes");
            }
            (Ok(()), _) => {
                out.sync_all().map_err(|e| DataError::io(tmp, e))?;
                bar.finish_and_clear();
                return Ok(());
            }
            (Err(e), _) => failure = e,
        }
    }
    bar.finish_and_clear();
    Err(download_error(format!(
        "{failure} (gave up after {} attempts)",
        RESUMES + 1
    )))
}

/// Checks a file against its published checksum.
pub fn verify(path: &Path, checksum: Checksum) -> Result<()> {
    let (expected, actual, what) = match checksum {
        Checksum::Sha256(expected) => {
            let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
            (expected, sha256_hex(&bytes), "sha256 of the file")
        }
        Checksum::Md5(expected) => {
            use md5::Md5;
            let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
            (expected, hex(&Md5::digest(&bytes)), "md5 of the file")
        }
        Checksum::GunzippedSha256(expected) => {
            let bytes = crate::read_maybe_gzip(path)?;
            (
                expected,
                sha256_hex(&bytes),
                "sha256 of the decompressed payload",
            )
        }
        Checksum::Sha256Prefix(expected) => {
            let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
            let actual = sha256_hex(&bytes);
            let shown = actual[..expected.len().min(actual.len())].to_string();
            (expected, shown, "first digits of the file's sha256")
        }
    };
    if actual != expected {
        return Err(DataError::Checksum {
            path: path.to_path_buf(),
            expected: expected.to_string(),
            actual,
            what: what.to_string(),
        });
    }
    Ok(())
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
