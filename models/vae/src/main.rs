fn main() -> std::process::ExitCode {
    trainer::custom_loop::run_cli(vae::task::run)
}
