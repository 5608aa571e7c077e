fn main() -> std::process::ExitCode {
    bert_mini::ENTRY.main()
}
