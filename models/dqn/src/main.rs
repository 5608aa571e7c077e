fn main() -> std::process::ExitCode {
    dqn::ENTRY.main()
}
