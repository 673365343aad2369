//! One run, step after step: keeps the owner's lease while it works, runs each step's hosts in
//! parallel (up to the configured limit, in rolling batches when the step asks), and writes every
//! status change with its event. A failed step ends the run; so does a stop or a lost lease.

mod rollout;

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use common::{db::DbConnection, ids::new_id, time::now_utc};
use futures::future::join_all;
use serde_json::json;
use tokio::sync::{Semaphore, oneshot, watch};

use super::{
    Inner, Mode, PAUSED, RunEnd,
    content::StepContent,
    crash_point,
    events::Masker,
    host::{self, HostOutcome},
    lease,
    plan::StepPlan,
};
use crate::{
    db::models::{
        instances,
        runs::{self, HostTaskRow, RunRow, state},
    },
    domain::{JobsError, JobsResult, rollout::OnFailure},
    resource::HostConnection,
};

/// How one step ended.
enum StepOutcome {
    Success,
    Failed(String),
    Stopped,
    /// Its rollout failed past its limit: the step fails and the run rolls back (the reason).
    RollBack(String),
}

/// How one step ended, before it is written: the step that ends a run is written in the
/// transaction that ends the run, so no instant shows every step succeeded in a run that is
/// still `running` (a replica killed there left it for the sweeper to mark `interrupted`).
struct StepEnd {
    sequence: i32,
    status: &'static str,
    message: Option<String>,
    outcome: StepOutcome,
}

impl StepEnd {
    fn new(sequence: i32, outcome: StepOutcome) -> StepEnd {
        let (status, message) = match &outcome {
            StepOutcome::Success => (state::SUCCESS, None),
            StepOutcome::Failed(message) | StepOutcome::RollBack(message) => {
                (state::FAILED, Some(message.clone()))
            }
            StepOutcome::Stopped => (state::STOPPED, Some("stopped by request".to_owned())),
        };
        StepEnd {
            sequence,
            status,
            message,
            outcome,
        }
    }

    /// Writes the step's end (its host tasks that never started are skipped).
    fn write(&self, connection: &mut DbConnection, run_id: &str) -> JobsResult<()> {
        runs::skip_pending_host_tasks(connection, run_id, self.sequence, now_utc())?;
        runs::set_step_status(
            connection,
            run_id,
            self.sequence,
            self.status,
            self.message.as_deref(),
            now_utc(),
        )?;
        Ok(())
    }

    /// The event that tells the step's end.
    fn event(&self) -> (String, serde_json::Value) {
        (
            "step".to_owned(),
            json!({"scope": "step", "sequence": self.sequence, "status": self.status, "message": self.message}),
        )
    }
}

/// How the work on a run ended: the run's status and message, and the end of the step that
/// ended it, still to be written with the run's ending.
struct WorkEnd {
    status: String,
    message: Option<String>,
    last_step: Option<StepEnd>,
}

impl WorkEnd {
    fn new(status: &str, message: Option<String>, last_step: Option<StepEnd>) -> WorkEnd {
        WorkEnd {
            status: status.to_owned(),
            message,
            last_step,
        }
    }
}

/// Works a claimed run (whose lease may be counted on until `held_until`) until it ends, then
/// records how it ended.
pub(crate) async fn execute(
    inner: Arc<Inner>,
    run_id: String,
    held_until: lease::HeldUntil,
    mode: Mode,
    stop_sender: watch::Sender<bool>,
    stop: watch::Receiver<bool>,
) -> RunEnd {
    let (lost_sender, lost) = oneshot::channel();
    // A stop asked through the database (from any replica) becomes the local stop signal.
    let held = move |renewed: Option<bool>| match renewed {
        Some(stop_requested) => {
            if stop_requested {
                let _ = stop_sender.send(true);
            }
            true
        }
        None => false,
    };
    let keeper = tokio::spawn(lease::keep_lease(
        inner.clone(),
        run_id.clone(),
        held_until,
        runs::renew_lease,
        held,
        lost_sender,
    ));
    // A replica that gave the run up drops its work where it is (as a kill would): the replica
    // that resumes it reaps what was left on the hosts.
    let outcome = tokio::select! {
        outcome = work(&inner, &run_id, mode, stop) => outcome,
        () = lease::given_up(lost) => {
            keeper.abort();
            return gave_up();
        }
    };
    keeper.abort();
    let WorkEnd {
        mut status,
        mut message,
        last_step,
    } = match outcome {
        Ok(ended) => ended,
        Err(JobsError::LeaseLost { .. }) => return gave_up(),
        Err(error) => WorkEnd::new(
            state::FAILED,
            Some(format!("the run could not go on: {error}")),
            None,
        ),
    };
    if status == state::STOPPED && inner.draining.load(Ordering::SeqCst) {
        status = state::INTERRUPTED.to_owned();
        message = Some(
            "the jobs service shut down before the run finished; run it again to resume".to_owned(),
        );
    }
    crash_point::reached(crash_point::BEFORE_RUN_END);
    let owner = inner.replica.clone();
    let finish_run = run_id.clone();
    let finish_status = status.clone();
    let finish_message = message.clone();
    let recorded = inner
        .events
        .record_decided(&run_id, move |connection| {
            let Some(run) = runs::find(connection, &finish_run)? else {
                return Ok(Vec::new());
            };
            let mut events = Vec::new();
            if runs::finish(
                connection,
                &finish_run,
                &owner,
                &finish_status,
                finish_message.as_deref(),
                now_utc(),
            )? {
                if let Some(step) = &last_step {
                    step.write(connection, &finish_run)?;
                    events.push(step.event());
                }
                let instance_status = if finish_status == PAUSED {
                    state::SUCCESS
                } else {
                    finish_status.as_str()
                };
                instances::set_status(connection, &run.instance_id, instance_status)?;
                events.push((
                    "run".to_owned(),
                    json!({"scope": "run", "status": finish_status, "message": finish_message}),
                ));
            }
            Ok(events)
        })
        .await;
    if let Err(error) = recorded {
        tracing::error!(run = %run_id, %error, "cannot record the end of a run");
    }
    if status != PAUSED {
        notify_finished(&inner, &run_id).await;
    }
    RunEnd { status, message }
}

/// How a run ends here that this replica gave up (its lease is gone or going): nothing is
/// written; the sweep settles it and any replica resumes it.
fn gave_up() -> RunEnd {
    RunEnd {
        status: state::INTERRUPTED.to_owned(),
        message: Some(
            "this replica gave the run up: it could no longer be sure it held the run's lease"
                .to_owned(),
        ),
    }
}

/// Posts the finished run to the webhooks: ids, outcome, times (UTC, RFC 3339), failed hosts.
/// Also for a run the sweep declared `interrupted`.
pub(super) async fn notify_finished(inner: &Inner, run_id: &str) {
    let owned_id = run_id.to_owned();
    let read = inner
        .database
        .run(move |connection| {
            let run = runs::find(connection, &owned_id)?;
            let tasks = runs::host_tasks(connection, &owned_id)?;
            Ok::<_, JobsError>((run, tasks))
        })
        .await;
    let (run, tasks) = match read {
        Ok((Some(run), tasks)) => (run, tasks),
        Ok((None, _)) => return,
        Err(error) => {
            tracing::warn!(run = run_id, %error, "cannot read a finished run for its webhooks");
            return;
        }
    };
    let time = |time: Option<chrono::NaiveDateTime>| {
        time.map(|time| {
            time.and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    let failed_hosts: Vec<serde_json::Value> = tasks
        .iter()
        .filter(|task| task.status == state::FAILED)
        .map(|task| {
            json!({"host_ip": task.host_ip, "sequence": task.sequence, "exit_code": task.exit_code, "message": task.message})
        })
        .collect();
    inner.notifier.notify(
        "execution.finished",
        json!({
            "event": "execution.finished",
            "execution_id": run.id,
            "kind": run.kind,
            "instance_id": run.instance_id,
            "application_id": run.application_id,
            "env_id": run.env_id,
            "status": run.status,
            "message": run.message,
            "started_by": run.started_by,
            "start_time": time(run.start_time),
            "end_time": time(run.end_time),
            "failed_hosts": failed_hosts,
        }),
    );
}

async fn work(
    inner: &Inner,
    run_id: &str,
    mode: Mode,
    stop: watch::Receiver<bool>,
) -> JobsResult<WorkEnd> {
    let owned_id = run_id.to_owned();
    let (run, steps) = inner
        .database
        .run(move |connection| {
            let run = runs::find(connection, &owned_id)?.ok_or(JobsError::NotRunning {
                instance_id: String::new(),
            })?;
            let steps = runs::steps(connection, &owned_id)?;
            Ok::<_, JobsError>((run, steps))
        })
        .await?;
    if rollout::rolling_back(&steps) {
        return work_rollback(inner, &run, &steps, stop).await;
    }
    let remaining = steps.iter().filter(|step| step.status != state::SUCCESS);
    // The success of the step before, written when the next one starts (or with the run's end).
    let mut succeeded: Option<StepEnd> = None;
    for (ran, step) in remaining.enumerate() {
        if mode == Mode::NextStep && ran == 1 {
            return Ok(WorkEnd::new(PAUSED, None, succeeded));
        }
        if *stop.borrow() {
            return Ok(WorkEnd::new(
                state::STOPPED,
                Some("stopped by request".to_owned()),
                succeeded,
            ));
        }
        if let Some(done) = succeeded.take() {
            step_status(inner, run_id, done).await?;
        }
        let plan = step_plan(inner, step)?;
        let attempt = if mode == Mode::Retry && ran == 0 {
            Attempt::RetryFailedHosts
        } else if step.status == state::INTERRUPTED {
            Attempt::Resume
        } else {
            Attempt::Fresh
        };
        let end = run_step(inner, &run, &plan, attempt, stop.clone()).await?;
        match &end.outcome {
            StepOutcome::Success => succeeded = Some(end),
            StepOutcome::Failed(message) => {
                let message = message.clone();
                return Ok(WorkEnd::new(state::FAILED, Some(message), Some(end)));
            }
            StepOutcome::Stopped => {
                let message = format!("stopped by request during step {}", plan.sequence);
                return Ok(WorkEnd::new(state::STOPPED, Some(message), Some(end)));
            }
            StepOutcome::RollBack(reason) => {
                let reason = reason.clone();
                return match rollout::begin_rollback(inner, &run, plan.sequence, &reason).await? {
                    Ok(()) => {
                        let owned_id = run_id.to_owned();
                        let steps = inner
                            .database
                            .run(move |connection| {
                                Ok::<_, JobsError>(runs::steps(connection, &owned_id)?)
                            })
                            .await?;
                        work_rollback(inner, &run, &steps, stop).await
                    }
                    Err(message) => Ok(WorkEnd::new(
                        state::FAILED,
                        Some(message.clone()),
                        Some(StepEnd::new(plan.sequence, StepOutcome::Failed(message))),
                    )),
                };
            }
        }
    }
    Ok(WorkEnd::new(state::SUCCESS, None, succeeded))
}

/// Runs the rollback steps of a run whose rollout failed (those not done yet: a resume picks up
/// where a dead replica stopped); the run ends `rolled_back`, or `failed` when a rollback step
/// fails.
async fn work_rollback(
    inner: &Inner,
    run: &RunRow,
    steps: &[runs::RunStepRow],
    stop: watch::Receiver<bool>,
) -> JobsResult<WorkEnd> {
    let reason = rollout::rollback_reason(steps);
    for step in steps.iter().filter(|step| {
        crate::domain::rollout::rolled_back_step(step.sequence).is_some()
            && step.status != state::SUCCESS
    }) {
        if *stop.borrow() {
            return Ok(WorkEnd::new(
                state::STOPPED,
                Some(format!(
                    "stopped by request during the rollback after: {reason}"
                )),
                None,
            ));
        }
        let plan = step_plan(inner, step)?;
        let attempt = if step.status == state::INTERRUPTED {
            Attempt::Resume
        } else {
            Attempt::Fresh
        };
        let end = run_step(inner, run, &plan, attempt, stop.clone()).await?;
        match &end.outcome {
            StepOutcome::Success => step_status(inner, &run.id, end).await?,
            StepOutcome::Failed(message) | StepOutcome::RollBack(message) => {
                let message = format!("the rollback failed: {message} (it began after: {reason})");
                return Ok(WorkEnd::new(state::FAILED, Some(message), Some(end)));
            }
            StepOutcome::Stopped => {
                let message = format!("stopped by request during the rollback after: {reason}");
                return Ok(WorkEnd::new(state::STOPPED, Some(message), Some(end)));
            }
        }
    }
    let hosts = rollout::rolled_back_hosts(inner, steps);
    Ok(WorkEnd::new(
        state::ROLLED_BACK,
        Some(format!(
            "rolled back {hosts} to the previous successful snapshot: {reason}"
        )),
        None,
    ))
}

/// The frozen plan of a run step.
fn step_plan(inner: &Inner, step: &runs::RunStepRow) -> JobsResult<StepPlan> {
    inner
        .sealer
        .open_plan(&step.snapshot)
        .map_err(|error| JobsError::Invalid {
            field: "snapshot",
            message: format!("of step {}: {error}", step.sequence),
        })
}

/// Records the end of a step that did not end the run, with its event.
async fn step_status(inner: &Inner, run_id: &str, end: StepEnd) -> JobsResult<()> {
    let owned_run = run_id.to_owned();
    let owner = inner.replica.clone();
    inner
        .events
        .record_decided(run_id, move |connection| {
            super::ensure_held(connection, &owned_run, &owner)?;
            end.write(connection, &owned_run)?;
            Ok(vec![end.event()])
        })
        .await
}

/// How a step ends that failed before any host started.
fn fail_before_hosts(sequence: i32, message: String) -> StepEnd {
    StepEnd::new(sequence, StepOutcome::Failed(message))
}

/// What a step's attempt keeps of the step's earlier attempt in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    /// Every host gets a fresh task.
    Fresh,
    /// A retry: hosts that succeeded are kept, the others run again (their logs go on).
    RetryFailedHosts,
    /// A resume of a step a vanished replica left `interrupted`: like a retry while the step
    /// still runs on the same hosts, so no host runs a step twice in one run.
    Resume,
}

async fn run_step(
    inner: &Inner,
    run: &RunRow,
    plan: &StepPlan,
    attempt: Attempt,
    mut stop: watch::Receiver<bool>,
) -> JobsResult<StepEnd> {
    let sequence = plan.sequence;
    if let Some(script) = plan.disabled_script() {
        let message = format!(
            "step {sequence} ({}) ran on no host: {} {} ({}) is disabled (not reviewed)",
            plan.method_name, script.role, script.script_name, script.file_name
        );
        // Host tasks of an earlier attempt of this step do not describe this one, except those
        // whose process group may still run on the host (their replica died): kept, so that the
        // next attempt of the step knows their keys and kills what they left before it starts.
        let owned_run = run.id.clone();
        inner
            .database
            .transaction(move |connection| {
                Ok::<_, JobsError>(runs::delete_host_tasks_of_step(
                    connection,
                    &owned_run,
                    sequence,
                    &[state::RUNNING, state::INTERRUPTED],
                )?)
            })
            .await?;
        return Ok(fail_before_hosts(sequence, message));
    }
    let owned_run = run.id.clone();
    let earlier = inner
        .database
        .run(move |connection| {
            Ok::<_, JobsError>(runs::host_tasks_of_step(connection, &owned_run, sequence)?)
        })
        .await?;
    let earlier_attempts = earlier_attempts_by_host(&earlier);
    let keeps_succeeded_hosts = !earlier.is_empty()
        && match attempt {
            Attempt::Fresh => false,
            Attempt::RetryFailedHosts => true,
            Attempt::Resume => {
                let mut earlier_hosts: Vec<&String> =
                    earlier.iter().map(|task| &task.host_ip).collect();
                let mut planned_hosts: Vec<&String> = plan.hosts.iter().collect();
                earlier_hosts.sort();
                planned_hosts.sort();
                earlier_hosts == planned_hosts
            }
        };
    let fresh = !keeps_succeeded_hosts;
    let tasks: Vec<HostTaskRow> = if keeps_succeeded_hosts {
        earlier
            .into_iter()
            .filter(|task| task.status != state::SUCCESS)
            .map(|task| HostTaskRow {
                attempt: task.attempt + 1,
                ..task
            })
            .collect()
    } else {
        plan.hosts
            .iter()
            .map(|host_ip| HostTaskRow {
                id: new_id(),
                run_id: run.id.clone(),
                sequence,
                host_ip: host_ip.clone(),
                status: state::PENDING.to_owned(),
                exit_code: None,
                message: None,
                log_size: 0,
                start_time: None,
                end_time: None,
                attempt: 0,
                artifacts_sent: 0,
                artifacts_skipped: 0,
            })
            .collect()
    };
    let rows = tasks.clone();
    let owned_run = run.id.clone();
    let owner = inner.replica.clone();
    inner
        .events
        .record(
            &run.id,
            "step",
            json!({
                "scope": "step",
                "sequence": sequence,
                "status": state::RUNNING,
                "hosts": tasks.iter().map(|task| json!({"host_task": task.id, "host_ip": task.host_ip})).collect::<Vec<_>>(),
            }),
            move |connection| {
                super::ensure_held(connection, &owned_run, &owner)?;
                if fresh {
                    runs::delete_host_tasks_of_step(connection, &owned_run, sequence, &[])?;
                    runs::insert_host_tasks(connection, &rows)?;
                } else {
                    for task in &rows {
                        runs::reset_host_task(connection, &task.id)?;
                    }
                }
                runs::set_step_status(connection, &owned_run, sequence, state::RUNNING, None, now_utc())?;
                Ok(())
            },
        )
        .await?;
    let token = inner.service_token()?;
    let connections: HashMap<String, HostConnection> = if run.use_tad_host {
        HashMap::new()
    } else {
        match inner
            .resource
            .host_connections(&token, &plan.cluster_id)
            .await
        {
            Ok(list) => list
                .into_iter()
                .map(|connection| (connection.host_ip.clone(), connection))
                .collect(),
            Err(error) => {
                let message = format!(
                    "step {sequence} ({}) ran on no host: cannot get the hosts of cluster {}: {error}",
                    plan.method_name, plan.cluster_id
                );
                return Ok(fail_before_hosts(sequence, message));
            }
        }
    };
    let mut secrets = plan.secret_values();
    secrets.extend(
        connections
            .values()
            .filter_map(|connection| connection.password.clone()),
    );
    let masker = Masker::new(secrets);
    let content = &StepContent::new(
        inner.artifact.clone(),
        token.clone(),
        usize::try_from(inner.options.parallel_uploads).unwrap_or(24),
    );
    let work = StepWork {
        inner,
        run,
        plan,
        permits: Semaphore::new(usize::try_from(inner.options.parallel_hosts).unwrap_or(20)),
        earlier_attempts,
        masker: masker.clone(),
        connections,
        token,
        content,
    };
    if let Some(rollout) = &plan.rollout {
        let outcome = match rollout::run_batches(&work, rollout, &tasks, stop).await {
            rollout::RolloutEnd::Done { stopped: true } => StepOutcome::Stopped,
            rollout::RolloutEnd::Done { stopped: false } => StepOutcome::Success,
            rollout::RolloutEnd::Over { message } => match rollout.on_failure {
                OnFailure::Stop => StepOutcome::Failed(message),
                OnFailure::Rollback => StepOutcome::RollBack(message),
            },
        };
        if matches!(outcome, StepOutcome::Success) {
            crash_point::reached(crash_point::STEP_HOSTS_SUCCEEDED);
        }
        return Ok(StepEnd::new(sequence, outcome));
    }
    let batch = match plan.batch_size {
        0 => tasks.len().max(1),
        size => usize::try_from(size).unwrap_or(usize::MAX),
    };
    let mut outcomes: Vec<(String, HostOutcome)> = Vec::with_capacity(tasks.len());
    for (index, chunk) in tasks.chunks(batch).enumerate() {
        if index > 0 && plan.batch_pause_secs > 0 {
            let pause = tokio::time::sleep(Duration::from_secs(plan.batch_pause_secs));
            tokio::select! {
                _ = pause => {}
                _ = host::stopped(&mut stop) => {}
            }
        }
        if *stop.borrow() {
            break;
        }
        let batch_outcomes = work.run_hosts(chunk, &stop).await;
        let failed = batch_outcomes
            .iter()
            .any(|(_, outcome)| matches!(outcome, HostOutcome::Failed(_)));
        outcomes.extend(batch_outcomes);
        if failed {
            break;
        }
    }
    let first_failure = plan.hosts.iter().find_map(|host_ip| {
        outcomes.iter().find_map(|(ip, outcome)| match outcome {
            HostOutcome::Failed(reason) if ip == host_ip => Some((ip.clone(), reason.clone())),
            _ => None,
        })
    });
    let stopped = *stop.borrow()
        || outcomes
            .iter()
            .any(|(_, outcome)| matches!(outcome, HostOutcome::Stopped));
    let outcome = match (first_failure, stopped) {
        (Some((host_ip, reason)), _) => StepOutcome::Failed(format!(
            "step {sequence} ({}) failed on host {host_ip}: {}",
            plan.method_name,
            masker.mask(&reason)
        )),
        (None, true) => StepOutcome::Stopped,
        (None, false) => StepOutcome::Success,
    };
    if matches!(outcome, StepOutcome::Success) {
        crash_point::reached(crash_point::STEP_HOSTS_SUCCEEDED);
    }
    Ok(StepEnd::new(sequence, outcome))
}

/// What the hosts of one step share while they run.
pub(super) struct StepWork<'a> {
    inner: &'a Inner,
    run: &'a RunRow,
    pub(super) plan: &'a StepPlan,
    permits: Semaphore,
    earlier_attempts: HashMap<String, Vec<String>>,
    pub(super) masker: Masker,
    connections: HashMap<String, HostConnection>,
    token: String,
    content: &'a StepContent,
}

impl StepWork<'_> {
    /// Runs the host tasks `tasks` in parallel (up to the limit); answers each host's outcome.
    pub(super) async fn run_hosts(
        &self,
        tasks: &[HostTaskRow],
        stop: &watch::Receiver<bool>,
    ) -> Vec<(String, HostOutcome)> {
        join_all(tasks.iter().map(|task| async move {
            let Ok(_permit) = self.permits.acquire().await else {
                return (task.host_ip.clone(), HostOutcome::Skipped);
            };
            let earlier = self
                .earlier_attempts
                .get(&task.host_ip)
                .cloned()
                .unwrap_or_default();
            let outcome = host::run_host_task(
                self.inner,
                self.run,
                self.plan,
                task,
                self.connections.get(&task.host_ip),
                earlier,
                self.masker.clone(),
                stop.clone(),
                &self.token,
                self.content,
            )
            .await;
            (task.host_ip.clone(), outcome)
        }))
        .await
    }

    /// Records an event of the run.
    pub(super) async fn event(&self, kind: &str, payload: serde_json::Value) {
        if let Err(error) = self
            .inner
            .events
            .record(&self.run.id, kind, payload, |_| Ok(()))
            .await
        {
            tracing::warn!(run = %self.run.id, %error, "cannot record a {kind} event");
        }
    }

    /// Posts `payload` to the webhooks as `event`, with the run's ids.
    pub(super) fn notify(&self, event: &'static str, mut payload: serde_json::Value) {
        payload["event"] = json!(event);
        payload["execution_id"] = json!(self.run.id);
        payload["instance_id"] = json!(self.run.instance_id);
        payload["application_id"] = json!(self.run.application_id);
        payload["env_id"] = json!(self.run.env_id);
        self.inner.notifier.notify(event, payload);
    }
}

pub(in crate::execution) use rollout::rolling_back;

/// The hosts of each batch of a step, in the plan's host order: the rollout's batches, else
/// `batch_size` hosts each (all in one when 0).
pub(crate) fn host_batches(plan: &StepPlan) -> Vec<Vec<String>> {
    match &plan.rollout {
        Some(rollout) => {
            let mut start = 0;
            rollout
                .batch_ends(plan.hosts.len())
                .into_iter()
                .map(|end| {
                    let batch = plan.hosts[start..end].to_vec();
                    start = end;
                    batch
                })
                .collect()
        }
        None => {
            let size = match plan.batch_size {
                0 => plan.hosts.len().max(1),
                size => usize::try_from(size).unwrap_or(usize::MAX),
            };
            plan.hosts.chunks(size).map(<[String]>::to_vec).collect()
        }
    }
}

/// The keys of the earlier attempts of a step that may still run (or have left the mark of
/// their final command) on each host: every attempt so far of each task that started and did not
/// succeed (an attempt that succeeded ended its process group itself). Every attempt, not only
/// the latest: a service that died after it made a task's next attempt, but before that attempt
/// reaped the one before, leaves the earlier attempt's orphan to the resume.
fn earlier_attempts_by_host(earlier: &[HostTaskRow]) -> HashMap<String, Vec<String>> {
    let mut keys: HashMap<String, Vec<String>> = HashMap::new();
    for task in earlier.iter().filter(|task| {
        ![state::SUCCESS, state::PENDING, state::SKIPPED].contains(&task.status.as_str())
    }) {
        keys.entry(task.host_ip.clone())
            .or_default()
            .extend(task.attempt_keys());
    }
    keys
}
