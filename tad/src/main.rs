//! Entry point of the `tad` binary: parses the command line and runs the chosen command.

use clap::Parser;

/// mimalloc gives memory back to the system soon after a burst (password hashing, uploads, a
/// deployment to hundreds of hosts), where glibc's allocator keeps it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
