//! Rows and queries of svc-appinhouse, one module per kind of record.

pub mod access;
pub mod apps;
pub mod builds;
pub mod details;
