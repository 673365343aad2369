//! Rows and queries of svc-artifact, one module per kind of record.

pub mod artifacts;
pub mod components;
pub mod files;
pub mod scripts;
