//! Runs on the TAD host itself (`use_tad_host`, no sshd): 6.1 on a ready instance, the run tree,
//! its log chunks and its finished event stream, the instance's history, 6.2 one step, 6.3 with
//! nothing running, a failing run and its retry, rollback, and a joint line run (2.1) with its
//! structure; refusals for a viewer and unknown ids.

use serde_json::json;

use super::{Payload, Recorder, jobs::Configured};

pub async fn play(recorder: &mut Recorder, configured: &Configured) {
    let instance = &configured.instance;
    let local = || Payload::json(json!({"use_tad_host": true}));
    let run_path = |route: &str| format!("/api/app/jobinstance/{instance}/{route}");
    recorder
        .call("viewer", "POST", &run_path("executionall"), local())
        .await;
    let run = recorder
        .call("operator", "POST", &run_path("executionall"), local())
        .await
        .text_at("/data/execution_id");
    read_run(recorder, &run).await;
    recorder
        .call(
            "admin",
            "POST",
            &format!("/api/executions/{run}/retry"),
            Payload::json(json!({})),
        )
        .await;
    recorder
        .call(
            "viewer",
            "POST",
            &format!("/api/executions/{run}/retry"),
            Payload::json(json!({})),
        )
        .await;
    recorder
        .call(
            "admin",
            "POST",
            "/api/executions/ghost/retry",
            Payload::json(json!({})),
        )
        .await;

    // 6.3 with nothing running; 6.2 runs the one step; rollback after two successes.
    recorder
        .call(
            "admin",
            "POST",
            &run_path("stop_execution"),
            Payload::json(json!({})),
        )
        .await;
    recorder
        .call("viewer", "POST", &run_path("stop_execution"), Payload::None)
        .await;
    let step = recorder
        .call("admin", "POST", &run_path("setp_execution"), local())
        .await;
    if let Some(step_run) = step.data()["execution_id"].as_str().map(str::to_owned) {
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{step_run}"),
                Payload::None,
            )
            .await;
    }
    recorder
        .call("viewer", "POST", &run_path("setp_execution"), local())
        .await;
    recorder
        .call("viewer", "POST", &run_path("rollback"), local())
        .await;
    let rollback = recorder
        .call("admin", "POST", &run_path("rollback"), local())
        .await;
    if let Some(rollback_run) = rollback.data()["execution_id"].as_str().map(str::to_owned) {
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{rollback_run}"),
                Payload::None,
            )
            .await;
    }
    for path in [
        format!("/api/app/jobinstance/{instance}/executions"),
        format!("/api/app/jobinstance/{instance}/executions?page=2&page_size=1"),
        format!("/api/app/jobinstance/{instance}/executions?page=x"),
        "/api/app/jobinstance/ghost/executions".to_owned(),
    ] {
        recorder.call("viewer", "GET", &path, Payload::None).await;
    }
    for route in [
        "executionall",
        "setp_execution",
        "stop_execution",
        "rollback",
    ] {
        recorder
            .call(
                "admin",
                "POST",
                &format!("/api/app/jobinstance/ghost/{route}"),
                Payload::json(json!({})),
            )
            .await;
    }

    // A failing run, read back and retried (it fails again).
    let failing = &configured.failing;
    let failed = recorder
        .call(
            "admin",
            "POST",
            &format!("/api/app/jobinstance/{failing}/executionall"),
            local(),
        )
        .await
        .text_at("/data/execution_id");
    read_run(recorder, &failed).await;
    recorder
        .call(
            "admin",
            "POST",
            &format!("/api/executions/{failed}/retry"),
            Payload::json(json!({})),
        )
        .await;

    joint_run(recorder, &configured.joint_line).await;
    let _ = &configured.script_file;
}

/// The run tree, each host task's log from offset 0, bad log queries, and the finished run's
/// event stream.
async fn read_run(recorder: &mut Recorder, run: &str) {
    let tree = recorder
        .call(
            "viewer",
            "GET",
            &format!("/api/executions/{run}"),
            Payload::None,
        )
        .await;
    let tasks: Vec<String> = tree.data()["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|step| step["hosts"].as_array().cloned().unwrap_or_default())
        .filter_map(|host| host["id"].as_str().map(str::to_owned))
        .collect();
    for task in &tasks {
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{run}/log?host_task={task}&offset=0"),
                Payload::None,
            )
            .await;
        recorder.split_last_log();
    }
    for query in ["", "?host_task=ghost", "?host_task=x&offset=minus"] {
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{run}/log{query}"),
                Payload::None,
            )
            .await;
    }
    recorder
        .call(
            "viewer",
            "GET",
            &format!("/api/executions/{run}/events"),
            Payload::None,
        )
        .await;
    for path in [
        "/api/executions/ghost",
        "/api/executions/ghost/events",
        "/api/executions/ghost/log?host_task=x",
    ] {
        recorder.call("viewer", "GET", path, Payload::None).await;
    }
}

async fn joint_run(recorder: &mut Recorder, line: &str) {
    let path = format!("/api/app/jointline/{line}/execution");
    recorder
        .call(
            "viewer",
            "POST",
            &path,
            Payload::json(json!({"use_tad_host": true})),
        )
        .await;
    let answer = recorder
        .call(
            "admin",
            "POST",
            &path,
            Payload::json(json!({"use_tad_host": true})),
        )
        .await;
    if let Some(joint) = answer.data()["execution_id"].as_str().map(str::to_owned) {
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{joint}"),
                Payload::None,
            )
            .await;
        recorder
            .call(
                "viewer",
                "GET",
                &format!("/api/executions/{joint}/events"),
                Payload::None,
            )
            .await;
    }
    recorder
        .call(
            "viewer",
            "GET",
            &format!("/api/app/jointline/get_structure/{line}"),
            Payload::None,
        )
        .await;
    recorder
        .call(
            "admin",
            "POST",
            "/api/app/jointline/ghost/execution",
            Payload::None,
        )
        .await;
}
