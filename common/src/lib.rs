//! Shared foundation of every TAD crate: config, telemetry, database layer, cache and event bus
//! ports, ids, time rendering, JWT tokens and the services' gRPC doorway, key files and the
//! object store.
//!
//! Error policy: `anyhow` at startup and in the CLI, typed errors (thiserror) everywhere else;
//! no `unwrap`/`expect` outside tests and startup code.

pub mod audit;
pub mod audit_retention;
pub mod audit_rpc;
pub mod audit_testing;
pub mod auth;
pub mod bus;
pub mod cache;
pub mod config;
pub mod crypto;
pub mod db;
pub mod deploy_window;
pub mod doorway;
pub mod https;
pub mod identity;
pub mod ids;
pub mod in_process;
pub mod limits;
pub mod names;
pub mod paging;
pub mod passwords;
pub mod read_cache;
pub mod roles;
pub mod secrets;
pub mod service_error;
pub mod sessions;
pub mod ssh;
pub mod storage;
pub mod telemetry;
pub mod time;
