//! The `plaza` command, built by this crate so that its tests and benchmarks
//! can start real processes (`env!("CARGO_BIN_EXE_plaza-under-test")`):
//! Cargo builds a package's own binaries before its integration tests, never
//! another package's.

fn main() -> std::process::ExitCode {
    plaza_api::cli::main()
}
