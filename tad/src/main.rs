//! Entry point of the `tad` binary: parses the command line and runs the chosen command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = tad::cli::Cli::parse();
    match tad::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tad: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
