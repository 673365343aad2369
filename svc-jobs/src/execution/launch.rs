//! Starting runs (SPEC §5, 6.1 all remaining steps, 6.2 the next one, retry, rollback): the
//! checks that a run may start, the fresh or continued snapshot, and the claim of the instance.

use common::{
    db::{DbConnection, DbError},
    ids::new_id,
    time::now_utc,
};
use serde_json::json;
use tokio::sync::watch;

use super::{
    ActiveRun, Engine, KIND_DEPLOY, KIND_ROLLBACK, Mode, Started,
    approval::{Asking, Gate, RequestKind, StartMark},
    existing_instance, existing_run,
    idempotency::{self, Keyed},
    lease, plan,
    plan::Planner,
    plan::StepPlan,
    runner,
};
use crate::{
    db::models::{
        instances::{self, InstanceRow, StepRow},
        runs::{self, RunRow, RunStepRow, state},
        templates,
    },
    domain::{
        JobsError, JobsResult, RecordKind,
        audit::{self, NewEvent, Origin},
    },
    sealed::Sealer,
};

impl Engine {
    /// 6.1 / 6.2: continues the instance's current run (its steps not yet succeeded) or starts a
    /// new one with a fresh snapshot; refuses while a run holds the instance or its application
    /// and environment.
    /// With `keyed`, a repeated idempotency key answers the execution it started
    /// ([`super::idempotency`]). With `origin`, the start is recorded in the audit trail as
    /// `execution.start` (6.1) or `execution.step` (6.2), in the transaction that claims the run.
    pub async fn start(
        &self,
        started_by: &str,
        origin: Option<&Origin>,
        instance_id: &str,
        mode: Mode,
        use_tad_host: bool,
        keyed: Option<&Keyed>,
    ) -> JobsResult<Started> {
        let action = match mode {
            Mode::NextStep => "execution.step",
            _ => "execution.start",
        };
        let audit = origin.map(|origin| (origin.clone(), action));
        let gate = match (origin, mode) {
            (None, _) => Gate::Open,
            (Some(_), Mode::NextStep) => Gate::ask(RequestKind::NextStep, instance_id),
            (Some(_), _) => Gate::ask(RequestKind::Deploy, instance_id),
        };
        let start = self.start_once(
            started_by,
            audit,
            gate,
            instance_id,
            mode,
            use_tad_host,
            keyed.cloned(),
        );
        self.keyed(keyed, start).await
    }

    /// What 6.1 would run on `instance_id` now, as a fresh run: each step's plan (the frozen
    /// plans of a joint line's deployment request).
    pub(super) async fn fresh_plans(&self, instance_id: &str) -> JobsResult<Vec<StepPlan>> {
        let owned_id = instance_id.to_owned();
        let (instance, steps) = self
            .inner
            .database
            .run(move |connection| {
                let instance = existing_instance(connection, &owned_id)?;
                let steps = instances::steps(connection, &owned_id)?;
                Ok::<_, JobsError>((instance, steps))
            })
            .await?;
        self.plan_steps(&instance, steps.iter()).await
    }

    /// The plans of `steps` of `instance` as they are bound now.
    async fn plan_steps<'a>(
        &self,
        instance: &InstanceRow,
        steps: impl Iterator<Item = &'a StepRow>,
    ) -> JobsResult<Vec<StepPlan>> {
        let inner = &self.inner;
        let token = inner.service_token()?;
        let catalog = inner.artifact.catalog(&token).await?;
        let planner = Planner {
            resource: &inner.resource,
            artifact: &inner.artifact,
            token: &token,
            catalog: &catalog,
            sealer: &inner.sealer,
        };
        let mut plans = Vec::new();
        for step in steps {
            plans.push(planner.plan(&instance.id, step).await?);
        }
        Ok(plans)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn start_once(
        &self,
        started_by: &str,
        audit: Option<(Origin, &'static str)>,
        gate: Gate,
        instance_id: &str,
        mode: Mode,
        use_tad_host: bool,
        keyed: Option<Keyed>,
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
        if let Some((run, run_steps)) = &latest
            && run.status == state::INTERRUPTED
            && runner::rolling_back(run_steps)
        {
            // A rollback a dead replica left: it goes on as it was written (no new snapshot, no
            // new approval: it restores what ran before).
            return self
                .resume_rollback(instance, run, started_by, audit, keyed)
                .await;
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
        let plans = self.plan_steps(&instance, to_plan.into_iter()).await?;
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
            keyed,
            audit,
            gate,
        })
        .await
    }

    /// Goes on with the rollback of the interrupted run `run` of `instance` where it stopped.
    pub(super) async fn resume_rollback(
        &self,
        instance: InstanceRow,
        run: &RunRow,
        started_by: &str,
        audit: Option<(Origin, &'static str)>,
        keyed: Option<Keyed>,
    ) -> JobsResult<Started> {
        tracing::info!(run = %run.id, "resuming the rollback of an execution");
        self.launch(Launch {
            instance,
            new_run: None,
            run_id: run.id.clone(),
            snapshots: Vec::new(),
            started_by: started_by.to_owned(),
            use_tad_host: run.use_tad_host,
            mode: Mode::All,
            keyed,
            audit,
            gate: Gate::Open,
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
            keyed,
            audit,
            gate,
        } = launch;
        if !matches!(gate, Gate::Open) {
            let plans = if snapshots.is_empty() {
                self.plans_of_run(&run_id).await?
            } else {
                snapshots.iter().map(|(plan, _)| plan.clone()).collect()
            };
            let frozen = vec![(instance.id.clone(), plans)];
            match &gate {
                Gate::Ask { kind, target_id } => {
                    let asking = Asking {
                        kind: *kind,
                        target_id,
                        env_id: &instance.env_id,
                        application_id: Some(&instance.application_id),
                        use_tad_host,
                        requester: &started_by,
                        origin: audit.as_ref().map(|(origin, _)| origin),
                    };
                    if let Some(asked) = self.ask_if_protected(asking, frozen).await? {
                        return Err(asked);
                    }
                }
                Gate::Approved(approved) => self.check_frozen(approved, &frozen).await?,
                Gate::Open => {}
            }
        }
        let mark = StartMark::of(&gate);
        let claim_mark = mark.clone();
        let now = now_utc();
        let owner = inner.replica.clone();
        let leased_at = tokio::time::Instant::now();
        let lease_until = inner.lease_until();
        let claim_run = run_id.clone();
        let claim_instance = instance.clone();
        let event = audit.map(|(origin, action)| {
            NewEvent::new(&origin, action, "execution", &run_id)
                .app(Some(&instance.application_id))
                .env(Some(&instance.env_id))
                .change(audit::created("instance_id", &instance.id))
        });
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
                    )?;
                    if let Some(event) = event {
                        audit::append(connection, event)?;
                    }
                    if let Some(mark) = &claim_mark {
                        mark.record(connection, &claim_run)?;
                    }
                    match &keyed {
                        Some(keyed) => idempotency::store(connection, keyed, &claim_run),
                        None => Ok(()),
                    }
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
        if let Some(mark) = mark.filter(StartMark::approved_now) {
            self.notify_approval(
                "approval.approved",
                &mark.started_row(&run_id),
                Some(&run_id),
            );
        }
        let (stop_sender, stop_receiver) = watch::channel(false);
        let (finished_sender, finished) = watch::channel(None);
        let held_until = lease::HeldUntil::claimed(inner, leased_at);
        if let Ok(mut active) = inner.active.lock() {
            active.insert(
                run_id.clone(),
                ActiveRun {
                    stop: stop_sender.clone(),
                    held_until: held_until.clone(),
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
                held_until,
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
        Ok(Started::here(run_id, finished))
    }

    /// `POST /api/executions/{id}/retry`: runs the failed hosts of the failed step of the
    /// instance's latest run again (same snapshot), then its remaining steps.
    /// With `origin`, recorded as `execution.retry`.
    pub async fn retry(
        &self,
        started_by: &str,
        origin: Option<&Origin>,
        run_id: &str,
        keyed: Option<&Keyed>,
    ) -> JobsResult<Started> {
        let audit = origin.map(|origin| (origin.clone(), "execution.retry"));
        let gate = Gate::ask(RequestKind::Retry, run_id);
        self.keyed(
            keyed,
            self.retry_once(started_by, audit, gate, run_id, keyed.cloned()),
        )
        .await
    }

    pub(super) async fn retry_once(
        &self,
        started_by: &str,
        audit: Option<(Origin, &'static str)>,
        gate: Gate,
        run_id: &str,
        keyed: Option<Keyed>,
    ) -> JobsResult<Started> {
        let owned_id = run_id.to_owned();
        let (run, instance) = self
            .inner
            .database
            .run(move |connection| {
                let run = existing_run(connection, &owned_id)?;
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
            keyed,
            audit,
            gate,
        })
        .await
    }

    /// `POST /api/app/jobinstance/{id}/rollback`: a new run of the last successful snapshot
    /// before the current one (its artifact versions and rendered configs, not today's
    /// bindings), with the methods of the rollback template when the template has one.
    /// With `origin`, recorded as `execution.rollback`.
    pub async fn rollback(
        &self,
        started_by: &str,
        origin: Option<&Origin>,
        instance_id: &str,
        use_tad_host: bool,
        keyed: Option<&Keyed>,
    ) -> JobsResult<Started> {
        let audit = origin.map(|origin| (origin.clone(), "execution.rollback"));
        let gate = Gate::ask(RequestKind::Rollback, instance_id);
        let rollback = self.rollback_once(
            started_by,
            audit,
            gate,
            instance_id,
            use_tad_host,
            keyed.cloned(),
        );
        self.keyed(keyed, rollback).await
    }

    pub(super) async fn rollback_once(
        &self,
        started_by: &str,
        audit: Option<(Origin, &'static str)>,
        gate: Gate,
        instance_id: &str,
        use_tad_host: bool,
        keyed: Option<Keyed>,
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
        let token = self.inner.service_token()?;
        plan::refresh_reviews(&self.inner.artifact, &token, &mut plans).await?;
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
            keyed,
            audit,
            gate,
        })
        .await
    }
}

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
    /// The client's idempotency key, stored with the claim.
    keyed: Option<Keyed>,
    /// Who asked and the action to record with the claim (none for a joint line's node).
    audit: Option<(Origin, &'static str)>,
    /// Whether the start needs an approval, or starts an approved request.
    gate: Gate,
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
        && named.deploy_type == crate::domain::DEPLOY_TYPE_ROLLBACK
    {
        return Ok(Some(named.id));
    }
    Ok(templates::rolled_back_by(connection, &template.id)?
        .into_iter()
        .find(|candidate| candidate.deploy_type == crate::domain::DEPLOY_TYPE_ROLLBACK)
        .map(|candidate| candidate.id))
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
