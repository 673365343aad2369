//! Audit events (issue 20) as `GET /api/audit` answers them and as `GET /api/audit/export.csv`
//! writes them: times in UTC (RFC 3339, milliseconds), the outcome spelled out, each change as
//! field, before, after (secrets as `******`); CSV cells quoted and never read as a formula.

use serde::Serialize;

use crate::audit::ServiceEvent;

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditChangeItem {
    pub field: String,
    /// Null: the field was absent (a create).
    pub before: Option<String>,
    /// Null: the field is gone (a delete).
    pub after: Option<String>,
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditItem {
    /// UTC, RFC 3339 with milliseconds (`2026-12-06T06:02:14.123Z`).
    pub time: String,
    /// The service whose trail holds it: resource, artifact, jobs or appinhouse.
    pub service: String,
    /// Its place in that service's chain.
    pub seq: i64,
    /// A username, `token:NAME` (an API token), `appinhouse-key`, `anonymous` or `system`.
    pub actor: String,
    /// The actor's roles, comma-separated.
    pub role: String,
    /// `cluster.create`, `execution.start`, ...
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub app_id: Option<String>,
    pub env_id: Option<String>,
    pub request_id: String,
    pub trace_id: String,
    pub client_ip: String,
    /// `ok` or `refused`.
    pub outcome: String,
    /// The error code of a refusal.
    pub reason: Option<String>,
    pub changes: Vec<AuditChangeItem>,
    /// SHA-256 (hex) of the event before it in the same service's chain.
    pub prev_hash: String,
    pub hash: String,
}

/// `time_ms` in UTC, RFC 3339 with milliseconds.
pub fn utc_time(time_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(time_ms)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl AuditItem {
    pub fn of(item: ServiceEvent) -> AuditItem {
        let event = item.event;
        AuditItem {
            time: utc_time(event.time_ms),
            service: item.service.to_owned(),
            seq: event.seq,
            actor: event.actor,
            role: event.role,
            action: event.action,
            object_kind: event.object_kind,
            object_id: event.object_id,
            app_id: event.app_id,
            env_id: event.env_id,
            request_id: event.request_id,
            trace_id: event.trace_id,
            client_ip: event.client_ip,
            outcome: if event.reason.is_some() {
                "refused"
            } else {
                "ok"
            }
            .to_owned(),
            reason: event.reason,
            changes: event
                .changes
                .into_iter()
                .map(|change| AuditChangeItem {
                    field: change.field,
                    before: change.before,
                    after: change.after,
                })
                .collect(),
            prev_hash: event.prev_hash,
            hash: event.hash,
        }
    }
}

/// The CSV header row.
pub const CSV_HEADER: &str = "time,service,seq,actor,role,action,object_kind,object_id,app_id,env_id,request_id,trace_id,client_ip,outcome,reason,changes,prev_hash,hash\r\n";

/// One CSV cell: quoted when it holds a comma, quote or line break; a value a spreadsheet would
/// run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// One event as a CSV row (with its line break); the changes as their JSON.
pub fn csv_row(item: &AuditItem) -> String {
    let changes = serde_json::to_string(&item.changes).unwrap_or_default();
    let seq = item.seq.to_string();
    let cells = [
        item.time.as_str(),
        item.service.as_str(),
        seq.as_str(),
        item.actor.as_str(),
        item.role.as_str(),
        item.action.as_str(),
        item.object_kind.as_str(),
        item.object_id.as_str(),
        item.app_id.as_deref().unwrap_or(""),
        item.env_id.as_deref().unwrap_or(""),
        item.request_id.as_str(),
        item.trace_id.as_str(),
        item.client_ip.as_str(),
        item.outcome.as_str(),
        item.reason.as_deref().unwrap_or(""),
        changes.as_str(),
        item.prev_hash.as_str(),
        item.hash.as_str(),
    ];
    let mut row = cells.map(csv_cell).join(",");
    row.push_str("\r\n");
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn times_are_utc_with_milliseconds() {
        assert_eq!(utc_time(1_765_000_934_123), "2025-12-06T06:02:14.123Z");
    }
}
