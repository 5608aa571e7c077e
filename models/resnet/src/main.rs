fn main() -> std::process::ExitCode {
    trainer::run::<resnet::ResNet>()
}
