//! Rows and queries of svc-jobs, one module per kind of record.

pub mod instances;
pub mod joint_lines;
pub mod joint_runs;
pub mod runs;
pub mod templates;
pub mod webhooks;
pub mod work_orders;

pub(crate) use common::db::contains_pattern;
