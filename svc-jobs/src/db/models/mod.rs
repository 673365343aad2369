//! Rows and queries of svc-jobs, one module per kind of record.

pub mod instances;
pub mod joint_lines;
pub mod templates;
pub mod work_orders;

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}
