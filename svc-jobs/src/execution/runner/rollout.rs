//! A step's health-gated progressive rollout and the rollback it may end in. The batches follow
//! the plan's host order; a host counts as done once its deploy and its health check passed.
//! Past `max_failed_hosts` no further batch starts. A rollback is written as extra run steps
//! (sequences from [`rollout::ROLLBACK_SEQUENCE_BASE`] down, one per step the run touched, each the
//! previous successful snapshot of that step on the hosts this run touched), so a replica that
//! dies during it leaves them to a resume like any step; the run then ends `rolled_back`.

use std::time::Duration;

use common::time::now_utc;
use serde_json::json;
use tokio::sync::watch;

use super::StepWork;
use crate::execution::{
    Inner,
    host::{self, HostOutcome},
    plan::{StepPlan, refresh_reviews},
};
use crate::{
    db::models::runs::{self, HostTaskRow, RunRow, RunStepRow, state},
    domain::{
        JobsError, JobsResult,
        audit::{self, NewEvent, Origin},
        rollout::{self, Rollout},
    },
};

/// How a rollout's batches ended.
pub(super) enum RolloutEnd {
    /// Every batch ran (failures within the limit), or a stop ended it early.
    Done { stopped: bool },
    /// More hosts failed than allowed: no further batch started (the reason, masked).
    Over { message: String },
}

/// Runs the step's hosts batch after batch; `tasks` are the host tasks still to run (a resume
/// keeps those that succeeded).
pub(super) async fn run_batches(
    work: &StepWork<'_>,
    rollout: &Rollout,
    tasks: &[HostTaskRow],
    mut stop: watch::Receiver<bool>,
) -> RolloutEnd {
    let plan = work.plan;
    let batches = super::host_batches(plan);
    let count = batches.len();
    let limit = rollout.max_failed(plan.hosts.len());
    let mut failed: Vec<(String, String)> = Vec::new();
    let mut ran_before = false;
    for (index, hosts) in batches.iter().enumerate() {
        let pending: Vec<HostTaskRow> = tasks
            .iter()
            .filter(|task| hosts.contains(&task.host_ip))
            .cloned()
            .collect();
        if pending.is_empty() {
            continue;
        }
        if ran_before && rollout.pause_seconds > 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(rollout.pause_seconds)) => {}
                _ = host::stopped(&mut stop) => {}
            }
        }
        if *stop.borrow() {
            return RolloutEnd::Done { stopped: true };
        }
        let batch = json!({"scope": "batch", "sequence": plan.sequence, "batch": index + 1,
            "batches": count, "hosts": hosts, "status": state::RUNNING});
        work.event("batch", batch.clone()).await;
        work.notify("execution.batch", batch);
        let outcomes = work.run_hosts(&pending, &stop).await;
        ran_before = true;
        let mut failed_here = Vec::new();
        for (host_ip, outcome) in &outcomes {
            if let HostOutcome::Failed(reason) = outcome {
                failed_here.push(host_ip.clone());
                failed.push((host_ip.clone(), work.masker.mask(reason)));
            }
        }
        let stopped = outcomes
            .iter()
            .any(|(_, outcome)| matches!(outcome, HostOutcome::Stopped));
        let status = if failed_here.is_empty() {
            state::SUCCESS
        } else {
            state::FAILED
        };
        let batch = json!({"scope": "batch", "sequence": plan.sequence, "batch": index + 1,
            "batches": count, "hosts": hosts, "status": status, "failed_hosts": failed_here,
            "failed_so_far": failed.len(), "max_failed_hosts": limit});
        work.event("batch", batch.clone()).await;
        work.notify("execution.batch", batch);
        if failed.len() > limit {
            let hosts: Vec<String> = failed
                .iter()
                .map(|(host_ip, reason)| format!("{host_ip} ({reason})"))
                .collect();
            let later = match count - (index + 1) {
                0 => String::new(),
                1 => format!("; batch {count} did not start"),
                _ => format!("; batches {} to {count} did not start", index + 2),
            };
            return RolloutEnd::Over {
                message: format!(
                    "step {} ({}) rollout stopped after batch {} of {count}: {} of {} hosts failed, more than max_failed_hosts {}{later}: {}",
                    plan.sequence,
                    plan.method_name,
                    index + 1,
                    failed.len(),
                    plan.hosts.len(),
                    rollout.describe_limit(),
                    hosts.join("; ")
                ),
            };
        }
        if stopped || *stop.borrow() {
            return RolloutEnd::Done { stopped: true };
        }
    }
    RolloutEnd::Done { stopped: false }
}

/// Whether the run's steps show a rollback (its rollback steps were written).
pub(in crate::execution) fn rolling_back(steps: &[RunStepRow]) -> bool {
    steps
        .iter()
        .any(|step| rollout::rolled_back_step(step.sequence).is_some())
}

/// Writes the rollback of `run` after step `failed_sequence` failed its rollout (`reason`): the
/// failed step ends `failed`, later steps `skipped`, and one rollback step per step this run
/// touched is added with the previous successful snapshot of that step limited to the hosts
/// the run touched. Answers `Err(message)` (nothing written) when there is nothing to roll back
/// to: the step then just fails with that message.
pub(super) async fn begin_rollback(
    inner: &Inner,
    run: &RunRow,
    failed_sequence: i32,
    reason: &str,
) -> JobsResult<Result<(), String>> {
    let run_id = run.id.clone();
    let instance_id = run.instance_id.clone();
    let (steps, tasks, previous) = inner
        .database
        .run(move |connection| {
            let steps = runs::steps(connection, &run_id)?;
            let tasks = runs::host_tasks(connection, &run_id)?;
            let previous = runs::successful_of_instance(connection, &instance_id)?
                .into_iter()
                .find(|earlier| earlier.id != run_id);
            let previous_steps = match &previous {
                Some(earlier) => Some((earlier.id.clone(), runs::steps(connection, &earlier.id)?)),
                None => None,
            };
            Ok::<_, JobsError>((steps, tasks, previous_steps))
        })
        .await?;
    let Some((previous_id, previous_steps)) = previous else {
        return Ok(Err(format!(
            "{reason}; not rolled back: the instance has no earlier successful execution"
        )));
    };
    let mut plans = Vec::new();
    let mut rolled = Vec::new();
    for step in steps.iter().filter(|step| {
        step.sequence <= failed_sequence && rollout::rolled_back_step(step.sequence).is_none()
    }) {
        let touched: Vec<&String> = tasks
            .iter()
            .filter(|task| {
                task.sequence == step.sequence
                    && ![state::PENDING, state::SKIPPED].contains(&task.status.as_str())
            })
            .map(|task| &task.host_ip)
            .collect();
        if touched.is_empty() {
            continue;
        }
        let Some(before) = previous_steps.iter().find(|earlier| {
            earlier.sequence == step.sequence && earlier.method_id == step.method_id
        }) else {
            continue;
        };
        let before: StepPlan =
            inner
                .sealer
                .open_plan(&before.snapshot)
                .map_err(|error| JobsError::Invalid {
                    field: "snapshot",
                    message: format!(
                        "of step {} of execution {previous_id}: {error}",
                        before.sequence
                    ),
                })?;
        let hosts: Vec<String> = before
            .hosts
            .iter()
            .filter(|host_ip| touched.contains(host_ip))
            .cloned()
            .collect();
        if hosts.is_empty() {
            continue;
        }
        rolled.push(format!("{} (step {})", hosts.join(", "), step.sequence));
        plans.push(StepPlan {
            sequence: rollout::rollback_sequence(step.sequence),
            hosts,
            rollout: None,
            batch_size: 0,
            batch_pause_secs: 0,
            rollback_of: Some(step.sequence),
            ..before
        });
    }
    if plans.is_empty() {
        return Ok(Err(format!(
            "{reason}; not rolled back: execution {previous_id} deployed none of the hosts this run touched"
        )));
    }
    // Only what is reviewed now runs, a rollback too: one whose script lost its review is not
    // started at all (rather than restore some steps and fail on that one).
    let reviewed = match inner.service_token() {
        Ok(token) => refresh_reviews(&inner.artifact, &token, &mut plans).await,
        Err(error) => Err(error),
    };
    if let Err(error) = reviewed {
        return Ok(Err(format!(
            "{reason}; not rolled back: cannot read whether the scripts of execution {previous_id} are still reviewed: {error}"
        )));
    }
    if let Some(script) = plans.iter().find_map(StepPlan::disabled_script) {
        return Ok(Err(format!(
            "{reason}; not rolled back: {} {} ({}) of execution {previous_id} is no longer reviewed",
            script.role, script.script_name, script.file_name
        )));
    }
    let mut rows = Vec::with_capacity(plans.len());
    for plan in &plans {
        rows.push(RunStepRow {
            run_id: run.id.clone(),
            sequence: plan.sequence,
            component_id: plan.component_id.clone(),
            method_id: plan.method_id.clone(),
            cluster_id: plan.cluster_id.clone(),
            snapshot: inner.sealer.seal_plan(plan)?,
            status: state::PENDING.to_owned(),
            message: None,
            start_time: None,
            end_time: None,
        });
    }
    let owned_run = run.id.clone();
    let owned_reason = reason.to_owned();
    let later: Vec<i32> = steps
        .iter()
        .filter(|step| step.sequence > failed_sequence && step.status == state::PENDING)
        .map(|step| step.sequence)
        .collect();
    let rolled_text = rolled.join("; ");
    let (application_id, env_id) = (run.application_id.clone(), run.env_id.clone());
    let owner = inner.replica.clone();
    inner
        .events
        .record_decided(&run.id, move |connection| {
            crate::execution::ensure_held(connection, &owned_run, &owner)?;
            let now = now_utc();
            runs::skip_pending_host_tasks(connection, &owned_run, failed_sequence, now)?;
            runs::set_step_status(
                connection,
                &owned_run,
                failed_sequence,
                state::FAILED,
                Some(&owned_reason),
                now,
            )?;
            let mut events = vec![(
                "step".to_owned(),
                json!({"scope": "step", "sequence": failed_sequence, "status": state::FAILED, "message": owned_reason}),
            )];
            for sequence in &later {
                runs::set_step_status(connection, &owned_run, *sequence, state::SKIPPED, None, now)?;
                events.push((
                    "step".to_owned(),
                    json!({"scope": "step", "sequence": sequence, "status": state::SKIPPED, "message": null}),
                ));
            }
            runs::insert_steps(connection, &rows)?;
            let event = NewEvent::new(
                &Origin::system(),
                "execution.auto_rollback",
                "execution",
                &owned_run,
            )
            .app(Some(&application_id))
            .env(Some(&env_id))
            .change(audit::created("rolled_back_to", &previous_id))
            .change(audit::created("hosts", &rolled_text))
            .change(audit::created("reason", &owned_reason));
            audit::append(connection, event)?;
            events.push((
                "rollback".to_owned(),
                json!({"scope": "rollback", "status": state::RUNNING, "to_execution": previous_id,
                       "hosts": rolled_text, "message": owned_reason}),
            ));
            Ok(events)
        })
        .await?;
    Ok(Ok(()))
}

/// The reason a run rolls back: the message of the step whose rollout failed.
pub(super) fn rollback_reason(steps: &[RunStepRow]) -> String {
    steps
        .iter()
        .filter(|step| {
            rollout::rolled_back_step(step.sequence).is_none() && step.status == state::FAILED
        })
        .find_map(|step| step.message.clone())
        .unwrap_or_else(|| "a rollout failed".to_owned())
}

/// The hosts the rollback steps give their previous snapshot again, as the run's end says.
pub(super) fn rolled_back_hosts(inner: &Inner, steps: &[RunStepRow]) -> String {
    let mut parts = Vec::new();
    for step in steps {
        let Some(of) = rollout::rolled_back_step(step.sequence) else {
            continue;
        };
        if let Ok(plan) = inner.sealer.open_plan(&step.snapshot) {
            parts.push(format!("{} (step {of})", plan.hosts.join(", ")));
        }
    }
    parts.join("; ")
}
