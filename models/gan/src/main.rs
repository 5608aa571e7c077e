fn main() -> std::process::ExitCode {
    gan::ENTRY.main()
}
