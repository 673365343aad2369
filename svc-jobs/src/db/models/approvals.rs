//! Deployment requests (issue 20): runs asked on a protected environment, waiting for an
//! approver, with the plans frozen when they were asked and what became of them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::deployment_requests;

/// The states of a deployment request.
pub mod status {
    /// Waits for an approver.
    pub const PENDING: &str = "pending";
    /// Approved; starts when its environment's next deploy window opens.
    pub const WAITING: &str = "waiting";
    /// Approved and started (`execution_id`).
    pub const STARTED: &str = "started";
    pub const REJECTED: &str = "rejected";
    /// Its plans no longer match the bindings (`reason` says what changed).
    pub const VOID: &str = "void";
    /// Not decided before `expires_at`.
    pub const EXPIRED: &str = "expired";
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deployment_requests)]
pub struct ApprovalRow {
    pub id: String,
    /// `deploy` (6.1), `next_step` (6.2), `retry`, `rollback` or `joint_line` (2.1).
    pub kind: String,
    /// The instance (6.1, 6.2, rollback), the failed run (retry) or the joint line (2.1).
    pub target_id: String,
    pub use_tad_host: bool,
    pub application_id: Option<String>,
    pub env_id: String,
    /// The frozen plans: a JSON array of sealed step plans (per node instance for a joint line).
    pub plans: String,
    pub status: String,
    pub requested_by: String,
    pub create_time: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
    pub reason: Option<String>,
    pub not_before: Option<NaiveDateTime>,
    pub execution_id: Option<String>,
}

/// What a list of requests is filtered by.
#[derive(Debug, Clone, Default)]
pub struct ApprovalFilter {
    pub status: Option<String>,
    pub env_id: Option<String>,
    pub requested_by: Option<String>,
}

common::row_queries! { deployment_requests, ApprovalRow;
    find, insert;
    /// One page of requests (newest first) and the count of the filter.
    pub fn page(filter: &ApprovalFilter, offset: i64, limit: i64) -> newest_page(offset, limit)
        when Some(wanted) = filter.status.as_deref() => status.eq(wanted),
            Some(wanted) = filter.env_id.as_deref() => env_id.eq(wanted),
            Some(wanted) = filter.requested_by.as_deref() => requested_by.eq(wanted);
    /// The undecided requests of `kind` on `target` by `requester`, newest first.
    pub fn pending_of(kind: &str, target: &str, requester: &str) -> all
        where kind.eq(kind), target_id.eq(target), requested_by.eq(requester),
            status.eq(status::PENDING)
        order create_time.desc(), id.desc();
    /// Pending requests past their expiry at `now`, oldest first.
    pub fn overdue(now: NaiveDateTime) -> all
        where status.eq(status::PENDING), expires_at.le(now)
        order expires_at.asc(), id.asc();
    /// Approved requests whose deploy window was due at `now`, oldest first.
    pub fn due(now: NaiveDateTime) -> all
        where status.eq(status::WAITING), not_before.le(now)
        order create_time.asc(), id.asc();
    /// Decides a request still `from`; false when another decision came first.
    pub fn decide(
        id: &str, from: &str, to: &str, by: &str, comment: Option<&str>, reason: Option<&str>,
    ) -> update_one
        where id.eq(id), status.eq(from)
        set status.eq(to), decided_by.eq(by), comment.eq(comment), reason.eq(reason);
    /// Approves a request to wait for `not_before`; false when it was no longer pending.
    pub fn wait_for(
        id: &str, by: &str, comment: Option<&str>, reason: &str, not_before: NaiveDateTime,
    ) -> update_one
        where id.eq(id), status.eq(status::PENDING)
        set status.eq(status::WAITING), decided_by.eq(by), comment.eq(comment),
            reason.eq(reason), not_before.eq(not_before);
    /// Records the start of an approved request still `from`; false when it was started (or
    /// decided otherwise) by another replica first.
    pub fn mark_started(
        id: &str, from: &str, execution: &str, by: &str, comment: Option<&str>,
    ) -> update_one
        where id.eq(id), status.eq(from)
        set status.eq(status::STARTED), execution_id.eq(execution), decided_by.eq(by),
            comment.eq(comment);
    /// Moves a waiting request's start to `not_before` (its window is closed again).
    pub fn postpone(id: &str, not_before: NaiveDateTime, reason: &str) -> update_one
        where id.eq(id), status.eq(status::WAITING)
        set not_before.eq(not_before), reason.eq(reason);
}
