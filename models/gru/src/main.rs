fn main() -> std::process::ExitCode {
    gru::ENTRY.main()
}
