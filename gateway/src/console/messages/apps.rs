//! The app distribution pages' messages (`apps.rs`).

use super::Catalogue;

/// Key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    ("nav_apps", "App distribution", "应用分发"),
    ("apps_title", "App distribution", "应用分发"),
    ("no_apps", "No app yet.", "尚无应用。"),
    (
        "no_builds",
        "No build of this platform.",
        "该平台尚无构建。",
    ),
    ("app_name", "App", "应用"),
    ("newest_builds", "Newest builds", "最新构建"),
    ("download_page", "Download page", "下载页"),
    ("builds", "Builds", "构建"),
    ("platform", "Platform", "平台"),
    ("build_label", "Name", "名称"),
    ("build_time", "Built", "构建时间"),
    ("description", "Description", "描述"),
    ("size", "Size", "大小"),
    ("installs", "Installs", "安装次数"),
    ("permalink", "Permalink", "固定链接"),
    ("download", "Download", "下载"),
];
