//! Registry downloads against a local HTTP server: verified once, then served from the cache;
//! a transfer cut short resumes; a wrong checksum, a body that stays short or a 404 leave
//! nothing behind; offline refuses. (Hub entries: models/bert-mini/tests/hub.rs.)

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use trainer::pretrained::{Entry, entry};

/// The checkpoint the server hands out.
fn body() -> Vec<u8> {
    (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect()
}

/// One request as the test server sees it.
struct Request {
    path: String,
    range_from: Option<usize>,
}

fn read_request(stream: &std::net::TcpStream) -> Request {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let mut range_from = None;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 2 {
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
            range_from = value.trim().trim_end_matches('-').parse().ok();
        }
        line.clear();
    }
    let mut words = first.split_whitespace();
    Request {
        path: words.nth(1).unwrap_or("").to_string(),
        range_from,
    }
}

fn respond(stream: &mut std::net::TcpStream, status: &str, headers: &[String], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for h in headers {
        head += &format!("{h}\r\n");
    }
    let _ = stream
        .write_all(format!("{head}\r\n").as_bytes())
        .and_then(|()| stream.write_all(body));
}

/// Serves `/good.pth` (the body), `/short.pth` (announces more bytes than it sends),
/// `/flaky.pth` (cut short, then honours a `Range` request for the rest), and a 404 for anything else, on an ephemeral port; counts requests and records the `Range`
/// offsets asked for.
fn serve() -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let ranges = Arc::new(Mutex::new(Vec::new()));
    let (counter, seen) = (requests.clone(), ranges.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let request = read_request(&stream);
            let body = body();
            let length = format!("Content-Length: {}", body.len());
            match (request.path.as_str(), request.range_from) {
                ("/good.pth", _) => respond(&mut stream, "200 OK", &[length], &body),
                ("/short.pth" | "/flaky.pth", None) => {
                    respond(&mut stream, "200 OK", &[length], &body[..body.len() / 3])
                }
                ("/short.pth", Some(_)) => {
                    respond(&mut stream, "200 OK", &[length], &body[..body.len() / 3])
                }
                ("/flaky.pth", Some(from)) => {
                    seen.lock().unwrap().push(from);
                    let rest = &body[from..];
                    respond(
                        &mut stream,
                        "206 Partial Content",
                        &[
                            format!("Content-Length: {}", rest.len()),
                            format!(
                                "Content-Range: bytes {from}-{}/{}",
                                body.len() - 1,
                                body.len()
                            ),
                        ],
                        rest,
                    )
                }
                _ => respond(
                    &mut stream,
                    "404 Not Found",
                    &["Content-Length: 0".into()],
                    b"",
                ),
            }
        }
    });
    (base, requests, ranges)
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
    let (base, requests, _) = serve();
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
    let (base, requests, _) = serve();
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
            &["gave up after 4 attempts"][..],
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

#[test]
fn a_transfer_cut_short_resumes_from_where_it_stopped() {
    let (base, _, ranges) = serve();
    let cache = tempfile::tempdir().unwrap();
    let sha = trainer::datasets::source::sha256_hex(&body());
    let path = pointed_at(format!("{base}/flaky.pth"), sha)
        .fetch(cache.path(), false)
        .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body());
    let ranges = ranges.lock().unwrap().clone();
    assert_eq!(ranges.len(), 1, "one resume: {ranges:?}");
    assert!(
        ranges[0] > 0 && ranges[0] <= body().len() / 3,
        "resumed from the bytes received: {ranges:?}"
    );
}
