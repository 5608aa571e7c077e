fn main() -> std::process::ExitCode {
    lstm::ENTRY.main()
}
