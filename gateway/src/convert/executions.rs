//! Runs as JSON (SPEC §5 routes beyond the contract): the run tree with statuses and times, log
//! chunks, and Server-Sent Events frames.

use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde_json::{Value, json};

fn time(times: &TimeRenderer, ms: Option<i64>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(times.render_unix_ms(ms)))
}

/// `GET /api/executions/{id}`: the run, its steps, and each step's host tasks; for a joint run
/// (kind `joint`), its nodes with the execution each started.
pub fn execution_json(execution: pb::Execution, times: &TimeRenderer) -> Value {
    let mut value = json!({
        "id": execution.id,
        "kind": execution.kind,
        "status": execution.status,
        "use_tad_host": execution.use_tad_host,
        "started_by": execution.started_by,
        "message": execution.message,
        "create_time": times.render_unix_ms(execution.create_time_ms),
        "start_time": time(times, execution.start_time_ms),
        "end_time": time(times, execution.end_time_ms),
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    if execution.kind == "joint" {
        let nodes: Vec<Value> = execution
            .nodes
            .iter()
            .map(|node| {
                json!({
                    "sequence": node.sequence,
                    "instance_id": node.instance_id,
                    "instance_name": node.instance_name,
                    "parents": node.parents,
                    "execution_id": node.execution_id,
                    "status": node.status,
                    "message": node.message,
                })
            })
            .collect();
        object.insert("nodes".to_owned(), Value::Array(nodes));
        return value;
    }
    let steps: Vec<Value> = execution
        .steps
        .into_iter()
        .map(|step| {
            let hosts: Vec<Value> = step
                .hosts
                .into_iter()
                .map(|host| {
                    json!({
                        "id": host.id,
                        "host_ip": host.host_ip,
                        "status": host.status,
                        "exit_code": host.exit_code,
                        "message": host.message,
                        "log_size": host.log_size,
                        "start_time": time(times, host.start_time_ms),
                        "end_time": time(times, host.end_time_ms),
                    })
                })
                .collect();
            json!({
                "sequence": step.sequence,
                "component_id": step.component_id,
                "method_id": step.method_id,
                "method_name": step.method_name,
                "cluster_id": step.cluster_id,
                "status": step.status,
                "message": step.message,
                "start_time": time(times, step.start_time_ms),
                "end_time": time(times, step.end_time_ms),
                "hosts": hosts,
            })
        })
        .collect();
    object.insert(
        "instance_id".to_owned(),
        Value::String(execution.instance_id),
    );
    object.insert("steps".to_owned(), Value::Array(steps));
    value
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

/// `GET /api/executions/{id}/log`.
pub fn log_json(chunk: pb::ExecutionLogChunk) -> Value {
    json!({
        "host_task": chunk.host_task_id,
        "offset": chunk.offset,
        "next_offset": chunk.next_offset,
        "text": chunk.text,
        "done": chunk.done,
    })
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
        let times = TimeRenderer::new("Asia/Shanghai").expect("zone");
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
}
