//! Runs as JSON (SPEC §5 routes beyond the contract): the run tree with statuses and times, log
//! chunks, and Server-Sent Events frames.

use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::Serialize;
use serde_json::{Value, json};

fn time(times: &TimeRenderer, ms: Option<i64>) -> Option<String> {
    ms.map(|ms| times.render_unix_ms(ms))
}

/// A host task of a run step.
// The fields of these answers are in alphabetical order, the order of the JSON objects they
// replaced, so that the answers keep every byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct HostTaskRun {
    /// Artifacts sent to the host by the last attempt.
    pub artifacts_sent: i32,
    /// Artifacts not sent: the host held the same file (same md5) at the destination.
    pub artifacts_skipped: i32,
    pub end_time: Option<String>,
    pub exit_code: Option<i32>,
    pub host_ip: String,
    pub id: String,
    pub log_size: i64,
    pub message: Option<String>,
    pub start_time: Option<String>,
    pub status: String,
}

/// A step of a run, with its host tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StepRun {
    pub cluster_id: String,
    pub component_id: String,
    pub end_time: Option<String>,
    pub hosts: Vec<HostTaskRun>,
    pub message: Option<String>,
    pub method_id: String,
    pub method_name: String,
    pub sequence: i32,
    pub start_time: Option<String>,
    pub status: String,
}

/// A node of a joint run, with the execution it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct JointNodeRun {
    pub execution_id: Option<String>,
    pub instance_id: String,
    pub instance_name: String,
    pub message: Option<String>,
    pub parents: Vec<i64>,
    pub sequence: i64,
    pub status: String,
}

/// `GET /api/executions/{id}`: a run; an instance run (`instance_id`, `steps`) or a joint run
/// (kind `joint`: `nodes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExecutionTree {
    pub create_time: String,
    pub end_time: Option<String>,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub kind: String,
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<JointNodeRun>>,
    pub start_time: Option<String>,
    pub started_by: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepRun>>,
    pub use_tad_host: bool,
}

fn host_task_run(host: pb::HostTask, times: &TimeRenderer) -> HostTaskRun {
    HostTaskRun {
        artifacts_sent: host.artifacts_sent,
        artifacts_skipped: host.artifacts_skipped,
        end_time: time(times, host.end_time_ms),
        exit_code: host.exit_code,
        host_ip: host.host_ip,
        id: host.id,
        log_size: host.log_size,
        message: host.message,
        start_time: time(times, host.start_time_ms),
        status: host.status,
    }
}

fn step_run(step: pb::ExecutionStep, times: &TimeRenderer) -> StepRun {
    StepRun {
        cluster_id: step.cluster_id,
        component_id: step.component_id,
        end_time: time(times, step.end_time_ms),
        hosts: step
            .hosts
            .into_iter()
            .map(|host| host_task_run(host, times))
            .collect(),
        message: step.message,
        method_id: step.method_id,
        method_name: step.method_name,
        sequence: step.sequence,
        start_time: time(times, step.start_time_ms),
        status: step.status,
    }
}

/// The run tree of an execution.
pub fn execution_tree(execution: pb::Execution, times: &TimeRenderer) -> ExecutionTree {
    let joint = execution.kind == "joint";
    let (instance_id, nodes, steps) = if joint {
        let nodes = execution
            .nodes
            .into_iter()
            .map(|node| JointNodeRun {
                execution_id: node.execution_id,
                instance_id: node.instance_id,
                instance_name: node.instance_name,
                message: node.message,
                parents: node.parents,
                sequence: node.sequence,
                status: node.status,
            })
            .collect();
        (None, Some(nodes), None)
    } else {
        let steps = execution
            .steps
            .into_iter()
            .map(|step| step_run(step, times))
            .collect();
        (Some(execution.instance_id), None, Some(steps))
    };
    ExecutionTree {
        create_time: times.render_unix_ms(execution.create_time_ms),
        end_time: time(times, execution.end_time_ms),
        id: execution.id,
        instance_id,
        kind: execution.kind,
        message: execution.message,
        nodes,
        start_time: time(times, execution.start_time_ms),
        started_by: execution.started_by,
        status: execution.status,
        steps,
        use_tad_host: execution.use_tad_host,
    }
}

/// `GET /api/executions/{id}`: the run, its steps, and each step's host tasks; for a joint run
/// (kind `joint`), its nodes with the execution each started.
pub fn execution_json(execution: pb::Execution, times: &TimeRenderer) -> Value {
    serde_json::to_value(execution_tree(execution, times)).unwrap_or(Value::Null)
}

/// One entry of an instance's history: the run without its steps, with who started it and the
/// artifact versions of its snapshot.
pub fn history_json(execution: pb::Execution, times: &TimeRenderer) -> Value {
    let artifacts: Vec<Value> = execution
        .artifacts
        .iter()
        .map(|artifact| {
            json!({
                "file_id": artifact.file_id,
                "file_name": artifact.file_name,
                "version": artifact.version,
                "md5": artifact.md5,
            })
        })
        .collect();
    let mut value = execution_json(execution, times);
    if let Some(object) = value.as_object_mut() {
        object.remove("steps");
        object.insert("artifacts".to_owned(), Value::Array(artifacts));
    }
    value
}

/// `GET /api/executions/{id}/log`: a chunk, the next offset, and whether the log is complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LogChunk {
    pub done: bool,
    pub host_task: String,
    pub next_offset: u64,
    pub offset: u64,
    pub text: String,
}

impl From<pb::ExecutionLogChunk> for LogChunk {
    fn from(chunk: pb::ExecutionLogChunk) -> LogChunk {
        LogChunk {
            done: chunk.done,
            host_task: chunk.host_task_id,
            next_offset: chunk.next_offset,
            offset: chunk.offset,
            text: chunk.text,
        }
    }
}

/// What 6.1–6.3, rollback, retry and 2.1 answer: the run, its status, and its failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExecuteResult {
    pub execution_id: String,
    pub msg: Option<String>,
    pub result: bool,
    pub status: String,
    /// The deployment request made instead of a run on a protected environment (issue 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<pb::ExecuteResponse> for ExecuteResult {
    fn from(answer: pb::ExecuteResponse) -> ExecuteResult {
        ExecuteResult {
            execution_id: answer.execution_id,
            msg: answer.msg,
            result: answer.result,
            status: answer.status,
            request_id: answer.request_id,
        }
    }
}

/// A run webhook (`/api/admin/webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookItem {
    pub create_time: String,
    pub creator: String,
    pub id: String,
    pub source: String,
    pub url: String,
}

impl WebhookItem {
    pub fn from_proto(webhook: pb::Webhook, times: &TimeRenderer) -> WebhookItem {
        WebhookItem {
            create_time: times.render_unix_ms(webhook.create_time_ms),
            creator: webhook.creator,
            id: webhook.id,
            source: webhook.source,
            url: webhook.url,
        }
    }
}

/// One Server-Sent Events frame: `id` (resume point), `event` (the kind) and one `data` line.
pub fn sse_frame(event: &pb::ExecutionEvent) -> String {
    // data_json is one line of JSON (serde_json never writes raw newlines).
    format!(
        "id: {}\nevent: {}\ndata: {}\n\n",
        event.seq, event.kind, event.data_json
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_frames_carry_the_sequence_as_id() {
        let frame = sse_frame(&pb::ExecutionEvent {
            seq: 7,
            kind: "log".into(),
            data_json: r#"{"text":"a\nb"}"#.into(),
        });
        assert_eq!(frame, "id: 7\nevent: log\ndata: {\"text\":\"a\\nb\"}\n\n");
    }

    #[test]
    fn a_run_tree_renders_times_in_the_zone() {
        let times = crate::convert::shanghai();
        let value = execution_json(
            pb::Execution {
                id: "r".into(),
                create_time_ms: 1000,
                end_time_ms: None,
                steps: vec![pb::ExecutionStep {
                    sequence: 1,
                    hosts: vec![pb::HostTask {
                        host_ip: "127.0.0.2".into(),
                        exit_code: Some(3),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
            &times,
        );
        assert_eq!(value["create_time"], "1970-01-01 08:00:01");
        assert_eq!(value["end_time"], Value::Null);
        assert_eq!(value["steps"][0]["hosts"][0]["exit_code"], 3);
    }

    #[test]
    fn typed_answers_keep_the_bytes_of_the_json_objects_they_replaced() {
        let times = crate::convert::shanghai();
        let execution = pb::Execution {
            id: "r".into(),
            instance_id: "i".into(),
            kind: "deploy".into(),
            steps: vec![pb::ExecutionStep {
                sequence: 1,
                hosts: vec![pb::HostTask {
                    host_ip: "127.0.0.2".into(),
                    exit_code: Some(3),
                    start_time_ms: Some(5),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let typed = serde_json::to_string(&execution_tree(execution.clone(), &times));
        let value = serde_json::to_value(execution_tree(execution, &times)).expect("value");
        assert_eq!(typed.expect("typed"), value.to_string());
        let joint = pb::Execution {
            kind: "joint".into(),
            nodes: vec![pb::JointRunNode {
                parents: vec![0],
                ..Default::default()
            }],
            ..Default::default()
        };
        let typed = serde_json::to_string(&execution_tree(joint.clone(), &times)).expect("typed");
        let value = serde_json::to_value(execution_tree(joint, &times)).expect("value");
        assert_eq!(typed, value.to_string());
        assert!(value.get("steps").is_none() && value.get("instance_id").is_none());
        let result = ExecuteResult::from(pb::ExecuteResponse {
            execution_id: "e".into(),
            result: true,
            msg: None,
            status: "success".into(),
            request_id: None,
        });
        assert_eq!(
            serde_json::to_string(&result).expect("typed"),
            json!({"msg": null, "result": true, "execution_id": "e", "status": "success"})
                .to_string()
        );
        let chunk = LogChunk::from(pb::ExecutionLogChunk {
            host_task_id: "h".into(),
            offset: 1,
            next_offset: 2,
            text: "t".into(),
            done: true,
        });
        assert_eq!(
            serde_json::to_string(&chunk).expect("typed"),
            json!({"host_task": "h", "offset": 1, "next_offset": 2, "text": "t", "done": true})
                .to_string()
        );
    }
}
