//! The `tad` binary's library: the command line, the process roles (embedded `serve`, or one
//! service per process), and the catalog import. Kept as a library so tests can start the same
//! code in process.

pub mod audit;
pub mod balanced;
pub mod cli;
pub mod import;
pub mod memory;
pub mod publish;
pub mod replicas;
pub mod runtime;
pub mod sessions;
