//! Runs of instances (SPEC §5): run → step → host task rows, the owner's lease, and the run's
//! numbered events (status changes and log chunks with byte offsets).

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::{host_tasks, run_events, run_steps, runs};

/// Statuses of runs, steps and host tasks.
pub mod state {
    pub const PENDING: &str = "pending";
    pub const RUNNING: &str = "running";
    pub const SUCCESS: &str = "success";
    pub const FAILED: &str = "failed";
    pub const STOPPED: &str = "stopped";
    pub const INTERRUPTED: &str = "interrupted";
    /// A run whose rollout failed and whose touched hosts got the previous snapshot again.
    pub const ROLLED_BACK: &str = "rolled_back";
    /// A host task a step did not reach because it stopped early.
    pub const SKIPPED: &str = "skipped";
}

/// One run of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = runs)]
pub struct RunRow {
    pub id: String,
    pub instance_id: String,
    pub application_id: String,
    pub env_id: String,
    pub kind: String,
    pub status: String,
    pub use_tad_host: bool,
    pub started_by: String,
    pub owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub stop_requested: bool,
    pub message: Option<String>,
    pub create_time: NaiveDateTime,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
}

/// One step of a run, with the snapshot it runs.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = run_steps)]
pub struct RunStepRow {
    pub run_id: String,
    pub sequence: i32,
    pub component_id: String,
    pub method_id: String,
    pub cluster_id: String,
    /// JSON of the frozen step plan.
    pub snapshot: String,
    pub status: String,
    pub message: Option<String>,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
}

/// The work of one step on one host.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = host_tasks)]
pub struct HostTaskRow {
    pub id: String,
    pub run_id: String,
    pub sequence: i32,
    pub host_ip: String,
    pub status: String,
    pub exit_code: Option<i32>,
    pub message: Option<String>,
    pub log_size: i64,
    pub start_time: Option<NaiveDateTime>,
    pub end_time: Option<NaiveDateTime>,
    /// How many times the task was started again (a retry or a resume); names the attempt's
    /// process group on the host (see [`HostTaskRow::run_key`]).
    pub attempt: i32,
    /// Artifacts the last attempt sent to the host.
    pub artifacts_sent: i32,
    /// Artifacts the last attempt did not send: the host held them already (same md5).
    pub artifacts_skipped: i32,
}

impl HostTaskRow {
    /// The key of this attempt's process group on the host: `tad-<task id>-<attempt>`.
    pub fn run_key(&self) -> String {
        self.attempt_key(self.attempt)
    }

    /// The keys of every attempt of this task so far, the first one first: each may have left an
    /// orphan, or the exit status mark of its final command, on the host.
    pub fn attempt_keys(&self) -> Vec<String> {
        (0..=self.attempt)
            .map(|attempt| self.attempt_key(attempt))
            .collect()
    }

    fn attempt_key(&self, attempt: i32) -> String {
        format!("tad-{}-{attempt}", self.id)
    }
}

/// One numbered event of a run.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = run_events)]
pub struct EventRow {
    pub run_id: String,
    pub seq: i64,
    pub kind: String,
    pub host_task_id: Option<String>,
    pub log_offset: Option<i64>,
    pub payload: String,
    pub create_time: NaiveDateTime,
}

common::row_queries! { runs, RunRow;
    find, insert;
    /// The newest run of an instance.
    pub fn latest_of_instance(instance_id: &str) -> first
        where instance_id.eq(instance_id) order create_time.desc(), id.desc();
    /// The run holding (application, environment), if one is running.
    pub fn running_for(application_id: &str, env_id: &str) -> first
        where application_id.eq(application_id), env_id.eq(env_id), status.eq(state::RUNNING);
    /// Whether an instance has a running run.
    pub fn running_of_instance(instance_id: &str) -> first
        where instance_id.eq(instance_id), status.eq(state::RUNNING);
    /// Takes a run that is not running for `owner` until `lease_until`; false when it was running.
    fn take(run_id: &str, owner: &str, lease_until: NaiveDateTime) -> update_one
        where id.eq(run_id), status.ne(state::RUNNING)
        set status.eq(state::RUNNING), owner.eq(owner), lease_until.eq(lease_until),
            stop_requested.eq(false), message.eq(None::<String>),
            end_time.eq(None::<NaiveDateTime>);
    /// Whether `owner` still works the run (it runs under that owner's lease); its row stays
    /// locked until the transaction ends, so the sweep settles the run either before (and the
    /// caller writes nothing) or after the caller's writes. A replica that lost its lease while
    /// it was frozen or starved writes nothing more about the run through this.
    pub fn held_by(run_id: &str, owner: &str) -> update_one
        where id.eq(run_id), owner.eq(owner), status.eq(state::RUNNING)
        set owner.eq(owner);
    /// Records the first start of a run taken up (a later one keeps it).
    fn record_first_start(run_id: &str, now: NaiveDateTime) -> update
        where id.eq(run_id), start_time.is_null() set start_time.eq(now);
    /// Asks the owner of a running run to stop it; false when it is not running.
    pub fn request_stop(run_id: &str) -> update_one
        where id.eq(run_id), status.eq(state::RUNNING) set stop_requested.eq(true);
    /// Running runs whose owner's lease ran out before `now`.
    pub fn expired(now: NaiveDateTime) -> all
        where status.eq(state::RUNNING), lease_until.lt(now);
    /// Runs of an instance, newest first (for the history and for deleting an instance).
    pub fn of_instance(instance_id: &str) -> all
        where instance_id.eq(instance_id) order create_time.desc(), id.desc();
    /// Records where a continued run works (6.1's `use_tad_host` of the latest request).
    pub fn set_use_tad_host(run_id: &str, use_tad_host: bool) -> update
        where id.eq(run_id) set use_tad_host.eq(use_tad_host);
    /// Successful runs of an instance, newest first.
    pub fn successful_of_instance(instance_id: &str) -> all
        where instance_id.eq(instance_id), status.eq(state::SUCCESS)
        order end_time.desc(), id.desc();
    /// One page of an instance's runs, newest first, and how many there are.
    pub fn page_of_instance(instance_id: &str, offset: i64, limit: i64)
        -> newest_page(offset, limit)
        where instance_id.eq(instance_id);
}

lease_queries!(runs, RunRow; extend_lease);

common::row_queries! { run_steps, RunStepRow;
    insert_all as insert_steps;
    /// The steps of a run in order.
    pub fn steps(run_id: &str) -> all where run_id.eq(run_id) order sequence.asc();
    /// Replaces the snapshot of a step that has not succeeded (a resumed run picks up fixes).
    pub fn replace_snapshot(run_id: &str, sequence: i32, cluster_id: &str, snapshot: &str)
        -> update
        where run_id.eq(run_id), sequence.eq(sequence)
        set cluster_id.eq(cluster_id), snapshot.eq(snapshot);
    /// Steps not succeeded (of any run) whose sequence is `from` or more (rollback steps).
    pub fn unfinished_steps_from(from: i32) -> all
        where sequence.ge(from), status.ne(state::SUCCESS);
    /// Run steps whose snapshot is not sealed yet (written before snapshots were sealed).
    pub fn steps_with_plain_snapshots() -> all where snapshot.not_like("v1:%");
    /// Replaces a run step's snapshot if it is still `step`'s; answers whether it was.
    pub fn replace_plain_snapshot(step: &RunStepRow, snapshot: &str) -> update_one
        where run_id.eq(&step.run_id), sequence.eq(step.sequence), snapshot.eq(&step.snapshot)
        set snapshot.eq(snapshot);
    /// Marks a step started with `status` and `message`.
    fn start_step(
        run_id: &str, sequence: i32, status: &str, message: Option<&str>, now: NaiveDateTime,
    ) -> update
        where run_id.eq(run_id), sequence.eq(sequence)
        set status.eq(status), message.eq(message), start_time.eq(now),
            end_time.eq(None::<NaiveDateTime>);
    /// Marks a step ended with `status` and `message`.
    fn end_step(
        run_id: &str, sequence: i32, status: &str, message: Option<&str>, now: NaiveDateTime,
    ) -> update
        where run_id.eq(run_id), sequence.eq(sequence)
        set status.eq(status), message.eq(message), end_time.eq(now);
    /// Marks the running steps of a run `interrupted`.
    fn interrupt_running_steps(run_id: &str, now: NaiveDateTime) -> update
        where run_id.eq(run_id), status.eq(state::RUNNING)
        set status.eq(state::INTERRUPTED), end_time.eq(now);
}

common::row_queries! { host_tasks, HostTaskRow;
    insert_all as insert_host_tasks, find as find_host_task;
    /// The host tasks of a run, by step and host.
    pub fn host_tasks(run_id: &str) -> all
        where run_id.eq(run_id) order sequence.asc(), host_ip.asc();
    /// Host tasks of one step of a run.
    pub fn host_tasks_of_step(run_id: &str, sequence: i32) -> all
        where run_id.eq(run_id), sequence.eq(sequence) order host_ip.asc();
    /// Removes the host tasks of a step (before it runs again), but those in `keeping_statuses`;
    /// answers how many went.
    pub fn delete_host_tasks_of_step(run_id: &str, sequence: i32, keeping_statuses: &[&str])
        -> delete
        where run_id.eq(run_id), sequence.eq(sequence), status.ne_all(keeping_statuses);
    /// Marks the host tasks of a step that never started.
    pub fn skip_pending_host_tasks(run_id: &str, sequence: i32, now: NaiveDateTime) -> update
        where run_id.eq(run_id), sequence.eq(sequence), status.eq(state::PENDING)
        set status.eq(state::SKIPPED), end_time.eq(now);
    /// Makes a host task pending again as its next attempt (a retry or a resume); its log is
    /// kept and goes on.
    pub fn reset_host_task(id: &str) -> update
        where id.eq(id)
        set status.eq(state::PENDING), exit_code.eq(None::<i32>), message.eq(None::<String>),
            end_time.eq(None::<NaiveDateTime>), attempt.eq(host_tasks::attempt + 1);
    /// Marks a host task started with `status`.
    fn start_host_task(id: &str, status: &str, now: NaiveDateTime) -> update
        where id.eq(id) set status.eq(status), start_time.eq(now);
    /// Marks a host task ended with `status`, its exit code and message.
    fn end_host_task(
        id: &str, status: &str, exit_code: Option<i32>, message: Option<&str>, now: NaiveDateTime,
    ) -> update
        where id.eq(id)
        set status.eq(status), exit_code.eq(exit_code), message.eq(message), end_time.eq(now);
    /// Records what a host task did with its artifacts.
    fn count_host_task_artifacts(id: &str, sent: i32, skipped: i32) -> update
        where id.eq(id)
        set artifacts_sent.eq(sent), artifacts_skipped.eq(skipped);
    /// Marks the running and pending host tasks of a run `interrupted`.
    fn interrupt_unfinished_host_tasks(run_id: &str, now: NaiveDateTime) -> update
        where run_id.eq(run_id), status.eq_any([state::RUNNING, state::PENDING])
        set status.eq(state::INTERRUPTED), end_time.eq(now);
}

common::row_queries! { run_events, EventRow;
    /// Events of a run after `after_seq`, oldest first, at most `limit`.
    pub fn events_after(run_id: &str, after_seq: i64, limit: i64) -> at_most(limit)
        where run_id.eq(run_id), seq.gt(after_seq) order seq.asc();
}

/// Takes a run that is not running for `owner` until `lease_until`; false when it was running.
/// The unique index on running runs refuses a second one for the same application and env. A run
/// taken up again (resumed, continued, retried) keeps the start time of its first start.
pub fn claim(
    connection: &mut DbConnection,
    run_id: &str,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let taken = take(connection, run_id, owner, lease_until)?;
    if taken {
        record_first_start(connection, run_id, now)?;
    }
    Ok(taken)
}

/// Extends the lease of a run `owner` still holds; answers `Some(stop_requested)`, or `None`
/// when the run is no longer this owner's.
pub fn renew_lease(
    connection: &mut DbConnection,
    run_id: &str,
    owner: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<bool>> {
    if !extend_lease(connection, run_id, owner, lease_until)? {
        return Ok(None);
    }
    runs::table
        .find(run_id)
        .select(runs::stop_requested)
        .first(connection)
        .map(Some)
}

/// The message of a run the sweeper marked `interrupted`.
pub const INTERRUPTED_MESSAGE: &str = "the service running it stopped before it finished";

/// Ends `success` a running run whose lease expired after every one of its steps succeeded (its
/// owner died between the last step and the run's end); false as [`interrupt_expired`].
pub fn succeed_expired(
    connection: &mut DbConnection,
    run_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    end_expired(connection, run_id, state::SUCCESS, None, now)
}

/// Marks a running run whose lease expired `interrupted`, with its unfinished steps and host
/// tasks; false when another replica got there first or the owner renewed meanwhile.
pub fn interrupt_expired(
    connection: &mut DbConnection,
    run_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    if !end_expired(
        connection,
        run_id,
        state::INTERRUPTED,
        Some(INTERRUPTED_MESSAGE),
        now,
    )? {
        return Ok(false);
    }
    interrupt_running_steps(connection, run_id, now)?;
    interrupt_unfinished_host_tasks(connection, run_id, now)?;
    Ok(true)
}

/// Sets a step's status; a running one gets its start time, a finished one its end time.
pub fn set_step_status(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
    status: &str,
    message: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if status == state::RUNNING {
        start_step(connection, run_id, sequence, status, message, now)
    } else {
        end_step(connection, run_id, sequence, status, message, now)
    }
}

/// What a host task did with its step's artifacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArtifactCounts {
    /// Sent to the host.
    pub sent: i32,
    /// Not sent: the host held the file with the same md5 at its destination.
    pub skipped: i32,
}

/// Sets a host task's status; a running one gets its start time, a finished one its end time
/// and its artifact counts.
pub fn set_host_task_status(
    connection: &mut DbConnection,
    id: &str,
    status: &str,
    exit_code: Option<i32>,
    message: Option<&str>,
    now: NaiveDateTime,
    artifacts: ArtifactCounts,
) -> QueryResult<()> {
    if status == state::RUNNING {
        start_host_task(connection, id, status, now)
    } else {
        end_host_task(connection, id, status, exit_code, message, now)?;
        count_host_task_artifacts(connection, id, artifacts.sent, artifacts.skipped)
    }
}

/// Appends an event to a run, numbering it after the run's last one. Call inside a transaction.
pub fn append_event(
    connection: &mut DbConnection,
    run_id: &str,
    kind: &str,
    host_task_id: Option<&str>,
    log_offset: Option<i64>,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    // The update locks the run's row until the transaction ends: numbers are handed out and
    // committed in the same order, so a reader never sees a later event before an earlier one.
    diesel::update(runs::table.find(run_id))
        .set(runs::event_seq.eq(runs::event_seq + 1))
        .execute(connection)?;
    let seq: i64 = runs::table
        .find(run_id)
        .select(runs::event_seq)
        .first(connection)?;
    diesel::insert_into(run_events::table)
        .values(EventRow {
            run_id: run_id.to_owned(),
            seq,
            kind: kind.to_owned(),
            host_task_id: host_task_id.map(str::to_owned),
            log_offset,
            payload: payload.to_owned(),
            create_time: now,
        })
        .execute(connection)?;
    Ok(seq)
}

/// Grows a host task's log by `length` bytes, answering the offset the new chunk starts at.
/// Call inside a transaction.
pub fn grow_log(
    connection: &mut DbConnection,
    host_task_id: &str,
    length: i64,
) -> QueryResult<i64> {
    let offset: i64 = host_tasks::table
        .find(host_task_id)
        .select(host_tasks::log_size)
        .first(connection)?;
    diesel::update(host_tasks::table.find(host_task_id))
        .set(host_tasks::log_size.eq(offset + length))
        .execute(connection)?;
    Ok(offset)
}

/// Largest log chunk in bytes: the writer splits longer output.
pub const LOG_CHUNK_MAX: i64 = 16 * 1024;

/// Log chunks of a host task from the one holding byte `offset` on, oldest first, at most
/// `limit`. Chunks are contiguous, so the chunk holding `offset` is the last one starting at or
/// before it; a reader never gets a page of chunks that all end before `offset` (however small
/// the chunks before it are).
pub fn log_chunks_from(
    connection: &mut DbConnection,
    host_task_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let holding: Option<i64> = run_events::table
        .filter(run_events::host_task_id.eq(host_task_id))
        .filter(run_events::kind.eq("log"))
        .filter(run_events::log_offset.le(offset))
        .select(diesel::dsl::max(run_events::log_offset))
        .first(connection)?;
    run_events::table
        .filter(run_events::host_task_id.eq(host_task_id))
        .filter(run_events::kind.eq("log"))
        .filter(run_events::log_offset.ge(holding.unwrap_or(0)))
        .order(run_events::log_offset.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(connection)
}

/// Deletes every run of an instance with its steps, host tasks and events.
pub fn delete_of_instance(connection: &mut DbConnection, instance_id: &str) -> QueryResult<()> {
    let run_ids: Vec<String> = runs::table
        .filter(runs::instance_id.eq(instance_id))
        .select(runs::id)
        .load(connection)?;
    diesel::delete(run_events::table.filter(run_events::run_id.eq_any(&run_ids)))
        .execute(connection)?;
    diesel::delete(host_tasks::table.filter(host_tasks::run_id.eq_any(&run_ids)))
        .execute(connection)?;
    diesel::delete(run_steps::table.filter(run_steps::run_id.eq_any(&run_ids)))
        .execute(connection)?;
    diesel::delete(runs::table.filter(runs::id.eq_any(&run_ids))).execute(connection)?;
    Ok(())
}
