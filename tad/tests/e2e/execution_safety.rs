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

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, assert_failure, assert_success, md5_hex, post_multipart,
    sshd::{PASSWORD_USER, TestSshd},
    tar_gz,
};

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
        let platform = EmbeddedPlatform::start(
            ADMIN_PASSWORD,
            &[
                ("TAD_EXECUTION_WORK_DIR", work_dir.to_str().expect("path")),
                ("TAD_SSH_TIMEOUT_SECS", "10"),
            ],
        )
        .await;
        let admin = Api::new(platform.url())
            .login("admin", ADMIN_PASSWORD)
            .await;
        for (path, body) in [
            (
                "/api/admin/users",
                json!({"username": "rita", "password": "password-123", "roles": ["reviewer"]}),
            ),
            (
                "/api/admin/productlines",
                json!({"id": "pl1", "name": "pl"}),
            ),
            (
                "/api/admin/applications",
                json!({"id": "app1", "name": "safe", "product_line_id": "pl1"}),
            ),
            ("/api/admin/envs", json!({"id": "env1", "name": "test"})),
        ] {
            let (_, answer) = admin.post(path, &body).await;
            assert_success(&answer);
        }
        let mut host_ids = Vec::new();
        for ip in ["127.0.0.2", "127.0.0.3"] {
            let host = json!({"host_IP": ip, "host_name": format!("h-{ip}"), "ssh_user": PASSWORD_USER,
                "ssh_port": sshd.port.to_string(), "ssh_passwd": sshd.password,
                "productLine_id": "pl1", "env_id": "env1"});
            let (_, body) = admin.post("/api/resource/hosts/aos_create", &host).await;
            host_ids.push(assert_success(&body)["id"].as_str().expect("id").to_owned());
        }
        let (_, body) = post_multipart(
            &admin,
            "/api/artifact/script/aos_upload",
            &[("args.sh", ARGS_SCRIPT.to_vec())],
            &[
                ("app_id", "app1".into()),
                ("name", "args".into()),
                (
                    "file_md5",
                    json!({"args.sh": md5_hex(ARGS_SCRIPT)}).to_string(),
                ),
            ],
        )
        .await;
        let uploaded = assert_success(&body);
        let script_file_id = uploaded[0]["file_id"].as_str().expect("file").to_owned();
        let version = uploaded[0]["version_id"].as_str().expect("version");
        let reviewer = Api::new(&admin.base).login("rita", "password-123").await;
        let (_, body) = reviewer
            .post(
                &format!("/api/script/index/examine/{version}"),
                &json!({"method_id": version, "status": "able"}),
            )
            .await;
        assert_success(&body);
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
        let (_, body) = self
            .admin
            .post(
                "/api/resource/clusters/aos_create",
                &json!({"name": name, "env_id": "env1", "app_id": "app1"}),
            )
            .await;
        let cluster = assert_success(&body)["id"].as_str().expect("id").to_owned();
        let hosts: Vec<&String> = indexes.iter().map(|index| &self.host_ids[*index]).collect();
        let (_, body) = self
            .admin
            .post(
                &format!("/api/resource/clusters/{cluster}/aos_bind"),
                &json!({"hosts": hosts}),
            )
            .await;
        assert_success(&body);
        cluster
    }

    /// An instance of a one-step template running `component`/`method`, on `cluster`.
    async fn instance(&self, name: &str, component: &str, method: &str, cluster: &str) -> String {
        let admin = &self.admin;
        let (_, body) = admin
            .post(
                "/api/app/jobtemplate/create",
                &json!({"name": name, "application_id": "app1"}),
            )
            .await;
        let template = assert_success(&body)["id"].as_str().expect("id").to_owned();
        let (_, body) = admin
            .post(
                &format!("/api/app/jobtemplate/{template}/graded"),
                &json!({"method": [{"component_id": component, "method_id": method, "sequence": 0}]}),
            )
            .await;
        assert_success(&body);
        let (_, body) = admin
            .post(
                "/api/app/jobinstance/create",
                &json!({"name": name, "env_id": "env1", "application_id": "app1", "job_template_id": template}),
            )
            .await;
        let instance = assert_success(&body)["id"].as_str().expect("id").to_owned();
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
        let (_, body) = post_multipart(
            &self.admin,
            &format!(
                "/api/artifact/version/aos?app_id=app1&version=1.0.0&name={name}&md5={}",
                md5_hex(bytes)
            ),
            &[(file_name, bytes.to_vec())],
            &[],
        )
        .await;
        assert_success(&body)["file_id"]
            .as_str()
            .expect("file id")
            .to_owned()
    }

    /// Runs 6.1 (`executionall`, waiting) on the TAD host or over SSH; answers its `data`.
    async fn run(&self, instance: &str, use_tad_host: bool) -> Value {
        let (status, answer) = self
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/executionall"),
                &json!({"use_tad_host": use_tad_host}),
            )
            .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn script_parameters_reach_the_script_as_argv_words_and_paths_are_taken_literally() {
    let Some(bench) = Bench::start("tad-safety-argv").await else {
        return;
    };
    let fx = bench.root.join("effects");
    shared_dir(&fx);
    let fx = fx.display().to_string();
    let root = bench.root.display().to_string();
    let cluster = bench.cluster("argv-c", &[0]).await;
    let instance = bench.instance("argv", "custom", "cu1", &cluster).await;

    // Each case: the parameter as bound, and the argv words the script must get.
    let cases: Vec<(String, Vec<String>)> = [
        (
            format!("c01 safe; touch {fx}/semicolon"),
            vec!["c01", "safe;", "touch", &format!("{fx}/semicolon")],
        ),
        (
            format!("c02 $(touch {fx}/subst)"),
            vec!["c02", "$(touch", &format!("{fx}/subst)")],
        ),
        (
            format!("c03 `touch {fx}/backtick`"),
            vec!["c03", "`touch", &format!("{fx}/backtick`")],
        ),
        (
            format!("c04 x | touch {fx}/pipe"),
            vec!["c04", "x", "|", "touch", &format!("{fx}/pipe")],
        ),
        (
            format!("c05 x && touch {fx}/and || touch {fx}/or"),
            vec![
                "c05",
                "x",
                "&&",
                "touch",
                &format!("{fx}/and"),
                "||",
                "touch",
                &format!("{fx}/or"),
            ],
        ),
        (
            format!("c06 x > {fx}/redirect 2>{fx}/redirect2 <{fx}/in"),
            vec![
                "c06",
                "x",
                ">",
                &format!("{fx}/redirect"),
                &format!("2>{fx}/redirect2"),
                &format!("<{fx}/in"),
            ],
        ),
        (
            "c07 * /etc/pass* ? [a-z]*".to_owned(),
            vec!["c07", "*", "/etc/pass*", "?", "[a-z]*"],
        ),
        (
            "c08 $HOME ${HOME} ${USER:-x} ~ $0 $$ $#".to_owned(),
            vec![
                "c08",
                "$HOME",
                "${HOME}",
                "${USER:-x}",
                "~",
                "$0",
                "$$",
                "$#",
            ],
        ),
        (
            "c10 'quoted with spaces' \"double quoted\" mixed' 'word".to_owned(),
            vec!["c10", "quoted with spaces", "double quoted", "mixed word"],
        ),
        (
            format!("c11 \"$(touch {fx}/dq) `touch {fx}/dq2` $HOME\" 'it'\\''s' \"a\\\"b\""),
            vec![
                "c11",
                &format!("$(touch {fx}/dq) `touch {fx}/dq2` $HOME"),
                "it's",
                "a\"b",
            ],
        ),
        (
            format!("c12 a\\ b \\$HOME \\; '' x & touch {fx}/amp"),
            vec![
                "c12",
                "a b",
                "$HOME",
                ";",
                "",
                "x",
                "&",
                "touch",
                &format!("{fx}/amp"),
            ],
        ),
    ]
    .into_iter()
    .map(|(parameter, words)| (parameter, words.into_iter().map(str::to_owned).collect()))
    .collect();

    // Paths with spaces and metacharacters: they must be used literally.
    let script_dest = format!("{root}/scripts dir; touch {fx}/dest $(touch {fx}/dest2) &");
    let artifact_dest = format!("{root}/art `touch {fx}/art` | x");
    let config_dest = format!("{root}/conf $(touch {fx}/conf) ;");
    let target_name = "my app's $(touch x) & `y`.conf";
    let artifact = tar_gz(&[("app.txt", b"artifact bytes\n".to_vec())]);
    let artifact_file = bench.artifact("argv", "argv.tar.gz", &artifact).await;
    let (j2, yml) = (
        b"listen={{ port }}\n".to_vec(),
        b"- key: port\n  rule: '^[0-9]+$'\n".to_vec(),
    );
    let (_, body) = post_multipart(
        &bench.admin,
        "/api/artifact/configure/aos_upload",
        &[("app.conf.j2", j2.clone()), ("app.conf.yml", yml.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "app_config".into()),
            ("version", "1".into()),
            (
                "file_md5",
                json!({"app.conf.j2": md5_hex(&j2), "app.conf.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    let template_file = assert_success(&body)[0]["id"]
        .as_str()
        .expect("j2 id")
        .to_owned();
    bench
        .bind(
            &instance,
            "cu1",
            json!({"actemplates": {"file_id": template_file, "groups": []}}),
        )
        .await;
    let (_, body) = bench
        .admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/cu1/0/actemplate/config/desc"
        ))
        .await;
    let port_node = assert_success(&body)[0]["id"]
        .as_str()
        .expect("port node")
        .to_owned();
    let scripts: Vec<Value> = cases
        .iter()
        .map(|(parameter, _)| {
            json!({"id": bench.script_file_id, "dest": script_dest, "host_IP": [],
                "parameter": parameter, "execute_type": "shell"})
        })
        .collect();
    bench
        .bind(
            &instance,
            "cu1",
            json!({
                "artifacts": [{"file_id": artifact_file, "dest": artifact_dest, "host_IP": []}],
                "actemplates": {"file_id": template_file, "groups": [{"dest": config_dest,
                    "host_IP": [], "configs": {port_node: "8080"}, "targetname": target_name}]},
            }),
        )
        .await;
    let (_, body) = bench
        .admin
        .post(
            &format!("/api/app/jobinstance/{instance}/cu1/0/relation/script"),
            &json!({"script_id": "", "scripts_data": scripts}),
        )
        .await;
    assert_success(&body);

    for (transport, use_tad_host) in TRANSPORTS {
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        // The security assertion first: whatever the run's outcome, nothing the values said ran.
        assert_eq!(
            entries(Path::new(&fx)),
            Vec::<String>::new(),
            "{transport}: nothing a parameter or path said ran"
        );
        assert_eq!(data["result"], true, "{transport}: {data} {logs:?}");
        let (_, log) = &logs[0];
        for (parameter, words) in &cases {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            assert!(
                log.contains(&printed(&words)),
                "{transport}: {parameter:?} must arrive as {words:?}: {log}"
            );
        }
        assert!(
            Path::new(&script_dest).join("args.sh").is_file(),
            "{transport}: the script went to its literal dest"
        );
        assert_eq!(
            std::fs::read(Path::new(&artifact_dest).join("argv.tar.gz")).expect("artifact"),
            artifact,
            "{transport}"
        );
        assert_eq!(
            std::fs::read_to_string(Path::new(&config_dest).join(target_name))
                .expect("config")
                .trim_end(),
            "listen=8080",
            "{transport}"
        );
    }
    // A parameter that cannot be split, or that holds a line break (a second command line to a
    // shell), is refused when bound, naming the field, by 5.6.2.5 and by 5.6.1.
    let newline = format!("c09 first\ntouch {fx}/newline");
    for unbalanced in [
        "ok 'not closed",
        "ok \"not closed",
        "a\\\"b\"c",
        newline.as_str(),
        "c09 first\rsecond",
    ] {
        let binding = json!([{"id": bench.script_file_id, "dest": script_dest, "host_IP": [],
            "parameter": unbalanced, "execute_type": "shell"}]);
        let (status, body) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/cu1/0/relation/script"),
                &json!({"script_id": "", "scripts_data": binding}),
            )
            .await;
        assert_eq!(status, 200);
        let info = assert_failure(&body, "invalid_field");
        assert!(info.contains("parameter"), "{unbalanced:?}: {info}");
        let (_, body) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/cu1/0/relation/alldata"),
                &json!({"scripts": {"scripts_data": binding}}),
            )
            .await;
        let info = assert_failure(&body, "invalid_field");
        assert!(info.contains("parameter"), "{unbalanced:?}: {info}");
    }
    let (_, body) = bench
        .admin
        .get(&format!(
            "/api/app/jobinstance/{instance}/cu1/0/script/json"
        ))
        .await;
    assert_eq!(
        assert_success(&body).as_array().map(Vec::len),
        Some(cases.len()),
        "the refused bindings replaced nothing: {body}"
    );

    bench.stop().await;
}

/// Uploads the method `method` of component `safe` running [`RUN_SH`], with parameters
/// `greeting` (required) and `db_password`, and `extra` lines in its manifest.
async fn upload_method(bench: &Bench, method: &str, extra: &str) {
    let manifest = format!(
        "component: {{id: safe, name: safe, remark: safe}}\nmethod: {{id: {method}, name: {method}, remark: {method}}}\nentrypoint: run.sh\n{extra}params:\n  - key: greeting\n    require: true\n  - key: db_password\n"
    );
    let package = tar_gz(&[
        ("method.yml", manifest.into_bytes()),
        ("run.sh", RUN_SH.as_bytes().to_vec()),
    ]);
    let (_, body) = post_multipart(
        &bench.admin,
        "/api/component/upload",
        &[("file", package)],
        &[],
    )
    .await;
    assert_success(&body);
}

/// Binds the parameter values of `method` on `instance`: `greeting` and the secret password.
async fn bind_greeting(bench: &Bench, instance: &str, method: &str, greeting: &str) {
    let (_, body) = bench
        .admin
        .get(&format!("/api/app/jobinstance/{method}/config/desc"))
        .await;
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
    let values = json!({node("greeting"): greeting, node("db_password"): DB_PASSWORD});
    bench
        .bind(
            instance,
            method,
            json!({"config": {"config_value": values}}),
        )
        .await;
}

/// Asserts that neither params.json nor a part file of its upload is left in the step's
/// package directory.
fn assert_params_removed(bench: &Bench, transport: &str, run: &str, case: &str) {
    let package = bench.step_dir(transport, "127.0.0.2", run).join("package");
    let left: Vec<String> = entries(&package)
        .into_iter()
        .filter(|name| name.contains("params.json"))
        .collect();
    assert!(
        left.is_empty(),
        "{transport}, {case}: secret files left in {}: {left:?}",
        package.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn params_json_is_private_while_the_step_runs_and_removed_however_the_step_ends() {
    let Some(bench) = Bench::start("tad-safety-params").await else {
        return;
    };
    upload_method(&bench, "safe1", "").await;
    upload_method(&bench, "safe2", "timeout_s: 2\n").await;
    let cluster = bench.cluster("params-c", &[0]).await;
    let instance = bench.instance("params", "safe", "safe1", &cluster).await;
    let timing_out = bench
        .instance("params-timeout", "safe", "safe2", &cluster)
        .await;
    bind_greeting(&bench, &timing_out, "safe2", "sleep").await;
    let modes = "params-mode=600 dir-mode=700 work-mode=700";
    for (transport, use_tad_host) in TRANSPORTS {
        // Success: the entrypoint saw 0600 in 0700; afterwards the file is gone.
        bind_greeting(&bench, &instance, "safe1", "hello").await;
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        assert_eq!(data["result"], true, "{transport}: {data} {logs:?}");
        assert!(
            logs[0].1.contains(modes) && logs[0].1.contains("entry-done"),
            "{transport}: {logs:?}"
        );
        assert_params_removed(&bench, transport, &run, "success");

        // Failure of the entrypoint.
        bind_greeting(&bench, &instance, "safe1", "fail").await;
        let data = bench.run(&instance, use_tad_host).await;
        let run = run_id(&data);
        let logs = bench.logs(&run).await;
        assert_eq!(data["result"], false, "{transport}: {data}");
        assert!(logs[0].1.contains(modes), "{transport}: {logs:?}");
        assert_eq!(
            bench.tree(&run).await["steps"][0]["hosts"][0]["exit_code"],
            3,
            "{transport}"
        );
        assert_params_removed(&bench, transport, &run, "failure");

        // Timeout of the entrypoint.
        let data = bench.run(&timing_out, use_tad_host).await;
        let run = run_id(&data);
        assert_eq!(data["result"], false, "{transport}: {data}");
        assert!(
            data["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("timed out"),
            "{transport}: {data}"
        );
        assert_params_removed(&bench, transport, &run, "timeout");

        // Stop (6.3) while the entrypoint runs: the file is 0600 in 0700 seen from outside,
        // then gone.
        bind_greeting(&bench, &instance, "safe1", "sleep").await;
        let (_, answer) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/executionall?wait=false"),
                &json!({"use_tad_host": use_tad_host}),
            )
            .await;
        let run = run_id(&assert_success(&answer));
        let step = bench.step_dir(transport, "127.0.0.2", &run);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !step.join("sleeping").exists() {
            assert!(
                Instant::now() < deadline,
                "{transport}: the entrypoint never slept"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(mode_of(&step.join("package/params.json")), 0o600);
        assert_eq!(mode_of(&step.join("package")), 0o700);
        assert_eq!(mode_of(&step), 0o700);
        let (_, answer) = bench
            .admin
            .post(
                &format!("/api/app/jobinstance/{instance}/stop_execution"),
                &json!({}),
            )
            .await;
        let data = assert_success(&answer);
        assert_eq!(data["status"], "stopped", "{transport}: {answer}");
        assert_params_removed(&bench, transport, &run, "stop");
    }
    bench.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hosts_writing_one_dest_both_succeed_and_a_failed_host_never_shows_exit_code_zero() {
    let Some(bench) = Bench::start("tad-safety-shared").await else {
        return;
    };
    let cluster = bench.cluster("shared-c", &[0, 1]).await;
    let instance = bench.instance("shared", "custom", "cu1", &cluster).await;
    // 4 MiB that do not compress (xorshift).
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let payload: Vec<u8> = (0..4 * 1024 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let payload = tar_gz(&[("shared.bin", payload)]);
    let file_id = bench.artifact("shared", "shared.tar.gz", &payload).await;
    let expected = md5_hex(&payload);
    // Written over SSH (as tadexec) and locally (as root) in turns: not sticky, so that each
    // may replace the other's file.
    let dest = bench.root.join("shared");
    std::fs::create_dir(&dest).expect("dest");
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    bench
        .bind(
            &instance,
            "cu1",
            json!({"artifacts": [{"file_id": file_id, "dest": dest.display().to_string(), "host_IP": []}]}),
        )
        .await;
    for round in 0..10 {
        for (transport, use_tad_host) in TRANSPORTS {
            let data = bench.run(&instance, use_tad_host).await;
            let run = run_id(&data);
            if data["result"] != true {
                panic!(
                    "{transport}, round {round}: {data} {:?}",
                    bench.logs(&run).await
                );
            }
            let tree = bench.tree(&run).await;
            let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
            assert_eq!(hosts.len(), 2, "{tree}");
            assert!(
                hosts
                    .iter()
                    .all(|host| host["status"] == "success" && host["exit_code"] == 0),
                "{tree}"
            );
            assert_eq!(
                md5_hex(&std::fs::read(dest.join("shared.tar.gz")).expect("pushed")),
                expected,
                "{transport}, round {round}"
            );
            assert_eq!(
                entries(&dest),
                ["shared.tar.gz"],
                "{transport}, round {round}: no temporary file left"
            );
        }
    }

    // The upload fails (its dest runs through a regular file) after the work directory was
    // prepared by a command that exited 0: the failed host shows no exit code, never 0.
    let blocker = bench.root.join("blocker");
    std::fs::write(&blocker, b"a file, not a directory\n").expect("blocker");
    bench
        .bind(
            &instance,
            "cu1",
            json!({"artifacts": [{"file_id": file_id, "dest": blocker.join("sub").display().to_string(), "host_IP": []}]}),
        )
        .await;
    for (transport, use_tad_host) in TRANSPORTS {
        let data = bench.run(&instance, use_tad_host).await;
        assert_eq!(data["result"], false, "{transport}: {data}");
        let tree = bench.tree(&run_id(&data)).await;
        let hosts = tree["steps"][0]["hosts"].as_array().expect("hosts");
        assert_eq!(hosts.len(), 2, "{tree}");
        for host in hosts {
            assert_eq!(host["status"], "failed", "{transport}: {host}");
            assert_ne!(host["exit_code"], 0, "{transport}: {host}");
        }
    }
    bench.stop().await;
}
