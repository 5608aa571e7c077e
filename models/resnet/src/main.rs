fn main() -> std::process::ExitCode {
    resnet::ENTRY.main()
}
