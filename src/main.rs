//! The `social` binary: parse, run one command, exit with its code.

fn main() -> std::process::ExitCode {
    social::cli::main()
}
