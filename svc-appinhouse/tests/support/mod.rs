//! Helpers shared by the svc-appinhouse integration tests.

pub mod fixtures;
pub mod harness;
