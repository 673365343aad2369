//! The audit RPCs every service answers alike (issue 20): `QueryAudit` over the service's own
//! events, for admins and auditors, and `RecordAuditRefusal` (served by svc-resource), with which
//! the gateway records each write it answered with a refusal.

use proto::{ErrorReason, audit::v1 as pb};
use tonic::Status;

use crate::{
    audit::{self, Event, Filter, NewEvent, Origin},
    auth::{Actor, AuthError, Claims},
    db::{Database, DbError},
    identity::Role,
    roles::require,
};

/// The most events one query answers.
pub const MAX_QUERY_LIMIT: i64 = 1000;
/// The longest filter value or refusal field accepted (ids, names, actions, error codes).
pub const MAX_FIELD_CHARS: usize = 200;

/// Reading the audit trail needs `auditor` (or `admin`).
pub fn require_audit_reader(caller: &impl AsRef<Claims>) -> Result<(), Status> {
    require(
        caller,
        &[Role::Auditor],
        "needs the auditor or admin role to read the audit trail",
    )
    .map_err(|refusal| ErrorReason::Forbidden.status(refusal.0))
}

fn checked_field(name: &str, value: &str) -> Result<Option<String>, Status> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(ErrorReason::InvalidField.status(format!(
            "{name} is longer than {MAX_FIELD_CHARS} characters"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(ErrorReason::InvalidField.status(format!("{name} holds a control character")));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// The filter of a query, each field checked.
pub fn filter_of(query: &pb::AuditQuery) -> Result<Filter, Status> {
    Ok(Filter {
        actor: checked_field("actor", &query.actor)?,
        action: checked_field("action", &query.action)?,
        object_kind: checked_field("object_kind", &query.object_kind)?,
        object_id: checked_field("object_id", &query.object_id)?,
        app_id: checked_field("app_id", &query.app_id)?,
        env_id: checked_field("env_id", &query.env_id)?,
        since_ms: query.since_ms,
        until_ms: query.until_ms,
        before_seq: query.before_seq,
    })
}

fn database_status(error: DbError) -> Status {
    ErrorReason::InternalError.status(format!("cannot read or write the audit trail: {error}"))
}

/// The wire form of a stored event.
pub fn event_to_pb(event: Event) -> pb::AuditEvent {
    let changes: Vec<audit::Change> = serde_json::from_str(&event.changes).unwrap_or_default();
    pb::AuditEvent {
        seq: event.seq,
        time_ms: event.time_ms,
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
        reason: event.reason,
        changes: changes
            .into_iter()
            .map(|change| pb::AuditChange {
                field: change.field,
                before: change.before,
                after: change.after,
            })
            .collect(),
        prev_hash: event.prev_hash,
        hash: event.hash,
    }
}

/// `QueryAudit`: the newest events of this service matching the query, for admins and auditors.
pub async fn query(
    database: &Database,
    caller: &Claims,
    request: pb::AuditQuery,
) -> Result<pb::AuditPage, Status> {
    require_audit_reader(caller)?;
    let filter = filter_of(&request)?;
    let limit = request.limit.clamp(0, MAX_QUERY_LIMIT);
    let (count, events) = database
        .run(move |connection| Ok::<_, DbError>(audit::query(connection, &filter, limit)?))
        .await
        .map_err(database_status)?;
    Ok(pb::AuditPage {
        count,
        events: events.into_iter().map(event_to_pb).collect(),
    })
}

/// `RecordAuditRefusal`: appends a refused write, by the verified caller (`anonymous` without
/// valid credentials), in the current request.
pub async fn record_refusal(
    database: &Database,
    caller: Result<&Actor, &AuthError>,
    refusal: pb::AuditRefusal,
) -> Result<pb::AuditRecorded, Status> {
    let origin = match caller {
        Ok(actor) => Origin::of(&actor.claims),
        Err(error) if error.is_unavailable() => return Err(crate::doorway::auth_status(error)),
        Err(_) => Origin::anonymous(),
    };
    let required = |name: &str, value: &str| match checked_field(name, value)? {
        Some(value) => Ok(value),
        None => Err(ErrorReason::MissingField.status(format!("{name} is required"))),
    };
    let action = required("action", &refusal.action)?;
    let object_kind = required("object_kind", &refusal.object_kind)?;
    let reason = required("reason", &refusal.reason)?;
    let object_id = checked_field("object_id", &refusal.object_id)?.unwrap_or_default();
    let mut event = NewEvent::new(&origin, &action, &object_kind, &object_id).refused(&reason);
    if refusal.suppressed > 0 {
        let count = refusal.suppressed.to_string();
        event = event.change(audit::Change::new("suppressed", None, Some(&count)));
    }
    let seq = database
        .transaction(move |connection| {
            Ok::<_, DbError>(audit::append(connection, event, audit::now_ms())?)
        })
        .await
        .map_err(database_status)?;
    Ok(pb::AuditRecorded { seq })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_capped_and_refuse_control_characters() {
        let long = pb::AuditQuery {
            actor: "a".repeat(MAX_FIELD_CHARS + 1),
            ..pb::AuditQuery::default()
        };
        let refused = filter_of(&long).expect_err("too long");
        assert!(refused.message().contains("actor"), "{}", refused.message());
        let control = pb::AuditQuery {
            object_id: "a\nb".to_owned(),
            ..pb::AuditQuery::default()
        };
        let refused = filter_of(&control).expect_err("control character");
        assert!(refused.message().contains("object_id"));
        let empty = filter_of(&pb::AuditQuery::default()).expect("empty filter");
        assert_eq!(empty, Filter::default());
    }
}
