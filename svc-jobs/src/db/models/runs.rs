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
}

impl HostTaskRow {
    /// The key of this attempt's process group on the host: `tad-<task id>-<attempt>`.
    pub fn run_key(&self) -> String {
        format!("tad-{}-{}", self.id, self.attempt)
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

row_queries!(runs, RunRow; find, insert);

/// The newest run of an instance.
pub fn latest_of_instance(
    connection: &mut DbConnection,
    instance_id: &str,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::instance_id.eq(instance_id))
        .order((runs::create_time.desc(), runs::id.desc()))
        .select(RunRow::as_select())
        .first(connection)
        .optional()
}

/// The run holding (application, environment), if one is running.
pub fn running_for(
    connection: &mut DbConnection,
    application_id: &str,
    env_id: &str,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::application_id.eq(application_id))
        .filter(runs::env_id.eq(env_id))
        .filter(runs::status.eq(state::RUNNING))
        .select(RunRow::as_select())
        .first(connection)
        .optional()
}

/// Whether an instance has a running run.
pub fn running_of_instance(
    connection: &mut DbConnection,
    instance_id: &str,
) -> QueryResult<Option<RunRow>> {
    runs::table
        .filter(runs::instance_id.eq(instance_id))
        .filter(runs::status.eq(state::RUNNING))
        .select(RunRow::as_select())
        .first(connection)
        .optional()
}

pub fn insert_steps(connection: &mut DbConnection, steps: &[RunStepRow]) -> QueryResult<()> {
    // One statement per row: batch inserts are not portable across the multi-backend connection.
    for step in steps {
        diesel::insert_into(run_steps::table)
            .values(step)
            .execute(connection)?;
    }
    Ok(())
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
    let updated = diesel::update(
        runs::table
            .filter(runs::id.eq(run_id))
            .filter(runs::status.ne(state::RUNNING)),
    )
    .set((
        runs::status.eq(state::RUNNING),
        runs::owner.eq(owner),
        runs::lease_until.eq(lease_until),
        runs::stop_requested.eq(false),
        runs::message.eq(None::<String>),
        runs::end_time.eq(None::<NaiveDateTime>),
    ))
    .execute(connection)?;
    if updated == 1 {
        diesel::update(
            runs::table
                .filter(runs::id.eq(run_id))
                .filter(runs::start_time.is_null()),
        )
        .set(runs::start_time.eq(now))
        .execute(connection)?;
    }
    Ok(updated == 1)
}

/// Extends the lease of a run `owner` still holds; answers `Some(stop_requested)`, or `None`
/// when the run is no longer this owner's.
pub fn renew_lease(
    connection: &mut DbConnection,
    run_id: &str,
    owner: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<Option<bool>> {
    let updated = diesel::update(held!(runs, run_id, owner))
        .set(runs::lease_until.eq(lease_until))
        .execute(connection)?;
    if updated == 0 {
        return Ok(None);
    }
    runs::table
        .find(run_id)
        .select(runs::stop_requested)
        .first(connection)
        .map(Some)
}

/// Asks the owner of a running run to stop it; false when it is not running.
pub fn request_stop(connection: &mut DbConnection, run_id: &str) -> QueryResult<bool> {
    let updated = diesel::update(
        runs::table
            .filter(runs::id.eq(run_id))
            .filter(runs::status.eq(state::RUNNING)),
    )
    .set(runs::stop_requested.eq(true))
    .execute(connection)?;
    Ok(updated == 1)
}

finish_held!(runs);

/// Running runs whose owner's lease ran out before `now`.
/// The message of a run the sweeper marked `interrupted`.
pub const INTERRUPTED_MESSAGE: &str = "the service running it stopped before it finished";

pub fn expired(connection: &mut DbConnection, now: NaiveDateTime) -> QueryResult<Vec<RunRow>> {
    runs::table
        .filter(runs::status.eq(state::RUNNING))
        .filter(runs::lease_until.lt(now))
        .select(RunRow::as_select())
        .load(connection)
}

/// Ends a running run whose lease expired with `status` and `message`, releasing the lease;
/// false when another replica got there first or the owner renewed meanwhile.
fn end_expired(
    connection: &mut DbConnection,
    run_id: &str,
    status: &str,
    message: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        runs::table
            .filter(runs::id.eq(run_id))
            .filter(runs::status.eq(state::RUNNING))
            .filter(runs::lease_until.lt(now)),
    )
    .set((
        runs::status.eq(status),
        runs::owner.eq(None::<String>),
        runs::lease_until.eq(None::<NaiveDateTime>),
        runs::message.eq(message),
        runs::end_time.eq(now),
    ))
    .execute(connection)?;
    Ok(updated == 1)
}

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
    diesel::update(
        run_steps::table
            .filter(run_steps::run_id.eq(run_id))
            .filter(run_steps::status.eq(state::RUNNING)),
    )
    .set((
        run_steps::status.eq(state::INTERRUPTED),
        run_steps::end_time.eq(now),
    ))
    .execute(connection)?;
    diesel::update(
        host_tasks::table
            .filter(host_tasks::run_id.eq(run_id))
            .filter(host_tasks::status.eq_any([state::RUNNING, state::PENDING])),
    )
    .set((
        host_tasks::status.eq(state::INTERRUPTED),
        host_tasks::end_time.eq(now),
    ))
    .execute(connection)?;
    Ok(true)
}

pub fn steps(connection: &mut DbConnection, run_id: &str) -> QueryResult<Vec<RunStepRow>> {
    run_steps::table
        .filter(run_steps::run_id.eq(run_id))
        .order(run_steps::sequence.asc())
        .select(RunStepRow::as_select())
        .load(connection)
}

/// Replaces the snapshot of a step that has not succeeded (a resumed run picks up fixes).
pub fn replace_snapshot(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
    cluster_id: &str,
    snapshot: &str,
) -> QueryResult<()> {
    diesel::update(run_steps::table.find((run_id, sequence)))
        .set((
            run_steps::cluster_id.eq(cluster_id),
            run_steps::snapshot.eq(snapshot),
        ))
        .execute(connection)
        .map(|_| ())
}

/// Run steps whose snapshot is not sealed yet (written before snapshots were sealed).
pub fn steps_with_plain_snapshots(connection: &mut DbConnection) -> QueryResult<Vec<RunStepRow>> {
    run_steps::table
        .filter(run_steps::snapshot.not_like("v1:%"))
        .select(RunStepRow::as_select())
        .load(connection)
}

/// Replaces a run step's snapshot if it is still `step`'s; answers whether it was.
pub fn replace_plain_snapshot(
    connection: &mut DbConnection,
    step: &RunStepRow,
    snapshot: &str,
) -> QueryResult<bool> {
    diesel::update(
        run_steps::table
            .find((&step.run_id, step.sequence))
            .filter(run_steps::snapshot.eq(&step.snapshot)),
    )
    .set(run_steps::snapshot.eq(snapshot))
    .execute(connection)
    .map(|updated| updated == 1)
}

pub fn set_step_status(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
    status: &str,
    message: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = run_steps::table.find((run_id, sequence));
    if status == state::RUNNING {
        diesel::update(target)
            .set((
                run_steps::status.eq(status),
                run_steps::message.eq(message),
                run_steps::start_time.eq(now),
                run_steps::end_time.eq(None::<NaiveDateTime>),
            ))
            .execute(connection)
            .map(|_| ())
    } else {
        diesel::update(target)
            .set((
                run_steps::status.eq(status),
                run_steps::message.eq(message),
                run_steps::end_time.eq(now),
            ))
            .execute(connection)
            .map(|_| ())
    }
}

pub fn insert_host_tasks(connection: &mut DbConnection, tasks: &[HostTaskRow]) -> QueryResult<()> {
    for task in tasks {
        diesel::insert_into(host_tasks::table)
            .values(task)
            .execute(connection)?;
    }
    Ok(())
}

pub fn host_tasks(connection: &mut DbConnection, run_id: &str) -> QueryResult<Vec<HostTaskRow>> {
    host_tasks::table
        .filter(host_tasks::run_id.eq(run_id))
        .order((host_tasks::sequence.asc(), host_tasks::host_ip.asc()))
        .select(HostTaskRow::as_select())
        .load(connection)
}

pub fn find_host_task(connection: &mut DbConnection, id: &str) -> QueryResult<Option<HostTaskRow>> {
    host_tasks::table
        .find(id)
        .select(HostTaskRow::as_select())
        .first(connection)
        .optional()
}

/// Sets a host task's status; a running one gets its start time, a finished one its end time.
pub fn set_host_task_status(
    connection: &mut DbConnection,
    id: &str,
    status: &str,
    exit_code: Option<i32>,
    message: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let target = host_tasks::table.find(id);
    if status == state::RUNNING {
        diesel::update(target)
            .set((
                host_tasks::status.eq(status),
                host_tasks::start_time.eq(now),
            ))
            .execute(connection)
            .map(|_| ())
    } else {
        diesel::update(target)
            .set((
                host_tasks::status.eq(status),
                host_tasks::exit_code.eq(exit_code),
                host_tasks::message.eq(message),
                host_tasks::end_time.eq(now),
            ))
            .execute(connection)
            .map(|_| ())
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

/// Events of a run after `after_seq`, oldest first, at most `limit`.
pub fn events_after(
    connection: &mut DbConnection,
    run_id: &str,
    after_seq: i64,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    run_events::table
        .filter(run_events::run_id.eq(run_id))
        .filter(run_events::seq.gt(after_seq))
        .order(run_events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(connection)
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

/// Runs of an instance, newest first (for the history and for deleting an instance).
pub fn of_instance(connection: &mut DbConnection, instance_id: &str) -> QueryResult<Vec<RunRow>> {
    runs::table
        .filter(runs::instance_id.eq(instance_id))
        .order((runs::create_time.desc(), runs::id.desc()))
        .select(RunRow::as_select())
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

/// Removes the host tasks of a step (before it runs again).
pub fn delete_host_tasks_of_step(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
    keeping_statuses: &[&str],
) -> QueryResult<()> {
    diesel::delete(
        host_tasks::table
            .filter(host_tasks::run_id.eq(run_id))
            .filter(host_tasks::sequence.eq(sequence))
            .filter(host_tasks::status.ne_all(keeping_statuses)),
    )
    .execute(connection)
    .map(|_| ())
}

/// Records where a continued run works (6.1's `use_tad_host` of the latest request).
pub fn set_use_tad_host(
    connection: &mut DbConnection,
    run_id: &str,
    use_tad_host: bool,
) -> QueryResult<()> {
    diesel::update(runs::table.find(run_id))
        .set(runs::use_tad_host.eq(use_tad_host))
        .execute(connection)
        .map(|_| ())
}

/// Marks the host tasks of a step that never started.
pub fn skip_pending_host_tasks(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        host_tasks::table
            .filter(host_tasks::run_id.eq(run_id))
            .filter(host_tasks::sequence.eq(sequence))
            .filter(host_tasks::status.eq(state::PENDING)),
    )
    .set((
        host_tasks::status.eq(state::SKIPPED),
        host_tasks::end_time.eq(now),
    ))
    .execute(connection)
    .map(|_| ())
}

/// Host tasks of one step of a run.
pub fn host_tasks_of_step(
    connection: &mut DbConnection,
    run_id: &str,
    sequence: i32,
) -> QueryResult<Vec<HostTaskRow>> {
    host_tasks::table
        .filter(host_tasks::run_id.eq(run_id))
        .filter(host_tasks::sequence.eq(sequence))
        .order(host_tasks::host_ip.asc())
        .select(HostTaskRow::as_select())
        .load(connection)
}

/// Makes a host task pending again as its next attempt (a retry or a resume); its log is kept
/// and goes on.
pub fn reset_host_task(connection: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(host_tasks::table.find(id))
        .set((
            host_tasks::status.eq(state::PENDING),
            host_tasks::exit_code.eq(None::<i32>),
            host_tasks::message.eq(None::<String>),
            host_tasks::end_time.eq(None::<NaiveDateTime>),
            host_tasks::attempt.eq(host_tasks::attempt + 1),
        ))
        .execute(connection)
        .map(|_| ())
}

/// Successful runs of an instance, newest first.
pub fn successful_of_instance(
    connection: &mut DbConnection,
    instance_id: &str,
) -> QueryResult<Vec<RunRow>> {
    runs::table
        .filter(runs::instance_id.eq(instance_id))
        .filter(runs::status.eq(state::SUCCESS))
        .order((runs::end_time.desc(), runs::id.desc()))
        .select(RunRow::as_select())
        .load(connection)
}

/// One page of an instance's runs, newest first, and how many there are.
pub fn page_of_instance(
    connection: &mut DbConnection,
    instance_id: &str,
    offset: i64,
    limit: i64,
) -> QueryResult<(i64, Vec<RunRow>)> {
    let count = runs::table
        .filter(runs::instance_id.eq(instance_id))
        .count()
        .get_result(connection)?;
    let rows = runs::table
        .filter(runs::instance_id.eq(instance_id))
        .order((runs::create_time.desc(), runs::id.desc()))
        .offset(offset)
        .limit(limit)
        .select(RunRow::as_select())
        .load(connection)?;
    Ok((count, rows))
}
