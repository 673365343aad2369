//! Runs on the TAD host itself (`use_tad_host`, no sshd): 6.1 on a ready instance, the run tree,
//! its log chunks and its finished event stream, the instance's history, 6.2 one step, 6.3 with
//! nothing running, a failing run and its retry, rollback, and a joint line's plan and run (2.1)
//! with its structure; refusals for a viewer and unknown ids.

use serde_json::{Value, json};

use super::{Payload, Recorder, jobs::Configured};

fn local() -> Value {
    json!({"use_tad_host": true})
}

/// POSTs a run request as `role`; answers the id of the run it started, if any.
async fn start(recorder: &mut Recorder, role: &str, path: &str) -> Option<String> {
    let answer = recorder.post(role, path, local()).await;
    answer.data()["execution_id"].as_str().map(str::to_owned)
}

pub async fn play(recorder: &mut Recorder, configured: &Configured) {
    let instance = &configured.instance;
    let path = |route: &str| format!("/api/app/jobinstance/{instance}/{route}");
    // The dry run (issue 21) before the first run; a bad body; an unknown instance.
    let planned = recorder.post("viewer", &path("plan"), local()).await;
    // The plan id is keyed by the platform's credential key: recorded as a name.
    let plan_id = planned.text_at("/data/plan_id");
    assert_eq!(plan_id.len(), 64, "{}", planned.body);
    recorder.normaliser.literal(&plan_id, "<plan_id>");
    let normalised = recorder.normaliser.value(&planned.body);
    recorder.replace_last_body(normalised);
    recorder
        .post("viewer", &path("plan"), json!({"use_tad_host": "yes"}))
        .await;
    recorder
        .post("viewer", "/api/app/jobinstance/ghost/plan", json!({}))
        .await;
    start(recorder, "viewer", &path("executionall")).await;
    let run = start(recorder, "operator", &path("executionall"))
        .await
        .expect("a run");
    read_run(recorder, &run).await;
    let retry = |run: &str| format!("/api/executions/{run}/retry");
    for (role, retry_path) in [
        ("admin", retry(&run)),
        ("viewer", retry(&run)),
        ("admin", retry("ghost")),
    ] {
        recorder.post(role, &retry_path, json!({})).await;
    }

    // 6.3 with nothing running; 6.2 runs the one step; rollback after two successes.
    recorder
        .post("admin", &path("stop_execution"), json!({}))
        .await;
    recorder
        .call("viewer", "POST", &path("stop_execution"), Payload::None)
        .await;
    for (role, route) in [
        ("admin", "setp_execution"),
        ("viewer", "setp_execution"),
        ("viewer", "rollback"),
        ("admin", "rollback"),
    ] {
        if let Some(started) = start(recorder, role, &path(route)).await {
            recorder
                .get("viewer", &format!("/api/executions/{started}"))
                .await;
        }
    }
    let history = format!("/api/app/jobinstance/{instance}/executions");
    recorder
        .get_each(
            "viewer",
            &[
                history.clone(),
                format!("{history}?page=2&page_size=1"),
                format!("{history}?page=x"),
                "/api/app/jobinstance/ghost/executions".to_owned(),
            ],
        )
        .await;
    for route in [
        "executionall",
        "setp_execution",
        "stop_execution",
        "rollback",
    ] {
        let ghost = format!("/api/app/jobinstance/ghost/{route}");
        recorder.post("admin", &ghost, json!({})).await;
    }

    // A failing run, read back and retried (it fails again).
    let failing = format!("/api/app/jobinstance/{}/executionall", configured.failing);
    let failed = start(recorder, "admin", &failing).await.expect("a run");
    read_run(recorder, &failed).await;
    recorder.post("admin", &retry(&failed), json!({})).await;

    joint_run(recorder, &configured.joint_line).await;
}

/// The run tree, each host task's log from offset 0, bad log queries, and the finished run's
/// event stream.
async fn read_run(recorder: &mut Recorder, run: &str) {
    let tree = recorder
        .get("viewer", &format!("/api/executions/{run}"))
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
            .get(
                "viewer",
                &format!("/api/executions/{run}/log?host_task={task}&offset=0"),
            )
            .await;
        recorder.split_last_log();
        // The whole log as a download; the run page (issue 18).
        recorder
            .get(
                "viewer",
                &format!("/api/executions/{run}/log/raw?host_task={task}"),
            )
            .await;
    }
    let run_page = format!("/console/runs/{run}");
    super::console::page(recorder, "viewer", "GET", &run_page, Payload::None).await;
    for query in ["", "?host_task=ghost", "?host_task=x&offset=minus"] {
        recorder
            .get("viewer", &format!("/api/executions/{run}/log{query}"))
            .await;
    }
    for query in ["", "?host_task=ghost"] {
        recorder
            .get("viewer", &format!("/api/executions/{run}/log/raw{query}"))
            .await;
    }
    recorder
        .get("viewer", &format!("/api/executions/{run}/events"))
        .await;
    recorder
        .get_each(
            "viewer",
            &[
                "/api/executions/ghost",
                "/api/executions/ghost/events",
                "/api/executions/ghost/log?host_task=x",
                "/api/executions/ghost/log/raw?host_task=x",
            ],
        )
        .await;
    super::console::page(
        recorder,
        "viewer",
        "GET",
        "/console/runs/ghost",
        Payload::None,
    )
    .await;
}

async fn joint_run(recorder: &mut Recorder, line: &str) {
    // The dry run of 2.1 (issue 21): its plan ids are keyed by the platform's credential key,
    // recorded as names; a malformed plan id is refused by field.
    let planned = recorder
        .post(
            "viewer",
            &format!("/api/app/jointline/{line}/plan"),
            local(),
        )
        .await;
    let joint_plan_id = planned.text_at("/data/plan_id");
    recorder
        .normaliser
        .literal(&joint_plan_id, "<joint plan_id>");
    let nodes = planned.body["data"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (index, node) in nodes.iter().enumerate() {
        if let Some(id) = node["plan"]["plan_id"].as_str() {
            recorder
                .normaliser
                .literal(id, &format!("<node {index} plan_id>"));
        }
    }
    let normalised = recorder.normaliser.value(&planned.body);
    recorder.replace_last_body(normalised);
    let path = format!("/api/app/jointline/{line}/execution");
    recorder
        .post(
            "admin",
            &path,
            json!({"use_tad_host": true, "plan_id": "nope"}),
        )
        .await;
    start(recorder, "viewer", &path).await;
    if let Some(joint) = start(recorder, "admin", &path).await {
        let tree = format!("/api/executions/{joint}");
        recorder
            .get_each("viewer", &[tree.clone(), format!("{tree}/events")])
            .await;
    }
    let structure = format!("/api/app/jointline/get_structure/{line}");
    recorder.get("viewer", &structure).await;
    let ghost = "/api/app/jointline/ghost/execution";
    recorder.call("admin", "POST", ghost, Payload::None).await;
}
