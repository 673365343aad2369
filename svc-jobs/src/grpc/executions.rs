//! Runs of instances and joint lines, their logs, history and live events: proto ⇄ rules.

use common::doorway::FromCall;
use proto::ErrorReason;

use super::{
    Actor, EventRow, EventStream, ExecuteAnswer, ExecutionView, JobsGrpc, JointTree, Mode,
    RunRequest, RunTree, Status, pb, to_unix_ms,
};

fn execute_answer(answer: ExecuteAnswer) -> pb::ExecuteResponse {
    pb::ExecuteResponse {
        execution_id: answer.execution_id,
        result: answer.result,
        msg: answer.msg,
        status: answer.status,
    }
}

fn execution_to_proto(tree: RunTree) -> pb::Execution {
    let RunTree {
        run,
        steps,
        host_tasks,
    } = tree;
    pb::Execution {
        id: run.id,
        instance_id: run.instance_id,
        kind: run.kind,
        status: run.status,
        use_tad_host: run.use_tad_host,
        started_by: run.started_by,
        message: run.message,
        create_time_ms: to_unix_ms(run.create_time),
        start_time_ms: run.start_time.map(to_unix_ms),
        end_time_ms: run.end_time.map(to_unix_ms),
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
                    })
                    .collect(),
                status: step.status,
                message: step.message,
                start_time_ms: step.start_time.map(to_unix_ms),
                end_time_ms: step.end_time.map(to_unix_ms),
            })
            .collect(),
        artifacts: Vec::new(),
        nodes: Vec::new(),
    }
}

fn joint_to_proto(tree: JointTree) -> pb::Execution {
    let JointTree { run, nodes } = tree;
    pb::Execution {
        id: run.id,
        instance_id: String::new(),
        kind: "joint".to_owned(),
        status: run.status,
        use_tad_host: run.use_tad_host,
        started_by: run.started_by,
        message: run.message,
        create_time_ms: to_unix_ms(run.create_time),
        start_time_ms: run.start_time.map(to_unix_ms),
        end_time_ms: run.end_time.map(to_unix_ms),
        steps: Vec::new(),
        artifacts: Vec::new(),
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
    }
}

/// A stored event as the stream sends it: log chunks become `{host_task, offset, text}`.
fn event_to_proto(event: EventRow) -> pb::ExecutionEvent {
    let data_json = if event.kind == "log" {
        serde_json::json!({
            "host_task": event.host_task_id,
            "offset": event.log_offset,
            "text": event.payload,
        })
        .to_string()
    } else {
        event.payload
    };
    pb::ExecutionEvent {
        seq: u64::try_from(event.seq).unwrap_or(0),
        kind: event.kind,
        data_json,
    }
}

/// The caller of a request that starts work, with the client's idempotency key (gRPC metadata
/// `idempotency-key`, from the gateway's `Idempotency-Key` header), when it sent one.
pub(super) struct KeyedCall {
    actor: Actor,
    key: Option<String>,
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

impl JobsGrpc {
    pub(super) async fn execute(
        &self,
        KeyedCall { actor, key }: KeyedCall,
        body: pb::ExecuteRequest,
    ) -> Result<pb::ExecuteResponse, Status> {
        let mode = match pb::ExecuteMode::try_from(body.mode) {
            Ok(pb::ExecuteMode::NextStep) => Mode::NextStep,
            _ => Mode::All,
        };
        let request = RunRequest::Instance {
            instance_id: &body.instance_id,
            mode,
            use_tad_host: body.use_tad_host,
        };
        let answer = self
            .service
            .start_run(&actor, request, body.wait, key.as_deref())
            .await?;
        Ok(execute_answer(answer))
    }

    pub(super) async fn stop_execution(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::ExecuteResponse, Status> {
        let answer = self.service.stop_execution(&actor, &body.id).await?;
        Ok(execute_answer(answer))
    }

    pub(super) async fn get_execution(
        &self,
        actor: Actor,
        body: pb::IdRequest,
    ) -> Result<pb::Execution, Status> {
        let view = self.service.execution(&actor, &body.id).await?;
        Ok(match view {
            ExecutionView::Run(tree) => execution_to_proto(tree),
            ExecutionView::Joint(tree) => joint_to_proto(tree),
        })
    }

    pub(super) async fn execution_log(
        &self,
        actor: Actor,
        body: pb::ExecutionLogRequest,
    ) -> Result<pb::ExecutionLogChunk, Status> {
        let chunk = self
            .service
            .execution_log(&actor, &body.execution_id, &body.host_task_id, body.offset)
            .await?;
        Ok(pb::ExecutionLogChunk {
            host_task_id: chunk.host_task_id,
            offset: chunk.offset,
            next_offset: chunk.next_offset,
            text: chunk.text,
            done: chunk.done,
        })
    }

    pub(super) async fn execute_joint_line(
        &self,
        call: KeyedCall,
        body: pb::ExecuteJointLineRequest,
    ) -> Result<pb::ExecuteResponse, Status> {
        let request = RunRequest::JointLine {
            joint_line_id: &body.joint_line_id,
            use_tad_host: body.use_tad_host,
        };
        self.start_run(call, request, body.wait).await
    }

    pub(super) async fn retry_execution(
        &self,
        call: KeyedCall,
        body: pb::RetryExecutionRequest,
    ) -> Result<pb::ExecuteResponse, Status> {
        let request = RunRequest::Retry {
            execution_id: &body.execution_id,
        };
        self.start_run(call, request, body.wait).await
    }

    pub(super) async fn rollback(
        &self,
        call: KeyedCall,
        body: pb::RollbackRequest,
    ) -> Result<pb::ExecuteResponse, Status> {
        let request = RunRequest::Rollback {
            instance_id: &body.instance_id,
            use_tad_host: body.use_tad_host,
        };
        self.start_run(call, request, body.wait).await
    }

    /// Starts `request` for the keyed caller and answers the legacy execute shape.
    async fn start_run(
        &self,
        KeyedCall { actor, key }: KeyedCall,
        request: RunRequest<'_>,
        wait: bool,
    ) -> Result<pb::ExecuteResponse, Status> {
        let answer = self
            .service
            .start_run(&actor, request, wait, key.as_deref())
            .await?;
        Ok(execute_answer(answer))
    }

    pub(super) async fn execution_history(
        &self,
        actor: Actor,
        body: pb::ExecutionHistoryRequest,
    ) -> Result<pb::ExecutionHistoryPage, Status> {
        let page = common::paging::PageRequest::new(body.page, body.page_size);
        let (count, runs) = self
            .service
            .execution_history(&actor, &body.instance_id, page)
            .await?;
        Ok(pb::ExecutionHistoryPage {
            count: u64::try_from(count).unwrap_or(0),
            page: page.page,
            results: runs
                .into_iter()
                .map(|(run, artifacts)| pb::Execution {
                    artifacts: artifacts
                        .into_iter()
                        .map(|artifact| pb::ExecutionArtifact {
                            file_id: artifact.file_id,
                            file_name: artifact.file_name,
                            version: artifact.version,
                            md5: artifact.md5,
                        })
                        .collect(),
                    ..execution_to_proto(RunTree {
                        run,
                        steps: Vec::new(),
                        host_tasks: Vec::new(),
                    })
                })
                .collect(),
        })
    }

    pub(super) async fn watch_execution(
        &self,
        actor: Actor,
        body: pb::WatchExecutionRequest,
    ) -> Result<EventStream, Status> {
        use futures::StreamExt;
        let receiver = self
            .service
            .watch_execution(&actor, &body.execution_id, body.after_seq)
            .await?;
        let stream = tokio_stream::wrappers::ReceiverStream::new(receiver)
            .map(|event| event.map(event_to_proto).map_err(Status::from))
            .boxed();
        Ok(stream)
    }
}
