fn main() -> std::process::ExitCode {
    trainer::run::<mlp::Mlp>()
}
