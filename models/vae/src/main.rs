fn main() -> std::process::ExitCode {
    vae::ENTRY.main()
}
