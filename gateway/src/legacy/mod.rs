//! Handlers of the legacy API, one module per contract area: decode the request, call the
//! service over gRPC, encode the answer. No rules live here.

pub mod admin;
pub mod appinhouse;
pub mod artifact;
pub mod auth;
pub mod catalog;
pub mod jobs;
pub mod ops;
pub mod resource;
