//! Rows and queries of svc-resource, one module per kind of record.

pub mod api_tokens;
pub mod catalog;
pub mod cluster_deletions;
pub mod env_governance;
pub mod resources;
pub mod sessions;
pub mod users;
