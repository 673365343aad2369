//! The audit trail every service keeps in its own schema (issue 20): append-only events, each
//! holding the SHA-256 of the one before it, written by [`append`] inside the transaction of the
//! change it records (no change without its event, no event for a change that rolled back), and
//! checked by [`verify`], which names the first event that was edited, removed or inserted.
//!
//! Appends take turns on the one row of `audit_head` (its update locks it on PostgreSQL until the
//! transaction ends; SQLite writers take turns anyway), so the chain never forks, and the head
//! holds the last sequence number and hash, so removing the newest events is found too.

use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::DbConnection;

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        time_ms -> BigInt,
        actor -> Text,
        role -> Text,
        action -> Text,
        object_kind -> Text,
        object_id -> Text,
        app_id -> Nullable<Text>,
        env_id -> Nullable<Text>,
        request_id -> Text,
        trace_id -> Text,
        client_ip -> Text,
        reason -> Nullable<Text>,
        changes -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        pruned_seq -> BigInt,
        pruned_hash -> Text,
    }
}

/// The `prev_hash` of the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Events read per query by [`verify`].
const VERIFY_BATCH: i64 = 1000;
/// What a secret's value is recorded as.
pub const MASKED: &str = "******";
/// The action of the event [`prune`] appends.
pub const PRUNE_ACTION: &str = "audit.prune";
/// The actor of a write made with appinhouse's secret key.
pub const KEY_HOLDER: &str = "appinhouse-key";
/// The actor of a request without credentials.
pub const ANONYMOUS: &str = "anonymous";

/// Now, as the `time_ms` of an event (milliseconds since the Unix epoch, UTC).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `ok`, or `refused` with the reason (the error code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Refused(String),
}

/// One field's change: before → after (`None`: absent), secrets as [`MASKED`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Change {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl Change {
    pub fn new(field: &str, before: Option<&str>, after: Option<&str>) -> Change {
        Change {
            field: field.to_owned(),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    /// A secret's change: only whether it was set, as [`MASKED`].
    pub fn secret(field: &str, before_set: bool, after_set: bool) -> Change {
        let masked = |set: bool| set.then(|| MASKED.to_owned());
        Change {
            field: field.to_owned(),
            before: masked(before_set),
            after: masked(after_set),
        }
    }
}

/// Who did it and through which request (from the caller's metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Username, `token:NAME`, or `system`.
    pub actor: String,
    /// The actor's roles, comma-separated.
    pub role: String,
    pub request_id: String,
    pub trace_id: String,
    pub client_ip: String,
}

impl Origin {
    /// The origin of the work the current task does for `actor` with `roles`: the request it
    /// serves (set for every call by the services' `grpc_api!`), in the current trace.
    pub fn current(actor: &str, roles: &[String]) -> Origin {
        let request = crate::telemetry::RequestOrigin::current().unwrap_or_default();
        Origin {
            actor: actor.to_owned(),
            role: roles.join(","),
            request_id: request.request_id,
            trace_id: crate::telemetry::trace_id_of(&tracing::Span::current()).unwrap_or_default(),
            client_ip: request.client_ip,
        }
    }

    /// The origin of the work the current task does for the bearer of `claims` (its username,
    /// or `token:NAME` for an API token).
    pub fn of(claims: &crate::auth::Claims) -> Origin {
        Origin::current(&claims.actor_label(), &claims.roles)
    }

    /// A write made with appinhouse's `X-SecretKey` (no user behind it): actor and role
    /// [`KEY_HOLDER`].
    pub fn key_holder() -> Origin {
        Origin::current(KEY_HOLDER, &[KEY_HOLDER.to_owned()])
    }

    /// A caller without credentials (a refused request, a public page's form).
    pub fn anonymous() -> Origin {
        Origin::current(ANONYMOUS, &[])
    }

    /// Work nobody asked for (the sweeper marking runs interrupted, retention).
    pub fn system() -> Origin {
        Origin {
            actor: "system".to_owned(),
            role: "system".to_owned(),
            ..Origin::default()
        }
    }
}

/// An event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub origin: Origin,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub app_id: Option<String>,
    pub env_id: Option<String>,
    pub outcome: Outcome,
    pub changes: Vec<Change>,
}

impl NewEvent {
    pub fn new(origin: &Origin, action: &str, object_kind: &str, object_id: &str) -> NewEvent {
        NewEvent {
            origin: origin.clone(),
            action: action.to_owned(),
            object_kind: object_kind.to_owned(),
            object_id: object_id.to_owned(),
            app_id: None,
            env_id: None,
            outcome: Outcome::Ok,
            changes: Vec::new(),
        }
    }

    pub fn app(mut self, app_id: Option<&str>) -> NewEvent {
        self.app_id = app_id.filter(|id| !id.is_empty()).map(str::to_owned);
        self
    }

    pub fn env(mut self, env_id: Option<&str>) -> NewEvent {
        self.env_id = env_id.filter(|id| !id.is_empty()).map(str::to_owned);
        self
    }

    pub fn change(mut self, change: Change) -> NewEvent {
        self.changes.push(change);
        self
    }

    pub fn refused(mut self, reason: &str) -> NewEvent {
        self.outcome = Outcome::Refused(reason.to_owned());
        self
    }
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, Serialize)]
#[diesel(table_name = audit_events)]
pub struct Event {
    pub seq: i64,
    pub time_ms: i64,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub app_id: Option<String>,
    pub env_id: Option<String>,
    pub request_id: String,
    pub trace_id: String,
    pub client_ip: String,
    /// The error code of a refusal; `None`: the outcome is `ok`.
    pub reason: Option<String>,
    /// JSON: `[{"field","before","after"}]`.
    pub changes: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Event {
    /// `ok`, or `refused` (with [`Event::reason`]).
    pub fn outcome(&self) -> &'static str {
        if self.reason.is_some() {
            "refused"
        } else {
            "ok"
        }
    }

    /// The SHA-256 (hex) of every field but `hash`, in a fixed order, each length-prefixed so
    /// that no two different events hash the same bytes.
    pub fn compute_hash(&self) -> String {
        let optional = |value: &Option<String>| match value {
            Some(text) => format!("1{text}"),
            None => "0".to_owned(),
        };
        let fields = [
            self.seq.to_string(),
            self.time_ms.to_string(),
            self.actor.clone(),
            self.role.clone(),
            self.action.clone(),
            self.object_kind.clone(),
            self.object_id.clone(),
            optional(&self.app_id),
            optional(&self.env_id),
            self.request_id.clone(),
            self.trace_id.clone(),
            self.client_ip.clone(),
            optional(&self.reason),
            self.changes.clone(),
            self.prev_hash.clone(),
        ];
        let mut digest = Sha256::new();
        for field in fields {
            digest.update((field.len() as u64).to_be_bytes());
            digest.update(field.as_bytes());
        }
        hex::encode(digest.finalize())
    }
}

/// Appends `event` at `time_ms` to the chain, in the caller's transaction; answers its sequence
/// number.
pub fn append(connection: &mut DbConnection, event: NewEvent, time_ms: i64) -> QueryResult<i64> {
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::seq.eq(audit_head::seq + 1))
        .execute(connection)?;
    let (seq, prev_hash) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first::<(i64, String)>(connection)?;
    let reason = match event.outcome {
        Outcome::Ok => None,
        Outcome::Refused(reason) => Some(reason),
    };
    let mut stored = Event {
        seq,
        time_ms,
        actor: event.origin.actor,
        role: event.origin.role,
        action: event.action,
        object_kind: event.object_kind,
        object_id: event.object_id,
        app_id: event.app_id,
        env_id: event.env_id,
        request_id: event.origin.request_id,
        trace_id: event.origin.trace_id,
        client_ip: event.origin.client_ip,
        reason,
        changes: serde_json::to_string(&event.changes).unwrap_or_else(|_| "[]".to_owned()),
        prev_hash: if prev_hash.is_empty() {
            GENESIS_HASH.to_owned()
        } else {
            prev_hash
        },
        hash: String::new(),
    };
    stored.hash = stored.compute_hash();
    diesel::insert_into(audit_events::table)
        .values(&stored)
        .execute(connection)?;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::hash.eq(&stored.hash))
        .execute(connection)?;
    Ok(seq)
}

/// How a chain is broken: the first event found wrong and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    #[error("audit event {seq} was edited: its hash does not match its fields")]
    Edited { seq: i64 },
    #[error(
        "audit event {seq} does not follow event {previous}: its prev_hash is not that event's hash"
    )]
    Relinked { seq: i64, previous: i64 },
    #[error("audit events {from} to {to} are missing")]
    Removed { from: i64, to: i64 },
    #[error("the newest audit events after {last} are missing (the head says {head})")]
    RemovedNewest { last: i64, head: i64 },
    #[error("the audit head was changed: it does not hold the hash of event {seq}")]
    HeadChanged { seq: i64 },
    #[error(
        "audit events 1 to {through} are missing: no audit.prune event records their removal by retention"
    )]
    PruneUnrecorded { through: i64 },
}

/// A chain found whole: how many events it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub events: i64,
}

/// Checks the whole chain, oldest first.
pub fn verify(connection: &mut DbConnection) -> QueryResult<Result<Verified, Broken>> {
    let (head_seq, head_hash) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first::<(i64, String)>(connection)?;
    let (pruned_seq, pruned_hash) = audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::pruned_seq, audit_head::pruned_hash))
        .first::<(i64, String)>(connection)?;
    // After retention removed the oldest events, the chain starts after the last one removed.
    let mut previous: Option<(i64, String)> = (pruned_seq > 0).then_some((pruned_seq, pruned_hash));
    let mut events = 0;
    loop {
        let after = previous.as_ref().map_or(0, |(seq, _)| *seq);
        let batch: Vec<Event> = audit_events::table
            .filter(audit_events::seq.gt(after))
            .order(audit_events::seq.asc())
            .limit(VERIFY_BATCH)
            .select(Event::as_select())
            .load(connection)?;
        if batch.is_empty() {
            break;
        }
        for event in batch {
            let (expected_seq, expected_prev) = match &previous {
                Some((seq, hash)) => (seq + 1, hash.clone()),
                None => (1, GENESIS_HASH.to_owned()),
            };
            if event.seq != expected_seq {
                return Ok(Err(Broken::Removed {
                    from: expected_seq,
                    to: event.seq - 1,
                }));
            }
            if event.compute_hash() != event.hash {
                return Ok(Err(Broken::Edited { seq: event.seq }));
            }
            if event.prev_hash != expected_prev {
                return Ok(Err(Broken::Relinked {
                    seq: event.seq,
                    previous: event.seq - 1,
                }));
            }
            events += 1;
            previous = Some((event.seq, event.hash));
        }
    }
    if pruned_seq > 0 && !prune_recorded(connection, pruned_seq)? {
        return Ok(Err(Broken::PruneUnrecorded {
            through: pruned_seq,
        }));
    }
    let last = previous.as_ref().map_or(0, |(seq, _)| *seq);
    if last != head_seq {
        return Ok(Err(Broken::RemovedNewest {
            last,
            head: head_seq,
        }));
    }
    if let Some((seq, hash)) = previous
        && hash != head_hash
    {
        return Ok(Err(Broken::HeadChanged { seq }));
    }
    Ok(Ok(Verified { events }))
}

/// Whether the newest `audit.prune` event still in the chain removed events through `through`
/// (the head's pruned point cannot be moved without an event saying so).
fn prune_recorded(connection: &mut DbConnection, through: i64) -> QueryResult<bool> {
    let changes: Option<String> = audit_events::table
        .filter(audit_events::action.eq(PRUNE_ACTION))
        .filter(audit_events::object_kind.eq("audit"))
        .order(audit_events::seq.desc())
        .select(audit_events::changes)
        .first(connection)
        .optional()?;
    let Some(changes) = changes else {
        return Ok(false);
    };
    let changes: Vec<Change> = serde_json::from_str(&changes).unwrap_or_default();
    let through = through.to_string();
    Ok(changes
        .iter()
        .any(|change| change.field == "through_seq" && change.after.as_deref() == Some(&through)))
}

/// What [`prune`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Events removed.
    pub removed: i64,
    /// The newest event removed (the chain now starts after it).
    pub through_seq: i64,
}

/// Retention: removes the oldest events older than `before_ms`, from the oldest end only (up to
/// the first event at or after `before_ms`, so a clock that went back never makes a hole), and
/// keeps the last removed event's sequence number and hash in the head, so [`verify`] still
/// checks the rest from there. The removal is itself recorded (`audit.prune`, by `system`), in
/// the same transaction. Answers `None` when nothing is old enough.
pub fn prune(
    connection: &mut DbConnection,
    before_ms: i64,
    time_ms: i64,
) -> QueryResult<Option<Pruned>> {
    // Take the head's row first: concurrent sweeps of several replicas take turns.
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set(audit_head::seq.eq(audit_head::seq))
        .execute(connection)?;
    let first_kept: Option<i64> = audit_events::table
        .filter(audit_events::time_ms.ge(before_ms))
        .select(diesel::dsl::min(audit_events::seq))
        .first(connection)?;
    let through_seq = match first_kept {
        Some(seq) => seq - 1,
        None => audit_head::table
            .filter(audit_head::id.eq(1))
            .select(audit_head::seq)
            .first(connection)?,
    };
    let through_hash: Option<String> = audit_events::table
        .filter(audit_events::seq.eq(through_seq))
        .select(audit_events::hash)
        .first(connection)
        .optional()?;
    let Some(through_hash) = through_hash else {
        return Ok(None);
    };
    let removed = diesel::delete(audit_events::table.filter(audit_events::seq.le(through_seq)))
        .execute(connection)? as i64;
    diesel::update(audit_head::table.filter(audit_head::id.eq(1)))
        .set((
            audit_head::pruned_seq.eq(through_seq),
            audit_head::pruned_hash.eq(&through_hash),
        ))
        .execute(connection)?;
    let event = NewEvent::new(&Origin::system(), PRUNE_ACTION, "audit", "retention")
        .change(Change::new("removed", None, Some(&removed.to_string())))
        .change(Change::new(
            "through_seq",
            None,
            Some(&through_seq.to_string()),
        ));
    append(connection, event, time_ms)?;
    Ok(Some(Pruned {
        removed,
        through_seq,
    }))
}

/// What [`query`] selects; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_kind: Option<String>,
    pub object_id: Option<String>,
    pub app_id: Option<String>,
    pub env_id: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only events before this sequence number (the next batch of an export).
    pub before_seq: Option<i64>,
}

/// The newest `limit` events matching `filter` (newest first), and how many match in all.
pub fn query(
    connection: &mut DbConnection,
    filter: &Filter,
    limit: i64,
) -> QueryResult<(i64, Vec<Event>)> {
    let select = || {
        let mut query = audit_events::table.into_boxed();
        if let Some(actor) = &filter.actor {
            query = query.filter(audit_events::actor.eq(actor.clone()));
        }
        if let Some(action) = &filter.action {
            query = query.filter(audit_events::action.eq(action.clone()));
        }
        if let Some(kind) = &filter.object_kind {
            query = query.filter(audit_events::object_kind.eq(kind.clone()));
        }
        if let Some(id) = &filter.object_id {
            query = query.filter(audit_events::object_id.eq(id.clone()));
        }
        if let Some(app) = &filter.app_id {
            query = query.filter(audit_events::app_id.eq(app.clone()));
        }
        if let Some(env) = &filter.env_id {
            query = query.filter(audit_events::env_id.eq(env.clone()));
        }
        if let Some(since) = filter.since_ms {
            query = query.filter(audit_events::time_ms.ge(since));
        }
        if let Some(until) = filter.until_ms {
            query = query.filter(audit_events::time_ms.lt(until));
        }
        if let Some(before) = filter.before_seq {
            query = query.filter(audit_events::seq.lt(before));
        }
        query
    };
    let count = select().count().get_result(connection)?;
    let events = select()
        .order(audit_events::seq.desc())
        .limit(limit)
        .select(Event::as_select())
        .load(connection)?;
    Ok((count, events))
}
