fn main() -> std::process::ExitCode {
    trainer::allocator::keep_freed_memory();
    zoo::run(std::env::args_os().collect())
}
