//! Burn's remote backend, client side: `--device ws://HOST:PORT[#i]` trains or evaluates on a
//! device that `zoo serve` ([`crate::serve`]) hosts. Autodiff stays in the client;
//! the server runs the tensor operations it is sent.
//!
//! Burn's client waits forever on a server that stops answering, and a read from one that went
//! away panics on whichever thread asked. So every remote device this process connects gets a
//! watchdog that asks the server's HTTP endpoint for a reply every few seconds, and a panic hook
//! turns a lost device into one clear error and a non-zero exit, whatever thread it hits.
//! Checkpoints are written atomically, so the ones already on disk stay valid for `--resume`.

use anyhow::{Context, bail};
use burn::prelude::Device;
use burn::remote::RemoteHost;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may stay silent, to a connect or to the watchdog, before the client gives
/// up: `ZOO_REMOTE_TIMEOUT` seconds, 30 by default.
fn timeout() -> Duration {
    let seconds = std::env::var("ZOO_REMOTE_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(30.0);
    Duration::from_secs_f64(seconds)
}

/// `ws://HOST:PORT[#i]`: the server's URL and the index of one of the devices it hosts.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteAddress {
    /// `ws://HOST:PORT`.
    pub url: String,
    /// `HOST:PORT`, for the watchdog's plain TCP connections.
    pub authority: String,
    /// The device's position in the server's list (`zoo serve --devices a,b`).
    pub index: usize,
}

impl RemoteAddress {
    pub fn parse(name: &str) -> anyhow::Result<Self> {
        let Some(rest) = name.strip_prefix("ws://") else {
            bail!("--device {name}: a remote device is ws://HOST:PORT[#INDEX]");
        };
        let (authority, index) = match rest.split_once('#') {
            Some((authority, index)) => (
                authority,
                index.parse::<usize>().with_context(|| {
                    format!("--device {name}: the part after '#' must be a device index")
                })?,
            ),
            None => (rest, 0),
        };
        let authority = authority.trim_end_matches('/');
        let port_ok = authority
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            bail!("--device {name}: give the server's host and port, e.g. ws://127.0.0.1:7878");
        }
        Ok(Self {
            url: format!("ws://{authority}"),
            authority: authority.to_string(),
            index,
        })
    }
}

impl std::fmt::Display for RemoteAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.url, self.index)
    }
}

/// Connects the device `name` (`ws://HOST:PORT[#i]`) names, within [`timeout`], and watches its
/// server for the rest of the process.
pub fn connect(name: &str) -> anyhow::Result<Device> {
    let address = RemoteAddress::parse(name)?;
    let limit = timeout();
    let remedy = format!(
        "start one with `zoo serve --listen {}` on that machine (a binary built with \
         `--features remote`), or set ZOO_REMOTE_TIMEOUT to wait longer",
        address.authority
    );
    // Burn's connect retries a closed port and waits on a silent server: ask first.
    if let Err(reason) = answers(&address.authority, limit) {
        bail!(
            "--device {name}: the server {} {reason}; {remedy}",
            address.url
        );
    }
    // A server that stops answering now would still hold the connect: wait on another thread.
    let (sender, receiver) = mpsc::channel();
    let (url, index) = (address.url.clone(), address.index);
    std::thread::spawn(move || {
        let device = Device::remote_options(&RemoteHost::websocket(&url))
            .device_index(index)
            .init();
        let _ = sender.send(device.map_err(|e| e.to_string()));
    });
    let device = match receiver.recv_timeout(limit) {
        Ok(Ok(device)) => device,
        Ok(Err(reason)) => {
            bail!("--device {name}: cannot connect to {address}: {reason}; {remedy}")
        }
        Err(_) => bail!(
            "--device {name}: the server at {} did not answer within {:.0} s; {remedy}",
            address.url,
            limit.as_secs_f64()
        ),
    };
    watch(address);
    Ok(device)
}

/// Servers the watchdog looks after, and whether the panic hook is installed.
static WATCHED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Ends the process with a clear error once the server of `address` is gone or silent for
/// [`timeout`]; also makes any panic (Burn's client panics on a broken session) end it at once.
fn watch(address: RemoteAddress) {
    let mut watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
    if watched.is_empty() {
        install_panic_hook();
    }
    if watched.contains(&address.url) {
        return;
    }
    watched.push(address.url.clone());
    std::thread::spawn(move || {
        let limit = timeout();
        let period = (limit / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        loop {
            std::thread::sleep(period);
            if let Err(reason) = answers(&address.authority, limit) {
                lost(&format!(
                    "the remote device's server {} {reason}",
                    address.url
                ));
            }
        }
    });
}

/// After a command failed: when a server this process used is gone, ends with the one clear
/// error above instead of the backend's own words. Burn reports a server lost between two
/// watchdog checks wherever the read happened, e.g. as a metric's "Failed to read tensor:
/// RecvError" inside a training error, which names neither the server nor `--resume`.
pub fn stop_if_a_server_is_lost() {
    let watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let limit = timeout().min(Duration::from_secs(5));
    for url in watched {
        let authority = url.trim_start_matches("ws://");
        if let Err(reason) = answers(authority, limit) {
            lost(&format!("the remote device's server {url} {reason}"));
        }
    }
}

/// Whether the server at `authority` answers an HTTP request within `limit`. Any reply will do
/// (its WebSocket routes answer a plain GET with an error status): a process that is alive
/// answers at once, a stopped one never, and a dead one refuses the connection.
fn answers(authority: &str, limit: Duration) -> Result<(), String> {
    let address: SocketAddr = authority
        .to_socket_addrs()
        .map_err(|e| format!("cannot be resolved: {e}"))?
        .next()
        .ok_or("has no address")?;
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&address, limit)
        .map_err(|e| format!("does not accept connections ({e})"))?;
    let silent = || format!("has not answered for {:.0} s", limit.as_secs_f64());
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /zoo-watchdog HTTP/1.1\r\nHost: zoo\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("dropped the connection ({e})"))?;
    let mut first = [0u8; 1];
    match stream.read(&mut first) {
        Ok(1) => Ok(()),
        Ok(_) => Err("closed the connection without a reply".into()),
        Err(_) if started.elapsed() >= limit => Err(silent()),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(silent()),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(silent()),
        Err(e) => Err(format!("dropped the connection ({e})")),
    }
}

/// One clear error and exit 1, from any thread.
fn lost(reason: &str) -> ! {
    eprintln!(
        "error: training on a remote device stopped: {reason}.\nCheckpoints already written are \
         valid: restart the server (`zoo serve`) and rerun the command with --resume, or resume \
         on a local device (--device flex --resume)."
    );
    std::process::exit(1);
}

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("a thread panicked");
        let location = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        // RUST_BACKTRACE=1 still shows where, as Rust's own hook would.
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{backtrace}");
        }
        lost(&format!("a thread panicked: {message}{location}"));
    }));
}
