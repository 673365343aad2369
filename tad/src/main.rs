//! Entry point of the `tad` binary: tunes the allocator, parses the command line and runs the
//! chosen command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    tad::memory::tune_allocator();
    let cli = tad::cli::Cli::parse();
    // The blocking pool runs database calls (at most 8 SQLite or 16 PostgreSQL connections per
    // service) and file work; without a cap a 200-host step grew it to ~200 threads, each one
    // holding its stack and allocator caches while it waited for a database connection.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(32)
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
