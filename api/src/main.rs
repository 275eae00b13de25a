//! The `plaza` binary.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    let cli = plaza_api::cli::Cli::parse();
    match plaza_api::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            #[expect(clippy::print_stderr, reason = "the last word of a failed command")]
            {
                eprintln!("plaza: {err:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
