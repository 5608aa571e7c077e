//! The `zoo` command, built in this package so that its tests can run it as a process.
fn main() -> std::process::ExitCode {
    zoo::run(std::env::args_os().collect())
}
