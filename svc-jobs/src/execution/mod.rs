//! The execution engine (SPEC §5): starts runs of instances (6.1 all remaining steps, 6.2 the
//! next one), stops them (6.3), keeps each run's lease while it works, marks runs whose owner
//! vanished `interrupted`, and answers run trees, logs and event streams. The run store is
//! `db::models::runs`; a run's steps and host tasks are worked by `runner` and `host` through
//! the transport port.

mod content;
pub mod events;
mod host;
pub mod joint;
pub mod plan;
mod runner;
pub mod shell;
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
    time::now_utc,
};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::{
    artifact::ArtifactDirectory,
    db::models::{
        instances::{self, InstanceRow, StepRow},
        runs::{self, EventRow, HostTaskRow, RunRow, RunStepRow, state},
        templates,
    },
    resource::ResourceDirectory,
    sealed::Sealer,
    service::{JobsError, JobsResult, RecordKind},
};
use events::EventLog;
use plan::{Planner, StepPlan};

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
    finished: watch::Receiver<Option<RunEnd>>,
}

impl Started {
    pub async fn wait(mut self) -> RunEnd {
        loop {
            if let Some(end) = self.finished.borrow().clone() {
                return end;
            }
            if self.finished.changed().await.is_err() {
                return self.finished.borrow().clone().unwrap_or(RunEnd {
                    status: state::INTERRUPTED.to_owned(),
                    message: Some("the run's worker stopped".to_owned()),
                });
            }
        }
    }
}

/// A run worked by this process.
struct ActiveRun {
    stop: watch::Sender<bool>,
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

    pub fn lease_until(&self) -> chrono::NaiveDateTime {
        now_utc() + chrono::Duration::seconds(i64::try_from(self.options.lease_secs).unwrap_or(30))
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

/// Largest log answer, in bytes.
const LOG_ANSWER_MAX: usize = 256 * 1024;

impl Engine {
    pub fn new(
        database: Database,
        resource: ResourceDirectory,
        artifact: ArtifactDirectory,
        bus: SharedBus,
        jwt: JwtKeys,
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
                events: EventLog::new(database.clone(), bus),
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

    /// Seals and opens values at rest (parameter values, app-config values, run snapshots).
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Starts the sweeper that marks runs of vanished owners `interrupted` (now, then every half
    /// lease). Call once per process, inside a tokio runtime.
    pub fn start_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            let period = Duration::from_millis(engine.inner.options.lease_secs.max(2) * 500);
            loop {
                if let Err(error) = sweep_expired(&engine).await {
                    tracing::warn!(%error, "sweeping expired runs failed");
                }
                tokio::time::sleep(period).await;
            }
        })
    }

    /// 6.1 / 6.2: continues the instance's current run (its steps not yet succeeded) or starts a
    /// new one with a fresh snapshot; refuses while a run holds the instance or its application
    /// and environment.
    pub async fn start(
        &self,
        started_by: &str,
        instance_id: &str,
        mode: Mode,
        use_tad_host: bool,
    ) -> JobsResult<Started> {
        let inner = &self.inner;
        if inner.draining.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(JobsError::Unavailable(
                "this jobs service is shutting down; try again (another replica takes it)"
                    .to_owned(),
            ));
        }
        let owned_id = instance_id.to_owned();
        let (instance, steps, latest) = inner
            .database
            .run(move |connection| {
                let instance = existing_instance(connection, &owned_id)?;
                let steps = instances::steps(connection, &owned_id)?;
                let latest = match runs::latest_of_instance(connection, &owned_id)? {
                    Some(run) => {
                        let run_steps = runs::steps(connection, &run.id)?;
                        Some((run, run_steps))
                    }
                    None => None,
                };
                Ok::<_, JobsError>((instance, steps, latest))
            })
            .await?;
        if steps.is_empty() {
            return Err(JobsError::NotReady {
                instance_id: instance.id,
                message: "it has no steps".to_owned(),
            });
        }
        let holder = {
            let application_id = instance.application_id.clone();
            let env_id = instance.env_id.clone();
            inner
                .database
                .run(move |connection| {
                    Ok::<_, JobsError>(runs::running_for(connection, &application_id, &env_id)?)
                })
                .await?
        };
        if let Some(holder) = holder {
            return Err(run_active(&instance, &holder));
        }
        let continued = latest.filter(|(run, run_steps)| {
            run.status != state::RUNNING
                && same_steps(run_steps, &steps)
                && run_steps.iter().any(|step| step.status != state::SUCCESS)
        });
        let to_plan: Vec<&StepRow> = match &continued {
            Some((_, run_steps)) => steps
                .iter()
                .filter(|step| {
                    run_steps
                        .iter()
                        .any(|done| done.sequence == step.sequence && done.status != state::SUCCESS)
                })
                .collect(),
            None => steps.iter().collect(),
        };
        let token = inner.service_token()?;
        let catalog = inner.artifact.catalog(&token).await?;
        let planner = Planner {
            resource: &inner.resource,
            artifact: &inner.artifact,
            token: &token,
            catalog: &catalog,
            sealer: &inner.sealer,
        };
        let mut plans = Vec::with_capacity(to_plan.len());
        for step in to_plan {
            plans.push(planner.plan(&instance.id, step).await?);
        }
        let (run_id, new_run) = match &continued {
            Some((run, _)) => (run.id.clone(), None),
            None => {
                let run = new_run_row(&instance, KIND_DEPLOY, started_by, use_tad_host);
                (run.id.clone(), Some(run))
            }
        };
        let snapshots = snapshots_of(&inner.sealer, plans)?;
        self.launch(Launch {
            instance,
            new_run,
            run_id,
            snapshots,
            started_by: started_by.to_owned(),
            use_tad_host,
            mode,
        })
        .await
    }

    /// Claims a run (inserting it when new, refreshing the snapshots of the steps it will run
    /// again) and starts working on it.
    async fn launch(&self, launch: Launch) -> JobsResult<Started> {
        let inner = &self.inner;
        let Launch {
            instance,
            new_run,
            run_id,
            snapshots,
            started_by,
            use_tad_host,
            mode,
        } = launch;
        let now = now_utc();
        let owner = inner.replica.clone();
        let lease_until = inner.lease_until();
        let claim_run = run_id.clone();
        let claim_instance = instance.clone();
        let claimed = inner
            .events
            .record(
                &run_id,
                "run",
                json!({"scope": "run", "status": state::RUNNING, "started_by": started_by, "use_tad_host": use_tad_host, "mode": format!("{mode:?}")}),
                move |connection| {
                    claim(
                        connection,
                        &claim_instance,
                        new_run.as_ref(),
                        &claim_run,
                        &snapshots,
                        use_tad_host,
                        &owner,
                        now,
                        lease_until,
                    )
                },
            )
            .await;
        match claimed {
            Ok(()) => {}
            Err(JobsError::Database(DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            )))) => {
                // Another request claimed the application and environment meanwhile.
                let application_id = instance.application_id.clone();
                let env_id = instance.env_id.clone();
                let holder = inner
                    .database
                    .run(move |connection| {
                        Ok::<_, JobsError>(runs::running_for(connection, &application_id, &env_id)?)
                    })
                    .await?;
                return Err(match holder {
                    Some(holder) => run_active(&instance, &holder),
                    None => JobsError::RunActive {
                        run_id: String::new(),
                        message: format!(
                            "another execution of application {} in environment {} started at the same time",
                            instance.application_id, instance.env_id
                        ),
                    },
                });
            }
            Err(error) => return Err(error),
        }
        let (stop_sender, stop_receiver) = watch::channel(false);
        let (finished_sender, finished) = watch::channel(None);
        if let Ok(mut active) = inner.active.lock() {
            active.insert(
                run_id.clone(),
                ActiveRun {
                    stop: stop_sender.clone(),
                },
            );
        }
        let worker = self.inner.clone();
        let worker_run = run_id.clone();
        tracing::info!(run = %run_id, instance = %instance.id, ?mode, "execution started");
        tokio::spawn(async move {
            let end = runner::execute(
                worker.clone(),
                worker_run.clone(),
                mode,
                stop_sender,
                stop_receiver,
            )
            .await;
            tracing::info!(run = %worker_run, status = %end.status, "execution ended");
            let idle = match worker.active.lock() {
                Ok(mut active) => {
                    active.remove(&worker_run);
                    active.is_empty()
                }
                Err(_) => false,
            };
            let _ = finished_sender.send(Some(end));
            if let Some(when_idle) = worker.when_idle.clone().filter(|_| idle) {
                let _ = tokio::task::spawn_blocking(move || when_idle()).await;
            }
        });
        Ok(Started { run_id, finished })
    }

    /// `POST /api/executions/{id}/retry`: runs the failed hosts of the failed step of the
    /// instance's latest run again (same snapshot), then its remaining steps.
    pub async fn retry(&self, started_by: &str, run_id: &str) -> JobsResult<Started> {
        let owned_id = run_id.to_owned();
        let (run, instance) = self
            .inner
            .database
            .run(move |connection| {
                let run = runs::find(connection, &owned_id)?.ok_or(JobsError::NotFound {
                    kind: RecordKind::Execution,
                    id: owned_id.clone(),
                })?;
                let instance = existing_instance(connection, &run.instance_id)?;
                let latest = runs::latest_of_instance(connection, &run.instance_id)?;
                if let Some(latest) = latest.filter(|latest| latest.id != run.id) {
                    return Err(JobsError::Conflict {
                        message: format!(
                            "execution {} is not the latest of job instance {:?}: {} is; retry that one",
                            run.id, instance.name, latest.id
                        ),
                    });
                }
                Ok::<_, JobsError>((run, instance))
            })
            .await?;
        if run.status != state::FAILED {
            return Err(JobsError::Conflict {
                message: format!(
                    "only a failed execution can be retried; execution {} is {}",
                    run.id, run.status
                ),
            });
        }
        self.launch(Launch {
            instance,
            new_run: None,
            run_id: run.id.clone(),
            snapshots: Vec::new(),
            started_by: started_by.to_owned(),
            use_tad_host: run.use_tad_host,
            mode: Mode::Retry,
        })
        .await
    }

    /// `POST /api/app/jobinstance/{id}/rollback`: a new run of the last successful snapshot
    /// before the current one (its artifact versions and rendered configs, not today's
    /// bindings), with the methods of the rollback template when the template has one.
    pub async fn rollback(
        &self,
        started_by: &str,
        instance_id: &str,
        use_tad_host: bool,
    ) -> JobsResult<Started> {
        let owned_id = instance_id.to_owned();
        let (instance, target, rollback_methods) = self
            .inner
            .database
            .run(move |connection| {
                let instance = existing_instance(connection, &owned_id)?;
                let successes = runs::successful_of_instance(connection, &owned_id)?;
                let Some(target) = successes.into_iter().nth(1) else {
                    return Err(JobsError::Conflict {
                        message: format!(
                            "job instance {:?} has no successful execution before the current one to roll back to",
                            instance.name
                        ),
                    });
                };
                let target_steps = runs::steps(connection, &target.id)?;
                let rollback_methods = match rollback_template_of(connection, &instance)? {
                    Some(template_id) => Some(templates::methods(connection, &template_id)?),
                    None => None,
                };
                Ok::<_, JobsError>((instance, (target, target_steps), rollback_methods))
            })
            .await?;
        let (target, target_steps) = target;
        let mut plans = Vec::with_capacity(target_steps.len());
        for step in &target_steps {
            let plan = self
                .inner
                .sealer
                .open_plan(&step.snapshot)
                .map_err(|error| JobsError::Invalid {
                    field: "snapshot",
                    message: format!(
                        "of step {} of execution {}: {error}",
                        step.sequence, target.id
                    ),
                })?;
            plans.push(plan);
        }
        if let Some(methods) = rollback_methods.filter(|methods| !methods.is_empty()) {
            let token = self.inner.service_token()?;
            let catalog = self.inner.artifact.catalog(&token).await?;
            let mut rollback_plans = Vec::with_capacity(methods.len());
            for method_row in methods {
                let Some(base) = plans
                    .iter()
                    .find(|plan| plan.sequence == method_row.sequence)
                    .or_else(|| plans.first())
                else {
                    break;
                };
                let (component, method) = catalog
                    .method(&method_row.component_id, &method_row.method_id)
                    .ok_or_else(|| JobsError::NotFound {
                        kind: RecordKind::Method,
                        id: method_row.method_id.clone(),
                    })?;
                let package = if method.file_id.is_empty() {
                    None
                } else {
                    let origin = self
                        .inner
                        .artifact
                        .file_origin(&token, &method.file_id)
                        .await?;
                    Some(plan::PackagePlan {
                        file_id: method.file_id.clone(),
                        md5: origin.md5,
                        entrypoint: method.entrypoint.clone(),
                    })
                };
                rollback_plans.push(StepPlan {
                    sequence: method_row.sequence,
                    component_id: component.id.clone(),
                    method_id: method.id.clone(),
                    method_name: method.name.clone(),
                    package,
                    timeout_secs: u64::from(method.timeout_secs),
                    ..base.clone()
                });
            }
            plans = rollback_plans;
        }
        let run = new_run_row(&instance, KIND_ROLLBACK, started_by, use_tad_host);
        let run_id = run.id.clone();
        tracing::info!(instance = %instance.id, target = %target.id, run = %run_id, "rollback to an earlier snapshot");
        self.launch(Launch {
            instance,
            new_run: Some(run),
            run_id,
            snapshots: snapshots_of(&self.inner.sealer, plans)?,
            started_by: started_by.to_owned(),
            use_tad_host,
            mode: Mode::All,
        })
        .await
    }

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

    /// 6.3: stops the instance's running run and answers once it has ended.
    pub async fn stop(&self, instance_id: &str) -> JobsResult<(String, RunEnd)> {
        let inner = &self.inner;
        let owned_id = instance_id.to_owned();
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

    /// A run with its steps and host tasks.
    pub async fn tree(&self, run_id: &str) -> JobsResult<RunTree> {
        let owned_id = run_id.to_owned();
        let sealer = self.inner.sealer.clone();
        self.inner
            .database
            .run(move |connection| {
                let run = runs::find(connection, &owned_id)?.ok_or(JobsError::NotFound {
                    kind: RecordKind::Execution,
                    id: owned_id.clone(),
                })?;
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
                if runs::find(connection, &owned_run)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::Execution,
                        id: owned_run,
                    });
                }
                let task = runs::find_host_task(connection, &owned_task)?
                    .filter(|task| task.run_id == owned_run)
                    .ok_or(JobsError::NotFound {
                        kind: RecordKind::HostTask,
                        id: owned_task.clone(),
                    })?;
                let chunks = runs::log_chunks_from(connection, &owned_task, start, 64)?;
                Ok((task, chunks))
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
        let exists = inner
            .database
            .run(move |connection| Ok::<_, JobsError>(runs::find(connection, &owned_id)?))
            .await?;
        if exists.is_none() {
            return Err(JobsError::NotFound {
                kind: RecordKind::Execution,
                id: run_id.to_owned(),
            });
        }
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

/// How often a stream retries a failed read of its run's events before it reports the error.
const WATCH_READ_RETRIES: u32 = 5;

/// Kinds of runs.
pub const KIND_DEPLOY: &str = "deploy";
pub const KIND_ROLLBACK: &str = "rollback";

/// What [`Engine::launch`] claims and starts.
struct Launch {
    instance: InstanceRow,
    /// The run to insert; None continues the run `run_id`.
    new_run: Option<RunRow>,
    run_id: String,
    /// Snapshots of the steps to (re)write; empty keeps them (retry).
    snapshots: Vec<(StepPlan, String)>,
    started_by: String,
    use_tad_host: bool,
    mode: Mode,
}

fn new_run_row(instance: &InstanceRow, kind: &str, started_by: &str, use_tad_host: bool) -> RunRow {
    RunRow {
        id: new_id(),
        instance_id: instance.id.clone(),
        application_id: instance.application_id.clone(),
        env_id: instance.env_id.clone(),
        kind: kind.to_owned(),
        status: state::PENDING.to_owned(),
        use_tad_host,
        started_by: started_by.to_owned(),
        owner: None,
        lease_until: None,
        stop_requested: false,
        message: None,
        create_time: now_utc(),
        start_time: None,
        end_time: None,
    }
}

/// Each plan with its stored (sealed) snapshot.
fn snapshots_of(sealer: &Sealer, plans: Vec<StepPlan>) -> JobsResult<Vec<(StepPlan, String)>> {
    plans
        .into_iter()
        .map(|plan| {
            let snapshot = sealer.seal_plan(&plan)?;
            Ok((plan, snapshot))
        })
        .collect()
}

/// The rollback template of an instance's template: the one it names when that is a rollback
/// template, else a rollback template that names it.
fn rollback_template_of(
    connection: &mut DbConnection,
    instance: &InstanceRow,
) -> JobsResult<Option<String>> {
    let Some(template) = templates::find(connection, &instance.job_template_id)? else {
        return Ok(None);
    };
    if let Some(named) = &template.rollback_template_id
        && let Some(named) = templates::find(connection, named)?
        && named.deploy_type == crate::service::templates::DEPLOY_TYPE_ROLLBACK
    {
        return Ok(Some(named.id));
    }
    Ok(templates::rolled_back_by(connection, &template.id)?
        .into_iter()
        .find(|candidate| candidate.deploy_type == crate::service::templates::DEPLOY_TYPE_ROLLBACK)
        .map(|candidate| candidate.id))
}

/// The instance `id`, or the failure naming it.
fn existing_instance(connection: &mut DbConnection, id: &str) -> JobsResult<InstanceRow> {
    instances::find(connection, id)?.ok_or_else(|| JobsError::NotFound {
        kind: RecordKind::Instance,
        id: id.to_owned(),
    })
}

/// Whether a run's steps are the instance's steps (same sequences and methods).
fn same_steps(run_steps: &[RunStepRow], steps: &[StepRow]) -> bool {
    run_steps.len() == steps.len()
        && run_steps
            .iter()
            .zip(steps)
            .all(|(done, step)| done.sequence == step.sequence && done.method_id == step.method_id)
}

fn run_active(instance: &InstanceRow, holder: &RunRow) -> JobsError {
    let message = if holder.instance_id == instance.id {
        format!(
            "job instance {:?} is already running execution {}",
            instance.name, holder.id
        )
    } else {
        format!(
            "execution {} of job instance {} is running on application {} in environment {}",
            holder.id, holder.instance_id, instance.application_id, instance.env_id
        )
    };
    JobsError::RunActive {
        run_id: holder.id.clone(),
        message,
    }
}

/// Inserts or refreshes the run's rows and takes it for `owner` (one transaction).
#[allow(clippy::too_many_arguments)]
fn claim(
    connection: &mut DbConnection,
    instance: &InstanceRow,
    new_run: Option<&RunRow>,
    run_id: &str,
    snapshots: &[(StepPlan, String)],
    use_tad_host: bool,
    owner: &str,
    now: chrono::NaiveDateTime,
    lease_until: chrono::NaiveDateTime,
) -> JobsResult<()> {
    if let Some(holder) = runs::running_for(connection, &instance.application_id, &instance.env_id)?
    {
        return Err(run_active(instance, &holder));
    }
    match new_run {
        Some(run) => {
            runs::insert(connection, run)?;
            let rows: Vec<RunStepRow> = snapshots
                .iter()
                .map(|(plan, snapshot)| RunStepRow {
                    run_id: run_id.to_owned(),
                    sequence: plan.sequence,
                    component_id: plan.component_id.clone(),
                    method_id: plan.method_id.clone(),
                    cluster_id: plan.cluster_id.clone(),
                    snapshot: snapshot.clone(),
                    status: state::PENDING.to_owned(),
                    message: None,
                    start_time: None,
                    end_time: None,
                })
                .collect();
            runs::insert_steps(connection, &rows)?;
        }
        None => {
            for (plan, snapshot) in snapshots {
                runs::replace_snapshot(
                    connection,
                    run_id,
                    plan.sequence,
                    &plan.cluster_id,
                    snapshot,
                )?;
            }
            runs::set_use_tad_host(connection, run_id, use_tad_host)?;
        }
    }
    if !runs::claim(connection, run_id, owner, now, lease_until)? {
        return Err(JobsError::RunActive {
            run_id: run_id.to_owned(),
            message: format!("execution {run_id} is already running"),
        });
    }
    instances::set_status(connection, &instance.id, state::RUNNING)?;
    Ok(())
}

/// Marks runs and joint runs whose owner's lease expired `interrupted` (each at most once, by
/// one replica).
async fn sweep_expired(engine: &Engine) -> JobsResult<()> {
    let inner = &engine.inner;
    let joint = inner
        .database
        .transaction(|connection| {
            Ok::<_, JobsError>(crate::db::models::joint_runs::interrupt_expired(
                connection,
                now_utc(),
            )?)
        })
        .await?;
    for id in joint {
        tracing::warn!(joint_run = %id, "joint execution interrupted: its owner's lease expired");
        joint::notify_joint_finished(engine, &id).await;
    }
    let expired = inner
        .database
        .run(|connection| Ok::<_, JobsError>(runs::expired(connection, now_utc())?))
        .await?;
    for run in expired {
        let run_id = run.id.clone();
        let instance_id = run.instance_id.clone();
        let result = inner
            .events
            .record(
                &run.id,
                "run",
                json!({"scope": "run", "status": state::INTERRUPTED, "message": "the service running it stopped before it finished"}),
                move |connection| {
                    if !runs::interrupt_expired(connection, &run_id, now_utc())? {
                        return Err(JobsError::NotRunning { instance_id });
                    }
                    let latest = runs::latest_of_instance(connection, &instance_id)?;
                    if latest.is_some_and(|latest| latest.id == run_id) {
                        instances::set_status(connection, &instance_id, state::INTERRUPTED)?;
                    }
                    Ok(())
                },
            )
            .await;
        match result {
            Ok(()) => {
                tracing::warn!(run = %run.id, owner = ?run.owner, "execution interrupted: its owner's lease expired");
                runner::notify_finished(inner, &run.id).await;
            }
            // Renewed or taken by another replica meanwhile.
            Err(JobsError::NotRunning { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
