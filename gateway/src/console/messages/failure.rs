//! The failure page's messages (`failure.rs`).

use super::Catalogue;

/// Key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    (
        "failure_title",
        "This page could not be shown",
        "无法显示此页面",
    ),
    ("failure_home", "Back to the dashboard", "返回仪表盘"),
];
