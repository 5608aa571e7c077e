//! Registry downloads against a local HTTP server: verified once, then served from the cache;
//! a wrong checksum, a cut-short body or a 404 leave nothing behind; offline refuses.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trainer::pretrained::{Entry, entry};

/// The checkpoint the server hands out.
fn body() -> Vec<u8> {
    (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// Serves `/good.pth` (the body), `/short.pth` (announces more bytes than it sends) and a 404
/// for anything else, on an ephemeral port; counts requests.
fn serve() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            let body = body();
            let _ = match path.as_str() {
                "/good.pth" => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                "/short.pth" => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body[..body.len() / 3])),
                _ => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    (base, requests)
}

fn pointed_at(url: String, sha256: String) -> Entry {
    let mut entry = entry("resnet18").unwrap();
    entry.name = "test-net".into();
    entry.file = "test-net.pth".into();
    entry.url = Some(url);
    entry.sha256 = Some(sha256);
    entry.sha256_prefix = None;
    entry
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for dir in [dir.to_path_buf(), dir.join("test-net")] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            names.extend(
                entries
                    .flatten()
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned()),
            );
        }
    }
    names
}

#[test]
fn downloads_once_verified_then_serves_from_the_cache() {
    let (base, requests) = serve();
    let cache = tempfile::tempdir().unwrap();
    let sha = trainer::datasets::source::sha256_hex(&body());
    let good = pointed_at(format!("{base}/good.pth"), sha.clone());

    let path = good.fetch(cache.path(), false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body());
    assert!(path.with_file_name("config.json").is_file());
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert_eq!(good.fetch(cache.path(), false).unwrap(), path);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "the second call is served from the cache"
    );
    // Offline, a cached file is still there to use.
    assert_eq!(good.fetch(cache.path(), true).unwrap(), path);
}

#[test]
fn bad_downloads_leave_nothing_behind() {
    let (base, requests) = serve();
    let sha = trainer::datasets::source::sha256_hex(&body());
    // ureq reports a body cut short as "Peer disconnected"; the downloader's own length check
    // says "connection closed after".
    for (url, sha, says) in [
        (
            format!("{base}/good.pth"),
            "0".repeat(64),
            &["does not match the expected"][..],
        ),
        (
            format!("{base}/short.pth"),
            sha.clone(),
            &["Peer disconnected", "connection closed after"][..],
        ),
        (format!("{base}/missing.pth"), sha.clone(), &["404"][..]),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let error = pointed_at(url.clone(), sha)
            .fetch(cache.path(), false)
            .unwrap_err()
            .to_string();
        assert!(
            says.iter().any(|s| error.contains(s)) && error.contains("pretrained:test-net"),
            "{url}: {error}"
        );
        assert!(
            files_in(cache.path()).is_empty(),
            "{url}: {:?}",
            files_in(cache.path())
        );
    }
    let before = requests.load(Ordering::SeqCst);
    let cache = tempfile::tempdir().unwrap();
    let url = format!("{base}/good.pth");
    let error = pointed_at(url.clone(), sha)
        .fetch(cache.path(), true)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("ZOO_OFFLINE=1") && error.contains(&url) && error.contains("test-net.pth"),
        "{error}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        before,
        "offline asks nothing"
    );
    assert!(files_in(cache.path()).is_empty());
}
