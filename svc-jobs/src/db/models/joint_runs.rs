//! Runs of joint lines (2.1): the parent record, its owner's lease, and one row per node with
//! the instance run it started and how it ended.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use super::runs::state;
use crate::db::schema::{joint_run_nodes, joint_runs, runs};

/// A node not run because a parent did not succeed.
pub const BLOCKED: &str = "skipped";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = joint_runs)]
pub struct JointRunRow {
    pub id: String,
    pub joint_line_id: String,
    pub status: String,
    pub use_tad_host: bool,
    pub started_by: String,
    pub owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub message: Option<String>,
    pub create_time: NaiveDateTime,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = joint_run_nodes)]
pub struct JointRunNodeRow {
    pub joint_run_id: String,
    pub sequence: i64,
    pub instance_id: String,
    /// JSON array of parent sequences.
    pub parents: String,
    pub run_id: Option<String>,
    pub status: String,
    pub message: Option<String>,
}

row_queries!(joint_runs, JointRunRow; find);

pub fn latest_of_line(
    connection: &mut DbConnection,
    joint_line_id: &str,
) -> QueryResult<Option<JointRunRow>> {
    joint_runs::table
        .filter(joint_runs::joint_line_id.eq(joint_line_id))
        .order((joint_runs::create_time.desc(), joint_runs::id.desc()))
        .select(JointRunRow::as_select())
        .first(connection)
        .optional()
}

pub fn nodes(
    connection: &mut DbConnection,
    joint_run_id: &str,
) -> QueryResult<Vec<JointRunNodeRow>> {
    joint_run_nodes::table
        .filter(joint_run_nodes::joint_run_id.eq(joint_run_id))
        .order(joint_run_nodes::sequence.asc())
        .select(JointRunNodeRow::as_select())
        .load(connection)
}

pub fn insert(
    connection: &mut DbConnection,
    run: &JointRunRow,
    nodes: &[JointRunNodeRow],
) -> QueryResult<()> {
    diesel::insert_into(joint_runs::table)
        .values(run)
        .execute(connection)?;
    for node in nodes {
        diesel::insert_into(joint_run_nodes::table)
            .values(node)
            .execute(connection)?;
    }
    Ok(())
}

/// Makes every node that did not succeed pending again (a resumed joint run).
pub fn reset_unfinished_nodes(
    connection: &mut DbConnection,
    joint_run_id: &str,
) -> QueryResult<()> {
    settle_nodes(connection, joint_run_id)?;
    diesel::update(
        joint_run_nodes::table
            .filter(joint_run_nodes::joint_run_id.eq(joint_run_id))
            .filter(joint_run_nodes::status.ne(state::SUCCESS)),
    )
    .set((
        joint_run_nodes::status.eq(state::PENDING),
        joint_run_nodes::message.eq(None::<String>),
    ))
    .execute(connection)
    .map(|_| ())
}

/// Marks `success` the nodes not marked so whose instance run succeeded (the joint run's owner
/// died after the run ended, before it wrote the node): continuing the joint run must not run
/// those instances again from scratch. Answers whether every node has now succeeded.
pub fn settle_nodes(connection: &mut DbConnection, joint_run_id: &str) -> QueryResult<bool> {
    let succeeded_runs: Vec<i64> = joint_run_nodes::table
        .inner_join(runs::table.on(joint_run_nodes::run_id.eq(runs::id.nullable())))
        .filter(joint_run_nodes::joint_run_id.eq(joint_run_id))
        .filter(joint_run_nodes::status.ne(state::SUCCESS))
        .filter(runs::status.eq(state::SUCCESS))
        .select(joint_run_nodes::sequence)
        .load(connection)?;
    if !succeeded_runs.is_empty() {
        diesel::update(
            joint_run_nodes::table
                .filter(joint_run_nodes::joint_run_id.eq(joint_run_id))
                .filter(joint_run_nodes::sequence.eq_any(&succeeded_runs)),
        )
        .set((
            joint_run_nodes::status.eq(state::SUCCESS),
            joint_run_nodes::message.eq(None::<String>),
        ))
        .execute(connection)?;
    }
    let unfinished: i64 = joint_run_nodes::table
        .filter(joint_run_nodes::joint_run_id.eq(joint_run_id))
        .filter(joint_run_nodes::status.ne(state::SUCCESS))
        .count()
        .get_result(connection)?;
    Ok(unfinished == 0)
}

/// Takes a joint run that is not running for `owner`; false when it was running.
pub fn claim(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    use_tad_host: bool,
) -> QueryResult<bool> {
    let updated = diesel::update(
        joint_runs::table
            .filter(joint_runs::id.eq(id))
            .filter(joint_runs::status.ne(state::RUNNING)),
    )
    .set((
        joint_runs::status.eq(state::RUNNING),
        joint_runs::owner.eq(owner),
        joint_runs::lease_until.eq(lease_until),
        joint_runs::use_tad_host.eq(use_tad_host),
        joint_runs::message.eq(None::<String>),
        joint_runs::start_time.eq(now),
        joint_runs::end_time.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

/// Extends the lease of a joint run `owner` holds; false when it is no longer its.
pub fn renew_lease(
    connection: &mut DbConnection,
    id: &str,
    owner: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(held!(joint_runs, id, owner))
        .set(joint_runs::lease_until.eq(lease_until))
        .execute(connection)?;
    Ok(updated == 1)
}

pub fn set_node(
    connection: &mut DbConnection,
    joint_run_id: &str,
    sequence: i64,
    status: &str,
    run_id: Option<&str>,
    message: Option<&str>,
) -> QueryResult<()> {
    let target = joint_run_nodes::table.find((joint_run_id, sequence));
    match run_id {
        Some(run_id) => diesel::update(target)
            .set((
                joint_run_nodes::status.eq(status),
                joint_run_nodes::run_id.eq(run_id),
                joint_run_nodes::message.eq(message),
            ))
            .execute(connection),
        None => diesel::update(target)
            .set((
                joint_run_nodes::status.eq(status),
                joint_run_nodes::message.eq(message),
            ))
            .execute(connection),
    }
    .map(|_| ())
}

finish_held!(joint_runs);

/// Settles running joint runs whose lease expired: `success` when every node's instance run
/// succeeded (see [`settle_nodes`]), else `interrupted` (and their running nodes); answers
/// their ids.
pub fn settle_expired(
    connection: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<String>> {
    let expired: Vec<String> = joint_runs::table
        .filter(joint_runs::status.eq(state::RUNNING))
        .filter(joint_runs::lease_until.lt(now))
        .select(joint_runs::id)
        .load(connection)?;
    let mut settled = Vec::new();
    for id in expired {
        let all_succeeded = settle_nodes(connection, &id)?;
        let (status, message) = if all_succeeded {
            (state::SUCCESS, None)
        } else {
            (
                state::INTERRUPTED,
                Some("the service running it stopped before it finished"),
            )
        };
        let updated = diesel::update(
            joint_runs::table
                .filter(joint_runs::id.eq(&id))
                .filter(joint_runs::status.eq(state::RUNNING))
                .filter(joint_runs::lease_until.lt(now)),
        )
        .set((
            joint_runs::status.eq(status),
            joint_runs::owner.eq(None::<String>),
            joint_runs::lease_until.eq(None::<NaiveDateTime>),
            joint_runs::message.eq(message),
            joint_runs::end_time.eq(now),
        ))
        .execute(connection)?;
        if updated == 1 {
            diesel::update(
                joint_run_nodes::table
                    .filter(joint_run_nodes::joint_run_id.eq(&id))
                    .filter(joint_run_nodes::status.eq(state::RUNNING)),
            )
            .set(joint_run_nodes::status.eq(state::INTERRUPTED))
            .execute(connection)?;
            settled.push(id);
        }
    }
    Ok(settled)
}
