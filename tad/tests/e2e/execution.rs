//! The execution engine end to end through the gateway against a real `sshd` (hosts 127.0.0.2,
//! 127.0.0.3 with a password, 127.0.0.4 with a private key, all on one sshd) and on the TAD host
//! itself: 6.1 pushes artifacts (md5 checked), renders app configs, writes `params.json`, runs the
//! method's entrypoint and the reviewed script with its parameters; the run tree, logs and SSE
//! events read back; one failing host fails the step and is named; 6.2 runs one step at a time; a
//! second 6.1 is refused naming the run; 6.3 kills a `sleep 600` within 5 s leaving no process; a
//! changed host key fails with both fingerprints; no secret appears in any log, event or answer.
//! On PostgreSQL + Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set.

use crate::support;

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, TadProcess, assert_failure, assert_success, drop_platform_schemas,
    md5_hex, platform_env, post_multipart,
    sshd::{KEY_USER, PASSWORD_USER, TestSshd},
    tad_command, tar_gz,
};

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

/// A directory every test user may write into.
fn shared_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("create dir");
    std::process::Command::new("chmod")
        .arg("1777")
        .arg(path)
        .status()
        .expect("chmod");
}

/// Configures the deployments every test runs (as `admin`; a second user, `rita`, reviews the
/// script, since nobody approves their own).
async fn configure(admin: &Api, sshd: &TestSshd, root: &Path) -> Deployment {
    let (_, body) = admin
        .post(
            "/api/admin/users",
            &json!({"username": "rita", "password": "password-123", "roles": ["reviewer"]}),
        )
        .await;
    assert_success(&body);
    let reviewer = Api::new(&admin.base).login("rita", "password-123").await;
    // All "hosts" are this machine: each writes below a directory of its own.
    for tag in ["shop-one", "shop-two"] {
        for (ip, _, _) in HOSTS {
            shared_dir(&root.join(tag).join(ip));
        }
    }
    shared_dir(&root.join("sleep"));
    shared_dir(&root.join("two-step2"));
    for (path, body) in [
        (
            "/api/admin/productlines",
            json!({"id": "pl1", "name": "pl"}),
        ),
        (
            "/api/admin/applications",
            json!({"id": "app1", "name": "shop", "product_line_id": "pl1"}),
        ),
        (
            "/api/admin/applications",
            json!({"id": "app2", "name": "shop-two", "product_line_id": "pl1"}),
        ),
        ("/api/admin/envs", json!({"id": "env1", "name": "test"})),
    ] {
        let (_, answer) = admin.post(path, &body).await;
        assert_success(&answer);
    }
    let mut cluster_ids = Vec::new();
    for (name, app) in [("shop-c", "app1"), ("shop-two-c", "app2")] {
        let (_, body) = admin
            .post(
                "/api/resource/clusters/aos_create",
                &json!({"name": name, "env_id": "env1", "app_id": app}),
            )
            .await;
        cluster_ids.push(assert_success(&body)["id"].as_str().expect("id").to_owned());
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
        let (_, body) = admin.post("/api/resource/hosts/aos_create", &host).await;
        host_ids.push(assert_success(&body)["id"].as_str().expect("id").to_owned());
    }
    for cluster in &cluster_ids {
        let (_, body) = admin
            .post(
                &format!("/api/resource/clusters/{cluster}/aos_bind"),
                &json!({"hosts": host_ids}),
            )
            .await;
        assert_success(&body);
    }

    // The method package: prints its parameters (the password must come out masked) and counts
    // its runs in the step's work directory.
    let manifest = "component: {id: shop, name: shop, remark: shop}\nmethod: {id: shop1, name: install, remark: install shop}\nentrypoint: run.sh\nparams:\n  - key: greeting\n    require: true\n  - key: db_password\n";
    let run_sh = "echo \"entry on $(whoami): $(tr -d '\\n' < params.json)\"\necho ran >> ../entry-runs\nif [ -n \"$(grep -o slow params.json)\" ]; then sleep 8; fi\n";
    let package = tar_gz(&[
        ("method.yml", manifest.as_bytes().to_vec()),
        ("run.sh", run_sh.as_bytes().to_vec()),
    ]);
    let (_, body) = post_multipart(admin, "/api/component/upload", &[("file", package)], &[]).await;
    assert_success(&body);

    // The artifact: a package holding 3 MiB of varied bytes.
    let payload: Vec<u8> = (0..3 * 1024 * 1024_u32)
        .map(|index| (index.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let artifact = tar_gz(&[("shop.bin", payload)]);
    let md5 = md5_hex(&artifact);
    let (_, body) = post_multipart(
        admin,
        &format!("/api/artifact/version/aos?app_id=app1&version=1.0.0&name=shop&md5={md5}"),
        &[("shop.tar.gz", artifact.clone())],
        &[],
    )
    .await;
    let artifact_file = assert_success(&body)["file_id"]
        .as_str()
        .expect("file id")
        .to_owned();

    // The script, uploaded by admin and approved by another user.
    let script = b"#!/bin/bash\necho \"script args: $*\"\necho \"$*\" >> ./script-runs\nif [ \"$1\" = fail ]; then echo failing >&2; exit 3; fi\nif [ \"$1\" = sleep ]; then sleep \"$2\"; fi\nif [ \"$1\" = failif ] && [ -e \"$2\" ]; then echo \"flag $2 is there\" >&2; exit 4; fi\n".to_vec();
    let (_, body) = post_multipart(
        admin,
        "/api/artifact/script/aos_upload",
        &[("deploy.sh", script.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "deploy".into()),
            (
                "file_md5",
                json!({"deploy.sh": md5_hex(&script)}).to_string(),
            ),
        ],
    )
    .await;
    let uploaded = assert_success(&body);
    let script_file_id = uploaded[0]["file_id"].as_str().expect("file").to_owned();
    let script_version = uploaded[0]["version_id"]
        .as_str()
        .expect("version")
        .to_owned();
    let (_, body) = reviewer
        .post(
            &format!("/api/script/index/examine/{script_version}"),
            &json!({"method_id": script_version, "status": "able"}),
        )
        .await;
    assert_success(&body);

    // The app config: `listen={{ port }}`.
    let j2 = b"listen={{ port }}\nname=shop\n".to_vec();
    let yml = b"- key: port\n  rule: '^[0-9]+$'\n".to_vec();
    let (_, body) = post_multipart(
        admin,
        "/api/artifact/configure/aos_upload",
        &[("shop.conf.j2", j2.clone()), ("shop.conf.yml", yml.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "shop_config".into()),
            ("version", "1".into()),
            (
                "file_md5",
                json!({"shop.conf.j2": md5_hex(&j2), "shop.conf.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    let template_file = assert_success(&body)[0]["id"]
        .as_str()
        .expect("j2 id")
        .to_owned();

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
        let (_, body) = admin
            .post(
                "/api/app/jobtemplate/create",
                &json!({"name": name, "application_id": "app1"}),
            )
            .await;
        let id = assert_success(&body)["id"].as_str().expect("id").to_owned();
        let (_, body) = admin
            .post(
                &format!("/api/app/jobtemplate/{id}/graded"),
                &json!({"method": methods}),
            )
            .await;
        assert_success(&body);
        template_ids.push(id);
    }
    let (_, body) = admin.get("/api/app/jobinstance/shop1/config/desc").await;
    let schema = assert_success(&body);
    let node = |key: &str| -> String {
        schema
            .as_array()
            .expect("nodes")
            .iter()
            .find(|node| node["key"] == key)
            .and_then(|node| node["id"].as_str())
            .expect("node id")
            .to_owned()
    };
    let params = json!({node("greeting"): "hello", node("db_password"): DB_PASSWORD});

    let mut instances = Vec::new();
    for (name, template, app, cluster) in [
        ("shop-one", &template_ids[0], "app1", &cluster_ids[0]),
        ("shop-two", &template_ids[1], "app2", &cluster_ids[1]),
    ] {
        let (_, body) = admin
            .post(
                "/api/app/jobinstance/create",
                &json!({"name": name, "env_id": "env1", "application_id": app, "job_template_id": template}),
            )
            .await;
        let instance = assert_success(&body)["id"].as_str().expect("id").to_owned();
        // Learn the template's node ids by binding it with no groups first.
        let configs_path = format!("/api/app/jobinstance/{instance}/shop1/0/relation/actemplate");
        let (_, body) = admin
            .post(
                &format!("/api/app/jobinstance/{instance}/shop1/0/{cluster}/relation/cluster"),
                &json!({}),
            )
            .await;
        assert_success(&body);
        let (_, body) = admin
            .post(
                &configs_path,
                &json!({"file_id": template_file, "groups": []}),
            )
            .await;
        assert_success(&body);
        let (_, body) = admin
            .get(&format!(
                "/api/app/jobinstance/{instance}/shop1/0/actemplate/config/desc"
            ))
            .await;
        let port_node = assert_success(&body)[0]["id"]
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
        let (_, body) = admin
            .post(
                &format!("/api/app/jobinstance/{instance}/shop1/0/relation/alldata"),
                &everything,
            )
            .await;
        assert_success(&body);
        if name == "shop-two" {
            let (_, body) = admin
                .post(
                    &format!("/api/app/jobinstance/{instance}/cu1/1/relation/alldata"),
                    &json!({"cluster": {"cluster_id": cluster},
                        "scripts": {"scripts_data": [{"id": script_file_id, "dest": root.join("two-step2").display().to_string(), "host_IP": ["127.0.0.2"], "parameter": "second", "execute_type": "shell"}]}}),
                )
                .await;
            assert_success(&body);
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

/// Every log byte of every host task of a run, read through the log route chunk by chunk.
async fn all_logs(api: &Api, run: &str) -> Vec<(String, String)> {
    let (_, body) = api.get(&format!("/api/executions/{run}")).await;
    let tree = assert_success(&body);
    let mut logs = Vec::new();
    for step in tree["steps"].as_array().expect("steps") {
        for host in step["hosts"].as_array().expect("hosts") {
            let task = host["id"].as_str().expect("task").to_owned();
            let mut offset = 0;
            let mut text = String::new();
            loop {
                let (_, body) = api
                    .get(&format!(
                        "/api/executions/{run}/log?host_task={task}&offset={offset}"
                    ))
                    .await;
                let chunk = assert_success(&body);
                text.push_str(chunk["text"].as_str().expect("text"));
                let next = chunk["next_offset"].as_u64().expect("next");
                if chunk["done"] == true {
                    break;
                }
                assert!(next >= offset);
                offset = next;
            }
            logs.push((host["host_ip"].as_str().expect("ip").to_owned(), text));
        }
    }
    logs
}

/// Reads a run's SSE stream until it ends, answering (id, event, data) frames.
async fn read_events(
    api: &Api,
    run: &str,
    last_event_id: Option<u64>,
) -> Vec<(u64, String, Value)> {
    let mut request = api
        .http
        .get(format!("{}/api/executions/{run}/events", api.base))
        .bearer_auth(api.token.as_deref().expect("token"));
    if let Some(last) = last_event_id {
        request = request.header("Last-Event-ID", last.to_string());
    }
    let response = request.send().await.expect("events");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/event-stream")
    );
    let text = response.text().await.expect("stream");
    parse_events(&text)
}

/// Reads the first `count` events of a run's live SSE stream, then hangs up.
async fn read_first_events(api: &Api, run: &str, count: usize) -> Vec<(u64, String, Value)> {
    let response = api
        .http
        .get(format!("{}/api/executions/{run}/events", api.base))
        .bearer_auth(api.token.as_deref().expect("token"))
        .send()
        .await
        .expect("events");
    let mut stream = response.bytes_stream();
    let mut text = String::new();
    while parse_events(&text).len() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("an event within 20 s")
            .expect("stream open")
            .expect("chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    parse_events(&text).into_iter().take(count).collect()
}

fn parse_events(text: &str) -> Vec<(u64, String, Value)> {
    text.split("\n\n")
        .filter_map(|frame| {
            let mut id = None;
            let mut event = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(value) = line.strip_prefix("id: ") {
                    id = value.parse::<u64>().ok();
                } else if let Some(value) = line.strip_prefix("event: ") {
                    event = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data = serde_json::from_str::<Value>(value).ok();
                }
            }
            Some((id?, event?, data?))
        })
        .collect()
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
        let (_, body) = api.get(&format!("/api/executions/{run}")).await;
        let tree = assert_success(&body);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deployments_run_over_ssh_and_on_the_tad_host() {
    let Some(mut sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-exec"));
    shared_dir(&root);
    let work_dir = root.join("work");
    let platform = EmbeddedPlatform::start(
        ADMIN_PASSWORD,
        &[
            ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
            ("TAD_SSH_TIMEOUT_SECS", "5"),
        ],
    )
    .await;
    let anonymous = Api::new(platform.url());
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let instance = deployment.instance.clone();
    let mut answers = Vec::new();

    // 6.1 over SSH: every host gets the artifact, the rendered config, params.json, the script.
    let answer = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["msg"].clone()),
        (json!(true), Value::Null),
        "{answer}"
    );
    let run = data["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned();
    answers.push(answer.to_string());
    let expected_md5 = md5_hex(&deployment.artifact);
    for (ip, user, _) in HOSTS {
        let dir = deployment.root.join("shop-one").join(ip);
        let pushed = std::fs::read(dir.join("artifacts/shop.tar.gz")).expect("artifact pushed");
        assert_eq!(md5_hex(&pushed), expected_md5, "artifact on {ip}");
        let owner = std::process::Command::new("stat")
            .args(["-c", "%U"])
            .arg(dir.join("artifacts/shop.tar.gz"))
            .output()
            .expect("stat");
        assert_eq!(
            String::from_utf8_lossy(&owner.stdout).trim(),
            user,
            "written over ssh as {user}"
        );
        assert_eq!(
            read(&dir.join("conf/shop.conf")).trim_end(),
            "listen=8080\nname=shop"
        );
        let step = step_dir(&deployment, "ssh", ip, &run, 0);
        // params.json (it holds the password) is removed when the step ends (see
        // execution_safety.rs for its mode while it exists).
        assert!(
            !step.join("package/params.json").exists(),
            "params.json left on {ip}"
        );
        assert_eq!(read(&step.join("entry-runs")), "ran\n");
        assert_eq!(read(&dir.join("scripts/script-runs")), format!("ok {ip}\n"));
    }
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "success");
    assert_eq!(tree["instance_id"], instance.as_str());
    assert_eq!(tree["started_by"], "admin");
    assert_eq!(tree["steps"][0]["status"], "success");
    assert_eq!(tree["steps"][0]["method_name"], "install");
    let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        assert_eq!(
            (host["status"].clone(), host["exit_code"].clone()),
            (json!("success"), json!(0)),
            "{host}"
        );
        assert!(
            host["end_time"]
                .as_str()
                .is_some_and(|time| time.len() == 19)
        );
    }
    answers.push(body.to_string());
    let logs = all_logs(&admin, &run).await;
    // The log route answers from any byte offset: exactly the rest of the log, nothing at its end.
    let task = hosts[0]["id"].as_str().expect("task");
    let whole = logs
        .iter()
        .find(|(ip, _)| hosts[0]["host_ip"] == ip.as_str())
        .map(|(_, log)| log.clone())
        .expect("the host's log");
    let size = whole.len();
    assert!(size > 200, "a log of several chunks: {whole}");
    for offset in (0..size).step_by(37).chain([size - 1, size, size + 5]) {
        let (_, body) = admin
            .get(&format!(
                "/api/executions/{run}/log?host_task={task}&offset={offset}"
            ))
            .await;
        let chunk = assert_success(&body);
        let expected = whole.as_bytes().get(offset..).unwrap_or_default();
        assert_eq!(
            (
                chunk["text"].as_str().expect("text"),
                chunk["next_offset"].as_u64(),
                chunk["done"].as_bool()
            ),
            (
                String::from_utf8_lossy(expected).as_ref(),
                Some(size as u64),
                Some(true)
            ),
            "from offset {offset}"
        );
    }
    for (ip, log) in &logs {
        assert!(log.contains("entry on "), "{ip}: {log}");
        assert!(
            log.contains("\"greeting\": \"hello\""),
            "params.json read: {log}"
        );
        assert!(
            log.contains(&format!("script args: ok {ip}")),
            "{ip}: {log}"
        );
        assert!(
            log.contains("md5") && log.contains("verified"),
            "{ip}: {log}"
        );
        assert!(
            log.contains("\"db_password\":\"******\"") || log.contains("******"),
            "{ip}: {log}"
        );
    }
    let events = read_events(&admin, &run, None).await;
    assert!(
        events.windows(2).all(|pair| pair[1].0 == pair[0].0 + 1),
        "numbered in order"
    );
    assert_eq!(
        events.last().map(|event| event.2["status"].clone()),
        Some(json!("success"))
    );
    assert!(events.iter().any(|(_, kind, data)| {
        kind == "log"
            && data["text"]
                .as_str()
                .is_some_and(|text| text.contains("script args"))
    }));
    // Resuming after any event delivers exactly the later ones.
    let middle = events[events.len() / 2].0;
    let resumed = read_events(&admin, &run, Some(middle)).await;
    assert_eq!(
        resumed.iter().map(|event| event.0).collect::<Vec<_>>(),
        events
            .iter()
            .map(|event| event.0)
            .filter(|id| *id > middle)
            .collect::<Vec<_>>()
    );
    let mut everything_said: Vec<String> = logs.iter().map(|(_, log)| log.clone()).collect();
    everything_said.extend(events.iter().map(|event| event.2.to_string()));

    // The instance now shows the outcome.
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "success");

    // One host of three fails: the step fails, and msg names the host and the step.
    let fail_binding = json!({"scripts_data": HOSTS.iter().map(|(ip, _, _)| json!({
        "id": deployment.script_file_id,
        "dest": deployment.root.join("shop-one").join(ip).join("scripts").display().to_string(),
        "host_IP": [ip],
        "parameter": if *ip == "127.0.0.3" { "fail now".to_owned() } else { format!("ok {ip}") },
        "execute_type": "shell"})).collect::<Vec<_>>()});
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": fail_binding["scripts_data"]}),
        )
        .await;
    assert_success(&body);
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    let msg = data["msg"].as_str().expect("msg names the failure");
    assert!(msg.contains("127.0.0.3") && msg.contains("step 0"), "{msg}");
    assert!(msg.contains("exited with code 3"), "{msg}");
    let failed_run = data["execution_id"].as_str().expect("id").to_owned();
    assert_ne!(failed_run, run, "a finished run is not continued");
    let (_, body) = admin.get(&format!("/api/executions/{failed_run}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "failed");
    let statuses: Vec<(String, String)> = tree["steps"][0]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| {
            (
                host["host_ip"].as_str().unwrap_or_default().to_owned(),
                host["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("127.0.0.3".to_owned(), "failed".to_owned())),
        "{statuses:?}"
    );
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "failed");
    everything_said.extend(
        all_logs(&admin, &failed_run)
            .await
            .into_iter()
            .map(|(_, log)| log),
    );

    // 6.2 runs one step at a time.
    let two = deployment.two_steps.clone();
    let answer = execute(
        &admin,
        &two,
        "setp_execution",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let stepped = data["execution_id"].as_str().expect("id").to_owned();
    let (_, body) = admin.get(&format!("/api/executions/{stepped}")).await;
    let tree = assert_success(&body);
    assert_eq!(
        (
            tree["steps"][0]["status"].clone(),
            tree["steps"][1]["status"].clone()
        ),
        (json!("success"), json!("pending")),
        "{tree}"
    );
    assert_eq!(
        step_statuses(&admin, &two).await,
        [json!("success"), json!("pending")],
        "5.10 shows each step's status in the current run"
    );
    assert!(
        !deployment.root.join("two-step2/script-runs").exists(),
        "step 1 did not run yet"
    );
    let answer = execute(&admin, &two, "setp_execution", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(stepped)),
        "{answer}"
    );
    assert_eq!(
        read(&deployment.root.join("two-step2/script-runs")),
        "second\n"
    );
    let tree = wait_for_status(&admin, &stepped, "success", Duration::from_secs(5)).await;
    assert_eq!(tree["steps"][1]["status"], "success");
    assert_eq!(
        step_statuses(&admin, &two).await,
        [json!("success"), json!("success")]
    );
    assert_eq!(
        read(&step_dir(&deployment, "ssh", "127.0.0.2", &stepped, 0).join("entry-runs")),
        "ran\n",
        "step 0 ran once"
    );

    // A long run: a second 6.1 is refused naming it; 6.3 ends it within 5 s, leaving no process.
    let sleeper = "600.4242";
    let sleep_binding = json!({"script_id": "", "scripts_data": [{
        "id": deployment.script_file_id,
        "dest": deployment.root.join("sleep").display().to_string(),
        "host_IP": ["127.0.0.2"],
        "parameter": format!("sleep {sleeper}"),
        "execute_type": "shell"}]});
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &sleep_binding,
        )
        .await;
    assert_success(&body);
    let answer = execute(&admin, &instance, "executionall?wait=false", json!({})).await;
    let long_run = assert_success(&answer)["execution_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let sleep_runs = deployment.root.join("sleep/script-runs");
    while !std::fs::read_to_string(&sleep_runs).is_ok_and(|runs| runs.contains("sleep"))
        || processes_matching(&format!("sleep {sleeper}")) == 0
    {
        assert!(Instant::now() < deadline, "the sleep never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A live stream dropped after 3 events and resumed with Last-Event-ID misses nothing and
    // repeats nothing.
    let first = read_first_events(&admin, &long_run, 3).await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let refusal = assert_failure(&answer, "execution_running");
    assert!(refusal.contains(&long_run), "{refusal}");
    assert_eq!(answer["level"], "warning");
    let stop_started = Instant::now();
    let answer = execute(
        &admin,
        &instance,
        "stop_execution",
        json!({"use_tad_host": false}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["status"].clone()),
        (json!(true), json!("stopped")),
        "{answer}"
    );
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
    let (_, body) = admin.get(&format!("/api/executions/{long_run}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "stopped");
    assert!(
        tree["steps"][0]["hosts"]
            .as_array()
            .expect("hosts")
            .iter()
            .any(|host| host["status"] == "stopped" && host["exit_code"].is_null()),
        "a stopped host shows no exit code: {tree}"
    );
    let answer = execute(&admin, &instance, "stop_execution", json!({})).await;
    assert_failure(&answer, "execution_not_running");
    let rest = read_events(&admin, &long_run, Some(first[2].0)).await;
    let full = read_events(&admin, &long_run, None).await;
    let joined: Vec<(u64, String, Value)> = first.into_iter().chain(rest).collect();
    assert_eq!(joined, full, "every event exactly once, in order");
    assert_eq!(
        full.last().map(|event| event.2["status"].clone()),
        Some(json!("stopped"))
    );

    // The same deployment on the TAD host itself.
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": []}),
        )
        .await;
    assert_success(&body);
    // ... as a rolling deploy, one host at a time.
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/alldata"),
            &json!({"rolling": {"batch_size": 1, "pause_seconds": 0}}),
        )
        .await;
    assert_success(&body);
    let answer = execute(
        &admin,
        &instance,
        "executionall",
        json!({"use_tad_host": true}),
    )
    .await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let local_run = data["execution_id"].as_str().expect("id").to_owned();
    for (ip, _, _) in HOSTS {
        let step = step_dir(&deployment, "local", ip, &local_run, 0);
        assert_eq!(
            read(&step.join("entry-runs")),
            "ran\n",
            "ran locally for {ip}"
        );
        let pushed = std::fs::read(
            deployment
                .root
                .join("shop-one")
                .join(ip)
                .join("artifacts/shop.tar.gz"),
        )
        .expect("artifact");
        assert_eq!(md5_hex(&pushed), expected_md5);
    }
    let mut running: Vec<String> = Vec::new();
    let mut hosts_started = 0;
    // The run continued the stopped one: look at this attempt's events only.
    let events = read_events(&admin, &local_run, None).await;
    let attempt = events
        .iter()
        .rposition(|(_, kind, data)| kind == "run" && data["status"] == "running")
        .expect("the attempt's start");
    for (_, kind, data) in &events[attempt..] {
        if kind != "host" {
            continue;
        }
        let task = data["host_task"].as_str().expect("task").to_owned();
        if data["status"] == "running" {
            assert!(
                running.is_empty(),
                "batch of one: {running:?} still running when {task} started"
            );
            running.push(task);
            hosts_started += 1;
        } else {
            running.retain(|other| *other != task);
        }
    }
    assert_eq!(hosts_started, 3);
    let local_logs = all_logs(&admin, &local_run).await;
    assert!(
        local_logs
            .iter()
            .all(|(_, log)| log.contains("entry on root")),
        "{local_logs:?}"
    );
    everything_said.extend(local_logs.into_iter().map(|(_, log)| log));

    // A changed host key fails the host tasks, naming both fingerprints.
    let old_fingerprint = sshd.host_key_fingerprint();
    sshd.restart_with_new_host_key();
    let new_fingerprint = sshd.host_key_fingerprint();
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    let changed_run = data["execution_id"].as_str().expect("id").to_owned();
    let logs = all_logs(&admin, &changed_run).await;
    assert!(
        logs.iter()
            .any(|(_, log)| log.contains(&old_fingerprint) && log.contains(&new_fingerprint)),
        "{logs:?}"
    );
    everything_said.extend(logs.into_iter().map(|(_, log)| log));
    answers.push(answer.to_string());

    // A script nobody reviewed fails the step before anything runs on any host, naming it.
    let unreviewed = b"#!/bin/bash\necho should-not-run >> ./unreviewed-runs\n".to_vec();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/script/aos_upload",
        &[("unreviewed.sh", unreviewed.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "unreviewed".into()),
            (
                "file_md5",
                json!({"unreviewed.sh": md5_hex(&unreviewed)}).to_string(),
            ),
        ],
    )
    .await;
    let unreviewed_id = assert_success(&body)[0]["file_id"]
        .as_str()
        .expect("file")
        .to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/shop1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": [{"id": unreviewed_id, "dest": deployment.root.join("sleep").display().to_string(), "host_IP": [], "parameter": "", "execute_type": "shell"}]}),
        )
        .await;
    assert_success(&body);
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    let msg = data["msg"].as_str().unwrap_or_default().to_owned();
    assert!(
        data["result"] == false && msg.contains("unreviewed") && msg.contains("disabled"),
        "{answer}"
    );
    let (_, body) = admin
        .get(&format!(
            "/api/executions/{}",
            data["execution_id"].as_str().expect("id")
        ))
        .await;
    let tree = assert_success(&body);
    assert_eq!(
        tree["steps"][0]["hosts"],
        json!([]),
        "no host task started: {tree}"
    );
    assert!(!deployment.root.join("sleep/unreviewed-runs").exists());

    // No secret anywhere.
    for text in everything_said.iter().chain(answers.iter()) {
        assert!(!text.contains(DB_PASSWORD), "secret param leaked: {text}");
        assert!(
            !text.contains(&sshd.password),
            "ssh password leaked: {text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "private key leaked: {text}");
    }
    let _ = (&deployment.cluster, &deployment.method_id);
    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

/// Binds step 1 of the two-step instance to the test script with `parameter`, on 127.0.0.2, into
/// `two-step2` under the test's root.
async fn bind_two_steps_script(api: &Api, deployment: &Deployment, parameter: &str) {
    let dest = deployment.root.join("two-step2").display().to_string();
    let (_, body) = api
        .post(
            &format!("/api/app/jobinstance/{}/cu1/1/relation/script", deployment.two_steps),
            &json!({"script_id": "", "scripts_data": [{"id": deployment.script_file_id, "dest": dest,
                "host_IP": ["127.0.0.2"], "parameter": parameter, "execute_type": "shell"}]}),
        )
        .await;
    assert_success(&body);
}

fn serve(data_dir: &Path, env: &std::collections::HashMap<String, String>) -> (TadProcess, String) {
    let mut command = tad_command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut process = TadProcess::spawn(command);
    let url = process.wait_for_line("TAD is listening on ");
    (process, url)
}

/// A `tad serve` with a 3 s lease, on a data directory (and PostgreSQL schemas, in CI's second
/// pass) that outlive the process, so a test can kill it and start it again on the same state.
struct CrashablePlatform {
    /// Shared by the test's targets and scripts (the work directory is under it).
    root: PathBuf,
    data_dir: tempfile::TempDir,
    env: std::collections::HashMap<String, String>,
    postgres: Option<(String, String)>,
}

impl CrashablePlatform {
    fn new(prefix: &str) -> CrashablePlatform {
        let root = PathBuf::from("/tmp").join(unique(prefix));
        shared_dir(&root);
        let work_dir = root.join("work");
        let (env, postgres) = platform_env(
            ADMIN_PASSWORD,
            &[
                ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
                ("TAD_EXECUTION_LEASE_SECS", "3"),
                ("TAD_EXECUTION_DRAIN_SECS", "1"),
            ],
        );
        CrashablePlatform {
            root,
            data_dir: tempfile::tempdir().expect("data dir"),
            env,
            postgres,
        }
    }

    /// Starts `tad serve` on the platform's state; answers the process and its URL.
    fn serve(&self) -> (TadProcess, String) {
        serve(self.data_dir.path(), &self.env)
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
        let tree = wait_for_status(&admin, id, "interrupted", Duration::from_secs(8)).await;
        // The lease (3 s) runs out at most 3 s after the kill; the restarted service sweeps at
        // once and then every 1.5 s. (A loaded machine may take longer than that to restart.)
        let allowed = restarted_after.max(Duration::from_secs(3)) + Duration::from_millis(2500);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_run_survives_a_crash_of_its_service_and_resumes_where_it_stopped() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let crashable = CrashablePlatform::new("tad-crash");
    let root = crashable.root.clone();
    let (process, url) = crashable.serve();
    let anonymous = Api::new(&url);
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let two = deployment.two_steps.clone();
    let sleeper = "20.7771";
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;
    let (hook_url, posts) = webhook_receiver().await;
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    assert_success(&body);

    let answer = execute(&admin, &two, "executionall?wait=false", json!({})).await;
    let run = assert_success(&answer)["execution_id"]
        .as_str()
        .expect("id")
        .to_owned();
    // The script has started once it recorded its arguments (and then sleeps).
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs_file = root.join("two-step2/script-runs");
    while !std::fs::read_to_string(&runs_file).is_ok_and(|runs| runs.contains("sleep")) {
        assert!(Instant::now() < deadline, "step 1 never started");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    let tree = assert_success(&body);
    assert_eq!(
        (
            tree["steps"][0]["status"].clone(),
            tree["steps"][1]["status"].clone()
        ),
        (json!("success"), json!("running"))
    );
    let first_start = tree["start_time"].clone();
    assert!(first_start.is_string(), "{tree}");

    // kill -9 in the middle of step 1, then start again on the same data.
    let (restarted, admin, tree) = crashable.crash_and_restart(process, &admin, &run).await;
    assert_eq!(
        (
            tree["steps"][0]["status"].clone(),
            tree["steps"][1]["status"].clone()
        ),
        (json!("success"), json!("interrupted")),
        "{tree}"
    );
    assert_eq!(tree["steps"][1]["hosts"][0]["status"], "interrupted");
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{two}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "interrupted");
    // The interrupted run is posted to the webhooks like any finished run.
    wait_for_post(&posts, "the interrupted run", |body| {
        body["execution_id"] == run.as_str() && body["status"] == "interrupted"
    })
    .await;
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep {sleeper}")])
        .status();

    // 6.1 resumes the interrupted step (with today's binding) and never re-runs step 0.
    bind_two_steps_script(&admin, &deployment, "ok resumed").await;
    let answer = execute(&admin, &two, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(run)),
        "{answer}"
    );
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    assert_eq!(
        assert_success(&body)["start_time"],
        first_start,
        "a resumed run keeps its first start time"
    );
    for (ip, _, _) in HOSTS {
        assert_eq!(
            read(&step_dir(&deployment, "ssh", ip, &run, 0).join("entry-runs")),
            "ran\n",
            "step 0 ran once on {ip}"
        );
    }
    assert_eq!(
        read(&root.join("two-step2/script-runs")),
        format!("sleep {sleeper}\nok resumed\n")
    );
    let (_, body) = admin.get(&format!("/api/executions/{run}")).await;
    assert_eq!(assert_success(&body)["status"], "success");

    // SIGTERM during a long step: the service releases the run (its processes killed) and
    // exits; the run is `interrupted` at once, not after a lease, and 6.1 can take it again.
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;
    std::fs::remove_file(root.join("two-step2/script-runs")).expect("reset runs");
    let answer = execute(&admin, &two, "executionall?wait=false", json!({})).await;
    let drained = assert_success(&answer)["execution_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(root.join("two-step2/script-runs"))
        .is_ok_and(|runs| runs.contains("sleep"))
        || processes_matching(&format!("sleep {sleeper}")) == 0
    {
        assert!(Instant::now() < deadline, "step 1 never started again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = restarted.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    assert_eq!(
        processes_matching(&format!("sleep {sleeper}")),
        0,
        "no process left"
    );
    let (restarted, url) = crashable.serve();
    let admin = admin.with_base(&url);
    let (_, body) = admin.get(&format!("/api/executions/{drained}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "interrupted", "{tree}");
    assert!(
        tree["message"]
            .as_str()
            .unwrap_or_default()
            .contains("shut down"),
        "{tree}"
    );

    restarted.terminate();
    crashable.clean_up();
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

/// Binds the script to every host of the one-step instance with `parameter(ip)`.
async fn bind_scripts(admin: &Api, deployment: &Deployment, parameter: &dyn Fn(&str) -> String) {
    let scripts: Vec<Value> = HOSTS
        .iter()
        .map(|(ip, _, _)| {
            json!({"id": deployment.script_file_id,
                "dest": deployment.root.join("shop-one").join(ip).join("scripts").display().to_string(),
                "host_IP": [ip], "parameter": parameter(ip), "execute_type": "shell"})
        })
        .collect();
    let (_, body) = admin
        .post(
            &format!(
                "/api/app/jobinstance/{}/shop1/0/relation/script",
                deployment.instance
            ),
            &json!({"script_id": "", "scripts_data": scripts}),
        )
        .await;
    assert_success(&body);
}

/// Binds `file_id` as the artifact of every host of the one-step instance.
async fn bind_artifact(admin: &Api, deployment: &Deployment, file_id: &str) {
    let artifacts: Vec<Value> = HOSTS
        .iter()
        .map(|(ip, _, _)| {
            json!({"file_id": file_id,
                "dest": deployment.root.join("shop-one").join(ip).join("artifacts").display().to_string(),
                "host_IP": [ip]})
        })
        .collect();
    let (_, body) = admin
        .post(
            &format!(
                "/api/app/jobinstance/{}/shop1/0/relation/alldata",
                deployment.instance
            ),
            &json!({"artifacts": artifacts}),
        )
        .await;
    assert_success(&body);
}

fn pushed_md5(deployment: &Deployment, ip: &str) -> String {
    md5_hex(
        &std::fs::read(
            deployment
                .root
                .join("shop-one")
                .join(ip)
                .join("artifacts/shop.tar.gz"),
        )
        .expect("pushed artifact"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retry_reruns_failed_hosts_and_rollback_restores_the_earlier_snapshot() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-retry"));
    shared_dir(&root);
    let work_dir = root.join("work");
    let platform = EmbeddedPlatform::start(
        ADMIN_PASSWORD,
        &[
            ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
            ("TAD_WEBHOOK_SECRET", WEBHOOK_KEY),
            (
                "TAD_WEBHOOK_URLS",
                "http://127.0.0.1:9/configured-but-closed",
            ),
        ],
    )
    .await;
    let anonymous = Api::new(platform.url());
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let (hook_url, posts) = webhook_receiver().await;
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    let hook = assert_success(&body);
    assert_eq!(
        (
            hook["url"].clone(),
            hook["source"].clone(),
            hook["creator"].clone()
        ),
        (json!(hook_url), json!("admin"), json!("admin"))
    );
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": "ftp://nope"}))
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("url"));
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    assert!(assert_failure(&body, "invalid_field").contains("already a webhook"));
    let (_, body) = admin.get("/api/admin/webhooks").await;
    let hooks = assert_success(&body);
    assert_eq!(hooks.as_array().map(Vec::len), Some(2), "{hooks}");
    assert_eq!(hooks[0]["source"], "config");
    let deployment = configure(&admin, &sshd, &root).await;
    let instance = deployment.instance.clone();

    // Retry: host 127.0.0.3 fails while its flag file exists; the retry runs that host only.
    let flag = |ip: &str| root.join(format!("flag-{ip}")).display().to_string();
    bind_scripts(&admin, &deployment, &|ip| format!("failif {}", flag(ip))).await;
    std::fs::write(flag("127.0.0.3"), "x").expect("flag");
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], false, "{answer}");
    assert!(
        data["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.3")
    );
    let run = data["execution_id"].as_str().expect("id").to_owned();
    let (status, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        assert_success(&answer)["result"],
        false,
        "the flag is still there: {answer}"
    );
    std::fs::remove_file(flag("127.0.0.3")).expect("remove flag");
    let (_, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(run)),
        "{answer}"
    );
    for (ip, _, _) in HOSTS {
        let runs = read(&root.join("shop-one").join(ip).join("scripts/script-runs"));
        let expected = if ip == "127.0.0.3" { 3 } else { 1 };
        assert_eq!(runs.lines().count(), expected, "{ip} ran {runs:?}");
        let entries = read(&step_dir(&deployment, "ssh", ip, &run, 0).join("entry-runs"));
        assert_eq!(
            entries.lines().count(),
            expected,
            "{ip} entrypoint ran {entries:?}"
        );
    }
    let (_, answer) = admin
        .post(&format!("/api/executions/{run}/retry"), &json!({}))
        .await;
    assert!(
        assert_failure(&answer, "execution_conflict").contains("success"),
        "{answer}"
    );
    let (_, answer) = admin.post("/api/executions/ghost/retry", &json!({})).await;
    assert_failure(&answer, "execution_not_found");

    // Rollback needs a successful run before the current one.
    let answer = execute(&admin, &instance, "rollback", json!({})).await;
    assert!(
        assert_failure(&answer, "execution_conflict").contains("no successful execution before"),
        "{answer}"
    );
    let first_md5 = md5_hex(&deployment.artifact);
    assert_eq!(pushed_md5(&deployment, "127.0.0.2"), first_md5);

    // A second version deployed, then rolled back: the first version's bytes are back.
    let second: Vec<u8> = tar_gz(&[("shop.bin", b"version two".repeat(50_000))]);
    let second_md5 = md5_hex(&second);
    let (_, body) = post_multipart(
        &admin,
        &format!("/api/artifact/version/aos?app_id=app1&version=2.0.0&name=shop&md5={second_md5}"),
        &[("shop.tar.gz", second.clone())],
        &[],
    )
    .await;
    let second_file = assert_success(&body)["file_id"]
        .as_str()
        .expect("file")
        .to_owned();
    bind_artifact(&admin, &deployment, &second_file).await;
    let answer = execute(&admin, &instance, "executionall", json!({})).await;
    assert_eq!(assert_success(&answer)["result"], true, "{answer}");
    for (ip, _, _) in HOSTS {
        assert_eq!(pushed_md5(&deployment, ip), second_md5);
    }
    // The template's rollback template runs its own method (the custom script) on that snapshot.
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    let template = assert_success(&body)["job_template_id"]
        .as_str()
        .expect("template")
        .to_owned();
    let (_, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "install-rollback", "application_id": "app1", "deploy_type": "rollback", "jobt_rollback_id": template}),
        )
        .await;
    let rollback_template = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/app/jobtemplate/{rollback_template}/graded"),
            &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]}),
        )
        .await;
    assert_success(&body);
    let answer = execute(&admin, &instance, "rollback", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(data["result"], true, "{answer}");
    let rollback_run = data["execution_id"].as_str().expect("id").to_owned();
    for (ip, _, _) in HOSTS {
        assert_eq!(
            pushed_md5(&deployment, ip),
            first_md5,
            "first version back on {ip}"
        );
    }
    let (_, body) = admin.get(&format!("/api/executions/{rollback_run}")).await;
    let tree = assert_success(&body);
    assert_eq!(
        (tree["kind"].clone(), tree["steps"][0]["method_id"].clone()),
        (json!("rollback"), json!("cu1")),
        "{tree}"
    );
    assert!(
        !step_dir(&deployment, "ssh", "127.0.0.2", &rollback_run, 0)
            .join("package")
            .exists(),
        "the rollback template's method has no package to run"
    );

    // History: newest first, paginated, with the snapshot's artifact versions.
    let (status, page) = admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page=1&page_size=2"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(page["count"], 3, "{page}");
    assert_eq!(page["page"], 1);
    let results = page["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(
        (results[0]["id"].clone(), results[0]["kind"].clone()),
        (json!(rollback_run), json!("rollback"))
    );
    assert_eq!(results[0]["artifacts"][0]["version"], "1.0.0");
    assert_eq!(results[1]["artifacts"][0]["version"], "2.0.0");
    assert_eq!(
        (
            results[1]["status"].clone(),
            results[1]["started_by"].clone()
        ),
        (json!("success"), json!("admin"))
    );
    assert!(
        results[0]["end_time"]
            .as_str()
            .is_some_and(|time| time.len() == 19)
    );
    let (_, page) = admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/executions?page=2&page_size=2"
        ))
        .await;
    assert_eq!(page["results"][0]["id"], json!(run));
    assert_eq!(
        page["results"][0]["artifacts"][0]["file_id"],
        json!(deployment.artifact_file)
    );
    let (_, body) = admin.get("/api/app/jobinstance/ghost/executions").await;
    assert_failure(&body, "instance_not_found");

    // Webhooks: one signed post per finished run (5 of them), the first one retried after the
    // receiver answered 500.
    let finished_runs = 5;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let delivered = posts
            .lock()
            .expect("posts")
            .iter()
            .filter(|post| post.answered == 200)
            .count();
        if delivered >= finished_runs {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} webhooks delivered"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = posts.lock().expect("posts").clone();
    let delivered: Vec<&WebhookPost> = posts.iter().filter(|post| post.answered == 200).collect();
    assert_eq!(delivered.len(), finished_runs, "{posts:?}");
    let mut deliveries: Vec<&str> = delivered
        .iter()
        .map(|post| post.delivery.as_str())
        .collect();
    deliveries.sort_unstable();
    deliveries.dedup();
    assert_eq!(
        deliveries.len(),
        finished_runs,
        "one delivery per finished run"
    );
    assert_eq!(posts[0].answered, 500);
    assert!(
        delivered
            .iter()
            .any(|post| post.delivery == posts[0].delivery && post.body == posts[0].body),
        "the refused delivery came again"
    );
    let mut statuses = Vec::new();
    for post in &delivered {
        assert_eq!(post.event, "execution.finished");
        assert_eq!(
            post.signature,
            svc_jobs::execution::webhooks::signature(WEBHOOK_KEY.as_bytes(), &post.body),
            "signed with the configured key"
        );
        let payload: Value = serde_json::from_slice(&post.body).expect("json");
        assert_eq!(payload["instance_id"], json!(instance));
        assert!(
            payload["end_time"]
                .as_str()
                .is_some_and(|time| time.ends_with('Z'))
        );
        if payload["status"] == "failed" {
            assert_eq!(
                payload["failed_hosts"][0]["host_ip"], "127.0.0.3",
                "{payload}"
            );
        }
        statuses.push(payload["status"].as_str().unwrap_or_default().to_owned());
    }
    statuses.sort();
    assert_eq!(
        statuses,
        ["failed", "failed", "success", "success", "success"]
    );

    platform.stop().await;
    let _ = std::fs::remove_dir_all(&root);
}

/// A template of one step running the built-in custom method `cu1`.
async fn script_only_template(admin: &Api) -> String {
    let (_, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "script-only", "application_id": "app1"}),
        )
        .await;
    let template = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/app/jobtemplate/{template}/graded"),
            &json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]}),
        )
        .await;
    assert_success(&body);
    template
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
    let (_, body) = admin
        .post(
            "/api/admin/applications",
            &json!({"id": app, "name": app, "product_line_id": "pl1"}),
        )
        .await;
    assert_success(&body);
    let (_, body) = admin
        .post(
            "/api/resource/clusters/aos_create",
            &json!({"name": format!("{app}-c"), "env_id": "env1", "app_id": app}),
        )
        .await;
    let cluster = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/resource/clusters/{cluster}/aos_bind"),
            &json!({"hosts": [deployment.host_ids[0]]}),
        )
        .await;
    assert_success(&body);
    let (_, body) = admin
        .post(
            "/api/app/jobinstance/create",
            &json!({"name": format!("node-{name}"), "env_id": "env1", "application_id": app, "job_template_id": template}),
        )
        .await;
    let instance = assert_success(&body)["id"].as_str().expect("id").to_owned();
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
            &json!({"cluster": {"cluster_id": cluster},
                "scripts": {"scripts_data": [{"id": script_file_id, "dest": dest.display().to_string(),
                    "host_IP": ["127.0.0.2"], "parameter": parameter, "execute_type": "shell"}]}}),
        )
        .await;
    assert_success(&body);
    instance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_joint_line_runs_its_graph_and_a_failure_stops_its_descendants_only() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-joint"));
    shared_dir(&root);
    let work_dir = root.join("work");
    let platform = EmbeddedPlatform::start(
        ADMIN_PASSWORD,
        &[("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path"))],
    )
    .await;
    let anonymous = Api::new(platform.url());
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;

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
    let (_, body) = admin
        .post(
            "/api/app/jointline/create",
            &json!({"name": "release", "remark": "", "productline_id": "pl1"}),
        )
        .await;
    let line = assert_success(&body).as_str().expect("id").to_owned();
    let graph = json!({"id": line, "joint": [
        {"jobi_id": instances[0], "sequence": 0, "parent": [], "top": 10, "left": 10},
        {"jobi_id": instances[1], "sequence": 1, "parent": [0], "top": 20, "left": 10},
        {"jobi_id": instances[2], "sequence": 2, "parent": ["0"], "top": 20, "left": 30},
        {"jobi_id": instances[3], "sequence": 3, "parent": [1, "2"], "top": 30, "left": 20}
    ]});
    let (_, body) = admin.post("/api/app/jointline/save/", &graph).await;
    assert_success(&body);
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
    assert!(
        data["msg"].as_str().unwrap_or_default().contains("node 2"),
        "{answer}"
    );
    let joint = data["execution_id"].as_str().expect("id").to_owned();
    assert_eq!(
        ["A", "B", "C", "D"].map(runs_of),
        [1, 1, 1, 0],
        "A and B ran, C ran and failed, D did not run"
    );
    let (_, body) = admin.get(&format!("/api/executions/{joint}")).await;
    let tree = assert_success(&body);
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
    let (_, body) = admin
        .get(&format!("/api/app/jointline/get_structure/{line}/"))
        .await;
    let structure = assert_success(&body);
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
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(joint)),
        "{answer}"
    );
    assert_eq!(["A", "B", "C", "D"].map(runs_of), [1, 1, 2, 1]);
    let (_, body) = admin.get(&format!("/api/executions/{joint}")).await;
    let tree = assert_success(&body);
    assert_eq!(tree["status"], "success");
    assert_eq!(
        tree["nodes"][2]["execution_id"],
        json!(c_run),
        "C continued its own run"
    );
    let (_, body) = admin
        .get(&format!("/api/app/jointline/get_structure/{line}"))
        .await;
    assert!(
        assert_success(&body)["joint"]
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
    let (process, url) = crashable.serve();
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let reviewer = Api::new(&url).login("rita", "password-123").await;

    // A script that appends its first argument to `script-runs` and, when given a second one,
    // sleeps that long on its first run only (so the resumed run ends at once).
    let script = b"#!/bin/bash\necho \"$1\" >> ./script-runs\nif [ -n \"$2\" ] && [ \"$(wc -l < ./script-runs)\" -eq 1 ]; then sleep \"$2\"; fi\n".to_vec();
    let (_, body) = post_multipart(
        &admin,
        "/api/artifact/script/aos_upload",
        &[("once.sh", script.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "sleep-once".into()),
            ("file_md5", json!({"once.sh": md5_hex(&script)}).to_string()),
        ],
    )
    .await;
    let uploaded = assert_success(&body);
    let script_id = uploaded[0]["file_id"].as_str().expect("file").to_owned();
    let version = uploaded[0]["version_id"].as_str().expect("version");
    let (_, body) = reviewer
        .post(
            &format!("/api/script/index/examine/{version}"),
            &json!({"method_id": version, "status": "able"}),
        )
        .await;
    assert_success(&body);
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
    let (_, body) = admin
        .post(
            "/api/app/jointline/create",
            &json!({"name": "crash-release", "remark": "", "productline_id": "pl1"}),
        )
        .await;
    let line = assert_success(&body).as_str().expect("id").to_owned();
    let graph = json!({"id": line, "joint": [
        {"jobi_id": instances[0], "sequence": 0, "parent": [], "top": 10, "left": 10},
        {"jobi_id": instances[1], "sequence": 1, "parent": [0], "top": 20, "left": 10},
        {"jobi_id": instances[2], "sequence": 2, "parent": [1], "top": 30, "left": 10}
    ]});
    let (_, body) = admin.post("/api/app/jointline/save/", &graph).await;
    assert_success(&body);
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
    let (_, body) = admin
        .post("/api/admin/webhooks", &json!({"url": hook_url}))
        .await;
    assert_success(&body);
    let (status, answer) = admin
        .post(
            &format!("/api/app/jointline/{line}/execution?wait=false"),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let joint = assert_success(&answer)["execution_id"]
        .as_str()
        .expect("id")
        .to_owned();
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
    let (_, body) = admin.get(&format!("/api/executions/{a_run}")).await;
    assert_eq!(assert_success(&body)["status"], "success");
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep {sleeper}")])
        .status();

    // 2.1 again continues the same joint run: A does not run again, B continues its own run
    // (with the same binding), then C runs.
    let (_, answer) = admin
        .post(&format!("/api/app/jointline/{line}/execution"), &json!({}))
        .await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(joint)),
        "{answer}"
    );
    assert_eq!(
        ["A", "B", "C"].map(runs_of),
        [vec!["A"], vec!["B", "B"], vec!["C"]],
        "A ran once, B twice (interrupted, then resumed), C once"
    );
    let (_, body) = admin.get(&format!("/api/executions/{joint}")).await;
    let tree = assert_success(&body);
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
    let (_, body) = admin.get(&format!("/api/executions/{b_run}")).await;
    assert_eq!(assert_success(&body)["status"], "success");
    let (_, body) = admin
        .get(&format!("/api/app/jointline/get_structure/{line}"))
        .await;
    let shown: Vec<Value> = assert_success(&body)["joint"]
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

/// `tad <role>` with the shared keys, PostgreSQL schema prefix and Redis of a replica test.
fn replica_command(
    role: &[&str],
    shared: &[(String, String)],
    data_dir: &Path,
) -> std::process::Command {
    let mut command = tad_command();
    command.args(role).arg("--data-dir").arg(data_dir);
    for (name, value) in shared {
        command.env(name, value);
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_share_runs_through_postgres_and_redis() {
    let (Ok(postgres), Ok(redis)) = (
        std::env::var("TEST_DATABASE_URL"),
        std::env::var("TEST_REDIS_URL"),
    ) else {
        eprintln!("skipped: needs TEST_DATABASE_URL and TEST_REDIS_URL (the CI's second pass)");
        return;
    };
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let root = PathBuf::from("/tmp").join(unique("tad-replicas"));
    shared_dir(&root);
    let data_dir = tempfile::tempdir().expect("data dir");
    let schema = format!("replicas_{}", common::ids::new_id());
    let mut shared: Vec<(String, String)> = vec![
        (
            "TAD_JWT_SECRET".into(),
            format!("{}{}", common::ids::new_id(), common::ids::new_id()),
        ),
        (
            "TAD_CREDENTIAL_KEY".into(),
            format!("{}{}", common::ids::new_id(), common::ids::new_id()),
        ),
        ("TAD_REDIS_URL".into(), redis),
        ("TAD_REDIS_PREFIX".into(), format!("{schema}:")),
        ("TAD_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
        ("TAD_EXECUTION_LEASE_SECS".into(), "3".into()),
        (
            "TAD_EXECUTION_WORK_DIR".into(),
            root.join("work").display().to_string(),
        ),
        ("TAD_WEBHOOK_SECRET".into(), WEBHOOK_KEY.into()),
    ];
    shared.push((
        "TAD_APPINHOUSE_SECRET_KEY".into(),
        "replica-appinhouse-key".into(),
    ));
    for service in ["RESOURCE", "ARTIFACT", "JOBS", "APPINHOUSE"] {
        shared.push((format!("TAD_{service}_DATABASE_URL"), postgres.clone()));
        shared.push((
            format!("TAD_{service}_DATABASE_SCHEMA"),
            format!("{schema}_{}", service.to_lowercase()),
        ));
    }
    let spawn = |role: &[&str], extra: &[(&str, String)], ready: &str| {
        let mut command = replica_command(role, &shared, data_dir.path());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut process = TadProcess::spawn(command);
        let addr = process.wait_for_line(ready);
        (process, addr)
    };
    let (_resource, resource) = spawn(
        &["resource"],
        &[("TAD_RESOURCE_LISTEN", "127.0.0.1:0".into())],
        "TAD resource service is listening on ",
    );
    let (_artifact, artifact) = spawn(
        &["artifact"],
        &[
            ("TAD_ARTIFACT_LISTEN", "127.0.0.1:0".into()),
            ("TAD_RESOURCE_ADDR", format!("http://{resource}")),
        ],
        "TAD artifact service is listening on ",
    );
    let (_appinhouse, appinhouse) = spawn(
        &["appinhouse", "serve"],
        &[("TAD_APPINHOUSE_LISTEN", "127.0.0.1:0".into())],
        "TAD appinhouse service is listening on ",
    );
    let service_addrs = |jobs: &str| {
        vec![
            ("TAD_RESOURCE_ADDR", format!("http://{resource}")),
            ("TAD_ARTIFACT_ADDR", format!("http://{artifact}")),
            ("TAD_JOBS_ADDR", format!("http://{jobs}")),
            ("TAD_APPINHOUSE_ADDR", format!("http://{appinhouse}")),
            ("TAD_JOBS_LISTEN", "127.0.0.1:0".to_owned()),
        ]
    };
    let (jobs_one, jobs_one_addr) = spawn(
        &["jobs"],
        &service_addrs("unused:1"),
        "TAD jobs service is listening on ",
    );
    let (jobs_two, jobs_two_addr) = spawn(
        &["jobs"],
        &service_addrs("unused:1"),
        "TAD jobs service is listening on ",
    );
    let (_gateway_one, url_one) = spawn(
        &["gateway", "--listen", "127.0.0.1:0"],
        &service_addrs(&jobs_one_addr),
        "TAD gateway is listening on ",
    );
    let (_gateway_two, url_two) = spawn(
        &["gateway", "--listen", "127.0.0.1:0"],
        &service_addrs(&jobs_two_addr),
        "TAD gateway is listening on ",
    );
    let mut jobs = [Some(jobs_one), Some(jobs_two)];

    // Every gateway sees every service ready (gRPC health of each).
    for url in [&url_one, &url_two] {
        let (status, body) = Api::new(url).get("/readyz").await;
        assert_eq!(status, 200, "{body}");
    }
    let anonymous = Api::new(&url_one);
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    let deployment = configure(&admin, &sshd, &root).await;
    let two = deployment.two_steps.clone();
    let sleeper = "20.9191";
    bind_two_steps_script(&admin, &deployment, &format!("sleep {sleeper}")).await;

    // 50 concurrent 6.1 across both gateways start exactly one run.
    let gateways = [admin.with_base(&url_one), admin.with_base(&url_two)];
    let mut calls = Vec::new();
    for index in 0..50 {
        let api = gateways[index % 2].with_base(&gateways[index % 2].base);
        let two = two.clone();
        calls.push(tokio::spawn(async move {
            let answer = execute(&api, &two, "executionall?wait=false", json!({})).await;
            (index % 2, answer)
        }));
    }
    let mut started = Vec::new();
    for call in calls {
        let (gateway, answer) = call.await.expect("call");
        if answer["success"] == true {
            started.push((
                gateway,
                answer["data"]["execution_id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
            ));
        } else {
            assert_eq!(answer["code"], "execution_running", "{answer}");
        }
    }
    assert_eq!(started.len(), 1, "exactly one run: {started:?}");
    let (owner, run) = started.remove(0);
    let survivor = 1 - owner;
    let runs_file = root.join("two-step2/script-runs");
    let wait_for_sleep = |expected: usize| {
        let runs_file = runs_file.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while std::fs::read_to_string(&runs_file)
                .map(|runs| runs.matches("sleep").count())
                .unwrap_or(0)
                < expected
                || processes_matching(&format!("sleep {sleeper}")) == 0
            {
                assert!(Instant::now() < deadline, "step 1 never started");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    // Visible and stoppable through the other gateway (its replica asks the owner through the
    // database).
    wait_for_sleep(1).await;
    let (_, body) = gateways[survivor]
        .get(&format!("/api/executions/{run}"))
        .await;
    assert_eq!(assert_success(&body)["status"], "running");
    let stop_started = Instant::now();
    let answer = execute(&gateways[survivor], &two, "stop_execution", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["status"].clone(), data["execution_id"].clone()),
        (json!("stopped"), json!(run)),
        "{answer}"
    );
    assert!(
        stop_started.elapsed() < Duration::from_secs(5),
        "stopped in {:?}",
        stop_started.elapsed()
    );
    assert_eq!(
        processes_matching(&format!("sleep {sleeper}")),
        0,
        "no process left"
    );

    // Again through the owner's gateway; the other gateway streams it live; the owner dies.
    let answer = execute(&gateways[owner], &two, "executionall?wait=false", json!({})).await;
    assert_eq!(assert_success(&answer)["execution_id"], json!(run));
    wait_for_sleep(2).await;
    let watcher = gateways[survivor].with_base(&gateways[survivor].base);
    let watched_run = run.clone();
    let live = tokio::spawn(async move { read_events(&watcher, &watched_run, None).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut dead = jobs[owner].take().expect("owner");
    dead.child.kill().expect("kill -9");
    dead.child.wait().expect("reaped");
    let killed_at = Instant::now();
    let api = &gateways[survivor];
    let tree = wait_for_status(api, &run, "interrupted", Duration::from_secs(10)).await;
    assert!(
        killed_at.elapsed() < Duration::from_secs(3 + 3),
        "interrupted by the other replica within a lease and a sweep: {:?}",
        killed_at.elapsed()
    );
    assert_eq!(tree["steps"][1]["status"], "interrupted");
    let live = tokio::time::timeout(Duration::from_secs(20), live)
        .await
        .expect("the stream ended")
        .expect("task");
    let full = read_events(api, &run, None).await;
    assert_eq!(
        live, full,
        "the live stream through the other gateway is complete"
    );
    assert_eq!(
        full.last().map(|event| event.2["status"].clone()),
        Some(json!("interrupted"))
    );
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep {sleeper}")])
        .status();

    // 6.1 through the surviving replica resumes the run there.
    bind_two_steps_script(api, &deployment, "ok resumed").await;
    let answer = execute(api, &two, "executionall", json!({})).await;
    let data = assert_success(&answer);
    assert_eq!(
        (data["result"].clone(), data["execution_id"].clone()),
        (json!(true), json!(run)),
        "{answer}"
    );
    assert_eq!(
        read(&step_dir(&deployment, "ssh", "127.0.0.2", &run, 0).join("entry-runs")),
        "ran\n",
        "step 0 ran once"
    );

    drop(jobs);
    for service in ["resource", "artifact", "jobs", "appinhouse"] {
        common::db::testing::drop_postgres_schema(&postgres, &format!("{schema}_{service}"));
    }
    let _ = std::fs::remove_dir_all(&root);
}
