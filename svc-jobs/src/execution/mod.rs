//! The execution engine (SPEC §5): starts runs of instances (6.1 all remaining steps, 6.2 the
//! next one), stops them (6.3), keeps each run's lease while it works, marks runs whose owner
//! vanished `interrupted`, and answers run trees, logs and event streams. The run store is
//! `db::models::runs`; a run's steps and host tasks are worked by `runner` and `host` through
//! the transport port.

pub mod approval;
mod content;
mod crash_point;
pub mod dry_run;
pub mod events;
mod host;
pub mod idempotency;
pub mod joint;
pub mod joint_plan;
mod launch;
mod lease;
pub mod plan;
mod reads;
mod runner;
pub mod schedules;
pub mod shell;
mod sweep;
pub mod transport;
pub mod webhooks;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use common::{
    auth::{INTERNAL_ROLE, JwtKeys},
    bus::SharedBus,
    config::ExecutionOptions,
    db::{Database, DbConnection, DbError},
    ids::new_id,
    read_cache::ReadCache,
    time::now_utc,
};
use tokio::sync::watch;

use crate::{
    artifact::ArtifactDirectory,
    db::models::runs::{self, HostTaskRow, RunRow, RunStepRow, state},
    domain::{
        JobsError, JobsResult, RecordKind,
        audit::{self, NewEvent, Origin},
        existing_instance,
    },
    resource::ResourceDirectory,
    sealed::Sealer,
};
use events::EventLog;
use plan::StepPlan;

/// Run status of a run that stopped after 6.2 ran its one step, with steps left to run.
pub const PAUSED: &str = "paused";

/// Which steps a start runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 6.1: every step not yet succeeded.
    All,
    /// 6.2: the next step only.
    NextStep,
    /// Retry: the failed hosts of the failed step, then the remaining steps.
    Retry,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub status: String,
    /// The first failure, naming its host and step.
    pub message: Option<String>,
}

impl RunEnd {
    /// Whether the work asked for succeeded (6.2's one step counts).
    pub fn succeeded(&self) -> bool {
        self.status == state::SUCCESS || self.status == PAUSED
    }
}

/// A started run; [`Started::wait`] holds until it ends.
pub struct Started {
    pub run_id: String,
    finished: Finished,
}

/// How the end of a started run is learnt.
enum Finished {
    /// From the task working it in this process.
    Here(watch::Receiver<Option<RunEnd>>),
    /// From its row, read every [`STORED_END_POLL`] (a run a repeated idempotency key names,
    /// perhaps worked by another replica); `joint` for a joint run.
    Stored { database: Database, joint: bool },
}

/// How often the end of a run worked elsewhere is read.
const STORED_END_POLL: Duration = Duration::from_millis(250);

impl Started {
    /// A run this process works, ending through `finished`.
    fn here(run_id: String, finished: watch::Receiver<Option<RunEnd>>) -> Started {
        Started {
            run_id,
            finished: Finished::Here(finished),
        }
    }

    /// A run (or joint run) already started, whose end is read from the database.
    fn stored(run_id: String, database: Database, joint: bool) -> Started {
        Started {
            run_id,
            finished: Finished::Stored { database, joint },
        }
    }

    pub async fn wait(self) -> RunEnd {
        match self.finished {
            Finished::Here(mut finished) => loop {
                if let Some(end) = finished.borrow().clone() {
                    return end;
                }
                if finished.changed().await.is_err() {
                    return finished.borrow().clone().unwrap_or(RunEnd {
                        status: state::INTERRUPTED.to_owned(),
                        message: Some("the run's worker stopped".to_owned()),
                    });
                }
            },
            Finished::Stored { database, joint } => loop {
                let run_id = self.run_id.clone();
                let row = database
                    .run(move |connection| {
                        Ok::<_, JobsError>(if joint {
                            crate::db::models::joint_runs::find(connection, &run_id)?
                                .map(|run| (run.status, run.message))
                        } else {
                            runs::find(connection, &run_id)?.map(|run| (run.status, run.message))
                        })
                    })
                    .await;
                match row {
                    Ok(Some((status, message)))
                        if status != state::RUNNING && status != state::PENDING =>
                    {
                        return RunEnd { status, message };
                    }
                    Ok(Some(_)) | Err(_) => tokio::time::sleep(STORED_END_POLL).await,
                    Ok(None) => {
                        return RunEnd {
                            status: state::INTERRUPTED.to_owned(),
                            message: Some(format!("execution {} no longer exists", self.run_id)),
                        };
                    }
                }
            },
        }
    }
}

/// A run worked by this process.
struct ActiveRun {
    stop: watch::Sender<bool>,
    /// Until when this replica may act on it (see [`lease::HeldUntil`]).
    held_until: lease::HeldUntil,
}

/// Everything the engine's tasks share.
pub(crate) struct Inner {
    pub database: Database,
    pub resource: ResourceDirectory,
    pub artifact: ArtifactDirectory,
    pub events: EventLog,
    pub jwt: JwtKeys,
    pub options: ExecutionOptions,
    pub ssh_timeout: Duration,
    /// This process's name as a run owner.
    pub replica: String,
    pub notifier: webhooks::Notifier,
    /// Set on shutdown: no new run starts here; runs still working end `interrupted`.
    pub draining: std::sync::atomic::AtomicBool,
    active: Mutex<HashMap<String, ActiveRun>>,
    when_idle: Option<IdleHook>,
    /// Seals the run snapshots (and opens them) with the credential key.
    pub sealer: Sealer,
}

impl Inner {
    /// A token for the engine's own calls to the other services (host secrets need `internal`;
    /// file downloads and renders need `operator`).
    pub fn service_token(&self) -> JobsResult<String> {
        self.jwt
            .issue(
                "service:jobs",
                &[INTERNAL_ROLE.to_owned(), "operator".to_owned()],
                Duration::from_secs(3600),
            )
            .map(|issued| issued.token)
            .map_err(|error| JobsError::Unauthenticated(error.to_string()))
    }

    /// Whether this replica may still start something on a host for run `run_id` (it works the
    /// run and its lease may be counted on).
    pub(crate) fn may_act_on(&self, run_id: &str) -> bool {
        let active = self
            .active
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        active.get(run_id).is_some_and(|run| run.held_until.holds())
    }

    pub fn lease_until(&self) -> chrono::NaiveDateTime {
        now_utc() + chrono::Duration::seconds(i64::try_from(self.options.lease_secs).unwrap_or(30))
    }

    /// Extends this replica's lease on the run `id` with `renew` (the run or joint run query:
    /// id, owner, until), answering what it answered. A write: it takes the writers' turn like
    /// every other (on SQLite, a write outside it made a concurrent read-then-write transaction,
    /// e.g. a log append, fail as busy).
    pub(crate) async fn renew_lease<T: Send + 'static>(
        &self,
        id: &str,
        renew: fn(&mut DbConnection, &str, &str, chrono::NaiveDateTime) -> diesel::QueryResult<T>,
    ) -> Result<T, DbError> {
        let owner = self.replica.clone();
        let until = self.lease_until();
        let id = id.to_owned();
        self.database
            .transaction(move |connection| {
                renew(connection, &id, &owner, until).map_err(DbError::Query)
            })
            .await
    }
}

/// How the engine works: the `[execution]` options, the SSH connect timeout, and the key that
/// signs webhooks (none: webhooks are not sent).
#[derive(Clone)]
pub struct EngineSettings {
    pub options: ExecutionOptions,
    pub ssh_timeout: Duration,
    pub webhook_key: Option<Vec<u8>>,
    /// Called when a run ends and no other run is active in this process (the `tad` binary
    /// hands the memory the run freed back to the system).
    pub when_idle: Option<IdleHook>,
    /// Seals parameter values and run snapshots at rest (the credential key).
    pub sealer: Sealer,
}

/// See [`EngineSettings::when_idle`].
pub type IdleHook = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for EngineSettings {
    /// Never shows the webhook key.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("EngineSettings")
            .field("options", &self.options)
            .field("ssh_timeout", &self.ssh_timeout)
            .field("webhook_key", &self.webhook_key.as_ref().map(|_| "***"))
            .field("when_idle", &self.when_idle.is_some())
            .field("sealer", &self.sealer)
            .finish()
    }
}

/// The execution engine of one jobs process.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// A run with its steps and host tasks.
#[derive(Debug, Clone)]
pub struct RunTree {
    pub run: RunRow,
    pub steps: Vec<(RunStepRow, Option<StepPlan>)>,
    pub host_tasks: Vec<HostTaskRow>,
}

/// One answer of the log route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogChunk {
    pub host_task_id: String,
    pub offset: u64,
    pub next_offset: u64,
    pub text: String,
    pub done: bool,
}

impl Engine {
    pub fn new(
        database: Database,
        resource: ResourceDirectory,
        artifact: ArtifactDirectory,
        bus: SharedBus,
        jwt: JwtKeys,
        reads: Arc<ReadCache>,
        settings: EngineSettings,
    ) -> Result<Engine, common::https::HttpsClientError> {
        let EngineSettings {
            options,
            ssh_timeout,
            webhook_key,
            when_idle,
            sealer,
        } = settings;
        let notifier =
            webhooks::Notifier::new(database.clone(), options.webhook_urls.clone(), webhook_key)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                notifier,
                events: EventLog::new(database.clone(), bus, reads),
                database,
                resource,
                artifact,
                jwt,
                options,
                ssh_timeout,
                replica: format!("jobs-{}", new_id()),
                draining: std::sync::atomic::AtomicBool::new(false),
                active: Mutex::new(HashMap::new()),
                when_idle,
                sealer,
            }),
        })
    }

    /// The answers kept for repeated reads (the engine marks instances changed as runs start and
    /// end).
    pub fn reads(&self) -> &Arc<ReadCache> {
        self.inner.events.reads()
    }

    /// Seals and opens values at rest (parameter values, app-config values, run snapshots).
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Starts the sweeper that marks runs of vanished owners `interrupted`, starts approved
    /// deployment requests whose deploy window opened and fires due scheduled deploys (now, then
    /// every half lease). Call once per process, inside a tokio runtime.
    pub fn start_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(engine.inner.options.lease_secs.max(2) * 500);
            loop {
                if let Err(error) = sweep::sweep_expired(&engine).await {
                    tracing::warn!(%error, "sweeping expired runs failed");
                }
                if let Err(error) = engine.resume_interrupted_rollbacks().await {
                    tracing::warn!(%error, "cannot resume interrupted rollbacks");
                }
                if let Err(error) = engine.start_due_approvals().await {
                    tracing::warn!(%error, "starting approved requests whose window opened failed");
                }
                if let Err(error) = engine.expire_overdue_approvals().await {
                    tracing::warn!(%error, "expiring overdue deployment requests failed");
                }
                if let Err(error) = engine.fire_due_schedules().await {
                    tracing::warn!(%error, "firing scheduled deploys failed");
                }
                tokio::time::sleep(period).await;
            }
        })
    }

    /// Shutdown (SIGTERM): stops taking runs, lets the running ones finish for up to `grace`,
    /// then stops the rest (their processes on the targets are killed) and leaves them
    /// `interrupted` with the lease released, so 6.1 resumes them at once on any replica.
    pub async fn drain(&self, grace: Duration) {
        self.inner
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + grace;
        let active = |inner: &Inner| inner.active.lock().map(|active| active.len()).unwrap_or(0);
        while active(&self.inner) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let remaining: Vec<(String, watch::Sender<bool>)> = self
            .inner
            .active
            .lock()
            .map(|active| {
                active
                    .iter()
                    .map(|(id, run)| (id.clone(), run.stop.clone()))
                    .collect()
            })
            .unwrap_or_default();
        for (run_id, stop) in &remaining {
            tracing::warn!(run = %run_id, "shutting down: releasing a run that did not finish");
            let _ = stop.send(true);
        }
        let released = tokio::time::Instant::now() + Duration::from_secs(15);
        while active(&self.inner) > 0 && tokio::time::Instant::now() < released {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The webhook URLs of the configuration (`TAD_WEBHOOK_URLS`).
    pub fn configured_webhooks(&self) -> &[String] {
        &self.inner.options.webhook_urls
    }

    /// 6.3: stops the instance's running run and answers once it has ended. The stop request
    /// is recorded as `execution.stop` by `origin`.
    pub async fn stop(&self, origin: &Origin, instance_id: &str) -> JobsResult<(String, RunEnd)> {
        let inner = &self.inner;
        let owned_id = instance_id.to_owned();
        let origin = origin.clone();
        let run = inner
            .database
            .transaction(move |connection| {
                existing_instance(connection, &owned_id)?;
                let run = runs::running_of_instance(connection, &owned_id)?.ok_or(
                    JobsError::NotRunning {
                        instance_id: owned_id,
                    },
                )?;
                runs::request_stop(connection, &run.id)?;
                let event = NewEvent::new(&origin, "execution.stop", "execution", &run.id)
                    .app(Some(&run.application_id))
                    .env(Some(&run.env_id))
                    .change(audit::created("instance_id", &run.instance_id));
                audit::append(connection, event)?;
                Ok::<_, JobsError>(run)
            })
            .await?;
        let local = inner
            .active
            .lock()
            .ok()
            .and_then(|active| active.get(&run.id).map(|active| active.stop.clone()));
        if let Some(stop) = local {
            let _ = stop.send(true);
        }
        tracing::info!(run = %run.id, instance = instance_id, "execution stop requested");
        // The owner (here or on another replica, which sees the flag within a second) ends it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let run_id = run.id.clone();
            let current = inner
                .database
                .run(move |connection| Ok::<_, JobsError>(runs::find(connection, &run_id)?))
                .await?;
            if let Some(current) = current
                && current.status != state::RUNNING
            {
                return Ok((
                    current.id,
                    RunEnd {
                        status: current.status,
                        message: current.message,
                    },
                ));
            }
            if tokio::time::Instant::now() > deadline {
                return Ok((
                    run.id,
                    RunEnd {
                        status: state::RUNNING.to_owned(),
                        message: Some("the run did not stop within 60 s".to_owned()),
                    },
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Kinds of runs.
pub const KIND_DEPLOY: &str = "deploy";
pub const KIND_ROLLBACK: &str = "rollback";

/// The run `id`, or the failure naming it.
fn existing_run(connection: &mut DbConnection, id: &str) -> JobsResult<RunRow> {
    runs::find(connection, id)?.ok_or_else(|| JobsError::NotFound {
        kind: RecordKind::Execution,
        id: id.to_owned(),
    })
}

/// Fails with [`JobsError::LeaseLost`] unless the replica `owner` still holds the run `run_id`
/// (see [`runs::held_by`]): called first in every transaction that writes what a run's work did,
/// so a replica that lost its lease while frozen or starved writes nothing over what the replica
/// resuming the run counts on.
fn ensure_held(connection: &mut DbConnection, run_id: &str, owner: &str) -> JobsResult<()> {
    if runs::held_by(connection, run_id, owner)? {
        Ok(())
    } else {
        Err(JobsError::LeaseLost {
            run_id: run_id.to_owned(),
        })
    }
}
