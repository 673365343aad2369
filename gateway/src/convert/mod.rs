//! Pure legacy-JSON ⇄ proto conversions, one module per contract area.

pub mod appinhouse;
pub mod appinhouse_page;
pub mod approvals;
pub mod artifact;
pub mod audit;
pub mod catalog;
pub mod executions;
pub mod jobs;
pub mod plans;
pub mod resource;
pub mod schedules;
pub mod steps;
pub mod tokens;

/// The renderer of the contract's examples (Asia/Shanghai), for the conversions' unit tests.
#[cfg(test)]
pub(crate) fn shanghai() -> common::time::TimeRenderer {
    common::time::TimeRenderer::new("Asia/Shanghai").expect("zone")
}
