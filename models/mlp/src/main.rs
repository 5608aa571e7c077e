fn main() -> std::process::ExitCode {
    mlp::ENTRY.main()
}
