//! The `blueprint` binary: parse the command line, run, map the outcome to an exit code.
//! All logic lives in the library (`blueprint::cli`), so it can be tested without a process.

fn main() -> std::process::ExitCode {
    blueprint::cli::main()
}
