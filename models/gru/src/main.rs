fn main() -> std::process::ExitCode {
    sequence::main::<gru::GruCell>()
}
