fn main() -> std::process::ExitCode {
    cnn::ENTRY.main()
}
