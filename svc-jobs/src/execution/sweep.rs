//! The sweeper: settles the runs and joint runs whose owner's lease expired (the replica that
//! worked them died). A run whose every step succeeded ends `success` (its owner died after the
//! work, before writing the end); a step whose every host succeeded counts as succeeded; the
//! rest is marked `interrupted`, so 6.1 resumes from the first unfinished step. An interrupted
//! rollback (of a failed rollout) is resumed by the sweep itself.

use common::time::now_utc;
use serde_json::{Value, json};

use super::{Engine, existing_instance, joint, runner};
use crate::{
    db::models::{
        instances::{self, InstanceRow},
        joint_runs,
        runs::{self, INTERRUPTED_MESSAGE, RunRow, state},
    },
    domain::{
        JobsError, JobsResult,
        audit::{self, NewEvent, Origin},
    },
};

/// Settles every run and joint run whose owner's lease expired (each at most once, by one
/// replica).
pub(super) async fn sweep_expired(engine: &Engine) -> JobsResult<()> {
    let inner = &engine.inner;
    let expired = inner
        .database
        .run(|connection| Ok::<_, JobsError>(runs::expired(connection, now_utc())?))
        .await?;
    for run in expired {
        let settled = run.clone();
        let result = inner
            .events
            .record_decided(&run.id, move |connection| {
                settle_expired(connection, &settled)
            })
            .await;
        match result {
            Ok(()) => {
                tracing::warn!(run = %run.id, owner = ?run.owner, "execution settled: its owner's lease expired");
                runner::notify_finished(inner, &run.id).await;
            }
            // Renewed or taken by another replica meanwhile.
            Err(JobsError::NotRunning { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    // After the runs: a joint run whose node runs all succeeded ends `success` at once.
    let joint = inner
        .database
        .transaction(|connection| {
            let settled = joint_runs::settle_expired(connection, now_utc())?;
            for (id, status) in &settled {
                if *status == state::INTERRUPTED {
                    let event = NewEvent::new(
                        &Origin::system(),
                        "execution.interrupted",
                        "joint_execution",
                        id,
                    )
                    .change(audit::Change::new(
                        "status",
                        Some(state::RUNNING),
                        Some(state::INTERRUPTED),
                    ));
                    audit::append(connection, event)?;
                }
            }
            Ok::<_, JobsError>(settled)
        })
        .await?;
    if !joint.is_empty() {
        inner
            .events
            .reads()
            .changed(&[crate::domain::JOINT_RUNS_SCOPE])
            .await;
    }
    for (id, _) in joint {
        tracing::warn!(joint_run = %id, "joint execution settled: its owner's lease expired");
        joint::notify_joint_finished(engine, &id).await;
    }
    Ok(())
}

/// Settles one run whose lease expired, in the caller's transaction, and answers the events
/// that tell what it did: steps still `running` whose every host task succeeded are
/// `success`; then the run is `success` when every step is, else `interrupted` (recorded in
/// the audit trail as `execution.interrupted`, by the system).
fn settle_expired(
    connection: &mut common::db::DbConnection,
    run: &runs::RunRow,
) -> JobsResult<Vec<(String, Value)>> {
    let (run_id, instance_id) = (run.id.as_str(), run.instance_id.as_str());
    let now = now_utc();
    let tasks = runs::host_tasks(connection, run_id)?;
    let mut events = Vec::new();
    let mut all_succeeded = true;
    for step in runs::steps(connection, run_id)? {
        if step.status == state::SUCCESS {
            continue;
        }
        let mut own = tasks
            .iter()
            .filter(|task| task.sequence == step.sequence)
            .peekable();
        let hosts_succeeded = own.peek().is_some() && own.all(|task| task.status == state::SUCCESS);
        if step.status == state::RUNNING && hosts_succeeded {
            runs::set_step_status(connection, run_id, step.sequence, state::SUCCESS, None, now)?;
            events.push((
                "step".to_owned(),
                json!({"scope": "step", "sequence": step.sequence, "status": state::SUCCESS, "message": null}),
            ));
        } else {
            all_succeeded = false;
        }
    }
    let (status, message) = if all_succeeded {
        if !runs::succeed_expired(connection, run_id, now)? {
            return Err(not_running(instance_id));
        }
        (state::SUCCESS, None)
    } else {
        if !runs::interrupt_expired(connection, run_id, now)? {
            return Err(not_running(instance_id));
        }
        let event = NewEvent::new(
            &Origin::system(),
            "execution.interrupted",
            "execution",
            run_id,
        )
        .app(Some(&run.application_id))
        .env(Some(&run.env_id))
        .change(audit::Change::new(
            "status",
            Some(state::RUNNING),
            Some(state::INTERRUPTED),
        ));
        audit::append(connection, event)?;
        (state::INTERRUPTED, Some(INTERRUPTED_MESSAGE))
    };
    let latest = runs::latest_of_instance(connection, instance_id)?;
    if latest.is_some_and(|latest| latest.id == run_id) {
        instances::set_status(connection, instance_id, status)?;
    }
    events.push((
        "run".to_owned(),
        json!({"scope": "run", "status": status, "message": message}),
    ));
    Ok(events)
}

fn not_running(instance_id: &str) -> JobsError {
    JobsError::NotRunning {
        instance_id: instance_id.to_owned(),
    }
}

impl Engine {
    /// Every replica's sweep resumes the rollbacks a dead replica left `interrupted` (a
    /// rollback restores what ran before: it does not wait for someone to ask); the claim lets
    /// one replica take each.
    pub(super) async fn resume_interrupted_rollbacks(&self) -> JobsResult<()> {
        if self
            .inner
            .draining
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return Ok(());
        }
        let base = crate::domain::rollout::rollback_sequence(
            i32::try_from(common::limits::MAX_SEQUENCE).unwrap_or(i32::MAX),
        );
        let runs = self
            .inner
            .database
            .run(move |connection| {
                let mut found: Vec<(InstanceRow, RunRow)> = Vec::new();
                for step in runs::unfinished_steps_from(connection, base)? {
                    if found.iter().any(|(_, run)| run.id == step.run_id) {
                        continue;
                    }
                    let Some(run) = runs::find(connection, &step.run_id)? else {
                        continue;
                    };
                    if run.status == state::INTERRUPTED {
                        found.push((existing_instance(connection, &run.instance_id)?, run));
                    }
                }
                Ok::<_, JobsError>(found)
            })
            .await?;
        for (instance, run) in runs {
            let audit = Some((Origin::system(), "execution.resume"));
            let started_by = run.started_by.clone();
            match self
                .resume_rollback(instance, &run, &started_by, audit, None)
                .await
            {
                Ok(_) | Err(JobsError::RunActive { .. }) => {}
                Err(error) => {
                    tracing::warn!(run = %run.id, %error, "cannot resume an interrupted rollback");
                }
            }
        }
        Ok(())
    }
}
