//! Execution does only what was reviewed (SPEC §8), end to end through the gateway over a real
//! sshd and on the TAD host itself (`use_tad_host`): script parameters reach the script as argv
//! words whatever shell metacharacters they hold (no side effect), and a parameter that cannot
//! be split is refused when bound; paths with spaces and metacharacters (script, artifact and
//! app-config `dest`, `targetname`) are used literally; `params.json` is 0600 in a 0700
//! directory while the step runs and gone when it ends (success, failure, timeout, stop); two
//! hosts writing one `dest` both succeed and leave the file whole and no temporary file; a
//! failed host never shows exit code 0. On PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set.

use crate::support;
use crate::support::fixtures::{application, env, post_all, product_line};
use crate::support::fixtures::{post_script, sync_package_field};

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, assert_failure, assert_success, md5_hex, noise, post_multipart,
    sshd::{PASSWORD_USER, TestSshd},
    tar_gz,
};

mod parameters;
mod params_json;
mod shared_dest;
mod work_dir;

const ADMIN_PASSWORD: &str = "safety-admin-password";
const DB_PASSWORD: &str = "db-Secret-51a7e3";
/// The transports a test runs on: (name in the work directory, `use_tad_host`).
const TRANSPORTS: [(&str, bool); 2] = [("ssh", false), ("local", true)];

/// The script every parameter case binds: prints its argument count and each argument.
const ARGS_SCRIPT: &[u8] =
    b"#!/bin/bash\necho \"argc=$#\"\nfor a in \"$@\"; do printf 'arg=<%s>\\n' \"$a\"; done\n";

/// The method entrypoint: shows the modes of params.json and its directories, then fails,
/// sleeps or succeeds as the `greeting` parameter says.
const RUN_SH: &str = "echo \"params-mode=$(stat -c %a params.json) dir-mode=$(stat -c %a .) work-mode=$(stat -c %a ..)\"\n\
if grep -q '\"greeting\": \"fail\"' params.json; then exit 3; fi\n\
if grep -q '\"greeting\": \"sleep\"' params.json; then touch ../sleeping; sleep 30; fi\n\
echo entry-done\n";

fn unique(prefix: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or(0);
    PathBuf::from("/tmp").join(format!("{prefix}-{}-{nanos}", std::process::id()))
}

/// A directory every test user may write into.
fn shared_dir(path: &Path) {
    std::fs::create_dir_all(path).expect("create dir");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
}

/// A platform, an sshd and what every test configures: an application, hosts 127.0.0.2 and
/// 127.0.0.3 (one sshd, same file system), a reviewed script printing its arguments.
struct Bench {
    _sshd: TestSshd,
    platform: EmbeddedPlatform,
    admin: Api,
    root: PathBuf,
    host_ids: Vec<String>,
    script_file_id: String,
}

impl Bench {
    async fn start(prefix: &str) -> Option<Bench> {
        let sshd = TestSshd::start()?;
        let root = unique(prefix);
        shared_dir(&root);
        let work_dir = root.join("work");
        let (platform, admin) = EmbeddedPlatform::start_with_admin(
            ADMIN_PASSWORD,
            &[
                ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
                ("TAD_SSH_TIMEOUT_SECS", "10"),
            ],
        )
        .await;
        post_all(
            &admin,
            &[
                (
                    "/api/admin/users",
                    json!({"username": "rita", "password": "password-123", "roles": ["reviewer"]}),
                ),
                product_line("pl1", "pl"),
                application("app1", "safe", "pl1"),
                env("env1", "test"),
            ],
        )
        .await;
        let mut host_ids = Vec::new();
        for ip in ["127.0.0.2", "127.0.0.3"] {
            let host = json!({"host_IP": ip, "host_name": format!("h-{ip}"), "ssh_user": PASSWORD_USER,
                "ssh_port": sshd.port.to_string(), "ssh_passwd": sshd.password,
                "productLine_id": "pl1", "env_id": "env1"});
            host_ids.push(admin.post_id("/api/resource/hosts/aos_create", &host).await);
        }
        let (_, body) = post_script(&admin, "app1", "args", "args.sh", ARGS_SCRIPT).await;
        let uploaded = assert_success(&body);
        let script_file_id = uploaded[0]["file_id"].as_str().expect("file").to_owned();
        let version = uploaded[0]["version_id"].as_str().expect("version");
        let reviewer = Api::new(&admin.base).login("rita", "password-123").await;
        reviewer
            .post_ok(
                &format!("/api/script/index/examine/{version}"),
                &json!({"method_id": version, "status": "able"}),
            )
            .await;
        Some(Bench {
            _sshd: sshd,
            platform,
            admin,
            root,
            host_ids,
            script_file_id,
        })
    }

    /// A cluster of the application holding the hosts at `indexes` of [`Bench::host_ids`].
    async fn cluster(&self, name: &str, indexes: &[usize]) -> String {
        let body = json!({"name": name, "env_id": "env1", "app_id": "app1"});
        let clusters = "/api/resource/clusters";
        let cluster = self
            .admin
            .post_id(&format!("{clusters}/aos_create"), &body)
            .await;
        let hosts: Vec<&String> = indexes.iter().map(|index| &self.host_ids[*index]).collect();
        let bind = json!({"hosts": hosts});
        self.admin
            .post_ok(&format!("{clusters}/{cluster}/aos_bind"), &bind)
            .await;
        cluster
    }

    /// An instance of a one-step template running `component`/`method`, on `cluster`.
    async fn instance(&self, name: &str, component: &str, method: &str, cluster: &str) -> String {
        let admin = &self.admin;
        let template = admin
            .post_id(
                "/api/app/jobtemplate/create",
                &json!({"name": name, "application_id": "app1"}),
            )
            .await;
        admin.post_ok(&format!("/api/app/jobtemplate/{template}/graded"),
                &json!({"method": [{"component_id": component, "method_id": method, "sequence": 0}]})).await;
        let instance = admin.post_id("/api/app/jobinstance/create",
                &json!({"name": name, "env_id": "env1", "application_id": "app1", "job_template_id": template})).await;
        self.bind(
            &instance,
            method,
            json!({"cluster": {"cluster_id": cluster}}),
        )
        .await;
        instance
    }

    /// 5.6.1: saves `bindings` on step 0 of `instance`.
    async fn bind(&self, instance: &str, method: &str, bindings: Value) {
        let (_, body) = self
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/{method}/0/relation/alldata"),
                &bindings,
            )
            .await;
        assert_success(&body);
    }

    /// Uploads a file as version 1.0.0 of artifact `name`; answers its file id.
    async fn artifact(&self, name: &str, file_name: &str, bytes: &[u8]) -> String {
        let query = format!("app_id=app1&version=1.0.0&name={name}");
        sync_package_field(&self.admin, &query, file_name, bytes, "file_id").await
    }

    /// Runs 6.1 (`executionall`, waiting) on the TAD host or over SSH; answers its `data`.
    async fn run(&self, instance: &str, use_tad_host: bool) -> Value {
        let path = format!("/api/app/jobinstance/{instance}/executionall");
        let body = json!({"use_tad_host": use_tad_host});
        let (status, answer) = self.admin.post(&path, &body).await;
        assert_eq!(status, 200, "{answer}");
        assert_success(&answer)
    }

    /// The run tree of `run`.
    async fn tree(&self, run: &str) -> Value {
        let (_, body) = self.admin.get(&format!("/api/executions/{run}")).await;
        assert_success(&body)
    }

    /// The whole log of each host task of `run`, by host IP.
    async fn logs(&self, run: &str) -> Vec<(String, String)> {
        let tree = self.tree(run).await;
        let mut logs = Vec::new();
        for step in tree["steps"].as_array().expect("steps") {
            for host in step["hosts"].as_array().expect("hosts") {
                let task = host["id"].as_str().expect("task");
                let mut offset = 0;
                let mut text = String::new();
                loop {
                    let (_, body) = self
                        .admin
                        .get(&format!(
                            "/api/executions/{run}/log?host_task={task}&offset={offset}"
                        ))
                        .await;
                    let chunk = assert_success(&body);
                    text.push_str(chunk["text"].as_str().expect("text"));
                    let next = chunk["next_offset"].as_u64().expect("next");
                    if chunk["done"] == true || next == offset {
                        break;
                    }
                    offset = next;
                }
                logs.push((host["host_ip"].as_str().expect("ip").to_owned(), text));
            }
        }
        logs
    }

    /// The work directory of step 0 of `run` on `ip` over `transport`.
    fn step_dir(&self, transport: &str, ip: &str, run: &str) -> PathBuf {
        self.root
            .join("work")
            .join(format!("{transport}-{ip}"))
            .join(run)
            .join("0")
    }

    async fn stop(self) {
        self.platform.stop().await;
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn run_id(data: &Value) -> String {
    data["execution_id"]
        .as_str()
        .expect("execution id")
        .to_owned()
}

/// Names of the entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("read {}: {error}", dir.display()))
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("stat {}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// The log lines the args script prints for `words`.
fn printed(words: &[&str]) -> String {
    let mut text = format!("argc={}\n", words.len());
    for word in words {
        text.push_str(&format!("arg=<{word}>\n"));
    }
    text
}
