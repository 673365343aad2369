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

common::row_queries! { joint_runs, JointRunRow;
    find, insert as insert_run;
    /// The newest joint run of a joint line.
    pub fn latest_of_line(joint_line_id: &str) -> first
        where joint_line_id.eq(joint_line_id) order create_time.desc(), id.desc();
    /// Takes a joint run that is not running for `owner`; false when it was running.
    pub fn claim(
        id: &str, owner: &str, now: NaiveDateTime, lease_until: NaiveDateTime, use_tad_host: bool,
    ) -> update_one
        where id.eq(id), status.ne(state::RUNNING)
        set status.eq(state::RUNNING), owner.eq(owner), lease_until.eq(lease_until),
            use_tad_host.eq(use_tad_host), message.eq(None::<String>), start_time.eq(now),
            end_time.eq(None::<NaiveDateTime>);
}

lease_queries!(joint_runs, JointRunRow; pub renew_lease);

common::row_queries! { joint_run_nodes, JointRunNodeRow;
    insert_all as insert_nodes;
    /// The nodes of a joint run in order.
    pub fn nodes(joint_run_id: &str) -> all
        where joint_run_id.eq(joint_run_id) order sequence.asc();
    /// Makes the nodes that did not succeed pending again.
    fn reset_unsucceeded_nodes(joint_run_id: &str) -> update
        where joint_run_id.eq(joint_run_id), status.ne(state::SUCCESS)
        set status.eq(state::PENDING), message.eq(None::<String>);
    /// Marks `success` the nodes of these sequences.
    fn mark_nodes_succeeded(joint_run_id: &str, sequences: &[i64]) -> update
        where joint_run_id.eq(joint_run_id), sequence.eq_any(sequences)
        set status.eq(state::SUCCESS), message.eq(None::<String>);
    /// How many nodes of a joint run have not succeeded.
    fn count_unsucceeded_nodes(joint_run_id: &str) -> count
        where joint_run_id.eq(joint_run_id), status.ne(state::SUCCESS);
    /// Marks the running nodes of a joint run `interrupted`.
    fn interrupt_running_nodes(joint_run_id: &str) -> update
        where joint_run_id.eq(joint_run_id), status.eq(state::RUNNING)
        set status.eq(state::INTERRUPTED);
    /// Sets a node's status and message, keeping its run.
    fn set_node_status(joint_run_id: &str, sequence: i64, status: &str, message: Option<&str>)
        -> update
        where joint_run_id.eq(joint_run_id), sequence.eq(sequence)
        set status.eq(status), message.eq(message);
    /// Sets a node's status, run and message.
    fn set_node_run(
        joint_run_id: &str, sequence: i64, status: &str, run_id: &str, message: Option<&str>,
    ) -> update
        where joint_run_id.eq(joint_run_id), sequence.eq(sequence)
        set status.eq(status), run_id.eq(run_id), message.eq(message);
}

/// Inserts a joint run and its nodes.
pub fn insert(
    connection: &mut DbConnection,
    run: &JointRunRow,
    nodes: &[JointRunNodeRow],
) -> QueryResult<()> {
    insert_run(connection, run)?;
    insert_nodes(connection, nodes)
}

/// Makes every node that did not succeed pending again (a resumed joint run).
pub fn reset_unfinished_nodes(
    connection: &mut DbConnection,
    joint_run_id: &str,
) -> QueryResult<()> {
    settle_nodes(connection, joint_run_id)?;
    reset_unsucceeded_nodes(connection, joint_run_id)
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
        mark_nodes_succeeded(connection, joint_run_id, &succeeded_runs)?;
    }
    Ok(count_unsucceeded_nodes(connection, joint_run_id)? == 0)
}

/// Sets a node's status and message, and its run when given.
pub fn set_node(
    connection: &mut DbConnection,
    joint_run_id: &str,
    sequence: i64,
    status: &str,
    run_id: Option<&str>,
    message: Option<&str>,
) -> QueryResult<()> {
    match run_id {
        Some(run_id) => set_node_run(connection, joint_run_id, sequence, status, run_id, message),
        None => set_node_status(connection, joint_run_id, sequence, status, message),
    }
}

/// Settles running joint runs whose lease expired: `success` when every node's instance run
/// succeeded (see [`settle_nodes`]), else `interrupted` (and their running nodes); answers
/// their ids and the status each ended with.
pub fn settle_expired(
    connection: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, &'static str)>> {
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
        if end_expired(connection, &id, status, message, now)? {
            interrupt_running_nodes(connection, &id)?;
            settled.push((id, status));
        }
    }
    Ok(settled)
}
