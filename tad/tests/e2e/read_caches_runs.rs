//! Kept reads that show runs as they go (issue 19): 5.10 instance details follow a two-step run
//! step by step, and 1.5 joint-line structure shows how a joint run ended at once, though no
//! instance changed meanwhile (the joint run's own changes move its generation). On one
//! `tad serve` with TAD-host runs (no sshd).

use std::{os::unix::fs::PermissionsExt, path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{
    read_caches::answer,
    support::{
        Api, EmbeddedPlatform,
        fixtures::{
            app_catalog, bind_cluster, cluster_with_host, create_joint_line, save_joint_graph,
            template_with_methods, upload_component,
        },
    },
};

const ADMIN_PASSWORD: &str = "read-caches-runs-admin-password";

/// Polls `read` until it answers `expected`, for `within` at most; answers whether it did.
async fn becomes<F: std::future::Future<Output = Value>>(
    mut read: impl FnMut() -> F,
    expected: &str,
    within: Duration,
) -> bool {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if read().await == expected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// A directory the runs' user may look into, for gate files.
fn gate_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("gate dir");
    let mode = std::fs::Permissions::from_mode(0o777);
    std::fs::set_permissions(dir.path(), mode).expect("chmod");
    dir
}

/// An instance `name` of app1 in env1 whose `steps` steps each wait for the file `gate` and take
/// it (method `waiter1`, on a cluster of one host `127.0.0.{host}` never reached: runs go on the
/// TAD host).
async fn gated_instance(
    admin: &Api,
    gate: &Path,
    (name, host): (&str, u8),
    steps: usize,
) -> String {
    let cluster = cluster_with_host(
        admin,
        &json!({"name": format!("{name}-c"), "env_id": "env1", "app_id": "app1"}),
        &json!({"host_IP": format!("127.0.0.{host}"), "host_name": format!("{name}-h"), "ssh_user": "nobody", "ssh_port": "22",
            "ssh_passwd": "unused-ssh-password", "productLine_id": "pl1", "env_id": "env1"}),
    )
    .await;
    let run_sh = format!(
        "while [ ! -e {gate} ]; do sleep 0.05; done\nrm -f {gate}\n",
        gate = gate.display()
    );
    let manifest = "component: {id: waiter, name: waiter, remark: waiter}\nmethod: {id: waiter1, name: wait, remark: wait}\nentrypoint: run.sh\n";
    upload_component(admin, manifest, run_sh.into_bytes()).await;
    let methods = vec![("waiter", "waiter1"); steps];
    let template = template_with_methods(admin, &format!("{name}-t"), "app1", &methods).await;
    let body = json!({"name": name, "env_id": "env1", "application_id": "app1", "job_template_id": template});
    let instance = admin.post_id("/api/app/jobinstance/create", &body).await;
    for sequence in 0..steps {
        let sequence = u32::try_from(sequence).expect("sequence");
        bind_cluster(admin, &instance, "waiter1", sequence, &cluster).await;
    }
    instance
}

/// 6.1 of `instance` on the TAD host, not waiting; answers the run's id.
async fn start_run(admin: &Api, instance: &str) -> String {
    let (status, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall?wait=false"),
            &json!({"use_tad_host": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"]["execution_id"]
        .as_str()
        .expect("run id")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_details_follow_a_run_step_by_step() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let gates = gate_dir();
    let gate = gates.path().join("gate");
    let instance = gated_instance(&admin, &gate, ("waiting", 2), 2).await;
    let run = start_run(&admin, &instance).await;
    let details = format!("/api/app/jobinstance/{instance}/details");
    let tree_step = |sequence: usize| {
        let path = format!("/api/executions/{run}");
        let admin = &admin;
        async move { admin.get_ok(&path).await["steps"][sequence]["status"].clone() }
    };
    let details_step = |sequence: usize| {
        let details = &details;
        let admin = &admin;
        async move { answer(admin, details).await["methods"][sequence]["status"].clone() }
    };
    assert!(becomes(|| tree_step(0), "running", Duration::from_secs(30)).await);
    assert!(becomes(|| details_step(0), "running", Duration::from_secs(5)).await);
    // Read (and kept) while step 0 runs; then step 0 ends and step 1 starts, and the run goes
    // on: only the steps' events say so. 5.10 shows it within 2 s, well before the 5 s an
    // answer may be kept.
    answer(&admin, &details).await;
    std::fs::write(&gate, b"").expect("open the gate");
    assert!(becomes(|| tree_step(1), "running", Duration::from_secs(30)).await);
    assert!(
        becomes(|| details_step(0), "success", Duration::from_secs(2)).await,
        "5.10 did not show step 0's success while the run went on"
    );
    assert_eq!(details_step(1).await, "running");
    std::fs::write(&gate, b"").expect("open the gate again");
    assert!(becomes(|| tree_step(1), "success", Duration::from_secs(30)).await);
    assert!(becomes(|| details_step(1), "success", Duration::from_secs(2)).await);
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joint_line_structure_shows_a_joint_run_that_changed_no_instance() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let gates = gate_dir();
    let gate = gates.path().join("gate");
    let first = gated_instance(&admin, &gate, ("first", 2), 1).await;
    let second = gated_instance(&admin, &gate, ("second", 3), 1).await;
    let line = create_joint_line(&admin, "release", "pl1").await;
    let nodes = json!([
        {"jobi_id": first, "sequence": 0, "parent": [], "top": 10, "left": 10},
        {"jobi_id": second, "sequence": 1, "parent": [0], "top": 20, "left": 10},
    ]);
    save_joint_graph(&admin, &line, nodes).await;
    // The first instance runs on its own (waiting at its gate).
    let run = start_run(&admin, &first).await;
    let tree = format!("/api/executions/{run}");
    let run_status = || async { admin.get_ok(&tree).await["steps"][0]["status"].clone() };
    assert!(becomes(run_status, "running", Duration::from_secs(30)).await);
    let structure = format!("/api/app/jointline/get_structure/{line}");
    let statuses = || async {
        let joint = answer(&admin, &structure).await["joint"].clone();
        let nodes = joint.as_array().expect("nodes").clone();
        nodes
            .iter()
            .map(|node| node["status"].clone())
            .collect::<Vec<_>>()
    };
    // Each node shows its instance's status (kept on the second read).
    for _ in 0..2 {
        assert_eq!(statuses().await, vec![json!("running"), json!("ready")]);
    }
    // 2.1 now: node 0's instance is already running, so node 0 fails without a run and node 1
    // is blocked (shown skipped); no instance changed. Answered once the joint run ended, and read at once.
    let (status, body) = admin
        .post(
            &format!("/api/app/jointline/{line}/execution"),
            &json!({"use_tad_host": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        statuses().await,
        vec![json!("failed"), json!("skipped")],
        "1.5 right after the joint run: {body}"
    );
    std::fs::write(&gate, b"").expect("open the gate");
    assert!(becomes(run_status, "success", Duration::from_secs(30)).await);
    platform.stop().await;
}
