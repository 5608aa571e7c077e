//! Burn's remote backend end to end, built with `cargo test -p zoo-tests --features remote --test
//! remote`: `zoo serve` on 127.0.0.1 (an ephemeral port) hosts a flex device, and `zoo mlp train
//! --device ws://127.0.0.1:PORT` trains on it to the same weights as on local flex. A server
//! killed mid-run, one that never answers and one that is not there each end the client with a
//! clear error and a non-zero exit, never a hang, and the checkpoints already written resume.
//!
//! Its own test binary: a process that talks to a remote server runs Burn's async runtime, and
//! every child process here is waited on with a deadline, under a watchdog for the whole binary.
#![cfg(feature = "remote")]

use burn::prelude::*;
use mlp::{Mlp, MlpConfig};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};
use trainer::burn;
use trainer::testing::{max_abs_diff, report};

const ZOO: &str = env!("CARGO_BIN_EXE_zoo-under-test");
/// The same operations run in the server's process: only the order of float sums may differ.
const TOLERANCE: f32 = 1e-5;
/// No child may outlive this, and the whole binary is stopped after [`WATCHDOG`].
const DEADLINE: Duration = Duration::from_secs(240);
const WATCHDOG: Duration = Duration::from_secs(900);

/// Process ids of the children still running, killed by the watchdog.
static CHILDREN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn watchdog() {
    static START: Once = Once::new();
    START.call_once(|| {
        std::thread::spawn(|| {
            std::thread::sleep(WATCHDOG);
            eprintln!("remote tests: still running after {WATCHDOG:?}: hung; killing the children");
            for pid in CHILDREN.lock().unwrap().iter() {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            std::process::exit(1);
        });
    });
}

fn spawn(args: &[&str], env: &[(&str, &str)]) -> Child {
    watchdog();
    let child = Command::new(ZOO)
        .args(args)
        .env("ZOO_OFFLINE", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the zoo binary");
    CHILDREN.lock().unwrap().push(child.id());
    child
}

/// Waits for `child` at most [`DEADLINE`]; a child still running then is killed and the test fails.
fn finish(mut child: Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "{what}: hung for {DEADLINE:?}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let id = child.id();
    CHILDREN.lock().unwrap().retain(|pid| *pid != id);
    child.wait_with_output().unwrap()
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    finish(spawn(args, env), &args.join(" "))
}

fn succeeds(args: &[&str]) -> String {
    let out = run(args, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{args:?} failed\nstdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `zoo serve --listen 127.0.0.1:0`, killed when dropped.
struct Server {
    child: Option<Child>,
    url: String,
}

impl Server {
    fn start(devices: &str) -> Self {
        let mut child = spawn(
            &["serve", "--listen", "127.0.0.1:0", "--devices", devices],
            &[],
        );
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // "serving flex as ws://127.0.0.1:PORT#0"
        let first = lines.next().expect("zoo serve prints its address").unwrap();
        let url = first
            .split_once(" as ")
            .and_then(|(_, at)| at.split_once('#'))
            .map(|(url, _)| url.to_string())
            .unwrap_or_else(|| panic!("zoo serve's first line: {first}"));
        // Keep reading so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child: Some(child),
            url,
        }
    }

    /// Kills the server as a crash would (SIGKILL: no shutdown handshake).
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A short deterministic MLP run: SGD, no dropout, a constant rate.
fn mlp_args<'a>(out: &'a Path, epochs: &'a str, device: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "mlp",
        "train",
        "--epochs",
        epochs,
        "--limit-train",
        "256",
        "--batch-size",
        "64",
        "--limit-valid",
        "64",
        "--limit-test",
        "64",
        "--dropout",
        "0",
        "--optimizer",
        "sgd",
        "--momentum",
        "0",
        "--lr",
        "0.1",
        "--schedule",
        "constant",
        "--warmup-epochs",
        "0",
        "--seed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(device);
    args
}

/// Waits (at most [`DEADLINE`]) until the run in `out` has written its first checkpoint.
fn wait_for_first_checkpoint(out: &Path) {
    let started = Instant::now();
    while !out.join("checkpoint/model-1.bpk").is_file() {
        assert!(
            started.elapsed() < DEADLINE,
            "no checkpoint after {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn parameters(run: &Path) -> Vec<(String, Vec<f32>)> {
    let model = Mlp::new(&MlpConfig::default(), 784, 10, &Device::flex())
        .try_load_file(run.join("model.bpk"))
        .unwrap();
    trainer::testing::parameters(&model)
}

fn assert_same_weights(a: &Path, b: &Path, what: &str) {
    let (a, b) = (parameters(a), parameters(b));
    assert_eq!(a.len(), b.len());
    let mut worst = 0f32;
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let diff = max_abs_diff(x, y);
        worst = worst.max(diff);
        assert!(diff <= TOLERANCE, "{what}: {name} differs by {diff}");
    }
    println!("{what}: max |difference| over the parameters {worst:e}");
}

#[test]
fn an_mlp_trains_through_zoo_serve_to_the_weights_it_gets_on_local_flex() {
    let server = Server::start("flex");
    let dir = tempfile::tempdir().unwrap();
    let (remote, local) = (dir.path().join("remote"), dir.path().join("local"));
    let started = Instant::now();
    let device = server.url.clone();
    let stdout = succeeds(&mlp_args(&remote, "2", &["--device", &device]));
    println!(
        "2 epochs through {}: {:.1} s",
        server.url,
        started.elapsed().as_secs_f64()
    );
    assert!(stdout.contains(&server.url), "{stdout}");
    assert_eq!(report(&remote)["device"], server.url.as_str());
    succeeds(&mlp_args(&local, "2", &["--device", "flex"]));
    assert_same_weights(&remote, &local, "remote flex vs local flex");
    let (r, l) = (report(&remote), report(&local));
    assert_eq!(r["test"]["accuracy"], l["test"]["accuracy"]);
    // Evaluation runs remotely too, on the saved weights.
    let eval = dir.path().join("eval");
    let weights = remote.join("model.bpk");
    succeeds(&[
        "mlp",
        "eval",
        "--weights",
        weights.to_str().unwrap(),
        "--limit-test",
        "64",
        "--device",
        &device,
        "--out",
        eval.to_str().unwrap(),
    ]);
}

#[test]
fn two_servers_train_one_model_like_two_local_workers() {
    let (a, b) = (Server::start("flex"), Server::start("flex,flex"));
    let dir = tempfile::tempdir().unwrap();
    let (across, within, local) = (
        dir.path().join("across"),
        dir.path().join("within"),
        dir.path().join("local"),
    );
    // Burn's MultiDevice over remote devices: gradients move server to server.
    let two_servers = format!("{},{}#0", a.url, b.url);
    let stdout = succeeds(&mlp_args(&across, "2", &["--devices", &two_servers]));
    assert!(stdout.contains("multi-device data parallel"), "{stdout}");
    let one_server = format!("{0}#0,{0}#1", b.url);
    succeeds(&mlp_args(&within, "2", &["--devices", &one_server]));
    succeeds(&mlp_args(&local, "2", &["--devices", "flex,flex"]));
    assert_same_weights(&across, &local, "two servers vs two local workers");
    assert_same_weights(
        &within,
        &local,
        "one server's two devices vs two local workers",
    );
}

#[test]
fn a_server_killed_mid_run_ends_the_client_clearly_and_the_run_resumes() {
    let mut server = Server::start("flex");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let device = server.url.clone();
    let client = spawn(
        &mlp_args(&out, "30", &["--device", &device]),
        &[("ZOO_REMOTE_TIMEOUT", "5")],
    );
    // Kill the server once the first epoch's checkpoint is on disk.
    wait_for_first_checkpoint(&out);
    std::thread::sleep(Duration::from_millis(300));
    server.kill();
    let killed = Instant::now();
    let result = finish(client, "the client of a killed server");
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!(
        "client exited {:?} {:.1} s after the server was killed",
        result.status.code(),
        killed.elapsed().as_secs_f64()
    );
    assert!(!result.status.success(), "{stderr}");
    assert!(
        stderr.contains("error: training on a remote device stopped")
            && stderr.contains("--resume"),
        "{stderr}"
    );
    // The checkpoints on disk are whole: the run finishes on local flex.
    let resumed = run(
        &[
            "mlp",
            "train",
            "--resume",
            "--device",
            "flex",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let finished = report(&out);
    assert_eq!(finished["epochs_completed"], 30);
    assert!(
        finished["resumed_from_epoch"].as_u64().unwrap() >= 1,
        "{finished}"
    );
}

#[test]
fn a_server_that_stops_answering_mid_run_ends_the_client_within_the_timeout() {
    let server = Server::start("flex");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let client = spawn(
        &mlp_args(&out, "30", &["--device", &server.url]),
        &[("ZOO_REMOTE_TIMEOUT", "3")],
    );
    wait_for_first_checkpoint(&out);
    // Frozen, not dead: its socket stays open and accepts, nothing answers.
    let pid = server.child.as_ref().unwrap().id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let result = finish(client, "the client of a frozen server");
    let waited = stopped.elapsed();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!(
        "client exited {:.1} s after the server froze",
        waited.as_secs_f64()
    );
    assert!(!result.status.success(), "{stderr}");
    assert!(stderr.contains("has not answered for 3 s"), "{stderr}");
    assert!(waited < Duration::from_secs(30), "{waited:?}");
}

#[test]
fn an_absent_or_silent_server_is_a_clear_error_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    // Bound but never answering: the kernel accepts the connection, nobody replies.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", silent.local_addr().unwrap());
    let started = Instant::now();
    let result = run(
        &mlp_args(&out, "1", &["--device", &url]),
        &[("ZOO_REMOTE_TIMEOUT", "2")],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(stderr.contains("has not answered for 2 s"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(!out.join("checkpoint").exists());
    // Nothing listening at all.
    let port = silent.local_addr().unwrap().port();
    drop(silent);
    let result = run(
        &mlp_args(&out, "1", &["--device", &format!("ws://127.0.0.1:{port}")]),
        &[("ZOO_REMOTE_TIMEOUT", "5")],
    );
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(
        stderr.contains("does not accept connections") && stderr.contains("zoo serve"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn remote_addresses_parse_with_and_without_an_index() {
    use trainer::remote::RemoteAddress;
    let a = RemoteAddress::parse("ws://127.0.0.1:7878").unwrap();
    assert_eq!((a.url.as_str(), a.index), ("ws://127.0.0.1:7878", 0));
    let b = RemoteAddress::parse("ws://gpu-box:9000/#2").unwrap();
    assert_eq!((b.authority.as_str(), b.index), ("gpu-box:9000", 2));
    for bad in ["ws://host", "ws://:80", "ws://h:80#x", "http://h:80"] {
        assert!(RemoteAddress::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn serving_beyond_loopback_needs_public() {
    let result = run(&["serve", "--listen", "0.0.0.0:0"], &[]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("--public"), "{stderr}");
}
