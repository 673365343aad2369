//! Pure legacy-JSON ⇄ proto conversions, one module per contract area.

pub mod appinhouse;
pub mod appinhouse_page;
pub mod artifact;
pub mod catalog;
pub mod executions;
pub mod jobs;
pub mod resource;
pub mod steps;
