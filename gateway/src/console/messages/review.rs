//! The script review pages' messages (`review.rs`).

use super::Catalogue;

/// Key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    ("nav_scripts", "Script review", "脚本审核"),
    ("scripts_title", "Script review", "脚本审核"),
    ("scripts_pending", "Waiting for review", "待审核"),
    ("scripts_all", "All versions", "全部版本"),
    ("no_scripts", "No script version here.", "没有脚本版本。"),
    ("all_applications", "All applications", "全部应用"),
    ("script_name", "Script version", "脚本版本"),
    ("uploader", "Uploaded by", "上传人"),
    ("uploaded_at", "Uploaded", "上传时间"),
    ("reviewer", "Reviewed by", "审核人"),
    ("review_state", "Review", "审核状态"),
    ("review_pending", "waiting for review", "待审核"),
    ("review_approved", "approved", "已通过"),
    ("review_rejected", "rejected", "已驳回"),
    (
        "compared_with",
        "Compared with the previous version",
        "对比上一版本",
    ),
    (
        "first_version",
        "The application's first script version: every line is new.",
        "该应用的第一个脚本版本：所有行均为新增。",
    ),
    ("new_file", "new file", "新文件"),
    (
        "removed_files",
        "Files removed since the previous version",
        "相比上一版本删除的文件",
    ),
    (
        "diff_cut",
        "The diff is longer than shown.",
        "差异过长，未全部显示。",
    ),
    ("approve", "Approve", "通过"),
    ("reject", "Reject", "驳回"),
    (
        "confirm_approve",
        "Approve this script version? Deployments may then run its files.",
        "确认通过该脚本版本？通过后部署即可运行其文件。",
    ),
    (
        "confirm_reject",
        "Reject this script version? Deployments will refuse to run its files.",
        "确认驳回该脚本版本？部署将拒绝运行其文件。",
    ),
    (
        "own_upload_note",
        "You uploaded this version: another reviewer must approve it.",
        "该版本由你上传：须由其他审核人通过。",
    ),
    ("review_done", "Review saved", "审核已保存"),
];
