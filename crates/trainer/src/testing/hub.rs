//! A small Hugging Face Hub on 127.0.0.1, for tests of the registry's Hub entries: it serves
//! the files of a folder as one repository at one commit, the way huggingface.co does.
//!
//! `HEAD`/`GET {endpoint}/{repo}/resolve/{revision}/{file}`: a plain Git file (config, vocabulary)
//! answers 200 with its Git blob id as `ETag`; a weights file (`.bin`, `.safetensors`, `.pth`,
//! `.bpk`, kept in Git LFS on the Hub) answers 302 to `/cdn/{file}` with its sha256 in
//! `X-Linked-Etag` and its size in `X-Linked-Size`. Both carry `X-Repo-Commit`. Anything else
//! is a 404.

use datasets::hub::git_blob_id;
use datasets::source::sha256_hex;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running Hub; it serves until the test process ends.
pub struct Hub {
    /// `http://127.0.0.1:PORT`: what `HF_ENDPOINT` or an entry's `endpoint` is set to.
    pub endpoint: String,
    requests: Arc<AtomicUsize>,
}

struct Repo {
    dir: PathBuf,
    repo: String,
    revision: String,
    /// Files whose stated hash is wrong (a tampered or corrupted upload).
    wrong_hash: Vec<String>,
}

impl Hub {
    /// Serves `dir`'s files as `repo` at `revision`; the hashes stated for `wrong_hash` files do
    /// not match their bytes.
    pub fn serve(dir: &Path, repo: &str, revision: &str, wrong_hash: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let endpoint = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let repo = Repo {
            dir: dir.to_path_buf(),
            repo: repo.to_string(),
            revision: revision.to_string(),
            wrong_hash: wrong_hash.iter().map(|f| f.to_string()).collect(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                repo.answer(stream);
            }
        });
        Self { endpoint, requests }
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn is_lfs(file: &str) -> bool {
    [".bin", ".safetensors", ".pth", ".bpk"]
        .iter()
        .any(|e| file.ends_with(e))
}

impl Repo {
    fn answer(&self, mut stream: TcpStream) {
        let Ok(reader) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(reader);
        let mut first = String::new();
        let _ = reader.read_line(&mut first);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 2 {
            line.clear();
        }
        let mut words = first.split_whitespace();
        let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let head_only = method == "HEAD";
        let prefix = format!("/{}/resolve/{}/", self.repo, self.revision);
        let commit = format!("X-Repo-Commit: {}", self.revision);
        let not_found = || (404, vec!["Content-Length: 0".to_string()], Vec::new());
        let (status, headers, body) = if let Some(file) = path.strip_prefix("/cdn/") {
            match std::fs::read(self.dir.join(file)) {
                Ok(bytes) => (200, vec![format!("Content-Length: {}", bytes.len())], bytes),
                Err(_) => not_found(),
            }
        } else if let Some(file) = path.strip_prefix(&prefix) {
            match std::fs::read(self.dir.join(file)) {
                Ok(bytes) => {
                    let wrong = self.wrong_hash.iter().any(|f| f == file);
                    if is_lfs(file) {
                        let sha = if wrong {
                            "1".repeat(64)
                        } else {
                            sha256_hex(&bytes)
                        };
                        let headers = vec![
                            format!("X-Linked-Etag: \"{sha}\""),
                            format!("X-Linked-Size: {}", bytes.len()),
                            commit,
                            format!("Location: /cdn/{file}"),
                            "Content-Length: 0".into(),
                        ];
                        (302, headers, Vec::new())
                    } else {
                        let blob = if wrong {
                            "2".repeat(40)
                        } else {
                            git_blob_id(&bytes)
                        };
                        let headers = vec![
                            format!("ETag: \"{blob}\""),
                            format!("Content-Length: {}", bytes.len()),
                            commit,
                        ];
                        (200, headers, bytes)
                    }
                }
                Err(_) => not_found(),
            }
        } else {
            not_found()
        };
        let reason = match status {
            200 => "OK",
            302 => "Found",
            _ => "Not Found",
        };
        let mut head = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
        for h in headers {
            head += &format!("{h}\r\n");
        }
        let _ = stream.write_all(format!("{head}\r\n").as_bytes());
        if !head_only {
            let _ = stream.write_all(&body);
        }
    }
}
