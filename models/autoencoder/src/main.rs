fn main() -> std::process::ExitCode {
    autoencoder::ENTRY.main()
}
