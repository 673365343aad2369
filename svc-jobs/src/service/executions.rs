//! Execution requests (6.1, 6.2, 6.3 and the run routes of SPEC §5): who may deploy, and what
//! the answer says. The engine in `crate::execution` does the work.

use tokio::sync::mpsc;

use common::paging::PageRequest;

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, require_operator, require_reader,
};
use crate::{
    db::models::runs::{EventRow, RunRow},
    execution::{
        LogChunk, Mode, RunTree, Started,
        idempotency::{Keyed, KeyedRoute},
        joint::JointTree,
        plan::ArtifactPlan,
    },
};

/// What an execution id names.
#[derive(Debug, Clone)]
pub enum ExecutionView {
    Run(RunTree),
    Joint(JointTree),
}

/// What a run request asks the engine to start.
#[derive(Debug, Clone, Copy)]
pub enum RunRequest<'a> {
    /// 6.1 (`Mode::All`) or 6.2 (`Mode::NextStep`) on an instance.
    Instance {
        instance_id: &'a str,
        mode: Mode,
        use_tad_host: bool,
    },
    /// `POST /api/executions/{id}/retry`: the failed hosts of a run again.
    Retry { execution_id: &'a str },
    /// `POST /api/app/jobinstance/{id}/rollback`.
    Rollback {
        instance_id: &'a str,
        use_tad_host: bool,
    },
    /// 2.1 `POST /api/app/jointline/{id}/execution`.
    JointLine {
        joint_line_id: &'a str,
        use_tad_host: bool,
    },
}

impl RunRequest<'_> {
    /// The route an idempotency key of this request is kept under.
    fn keyed_route(&self) -> KeyedRoute {
        match self {
            RunRequest::Instance {
                mode: Mode::NextStep,
                ..
            } => KeyedRoute::Resume,
            RunRequest::Instance { .. } => KeyedRoute::Start,
            RunRequest::Retry { .. } => KeyedRoute::Retry,
            RunRequest::Rollback { .. } => KeyedRoute::Rollback,
            RunRequest::JointLine { .. } => KeyedRoute::JointLine,
        }
    }

    /// What the request asks, as a key's repeat must ask it again.
    fn fingerprint(&self) -> String {
        match self {
            RunRequest::Instance {
                instance_id,
                use_tad_host,
                ..
            }
            | RunRequest::Rollback {
                instance_id,
                use_tad_host,
            } => format!("instance={instance_id};use_tad_host={use_tad_host}"),
            RunRequest::Retry { execution_id } => format!("execution={execution_id}"),
            RunRequest::JointLine {
                joint_line_id,
                use_tad_host,
            } => format!("joint_line={joint_line_id};use_tad_host={use_tad_host}"),
        }
    }
}

/// Holds until the run ends (`wait`), or answers its id at once.
async fn answer(started: Started, wait: bool) -> JobsResult<ExecuteAnswer> {
    let execution_id = started.run_id.clone();
    if !wait {
        return Ok(ExecuteAnswer {
            execution_id,
            result: true,
            msg: None,
            status: "running".to_owned(),
            request_id: None,
        });
    }
    let end = started.wait().await;
    Ok(ExecuteAnswer {
        execution_id,
        result: end.succeeded(),
        msg: if end.succeeded() { None } else { end.message },
        status: end.status,
        request_id: None,
    })
}

/// The `data` of 6.1 / 6.2 / 6.3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecuteAnswer {
    pub execution_id: String,
    pub result: bool,
    /// The first failure (host and step); None on success.
    pub msg: Option<String>,
    pub status: String,
    /// The deployment request made instead of a run on a protected environment (`status`
    /// `approval_required`, `result` false, `msg` saying so).
    pub request_id: Option<String>,
}

/// `status` of an answer whose run waits for an approval.
pub const APPROVAL_REQUIRED: &str = "approval_required";

impl JobsService {
    /// Starts what `request` asks (6.1, 6.2, 2.1, a retry or a rollback); with `wait` the answer
    /// comes when the work has ended. A caller that goes away does not cancel the run. A repeated
    /// `idempotency_key` of the same caller answers the run the first request started.
    pub async fn start_run(
        &self,
        actor: &Actor,
        request: RunRequest<'_>,
        wait: bool,
        idempotency_key: Option<&str>,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let keyed = idempotency_key
            .map(|key| {
                Keyed::new(
                    key,
                    actor.username(),
                    request.keyed_route(),
                    request.fingerprint(),
                )
            })
            .transpose()?;
        let (user, keyed) = (actor.username(), keyed.as_ref());
        let origin = crate::domain::audit::origin(actor);
        let origin = Some(&origin);
        let started = match self.start(user, origin, request, keyed).await {
            Ok(started) => started,
            Err(JobsError::ApprovalRequired {
                request_id,
                message,
            }) => {
                return Ok(ExecuteAnswer {
                    execution_id: String::new(),
                    result: false,
                    msg: Some(message),
                    status: APPROVAL_REQUIRED.to_owned(),
                    request_id: Some(request_id),
                });
            }
            Err(error) => return Err(error),
        };
        answer(started, wait).await
    }

    /// [`JobsService::start_run`] of 6.1 or 2.1 with the plan id a dry run answered: refused,
    /// naming what changed, unless that is still what would run.
    pub async fn start_planned_run(
        &self,
        actor: &Actor,
        request: RunRequest<'_>,
        plan_id: Option<&str>,
        wait: bool,
        idempotency_key: Option<&str>,
    ) -> JobsResult<ExecuteAnswer> {
        if let Some(plan_id) = plan_id {
            require_operator(actor)?;
            if plan_id.len() != 64 || !plan_id.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(JobsError::Invalid {
                    field: "plan_id",
                    message: format!(
                        "{:?} is not a plan id (the 64 hex characters the plan route answers)",
                        common::limits::excerpt(plan_id)
                    ),
                });
            }
            match request {
                RunRequest::Instance {
                    instance_id,
                    mode: Mode::All,
                    use_tad_host,
                } => {
                    self.engine
                        .check_plan(instance_id, use_tad_host, plan_id)
                        .await?;
                }
                RunRequest::JointLine {
                    joint_line_id,
                    use_tad_host,
                } => {
                    self.engine
                        .check_joint_plan(joint_line_id, use_tad_host, plan_id)
                        .await?;
                }
                _ => {
                    return Err(JobsError::Invalid {
                        field: "plan_id",
                        message: "only 6.1 (executionall) and 2.1 take a plan_id".to_owned(),
                    });
                }
            }
        }
        self.start_run(actor, request, wait, idempotency_key).await
    }

    /// The dry run of 2.1 of a joint line (any signed-in role reads it).
    pub async fn plan_joint_line(
        &self,
        actor: &Actor,
        joint_line_id: &str,
        use_tad_host: bool,
    ) -> JobsResult<crate::execution::joint_plan::JointLinePlan> {
        require_reader(actor)?;
        self.engine
            .plan_joint_line(joint_line_id, use_tad_host)
            .await
    }

    /// The dry run of 6.1 of an instance (any signed-in role reads it).
    pub async fn plan_instance(
        &self,
        actor: &Actor,
        instance_id: &str,
        use_tad_host: bool,
    ) -> JobsResult<crate::execution::dry_run::InstancePlan> {
        require_reader(actor)?;
        self.engine.plan_instance(instance_id, use_tad_host).await
    }

    async fn start(
        &self,
        user: &str,
        origin: Option<&crate::domain::audit::Origin>,
        request: RunRequest<'_>,
        keyed: Option<&Keyed>,
    ) -> JobsResult<crate::execution::Started> {
        Ok(match request {
            RunRequest::Instance {
                instance_id,
                mode,
                use_tad_host,
            } => {
                self.engine
                    .start(user, origin, instance_id, mode, use_tad_host, keyed)
                    .await?
            }
            RunRequest::Retry { execution_id } => {
                self.engine.retry(user, origin, execution_id, keyed).await?
            }
            RunRequest::Rollback {
                instance_id,
                use_tad_host,
            } => {
                self.engine
                    .rollback(user, origin, instance_id, use_tad_host, keyed)
                    .await?
            }
            RunRequest::JointLine {
                joint_line_id,
                use_tad_host,
            } => {
                self.engine
                    .start_joint(user, origin, joint_line_id, use_tad_host, keyed)
                    .await?
            }
        })
    }

    /// `GET /api/app/jobinstance/{id}/executions`: (count, runs with their artifact versions).
    pub async fn execution_history(
        &self,
        actor: &Actor,
        instance_id: &str,
        page: PageRequest,
    ) -> JobsResult<(i64, Vec<(RunRow, Vec<ArtifactPlan>)>)> {
        require_reader(actor)?;
        self.engine
            .history(instance_id, page.offset(), page.limit())
            .await
    }

    /// 6.3: stops the instance's running run; answers after its host tasks have ended.
    pub async fn stop_execution(
        &self,
        actor: &Actor,
        instance_id: &str,
    ) -> JobsResult<ExecuteAnswer> {
        require_operator(actor)?;
        let (execution_id, end) = self
            .engine
            .stop(&crate::domain::audit::origin(actor), instance_id)
            .await?;
        let stopped = end.status != "running";
        Ok(ExecuteAnswer {
            execution_id,
            result: stopped,
            msg: if stopped { None } else { end.message },
            status: end.status,
            request_id: None,
        })
    }

    /// `GET /api/executions/{id}`: a run, or a joint run.
    pub async fn execution(&self, actor: &Actor, id: &str) -> JobsResult<ExecutionView> {
        require_reader(actor)?;
        match self.engine.tree(id).await {
            Ok(tree) => Ok(ExecutionView::Run(tree)),
            Err(JobsError::NotFound { .. }) => match self.engine.joint_tree(id).await? {
                Some(tree) => Ok(ExecutionView::Joint(tree)),
                None => Err(JobsError::NotFound {
                    kind: RecordKind::Execution,
                    id: id.to_owned(),
                }),
            },
            Err(error) => Err(error),
        }
    }

    /// `GET /api/executions/{id}/log`.
    pub async fn execution_log(
        &self,
        actor: &Actor,
        id: &str,
        host_task_id: &str,
        offset: u64,
    ) -> JobsResult<LogChunk> {
        require_reader(actor)?;
        self.engine.log(id, host_task_id, offset).await
    }

    /// `GET /api/executions/{id}/events`.
    pub async fn watch_execution(
        &self,
        actor: &Actor,
        id: &str,
        after_seq: u64,
    ) -> JobsResult<mpsc::Receiver<JobsResult<EventRow>>> {
        require_reader(actor)?;
        self.engine.watch(id, after_seq).await
    }
}
