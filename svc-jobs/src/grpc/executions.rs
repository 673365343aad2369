//! Runs of instances and joint lines as proto messages, and the caller of a request that starts
//! one (with its idempotency key).

use common::{doorway::FromCall, time::to_unix_ms};
use proto::{ErrorReason, jobs::v1 as pb};
use tonic::Status;

use crate::service::{
    Actor, JobsService,
    executions::{ExecuteAnswer, ExecutionView, RunRequest},
    records::{JointTree, RunTree},
};

use super::JobsGrpc;

/// An execution answer with the fields both kinds of run have (an instance's run row and a joint
/// run row name them alike) taken from `$run`; the others empty.
macro_rules! run_fields {
    ($run:ident) => {
        pb::Execution {
            id: $run.id,
            status: $run.status,
            use_tad_host: $run.use_tad_host,
            started_by: $run.started_by,
            message: $run.message,
            create_time_ms: to_unix_ms($run.create_time),
            start_time_ms: $run.start_time.map(to_unix_ms),
            end_time_ms: $run.end_time.map(to_unix_ms),
            ..pb::Execution::default()
        }
    };
}

/// A run as `get_execution` answers it: an instance's run with its steps and host tasks, or a
/// joint line's run with its nodes.
pub(super) fn execution_view_to_proto(view: ExecutionView) -> pb::Execution {
    match view {
        ExecutionView::Run(tree) => execution_to_proto(tree),
        ExecutionView::Joint(tree) => joint_to_proto(tree),
    }
}

/// An instance's run with its steps and host tasks.
pub(super) fn execution_to_proto(tree: RunTree) -> pb::Execution {
    let RunTree {
        run,
        steps,
        host_tasks,
    } = tree;
    pb::Execution {
        instance_id: run.instance_id,
        kind: run.kind,
        steps: steps
            .into_iter()
            .map(|(step, plan)| pb::ExecutionStep {
                sequence: step.sequence,
                component_id: step.component_id,
                method_id: step.method_id,
                method_name: plan.map(|plan| plan.method_name).unwrap_or_default(),
                cluster_id: step.cluster_id,
                hosts: host_tasks
                    .iter()
                    .filter(|task| task.sequence == step.sequence)
                    .map(|task| pb::HostTask {
                        id: task.id.clone(),
                        host_ip: task.host_ip.clone(),
                        status: task.status.clone(),
                        exit_code: task.exit_code,
                        message: task.message.clone(),
                        log_size: task.log_size,
                        start_time_ms: task.start_time.map(to_unix_ms),
                        end_time_ms: task.end_time.map(to_unix_ms),
                        artifacts_sent: task.artifacts_sent,
                        artifacts_skipped: task.artifacts_skipped,
                    })
                    .collect(),
                status: step.status,
                message: step.message,
                start_time_ms: step.start_time.map(to_unix_ms),
                end_time_ms: step.end_time.map(to_unix_ms),
            })
            .collect(),
        ..run_fields!(run)
    }
}

fn joint_to_proto(tree: JointTree) -> pb::Execution {
    let JointTree { run, nodes } = tree;
    pb::Execution {
        kind: "joint".to_owned(),
        nodes: nodes
            .into_iter()
            .map(|(node, instance_name)| pb::JointRunNode {
                sequence: node.sequence,
                parents: serde_json::from_str(&node.parents).unwrap_or_default(),
                instance_id: node.instance_id,
                instance_name,
                execution_id: node.run_id,
                status: node.status,
                message: node.message,
            })
            .collect(),
        ..run_fields!(run)
    }
}

/// The caller of a request that starts work, with the client's idempotency key (gRPC metadata
/// `idempotency-key`, from the gateway's `Idempotency-Key` header), when it sent one.
pub(super) struct KeyedCall {
    /// The verified caller.
    pub(super) actor: Actor,
    /// The client's idempotency key.
    pub(super) key: Option<String>,
}

impl KeyedCall {
    /// Starts `request` for this caller under its idempotency key.
    pub(super) async fn start(
        self,
        service: &JobsService,
        request: RunRequest<'_>,
        wait: bool,
    ) -> Result<ExecuteAnswer, Status> {
        self.start_planned(service, request, None, wait).await
    }

    /// [`KeyedCall::start`], refused unless `plan_id` (when sent) is still what would run.
    pub(super) async fn start_planned(
        self,
        service: &JobsService,
        request: RunRequest<'_>,
        plan_id: Option<&str>,
        wait: bool,
    ) -> Result<ExecuteAnswer, Status> {
        let key = self.key.as_deref();
        Ok(service
            .start_planned_run(&self.actor, request, plan_id, wait, key)
            .await?)
    }
}

/// Metadata carrying a client's idempotency key.
pub(super) const IDEMPOTENCY_KEY: &str = "idempotency-key";

impl FromCall<JobsGrpc> for KeyedCall {
    fn from_call<T>(adapter: &JobsGrpc, request: &tonic::Request<T>) -> Result<KeyedCall, Status> {
        let actor = Actor::from_call(adapter, request)?;
        let key = match request.metadata().get(IDEMPOTENCY_KEY) {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .map_err(|_| {
                        ErrorReason::InvalidField
                            .status("Idempotency-Key must be visible ASCII characters")
                    })?
                    .to_owned(),
            ),
        };
        Ok(KeyedCall { actor, key })
    }
}
