//! Entry point of the `tad` binary: tunes the allocator, parses the command line and runs the
//! chosen command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tad::memory::tune_allocator();
    let cli = tad::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("tad: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tad::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tad: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
