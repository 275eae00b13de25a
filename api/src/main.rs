//! The `plaza` binary: all of it is [`plaza_api::cli::main`].

fn main() -> std::process::ExitCode {
    plaza_api::cli::main()
}
