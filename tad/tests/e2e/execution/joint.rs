//! Joint lines: the graph runs in order, a failure stops its descendants only, and a joint run
//! survives a crash of its service, resuming its unfinished nodes only.

use super::*;
use crate::support::fixtures::{app_with_cluster, template_with_methods};
use crate::support::fixtures::{create_joint_line, save_joint_graph};

/// A template of one step running the built-in custom method `cu1`.
async fn script_only_template(admin: &Api) -> String {
    template_with_methods(admin, "script-only", "app1", &[("custom", "cu1")]).await
}

/// One node of a test joint line: an instance of its own application.
struct JointNode<'a> {
    app: &'a str,
    name: &'a str,
    script_file_id: &'a str,
    dest: &'a Path,
    parameter: &'a str,
}

/// Creates the node's application, a cluster of host 127.0.0.2 and an instance of `template`
/// whose step runs the script with the parameter in `dest`; answers the instance id.
async fn joint_node_instance(
    admin: &Api,
    deployment: &Deployment,
    template: &str,
    node: JointNode<'_>,
) -> String {
    let JointNode {
        app,
        name,
        script_file_id,
        dest,
        parameter,
    } = node;
    let cluster = app_with_cluster(
        admin,
        (app, "pl1"),
        (&format!("{app}-c"), "env1"),
        &deployment.host_ids[..1],
    )
    .await;
    let instance = admin.post_id("/api/app/jobinstance/create",
            &json!({"name": format!("node-{name}"), "env_id": "env1", "application_id": app, "job_template_id": template})).await;
    admin.post_ok(&format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
            &json!({"cluster": {"cluster_id": cluster},
                "scripts": {"scripts_data": [{"id": script_file_id, "dest": dest.display().to_string(),
                    "host_IP": ["127.0.0.2"], "parameter": parameter, "execute_type": "shell"}]}})).await;
    instance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joint_line_runs_its_graph_and_a_failure_stops_its_descendants_only() {
    let Some((_sshd, root, platform, admin, deployment)) = start_deployed("tad-joint", &[]).await
    else {
        return;
    };

    // A → (B, C) → D: one instance per node, each of its own application (only one run per
    // application and environment runs at a time), all on host 127.0.0.2.
    let template = script_only_template(&admin).await;
    let flag = root.join("flag-C");
    let mut instances = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let app = format!("joint-{name}");
        let dest = root.join("joint").join(name);
        shared_dir(&dest);
        let parameter = if name == "C" {
            format!("failif {}", flag.display())
        } else {
            format!("ok {name}")
        };
        let node = JointNode {
            app: &app,
            name,
            script_file_id: &deployment.script_file_id,
            dest: &dest,
            parameter: &parameter,
        };
        instances.push(joint_node_instance(&admin, &deployment, &template, node).await);
    }
    let line = create_joint_line(&admin, "release", "pl1").await;
    save_joint_graph(
        &admin,
        &line,
        json!([
            {"jobi_id": instances[0], "sequence": 0, "parent": [], "top": 10, "left": 10},
            {"jobi_id": instances[1], "sequence": 1, "parent": [0], "top": 20, "left": 10},
            {"jobi_id": instances[2], "sequence": 2, "parent": ["0"], "top": 20, "left": 30},
            {"jobi_id": instances[3], "sequence": 3, "parent": [1, "2"], "top": 30, "left": 20}
        ]),
    )
    .await;
    let runs_of = |name: &str| {
        std::fs::read_to_string(root.join("joint").join(name).join("script-runs"))
            .map(|runs| runs.lines().count())
            .unwrap_or(0)
    };

    // C fails: B still runs, D does not.
    std::fs::write(&flag, "x").expect("flag");
    let (status, answer) = admin
        .post(&format!("/api/app/jointline/{line}/execution"), &json!({}))
        .await;
    assert_eq!(status, 200);
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    assert!(support::has_text(&data["msg"], "node 2"), "{answer}");
    let joint = data["execution_id"].as_str().expect("id").to_owned();
    assert_eq!(
        ["A", "B", "C", "D"].map(runs_of),
        [1, 1, 1, 0],
        "A and B ran, C ran and failed, D did not run"
    );
    let tree = admin.get_ok(&format!("/api/executions/{joint}")).await;
    assert_eq!(
        (tree["kind"].clone(), tree["status"].clone()),
        (json!("joint"), json!("failed"))
    );
    let statuses: Vec<Value> = tree["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [
            json!("success"),
            json!("success"),
            json!("failed"),
            json!("skipped")
        ],
        "{tree}"
    );
    let c_run = tree["nodes"][2]["execution_id"]
        .as_str()
        .expect("C's run")
        .to_owned();
    assert!(tree["nodes"][3]["execution_id"].is_null());
    let structure = admin
        .get_ok(&format!("/api/app/jointline/get_structure/{line}/"))
        .await;
    let shown: Vec<Value> = structure["joint"]
        .as_array()
        .expect("joint")
        .iter()
        .map(|node| node["status"].clone())
        .collect();
    assert_eq!(shown, statuses, "1.5 shows each node's status");

    // C fixed: running the joint line again resumes C (its own run) and D only.
    std::fs::remove_file(&flag).expect("remove flag");
    let (_, answer) = admin
        .post(
            &format!("/api/app/jointline/{line}/execution"),
            &json!({"use_tad_host": false}),
        )
        .await;
    assert_resumed(&answer, &joint);
    assert_eq!(["A", "B", "C", "D"].map(runs_of), [1, 1, 2, 1]);
    let tree = admin.get_ok(&format!("/api/executions/{joint}")).await;
    assert_eq!(tree["status"], "success");
    assert_eq!(
        tree["nodes"][2]["execution_id"],
        json!(c_run),
        "C continued its own run"
    );
    assert!(
        admin
            .get_ok(&format!("/api/app/jointline/get_structure/{line}"))
            .await["joint"]
            .as_array()
            .expect("joint")
            .iter()
            .all(|node| node["status"] == "success")
    );
    let (_, answer) = admin
        .post("/api/app/jointline/ghost/execution", &json!({}))
        .await;
    assert_failure(&answer, "joint_line_not_found");

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joint_run_survives_a_crash_of_its_service_and_resumes_its_unfinished_nodes_only() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-joint-crash");
    let root = crashable.root.clone();
    let (process, admin, deployment) = crashable.serve_configured(&sshd).await;

    // A script that appends its first argument to `script-runs` and, when given a second one,
    // sleeps that long on its first run only (so the resumed run ends at once).
    let script = b"#!/bin/bash\necho \"$1\" >> ./script-runs\nif [ -n \"$2\" ] && [ \"$(wc -l < ./script-runs)\" -eq 1 ]; then sleep \"$2\"; fi\n".to_vec();
    let script_id = upload_approved_script(&admin, "sleep-once", "once.sh", &script).await;
    let template = script_only_template(&admin).await;

    // A → B → C, one application each, all on 127.0.0.2; B sleeps on its first run.
    let sleeper = format!(
        "600.{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0)
    );
    let mut instances = Vec::new();
    for name in ["A", "B", "C"] {
        let app = format!("crash-{name}");
        let dest = root.join("joint").join(name);
        shared_dir(&dest);
        let parameter = if name == "B" {
            format!("B {sleeper}")
        } else {
            name.to_owned()
        };
        let node = JointNode {
            app: &app,
            name,
            script_file_id: &script_id,
            dest: &dest,
            parameter: &parameter,
        };
        instances.push(joint_node_instance(&admin, &deployment, &template, node).await);
    }
    let line = create_joint_line(&admin, "crash-release", "pl1").await;
    save_joint_graph(
        &admin,
        &line,
        json!([
            {"jobi_id": instances[0], "sequence": 0, "parent": [], "top": 10, "left": 10},
            {"jobi_id": instances[1], "sequence": 1, "parent": [0], "top": 20, "left": 10},
            {"jobi_id": instances[2], "sequence": 2, "parent": [1], "top": 30, "left": 10}
        ]),
    )
    .await;
    let runs_of = |name: &str| {
        std::fs::read_to_string(root.join("joint").join(name).join("script-runs"))
            .map(|runs| runs.lines().map(str::to_owned).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let node_field = |tree: &Value, field: &str| -> Vec<Value> {
        tree["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|node| node[field].clone())
            .collect()
    };

    let (hook_url, posts) = webhook_receiver().await;
    admin
        .post_ok("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    let (status, answer) = admin
        .post(
            &format!("/api/app/jointline/{line}/execution?wait=false"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let joint = execution_id(&answer);
    // B's host task is working once B recorded its run, its sleep is there and the joint run
    // names B's run.
    let deadline = Instant::now() + Duration::from_secs(30);
    let tree = loop {
        let (_, body) = admin.get(&format!("/api/executions/{joint}")).await;
        let tree = assert_success(&body);
        if !runs_of("B").is_empty()
            && processes_matching(&format!("sleep {sleeper}")) > 0
            && tree["nodes"][1]["execution_id"].is_string()
        {
            break tree;
        }
        assert!(Instant::now() < deadline, "B never started: {tree}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        (tree["kind"].clone(), tree["status"].clone()),
        (json!("joint"), json!("running")),
        "{tree}"
    );
    assert_eq!(
        node_field(&tree, "status"),
        [json!("success"), json!("running"), json!("pending")],
        "{tree}"
    );
    let a_run = tree["nodes"][0]["execution_id"]
        .as_str()
        .expect("A's run")
        .to_owned();
    let b_run = tree["nodes"][1]["execution_id"]
        .as_str()
        .expect("B's run")
        .to_owned();

    // kill -9 while B sleeps, then start again on the same data.
    let (restarted, admin, tree) = crashable.crash_and_restart(process, &admin, &joint).await;
    let b_tree = wait_for_status(&admin, &b_run, "interrupted", Duration::from_secs(3)).await;
    assert_eq!(
        node_field(&tree, "status"),
        [json!("success"), json!("interrupted"), json!("pending")],
        "{tree}"
    );
    assert!(tree["nodes"][2]["execution_id"].is_null(), "{tree}");
    assert_eq!(b_tree["steps"][0]["hosts"][0]["status"], "interrupted");
    wait_for_post(&posts, "the interrupted joint run", |body| {
        body["event"] == "joint_execution.finished"
            && body["execution_id"] == joint.as_str()
            && body["status"] == "interrupted"
    })
    .await;
    assert_eq!(
        admin.get_ok(&format!("/api/executions/{a_run}")).await["status"],
        "success"
    );
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep {sleeper}")])
        .status();

    // 2.1 again continues the same joint run: A does not run again, B continues its own run
    // (with the same binding), then C runs.
    let (_, answer) = admin
        .post(&format!("/api/app/jointline/{line}/execution"), &json!({}))
        .await;
    assert_resumed(&answer, &joint);
    assert_eq!(
        ["A", "B", "C"].map(runs_of),
        [vec!["A"], vec!["B", "B"], vec!["C"]],
        "A ran once, B twice (interrupted, then resumed), C once"
    );
    let tree = admin.get_ok(&format!("/api/executions/{joint}")).await;
    assert_eq!(tree["status"], "success", "{tree}");
    assert_eq!(
        node_field(&tree, "status"),
        [json!("success"), json!("success"), json!("success")],
        "{tree}"
    );
    assert_eq!(
        node_field(&tree, "execution_id")[..2],
        [json!(a_run), json!(b_run)],
        "A kept its run, B continued its own run"
    );
    assert_eq!(
        admin.get_ok(&format!("/api/executions/{b_run}")).await["status"],
        "success"
    );
    let shown: Vec<Value> = admin
        .get_ok(&format!("/api/app/jointline/get_structure/{line}"))
        .await["joint"]
        .as_array()
        .expect("joint")
        .iter()
        .map(|node| node["status"].clone())
        .collect();
    assert_eq!(
        shown,
        [json!("success"), json!("success"), json!("success")],
        "1.5 shows each node's status"
    );

    restarted.terminate();
    crashable.clean_up();
}
