//! What the engine answers about runs: an instance's run history, a run's tree, a host task's
//! log and the event stream of a run.

use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;

use super::{Engine, LogChunk, RunTree, events, existing_instance, existing_run, plan};
use crate::{
    db::models::runs::{self, EventRow, RunRow, state},
    domain::{JobsError, JobsResult, RecordKind},
};

/// How often a stream retries a failed read of its run's events before it reports the error.
const WATCH_READ_RETRIES: u32 = 5;

/// Largest log answer, in bytes.
const LOG_ANSWER_MAX: usize = 256 * 1024;

impl Engine {
    /// `GET /api/app/jobinstance/{id}/executions`: one page of the instance's runs, newest first,
    /// each with the artifact versions of its snapshot.
    pub async fn history(
        &self,
        instance_id: &str,
        offset: i64,
        limit: i64,
    ) -> JobsResult<(i64, Vec<(RunRow, Vec<plan::ArtifactPlan>)>)> {
        let owned_id = instance_id.to_owned();
        let sealer = self.inner.sealer.clone();
        self.inner
            .database
            .run(move |connection| {
                existing_instance(connection, &owned_id)?;
                let (count, rows) = runs::page_of_instance(connection, &owned_id, offset, limit)?;
                let mut page = Vec::with_capacity(rows.len());
                for run in rows {
                    let mut artifacts = Vec::new();
                    for step in runs::steps(connection, &run.id)? {
                        if let Ok(plan) = sealer.open_plan(&step.snapshot) {
                            for artifact in plan.artifacts {
                                if !artifacts.iter().any(|known: &plan::ArtifactPlan| {
                                    known.file_id == artifact.file_id
                                }) {
                                    artifacts.push(artifact);
                                }
                            }
                        }
                    }
                    page.push((run, artifacts));
                }
                Ok((count, page))
            })
            .await
    }

    /// A run with its steps and host tasks.
    pub async fn tree(&self, run_id: &str) -> JobsResult<RunTree> {
        let owned_id = run_id.to_owned();
        let sealer = self.inner.sealer.clone();
        self.inner
            .database
            .run(move |connection| {
                let run = existing_run(connection, &owned_id)?;
                let steps = runs::steps(connection, &owned_id)?
                    .into_iter()
                    .map(|step| {
                        let plan = sealer.open_plan(&step.snapshot).ok();
                        (step, plan)
                    })
                    .collect();
                let host_tasks = runs::host_tasks(connection, &owned_id)?;
                Ok(RunTree {
                    run,
                    steps,
                    host_tasks,
                })
            })
            .await
    }

    /// A piece of a host task's log from byte `offset`.
    pub async fn log(&self, run_id: &str, host_task_id: &str, offset: u64) -> JobsResult<LogChunk> {
        let owned_run = run_id.to_owned();
        let owned_task = host_task_id.to_owned();
        let start = i64::try_from(offset).unwrap_or(i64::MAX);
        let (task, chunks) = self
            .inner
            .database
            .run(move |connection| {
                existing_run(connection, &owned_run)?;
                let task = runs::find_host_task(connection, &owned_task)?
                    .filter(|task| task.run_id == owned_run)
                    .ok_or(JobsError::NotFound {
                        kind: RecordKind::HostTask,
                        id: owned_task.clone(),
                    })?;
                let chunks = runs::log_chunks_from(connection, &owned_task, start, 64)?;
                Ok::<_, JobsError>((task, chunks))
            })
            .await?;
        let mut text: Vec<u8> = Vec::new();
        let mut next = start.min(task.log_size);
        for chunk in chunks {
            let chunk_start = chunk.log_offset.unwrap_or(0);
            let bytes = chunk.payload.as_bytes();
            let chunk_end = chunk_start + i64::try_from(bytes.len()).unwrap_or(0);
            if chunk_end <= next {
                // Wholly before the offset asked for (the query takes every chunk that may hold it).
                continue;
            }
            if chunk_start > next || text.len() >= LOG_ANSWER_MAX {
                break;
            }
            let skip = usize::try_from(next - chunk_start)
                .unwrap_or(0)
                .min(bytes.len());
            text.extend_from_slice(&bytes[skip..]);
            next = chunk_end;
        }
        let finished = !matches!(task.status.as_str(), state::PENDING | state::RUNNING);
        Ok(LogChunk {
            host_task_id: task.id,
            offset,
            next_offset: u64::try_from(next).unwrap_or(0),
            text: String::from_utf8_lossy(&text).into_owned(),
            done: finished && next >= task.log_size,
        })
    }

    /// The run's events after `after_seq`, then live ones until the run has ended and every
    /// event was sent. Each event is sent once, in order.
    pub async fn watch(
        &self,
        run_id: &str,
        after_seq: u64,
    ) -> JobsResult<mpsc::Receiver<JobsResult<EventRow>>> {
        let inner = self.inner.clone();
        let owned_id = run_id.to_owned();
        inner
            .database
            .run(move |connection| existing_run(connection, &owned_id))
            .await?;
        // Subscribe before reading, so nothing announced in between is missed.
        let wakeups = inner
            .events
            .bus()
            .subscribe(&events::topic(run_id))
            .await
            .map_err(|error| JobsError::Invalid {
                field: "events",
                message: format!("cannot follow the run's events: {error}"),
            })?;
        let (sender, receiver) = mpsc::channel(64);
        let run_id = run_id.to_owned();
        tokio::spawn(async move {
            let mut last = i64::try_from(after_seq).unwrap_or(i64::MAX);
            let mut wakeups = Some(wakeups);
            let mut failures = 0_u32;
            loop {
                let owned_id = run_id.clone();
                // The run's status is read BEFORE its events: the final status and the final
                // event are committed together, so a status read as ended guarantees that the
                // events read next include the final one. (Read after the events, an end
                // committed between the two reads closed the stream without its final event.)
                let read = inner
                    .database
                    .run(move |connection| {
                        let run = runs::find(connection, &owned_id)?;
                        let rows = runs::events_after(connection, &owned_id, last, 500)?;
                        Ok::<_, JobsError>((rows, run))
                    })
                    .await;
                let (rows, run) = match read {
                    Ok(read) => {
                        failures = 0;
                        read
                    }
                    Err(error) if failures < WATCH_READ_RETRIES => {
                        failures += 1;
                        tracing::warn!(run = %run_id, %error, attempt = failures, "cannot read the run's events; retrying");
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(failures))).await;
                        continue;
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error)).await;
                        return;
                    }
                };
                let caught_up = rows.len() < 500;
                for row in rows {
                    last = row.seq;
                    if sender.send(Ok(row)).await.is_err() {
                        return;
                    }
                }
                let ended = run
                    .map(|run| run.status != state::RUNNING && run.status != state::PENDING)
                    .unwrap_or(true);
                if caught_up && ended {
                    return;
                }
                if caught_up {
                    let woken = async {
                        match wakeups.as_mut() {
                            Some(stream) => stream.next().await,
                            None => std::future::pending().await,
                        }
                    };
                    tokio::select! {
                        woken = woken => if woken.is_none() {
                            // The bus connection ended: poll the database from now on.
                            wakeups = None;
                        },
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = sender.closed() => return,
                    }
                }
            }
        });
        Ok(receiver)
    }
}
