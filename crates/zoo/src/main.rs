fn main() -> std::process::ExitCode {
    zoo::run(std::env::args_os().collect())
}
