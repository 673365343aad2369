//! The execution engine end to end through the gateway against a real `sshd` (hosts 127.0.0.2,
//! 127.0.0.3 with a password, 127.0.0.4 with a private key, all on one sshd) and on the TAD host
//! itself: 6.1 pushes artifacts (md5 checked), renders app configs, writes `params.json`, runs the
//! method's entrypoint and the reviewed script with its parameters; the run tree, logs and SSE
//! events read back; one failing host fails the step and is named; 6.2 runs one step at a time; a
//! second 6.1 is refused naming the run; 6.3 kills a `sleep 600` within 5 s leaving no process; a
//! changed host key fails with both fingerprints; no secret appears in any log, event or answer.
//! On PostgreSQL + Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set.

use crate::support;
pub(crate) use crate::support::events::{read_events, read_first_events, read_task_log};
use crate::support::fixtures::bind_hosts;
use crate::support::fixtures::sync_package_field;
use crate::support::fixtures::{
    application, env, post_all, product_line, upload_component, upload_config, upload_script,
};

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, TadProcess, assert_failure, assert_success, drop_platform_schemas,
    md5_hex, platform_env,
    sshd::{KEY_USER, PASSWORD_USER, TestSshd},
    start_serve, tad_command, tar_gz,
};

mod approvals;
mod chaos;
mod crash;
mod deploy;
mod frozen;
mod health_command;
mod idempotency;
mod joint;
mod plans;
mod replicas;
mod retry;
mod revoked;
mod rollout;
mod unchanged;

const ADMIN_PASSWORD: &str = "exec-admin-password";
const DB_PASSWORD: &str = "db-Secret-6f1c9a";
const WEBHOOK_KEY: &str = "webhook-signing-key-for-tests";

/// The hosts of the cluster: (ip, user, by key).
const HOSTS: [(&str, &str, bool); 3] = [
    ("127.0.0.2", PASSWORD_USER, false),
    ("127.0.0.3", PASSWORD_USER, false),
    ("127.0.0.4", KEY_USER, true),
];

/// Everything a deployment was configured with.
struct Deployment {
    artifact_file: String,
    host_ids: Vec<String>,
    /// Directory the test's files go to on the "hosts" (all on this machine).
    root: PathBuf,
    work_dir: PathBuf,
    artifact: Vec<u8>,
    instance: String,
    /// An instance of a two-step template (method, then the custom script).
    two_steps: String,
    script_file_id: String,
    cluster: String,
    method_id: String,
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or(0)
    )
}

/// A test root `/tmp/<prefix>-…` every test user may write into, an embedded platform whose
/// work directory is `<root>/work` (plus `extra_env`), and `admin` logged in to it.
async fn start_platform(
    prefix: &str,
    extra_env: &[(&str, &str)],
) -> (PathBuf, EmbeddedPlatform, Api) {
    let root = PathBuf::from("/tmp").join(unique(prefix));
    shared_dir(&root);
    let work_dir = root.join("work");
    let mut env = vec![("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path"))];
    env.extend_from_slice(extra_env);
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &env).await;
    (root, platform, admin)
}

/// The test sshd, a platform from [`start_platform`] and the deployment [`configure`] made on
/// it; `None` where no sshd can run here.
async fn start_deployed(
    prefix: &str,
    extra_env: &[(&str, &str)],
) -> Option<(TestSshd, PathBuf, EmbeddedPlatform, Api, Deployment)> {
    let sshd = TestSshd::start()?;
    let (root, platform, admin) = start_platform(prefix, extra_env).await;
    let deployment = configure(&admin, &sshd, &root).await;
    Some((sshd, root, platform, admin, deployment))
}

/// Product line pl1, application app1, environment env1 and a cluster `name` of `ips` (each a
/// host logging in to `sshd` by password); answers the cluster's id.
async fn cluster_of_hosts(admin: &Api, sshd: &TestSshd, name: &str, ips: &[&str]) -> String {
    post_all(
        admin,
        &[
            product_line("pl1", "pl"),
            application("app1", "shop", "pl1"),
            env("env1", "test"),
        ],
    )
    .await;
    let cluster = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": name, "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    let mut host_ids = Vec::new();
    for ip in ips {
        let host = json!({"host_IP": ip, "host_name": format!("h-{ip}"), "ssh_user": PASSWORD_USER,
            "ssh_port": sshd.port.to_string(), "ssh_passwd": sshd.password,
            "productLine_id": "pl1", "env_id": "env1"});
        host_ids.push(admin.post_id("/api/resource/hosts/aos_create", &host).await);
    }
    bind_hosts(admin, &cluster, &host_ids).await;
    cluster
}

/// What 6.1 of `instance` on its hosts over SSH would do now (its plan).
async fn plan_over_ssh(admin: &Api, instance: &str) -> Value {
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/plan"),
            &json!({"use_tad_host": false}),
        )
        .await
}

/// 6.1 of `instance` on its hosts over SSH through `route` (`executionall`, with or without
/// `?wait=false`); answers the run's id.
async fn deploy_over_ssh(admin: &Api, instance: &str, route: &str) -> String {
    execution_id(&execute(admin, instance, route, json!({"use_tad_host": false})).await)
}

/// A directory every test user may write into.
fn shared_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("create dir");
    std::process::Command::new("chmod")
        .arg("1777")
        .arg(path)
        .status()
        .expect("chmod");
}

/// Uploads script `name` of app1 as `file` (as `admin`) and has it approved by a second user,
/// `rita` (made here: nobody approves their own script); answers its file id.
async fn upload_reviewed_script(admin: &Api, name: &str, file: &str, script: &[u8]) -> String {
    admin
        .create_user("rita", "password-123", &["reviewer"])
        .await;
    upload_approved_script(admin, name, file, script).await
}

/// Uploads script `name` of app1 as `file` (as `admin`) and has reviewer `rita` (made before)
/// approve it; answers its file id.
async fn upload_approved_script(admin: &Api, name: &str, file: &str, script: &[u8]) -> String {
    let reviewer = Api::new(&admin.base).login("rita", "password-123").await;
    let uploaded = upload_script(admin, "app1", name, file, script).await;
    let version = uploaded[0]["version_id"].as_str().expect("version");
    reviewer
        .post_ok(
            &format!("/api/script/index/examine/{version}"),
            &json!({"method_id": version, "status": "able"}),
        )
        .await;
    uploaded[0]["file_id"].as_str().expect("file").to_owned()
}

/// Configures the deployments every test runs (as `admin`; a second user, `rita`, reviews the
/// script, since nobody approves their own).
async fn configure(admin: &Api, sshd: &TestSshd, root: &Path) -> Deployment {
    // All "hosts" are this machine: each writes below a directory of its own.
    for tag in ["shop-one", "shop-two"] {
        for (ip, _, _) in HOSTS {
            shared_dir(&root.join(tag).join(ip));
        }
    }
    shared_dir(&root.join("sleep"));
    shared_dir(&root.join("two-step2"));
    post_all(
        admin,
        &[
            product_line("pl1", "pl"),
            application("app1", "shop", "pl1"),
            application("app2", "shop-two", "pl1"),
            env("env1", "test"),
        ],
    )
    .await;
    let mut cluster_ids = Vec::new();
    for (name, app) in [("shop-c", "app1"), ("shop-two-c", "app2")] {
        cluster_ids.push(
            admin
                .post_id(
                    "/api/resource/clusters/aos_create",
                    &json!({"name": name, "env_id": "env1", "app_id": app}),
                )
                .await,
        );
    }
    let mut host_ids = Vec::new();
    for (ip, user, by_key) in HOSTS {
        let mut host = json!({"host_IP": ip, "host_name": format!("h-{ip}"), "ssh_user": user,
            "ssh_port": sshd.port.to_string(), "productLine_id": "pl1", "env_id": "env1"});
        if by_key {
            host["ssh_private_key"] = json!(sshd.private_key_pem);
        } else {
            host["ssh_passwd"] = json!(sshd.password);
        }
        host_ids.push(admin.post_id("/api/resource/hosts/aos_create", &host).await);
    }
    for cluster in &cluster_ids {
        bind_hosts(admin, cluster, &host_ids).await;
    }

    // The method package: prints its parameters (the password must come out masked) and counts
    // its runs in the step's work directory.
    let manifest = "component: {id: shop, name: shop, remark: shop}\nmethod: {id: shop1, name: install, remark: install shop}\nentrypoint: run.sh\nparams:\n  - key: greeting\n    require: true\n  - key: db_password\n";
    let run_sh = "echo \"entry on $(whoami): $(tr -d '\\n' < params.json)\"\necho ran >> ../entry-runs\nif [ -n \"$(grep -o slow params.json)\" ]; then sleep 8; fi\n";
    upload_component(admin, manifest, run_sh.as_bytes().to_vec()).await;

    // The artifact: a package holding 3 MiB of varied bytes.
    let payload: Vec<u8> = (0..3 * 1024 * 1024_u32)
        .map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let artifact = tar_gz(&[("shop.bin", payload)]);
    let query = "app_id=app1&version=1.0.0&name=shop";
    let artifact_file = sync_package_field(admin, query, "shop.tar.gz", &artifact, "file_id").await;

    // The script, uploaded by admin and approved by another user.
    let script = b"#!/bin/bash\necho \"script args: $*\"\necho \"$*\" >> ./script-runs\nif [ \"$1\" = fail ]; then echo failing >&2; exit 3; fi\nif [ \"$1\" = sleep ]; then sleep \"$2\"; fi\nif [ \"$1\" = failif ] && [ -e \"$2\" ]; then echo \"flag $2 is there\" >&2; exit 4; fi\n".to_vec();
    let script_file_id = upload_reviewed_script(admin, "deploy", "deploy.sh", &script).await;

    // The app config: `listen={{ port }}`.
    let j2 = b"listen={{ port }}\nname=shop\n".to_vec();
    let yml = b"- key: port\n  rule: '^[0-9]+$'\n".to_vec();
    let template_file = upload_config(admin, "app1", "shop_config", "shop.conf", &j2, &yml).await;

    // Templates: one step (the method), and two steps (the method, then the custom script).
    let mut template_ids = Vec::new();
    for (name, methods) in [
        (
            "install",
            json!([{"component_id": "shop", "method_id": "shop1", "sequence": 0}]),
        ),
        (
            "install-two",
            json!([{"component_id": "shop", "method_id": "shop1", "sequence": 0}, {"component_id": "custom", "method_id": "cu1", "sequence": 1}]),
        ),
    ] {
        let id = admin
            .post_id(
                "/api/app/jobtemplate/create",
                &json!({"name": name, "application_id": "app1"}),
            )
            .await;
        admin
            .post_ok(
                &format!("/api/app/jobtemplate/{id}/graded"),
                &json!({"method": methods}),
            )
            .await;
        template_ids.push(id);
    }
    let schema = admin.get_ok("/api/app/jobinstance/shop1/config/desc").await;
    let node = |key: &str| support::schema_node_id(&schema, key);
    let params = json!({node("greeting"): "hello", node("db_password"): DB_PASSWORD});

    let mut instances = Vec::new();
    for (name, template, app, cluster) in [
        ("shop-one", &template_ids[0], "app1", &cluster_ids[0]),
        ("shop-two", &template_ids[1], "app2", &cluster_ids[1]),
    ] {
        let instance = admin.post_id("/api/app/jobinstance/create",
                &json!({"name": name, "env_id": "env1", "application_id": app, "job_template_id": template})).await;
        // Learn the template's node ids by binding it with no groups first.
        let configs_path = format!("/api/app/jobinstance/{instance}/shop1/0/relation/actemplate");
        admin
            .post_ok(
                &format!("/api/app/jobinstance/{instance}/shop1/0/{cluster}/relation/cluster"),
                &json!({}),
            )
            .await;
        admin
            .post_ok(
                &configs_path,
                &json!({"file_id": template_file, "groups": []}),
            )
            .await;
        let port_node = admin
            .get_ok(&format!(
                "/api/app/jobinstance/{instance}/shop1/0/actemplate/config/desc"
            ))
            .await[0]["id"]
            .as_str()
            .expect("port node")
            .to_owned();
        let tag = name.to_owned();
        let per_host = |make: &dyn Fn(&str, &str) -> Value| -> Vec<Value> {
            HOSTS
                .iter()
                .map(|(ip, _, _)| make(ip, &root.join(&tag).join(ip).display().to_string()))
                .collect()
        };
        let everything = json!({
            "cluster": {"cluster_id": cluster},
            "artifacts": per_host(&|ip, dir| json!({"file_id": artifact_file, "dest": format!("{dir}/artifacts"), "host_IP": [ip]})),
            "actemplates": {"file_id": template_file, "groups": per_host(&|ip, dir| json!({"dest": format!("{dir}/conf"), "host_IP": [ip], "configs": {port_node.clone(): "8080"}, "targetname": "shop.conf"}))},
            "config": {"config_value": params},
            "scripts": {"scripts_data": per_host(&|ip, dir| json!({"id": script_file_id, "dest": format!("{dir}/scripts"), "host_IP": [ip], "parameter": format!("ok {ip}"), "execute_type": "shell"}))},
        });
        admin
            .post_ok(
                &format!("/api/app/jobinstance/{instance}/shop1/0/relation/alldata"),
                &everything,
            )
            .await;
        if name == "shop-two" {
            admin.post_ok(&format!("/api/app/jobinstance/{instance}/cu1/1/relation/alldata"),
                    &json!({"cluster": {"cluster_id": cluster},
                        "scripts": {"scripts_data": [{"id": script_file_id, "dest": root.join("two-step2").display().to_string(), "host_IP": ["127.0.0.2"], "parameter": "second", "execute_type": "shell"}]}})).await;
        }
        let (_, body) = admin
            .get(&format!("/api/app/jobinstance/{instance}/details"))
            .await;
        assert_eq!(assert_success(&body)["status"], "ready", "{body}");
        assert!(
            step_statuses(admin, &instance)
                .await
                .iter()
                .all(Value::is_null),
            "no step status before the first run: {body}"
        );
        instances.push(instance);
    }
    Deployment {
        artifact_file,
        host_ids,
        root: root.to_owned(),
        work_dir: root.join("work"),
        artifact,
        two_steps: instances.pop().expect("two steps"),
        instance: instances.pop().expect("one step"),
        script_file_id,
        cluster: cluster_ids[0].clone(),
        method_id: "shop1".to_owned(),
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()))
}

/// The work directory of a step of a run on a host.
fn step_dir(deployment: &Deployment, transport: &str, ip: &str, run: &str, step: u32) -> PathBuf {
    deployment
        .work_dir
        .join(format!("{transport}-{ip}"))
        .join(run)
        .join(step.to_string())
}

/// `status` of each step 5.10 lists for `instance`, in order.
async fn step_statuses(admin: &Api, instance: &str) -> Vec<Value> {
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    assert_success(&body)["methods"]
        .as_array()
        .expect("methods")
        .iter()
        .map(|method| method["status"].clone())
        .collect()
}

async fn execute(api: &Api, instance: &str, route: &str, body: Value) -> Value {
    let (status, answer) = api
        .post(&format!("/api/app/jobinstance/{instance}/{route}"), &body)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Asserts a stop that began at `stop_started` took under 5 s and left no `sleep {sleeper}`.
fn assert_stopped_in_time(stop_started: Instant, sleeper: &str) {
    assert!(
        stop_started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        stop_started.elapsed()
    );
    assert_eq!(
        processes_matching(&format!("sleep {sleeper}")),
        0,
        "no process left on the target"
    );
}

/// Starts 6.1 on `instance` without waiting for it; answers the run's id.
async fn start_run(api: &Api, instance: &str) -> String {
    let answer = execute(api, instance, "executionall?wait=false", json!({})).await;
    execution_id(&answer)
}

/// The run id of a successful 6.1 answer.
fn execution_id(answer: &Value) -> String {
    assert_success(answer)["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned()
}

/// Asserts a waited 6.1 answered success for the same run `run` (a resume).
fn assert_resumed(answer: &Value, run: &str) {
    let data = assert_success(answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(run)),
        "{answer}"
    );
}

/// The statuses of the first two steps of a run tree.
fn two_step_statuses(tree: &Value) -> (Value, Value) {
    (
        tree["steps"][0]["status"].clone(),
        tree["steps"][1]["status"].clone(),
    )
}

/// Asserts step 0 of `run` ran its entrypoint once on every host (over SSH).
fn assert_step0_ran_once(deployment: &Deployment, run: &str) {
    for (ip, _, _) in HOSTS {
        assert_eq!(
            read(&step_dir(deployment, "ssh", ip, run, 0).join("entry-runs")),
            "ran\n",
            "step 0 ran once on {ip}"
        );
    }
}

/// Every log byte of every host task of a run, read through the log route chunk by chunk.
async fn all_logs(api: &Api, run: &str) -> Vec<(String, String)> {
    let tree = api.get_ok(&format!("/api/executions/{run}")).await;
    let mut logs = Vec::new();
    for step in tree["steps"].as_array().expect("steps") {
        for host in step["hosts"].as_array().expect("hosts") {
            let task = host["id"].as_str().expect("task");
            let text = read_task_log(api, run, task).await;
            logs.push((host["host_ip"].as_str().expect("ip").to_owned(), text));
        }
    }
    logs
}

fn processes_matching(pattern: &str) -> usize {
    let output = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&output.stdout).lines().count()
}

async fn wait_for_status(api: &Api, run: &str, status: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let tree = api.get_ok(&format!("/api/executions/{run}")).await;
        if tree["status"] == status {
            return tree;
        }
        assert!(
            Instant::now() < deadline,
            "run never became {status}: {tree}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Binds step 1 of the two-step instance to the test script with `parameter`, on 127.0.0.2, into
/// `two-step2` under the test's root.
async fn bind_two_steps_script(api: &Api, deployment: &Deployment, parameter: &str) {
    bind_two_steps_scripts(api, deployment, &[parameter]).await;
}

/// As [`bind_two_steps_script`], one script run per parameter in order (only the last one is
/// the step's final command).
async fn bind_two_steps_scripts(api: &Api, deployment: &Deployment, parameters: &[&str]) {
    let dest = deployment.root.join("two-step2").display().to_string();
    let scripts: Vec<Value> = parameters
        .iter()
        .map(|parameter| {
            json!({"id": deployment.script_file_id, "dest": dest, "host_IP": ["127.0.0.2"],
                   "parameter": parameter, "execute_type": "shell"})
        })
        .collect();
    api.post_ok(
        &format!(
            "/api/app/jobinstance/{}/cu1/1/relation/script",
            deployment.two_steps
        ),
        &json!({"script_id": "", "scripts_data": scripts}),
    )
    .await;
}

/// A `tad serve` with a 3 s lease (or another, see [`CrashablePlatform::with_lease`]), on a data directory (and PostgreSQL schemas, in CI's second
/// pass) that outlive the process, so a test can kill it and start it again on the same state.
struct CrashablePlatform {
    /// Shared by the test's targets and scripts (the work directory is under it).
    root: PathBuf,
    data_dir: tempfile::TempDir,
    env: std::collections::HashMap<String, String>,
    postgres: Option<(String, String)>,
    lease: Duration,
}

impl CrashablePlatform {
    fn new(prefix: &str) -> CrashablePlatform {
        CrashablePlatform::with_lease(prefix, 3)
    }

    /// A platform whose lease lasts `lease_secs`: a test whose runs are long (many hosts, many
    /// batches) gives a loaded machine more room before a starved replica gives a run up, since
    /// a replica that cannot renew within two thirds of the lease drops the run by design.
    fn with_lease(prefix: &str, lease_secs: u32) -> CrashablePlatform {
        let lease = lease_secs.to_string();
        let root = PathBuf::from("/tmp").join(unique(prefix));
        shared_dir(&root);
        let work_dir = root.join("work");
        let (env, postgres) = platform_env(
            ADMIN_PASSWORD,
            &[
                ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
                ("TAD_EXECUTION_LEASE_SECS", lease.as_str()),
                ("TAD_EXECUTION_DRAIN_SECS", "1"),
            ],
        );
        CrashablePlatform {
            root,
            data_dir: tempfile::tempdir().expect("data dir"),
            env,
            postgres,
            lease: Duration::from_secs(u64::from(lease_secs)),
        }
    }

    /// Starts `tad serve` on the platform's state, logs admin in and configures the deployment
    /// on `sshd`; answers the process, admin and the deployment.
    async fn serve_configured(&self, sshd: &TestSshd) -> (TadProcess, Api, Deployment) {
        let (process, url) = self.serve();
        let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
        let deployment = configure(&admin, sshd, &self.root).await;
        (process, admin, deployment)
    }

    /// Starts `tad serve` on the platform's state; answers the process and its URL.
    fn serve(&self) -> (TadProcess, String) {
        start_serve(self.data_dir.path(), &self.env)
    }

    /// As [`CrashablePlatform::serve`], with `TAD_TEST_CRASH_AT=point`: the service aborts
    /// there, as a `kill -9` would end it.
    fn serve_crashing_at(&self, point: &str) -> (TadProcess, String) {
        let crash_at = [("TAD_TEST_CRASH_AT".to_owned(), point.to_owned())];
        let env = self.env.clone().into_iter().chain(crash_at);
        start_serve(self.data_dir.path(), env)
    }

    /// `kill -9` of `process`, a restart on the same state, and the run or joint run `id` marked
    /// `interrupted` within a lease period and a sweep; answers the restarted process, `admin` at
    /// its URL, and the run's tree.
    async fn crash_and_restart(
        &self,
        mut process: TadProcess,
        admin: &Api,
        id: &str,
    ) -> (TadProcess, Api, Value) {
        process.child.kill().expect("kill -9");
        process.child.wait().expect("reaped");
        let killed_at = Instant::now();
        let (restarted, url) = self.serve();
        let restarted_after = killed_at.elapsed();
        let admin = admin.with_base(&url);
        let tree = wait_for_status(
            &admin,
            id,
            "interrupted",
            self.lease + Duration::from_secs(5),
        )
        .await;
        // The lease (3 s) runs out at most 3 s after the kill; the restarted service sweeps at
        // once and then every half lease. (A loaded machine may take longer than that to restart.)
        let allowed = restarted_after.max(self.lease) + self.lease * 5 / 6;
        assert!(
            killed_at.elapsed() < allowed,
            "interrupted within a lease period and a sweep: {:?} (restart took {restarted_after:?})",
            killed_at.elapsed()
        );
        (restarted, admin, tree)
    }

    fn clean_up(&self) {
        drop_platform_schemas(&self.postgres);
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// One request a webhook receiver got, and what it answered.
#[derive(Debug, Clone)]
struct WebhookPost {
    delivery: String,
    signature: String,
    event: String,
    body: Vec<u8>,
    answered: u16,
}

/// Waits up to 30 s for a webhook post answered 200 whose JSON body `matches`.
async fn wait_for_post(
    posts: &std::sync::Mutex<Vec<WebhookPost>>,
    what: &str,
    matches: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let posted = posts.lock().expect("posts").iter().any(|post| {
            post.answered == 200 && matches(&serde_json::from_slice(&post.body).unwrap_or_default())
        });
        if posted {
            return;
        }
        assert!(Instant::now() < deadline, "no webhook post of {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A webhook receiver: answers 500 to the very first request, 200 to every later one.
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<WebhookPost>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind receiver");
    let url = format!("http://{}/hooks/tad", listener.local_addr().expect("addr"));
    let posts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<WebhookPost>::new()));
    let seen = posts.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buffer = [0_u8; 4096];
                let (head_end, length) = loop {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        return;
                    }
                    data.extend_from_slice(&buffer[..read]);
                    if let Some(end) = data.windows(4).position(|window| window == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|line| line.strip_prefix("content-length:"))
                            .and_then(|value| value.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while data.len() < head_end + length {
                    let read = stream.read(&mut buffer).await.unwrap_or(0);
                    if read == 0 {
                        break;
                    }
                    data.extend_from_slice(&buffer[..read]);
                }
                let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
                let header = |name: &str| {
                    head.lines()
                        .find_map(|line| {
                            let (key, value) = line.split_once(':')?;
                            key.trim()
                                .eq_ignore_ascii_case(name)
                                .then(|| value.trim().to_owned())
                        })
                        .unwrap_or_default()
                };
                let answered = {
                    let mut posts = seen.lock().expect("posts");
                    let answered = if posts.is_empty() { 500 } else { 200 };
                    posts.push(WebhookPost {
                        delivery: header("x-tad-delivery"),
                        signature: header("x-tad-signature"),
                        event: header("x-tad-event"),
                        body: data[head_end..].to_vec(),
                        answered,
                    });
                    answered
                };
                let reply = format!(
                    "HTTP/1.1 {answered} {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    if answered == 200 {
                        "OK"
                    } else {
                        "Internal Server Error"
                    }
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    (url, posts)
}
