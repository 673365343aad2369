//! The audit page's messages (`audit.rs`).

use super::Catalogue;

/// Key, English, 简体中文.
pub const MESSAGES: Catalogue = &[
    ("nav_audit", "Audit", "审计"),
    ("audit_title", "Audit trail", "审计记录"),
    (
        "audit_intro",
        "Every change and run through any route, and every refused write, newest first. Times are UTC.",
        "所有路由上的每次变更与运行，以及每次被拒绝的写操作，按时间倒序。时间为 UTC。",
    ),
    ("audit_actor", "Actor", "操作者"),
    ("audit_action", "Action", "操作"),
    ("audit_object_kind", "Object kind", "对象类型"),
    ("audit_object_id", "Object id", "对象 ID"),
    ("audit_app_id", "Application id", "应用 ID"),
    ("audit_env_id", "Environment id", "环境 ID"),
    ("audit_since", "Since (UTC)", "起始（UTC）"),
    ("audit_until", "Until (UTC)", "截止（UTC）"),
    ("audit_time", "Time (UTC)", "时间（UTC）"),
    ("audit_object", "Object", "对象"),
    ("audit_outcome", "Outcome", "结果"),
    ("audit_ok", "ok", "成功"),
    ("audit_refused", "refused", "已拒绝"),
    ("audit_changes", "Changes", "变更"),
    ("audit_request", "Request", "请求"),
    ("audit_export", "Export CSV", "导出 CSV"),
    ("no_audit_events", "No event matches.", "没有匹配的记录。"),
];
