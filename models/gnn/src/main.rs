fn main() -> std::process::ExitCode {
    gnn::ENTRY.main()
}
