//! The dry run of 2.1 (issue 21), on TAD-host instances (no sshd): the plan of a joint line
//! lists its nodes in order with their parents and each instance's plan; the same inputs give
//! the same `plan_id`; after one instance's binding changed, 2.1 with the old id is refused
//! naming that node and what changed, and with the new one it runs. Foreign and malformed ids
//! are refused; a viewer may read the plan.

use serde_json::{Value, json};

use crate::{
    console_browser::deployable_instance,
    support::{
        Api, EmbeddedPlatform, assert_failure, assert_success,
        fixtures::{app_catalog, application, post_all},
    },
};

const ADMIN_PASSWORD: &str = "joint-plan-admin-password";

async fn plan(api: &Api, line: &str) -> Value {
    let (status, answer) = api
        .post(
            &format!("/api/app/jointline/{line}/plan"),
            &json!({"use_tad_host": true}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_success(&answer).clone()
}

async fn run(api: &Api, line: &str, plan_id: &str) -> Value {
    let (status, answer) = api
        .post(
            &format!("/api/app/jointline/{line}/execution?wait=false"),
            &json!({"use_tad_host": true, "plan_id": plan_id}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_line_plan_shows_each_node_and_2_1_runs_only_that_plan() {
    let (_platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    post_all(&admin, &[application("app2", "cart", "pl1")]).await;
    let first = deployable_instance(&admin, ("app1", 2), ("ja", "echo a\n"), "first").await;
    let second = deployable_instance(&admin, ("app2", 3), ("jb", "echo b\n"), "second").await;
    let line = admin
        .post_ok(
            "/api/app/jointline/create",
            &json!({"name": "release", "remark": "", "productline_id": "pl1"}),
        )
        .await
        .as_str()
        .expect("id")
        .to_owned();
    admin
        .post_ok(
            "/api/app/jointline/save",
            &json!({"id": line, "joint": [
                {"jobi_id": first, "sequence": 0, "parent": [], "top": 10, "left": 10},
                {"jobi_id": second, "sequence": 1, "parent": [0], "top": 20, "left": 10},
            ]}),
        )
        .await;

    // Nodes in order, with parents and each instance's plan; deterministic.
    let planned = plan(&admin, &line).await;
    let plan_id = planned["plan_id"].as_str().expect("plan id").to_owned();
    assert_eq!(plan_id.len(), 64, "{planned}");
    let nodes = planned["nodes"].as_array().expect("nodes");
    let shape: Vec<(Value, Value, Value)> = nodes
        .iter()
        .map(|node| {
            (
                node["sequence"].clone(),
                node["parents"].clone(),
                node["plan"]["instance_id"].clone(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (json!(0), json!([]), json!(first)),
            (json!(1), json!([0]), json!(second)),
        ]
    );
    assert_eq!(nodes[1]["plan"]["steps"][0]["hosts"], json!(["127.0.0.3"]));
    assert_eq!(planned["blockers"], json!([]), "{planned}");
    let viewer = {
        admin.create_user("vera", "password-123", &["viewer"]).await;
        Api::new(&admin.base).login("vera", "password-123").await
    };
    assert_eq!(plan(&viewer, &line).await["plan_id"], json!(plan_id));

    // The second instance deploys in batches now: the old plan is refused naming that.
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{second}/jb1/0/relation/alldata"),
            &json!({"rolling": {"batch_size": 1, "pause_seconds": 0}}),
        )
        .await;
    let refused = run(&admin, &line, &plan_id).await;
    let info = assert_failure(&refused, "plan_changed");
    assert!(
        info.contains(&format!("node 1 (instance {second})")) && info.contains("batches"),
        "{info}"
    );
    assert!(!info.contains(&format!("instance {first}")), "{info}");

    // Foreign and malformed plan ids; an unknown joint line; a viewer does not run.
    let instance_plan = admin
        .post_ok(
            &format!("/api/app/jobinstance/{first}/plan"),
            &json!({"use_tad_host": true}),
        )
        .await;
    let foreign = instance_plan["plan_id"].as_str().expect("plan id");
    let info = assert_failure(&run(&admin, &line, foreign).await, "plan_changed");
    assert!(info.contains("is not a plan of joint line"), "{info}");
    let info = assert_failure(&run(&admin, &line, "nope").await, "invalid_field");
    assert!(info.starts_with("plan_id "), "{info}");
    let (status, unknown) = admin
        .post("/api/app/jointline/ghost/plan", &json!({}))
        .await;
    assert_eq!(status, 200, "{unknown}");
    assert_eq!(unknown["success"], false, "{unknown}");

    // The new plan runs.
    let planned = plan(&admin, &line).await;
    let fresh = planned["plan_id"].as_str().expect("plan id").to_owned();
    assert_ne!(fresh, plan_id);
    let (status, denied) = viewer
        .post(
            &format!("/api/app/jointline/{line}/execution?wait=false"),
            &json!({"use_tad_host": true, "plan_id": fresh}),
        )
        .await;
    assert_eq!(status, 200, "{denied}");
    assert_eq!(denied["success"], false, "{denied}");
    let started = run(&admin, &line, &fresh).await;
    let data = assert_success(&started);
    assert!(data["execution_id"].is_string(), "{started}");
}
