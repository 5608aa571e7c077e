fn main() -> std::process::ExitCode {
    trainer::custom_loop::run_cli(bert_mini::run)
}
