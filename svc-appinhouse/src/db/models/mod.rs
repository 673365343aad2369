//! Rows and queries of svc-appinhouse, one module per kind of record.

pub mod apps;
pub mod builds;
