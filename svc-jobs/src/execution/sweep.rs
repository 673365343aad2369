//! The sweeper: settles the runs and joint runs whose owner's lease expired (the replica that
//! worked them died). A run whose every step succeeded ends `success` (its owner died after the
//! work, before writing the end); a step whose every host succeeded counts as succeeded; the
//! rest is marked `interrupted`, so 6.1 resumes from the first unfinished step.

use common::time::now_utc;
use serde_json::{Value, json};

use super::{Engine, joint, runner};
use crate::{
    db::models::{
        instances, joint_runs,
        runs::{self, INTERRUPTED_MESSAGE, state},
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
