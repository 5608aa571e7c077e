fn main() -> std::process::ExitCode {
    sequence::main::<lstm::LstmCell>()
}
