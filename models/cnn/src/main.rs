fn main() -> std::process::ExitCode {
    trainer::run::<cnn::Cnn>()
}
