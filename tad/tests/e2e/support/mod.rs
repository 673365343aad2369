//! Helpers shared by the tad integration tests: an HTTP client speaking the legacy API, and
//! `tad` child processes whose output is collected line by line, and a real sshd (`sshd`).
#![allow(dead_code)]

pub mod browser;
pub mod events;
pub mod fixtures;
pub mod moto;
pub mod replicated;
pub mod split_env;
pub mod sshd;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

/// A body the API refuses: the body, the failure code, and a text its `info` names.
pub type Refusal<'a> = (Value, &'a str, &'a str);

/// A table of [`Refusal`]s, one a line: `BODY => "code", "named"`, where BODY is a JSON object
/// literal (`{...}`) or a parenthesized expression answering a [`Value`].
macro_rules! refusals {
    ($($body:tt => $code:literal, $named:expr);* $(;)?) => {
        [$((serde_json::json!($body), $code, $named)),*]
    };
}
pub(crate) use refusals;

/// A client of one gateway.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

/// A client with reqwest's defaults, built the way the binary builds its own (rustls, the
/// process's crypto provider installed first: reqwest has none of its own).
pub fn http_client() -> reqwest::Client {
    common::https::client("e2e tests").expect("http client")
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            http: common::https::client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("http client"),
            token: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            base: self.base.clone(),
            http: self.http.clone(),
            token: Some(token.to_owned()),
        }
    }

    /// The same caller against another gateway (e.g. after a restart on a new port).
    pub fn with_base(&self, base: &str) -> Api {
        Api {
            base: base.trim_end_matches('/').to_owned(),
            http: self.http.clone(),
            token: self.token.clone(),
        }
    }

    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.header("authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    /// Sends a bodiless `method` request to `path`; answers the status and the JSON body.
    async fn send_bodiless(&self, method: reqwest::Method, path: &str) -> (u16, Value) {
        let request = self.http.request(method, format!("{}{}", self.base, path));
        let response = self.authorize(request).send().await.expect("request");
        decode(response).await
    }

    /// GET `path`; answers the status and the JSON body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send_bodiless(reqwest::Method::GET, path).await
    }

    /// GET `path`; answers the status and the body's bytes (a file).
    pub async fn get_bytes(&self, path: &str) -> (u16, Vec<u8>) {
        let request = self.http.get(format!("{}{}", self.base, path));
        let response = self.authorize(request).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.bytes().await.expect("body").to_vec())
    }

    /// POST a JSON `body` to `path`.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string().into_bytes()).await
    }

    /// POST raw bytes (declared as JSON) to `path`.
    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let request = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("content-type", "application/json")
            .body(body);
        let response = self.authorize(request).send().await.expect("POST");
        decode(response).await
    }

    /// POSTs `body` to `path`, asserts the success envelope and answers its `data`.
    pub async fn post_ok(&self, path: &str, body: &Value) -> Value {
        let (_, answer) = self.post(path, body).await;
        assert_success(&answer)
    }

    /// POSTs a record to create to `path`, asserts the success envelope and answers `data.id`.
    pub async fn post_id(&self, path: &str, body: &Value) -> String {
        self.post_ok(path, body).await["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// GETs `path`, asserts the success envelope and answers its `data`.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (_, answer) = self.get(path).await;
        assert_success(&answer)
    }

    /// POSTs each refused body to `path` in order, asserting a 200 answer with the failure code
    /// and an `info` that names the expected text; a failing case is named in the message.
    pub async fn assert_refusals(&self, path: &str, cases: &[Refusal<'_>]) {
        for (body, code, named) in cases {
            let (status, answer) = self.post(path, body).await;
            assert_eq!(status, 200, "{path} {body}: {answer}");
            let info = assert_failure(&answer, code);
            assert!(info.contains(named), "{path} {body}: {info}");
        }
    }

    /// DELETE `path`; answers the status and the JSON body.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send_bodiless(reqwest::Method::DELETE, path).await
    }

    /// Creates user `username` with `roles` (as an admin) and answers its id.
    pub async fn create_user(&self, username: &str, password: &str, roles: &[&str]) -> String {
        let body = json!({"username": username, "password": password, "roles": roles});
        self.post_id("/api/admin/users", &body).await
    }

    /// Creates user `username` with `roles` (as an admin) and answers a client logged in as it.
    pub async fn login_new_user(&self, username: &str, password: &str, roles: &[&str]) -> Api {
        self.create_user(username, password, roles).await;
        Api::new(&self.base).login(username, password).await
    }

    /// Logs in and answers a client carrying the token.
    pub async fn login(&self, username: &str, password: &str) -> Api {
        let (status, body) = self
            .post(
                "/api/auth/login",
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["success"], true, "login failed: {body}");
        let token = body["data"]["token"].as_str().expect("token").to_owned();
        self.with_token(&token)
    }
}

/// The status and JSON body of an answer.
pub async fn decode(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("answer is not JSON (status {status}): {text}"));
    (status, value)
}

/// Asserts `body` is the failure envelope with `code`, and answers its `info`.
pub fn assert_failure(body: &Value, code: &str) -> String {
    let object = body
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {body}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["code", "data", "info", "level", "success"],
        "{body}"
    );
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        matches!(body["level"].as_str(), Some("warning") | Some("error")),
        "{body}"
    );
    let info = body["info"].as_str().expect("info").to_owned();
    assert!(!info.is_empty());
    info
}

/// The id of the node with `key` among the nodes of a 5.8.2.3 schema (a JSON array).
pub fn schema_node_id(nodes: &Value, key: &str) -> String {
    nodes
        .as_array()
        .expect("nodes")
        .iter()
        .find(|node| node["key"] == key)
        .and_then(|node| node["id"].as_str())
        .unwrap_or_else(|| panic!("no node {key:?} in {nodes}"))
        .to_owned()
}

/// The `field` of each item of a JSON array that has it as a string, in order.
pub fn string_fields<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|item| item[field].as_str())
        .collect()
}

/// The `fields` of a JSON object, in order, as a JSON array (to compare several at once).
pub fn pick(value: &Value, fields: &[&str]) -> Value {
    Value::Array(fields.iter().map(|field| value[*field].clone()).collect())
}

/// Whether `value` is a string containing `needle`.
pub fn has_text(value: &Value, needle: &str) -> bool {
    value.as_str().unwrap_or_default().contains(needle)
}

/// The keys of a JSON object, sorted.
pub fn object_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

/// The given keys as owned strings, sorted (to compare with [`object_keys`]).
pub fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|key| (*key).to_owned()).collect();
    list.sort();
    list
}

/// Asserts the success envelope and answers its `data`.
pub fn assert_success(body: &Value) -> Value {
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(body["info"], "操作成功！", "{body}");
    assert_eq!(body["level"], "info", "{body}");
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(4),
        "only the four envelope keys: {body}"
    );
    body["data"].clone()
}

/// A running `tad` child process with its output lines collected.
pub struct TadProcess {
    pub child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            sink.lock().expect("lines").push(line);
        }
    });
    lines
}

/// A `tad` command with a clean environment of `TAD_*` variables.
pub fn tad_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tad"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TAD_") || name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
            command.env_remove(name);
        }
    }
    command.env("RUST_LOG", "info");
    command
}

/// `tad serve` on a free port over `data_dir`, with the environment variables `env`; answers
/// the process and its URL.
pub fn start_serve<N, V>(
    data_dir: &Path,
    env: impl IntoIterator<Item = (N, V)>,
) -> (TadProcess, String)
where
    N: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let mut command = tad_command();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .envs(env);
    TadProcess::start(command, "TAD is listening on ")
}

impl TadProcess {
    /// Spawns `command` and waits for its stdout line starting with `ready`; answers the process
    /// and the rest of that line (where it listens).
    pub fn start(command: Command, ready: &str) -> (TadProcess, String) {
        let mut process = TadProcess::spawn(command);
        let rest = process.wait_for_line(ready);
        (process, rest)
    }

    pub fn spawn(mut command: Command) -> TadProcess {
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = command.spawn().expect("start tad");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        TadProcess {
            child,
            stdout,
            stderr,
        }
    }

    /// Waits for a stdout line starting with `prefix` and answers the rest of it.
    pub fn wait_for_line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(line) = self
                .stdout
                .lock()
                .expect("lines")
                .iter()
                .find(|line| line.starts_with(prefix))
            {
                return line[prefix.len()..].trim().to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "tad exited ({status}) before printing {prefix:?}; stderr:\n{}",
                    self.stderr_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {prefix:?} within 60s; stderr:\n{}",
                self.stderr_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn stdout_text(&self) -> String {
        self.stdout.lock().expect("lines").join("\n")
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().expect("lines").join("\n")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("tad did not stop within 40s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TadProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `tad` to completion and answers (success, stdout, stderr).
pub fn run_tad(args: &[&str], envs: &[(&str, &str)], data_dir: &Path) -> (bool, String, String) {
    let mut command = tad_command();
    command.args(args).arg("--data-dir").arg(data_dir);
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = command.output().expect("run tad");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Services whose database moves to PostgreSQL when `TEST_DATABASE_URL` is set.
const SERVICES_WITH_DATABASES: [&str; 4] = ["RESOURCE", "ARTIFACT", "JOBS", "APPINHOUSE"];

/// A platform started in process (`tad serve`'s code) on a temp data dir: SQLite, or a fresh
/// PostgreSQL schema for the resource service when `TEST_DATABASE_URL` is set.
pub struct EmbeddedPlatform {
    pub embedded: tad::runtime::Embedded,
    pub data_dir: tempfile::TempDir,
    postgres_schema: Option<(String, String)>,
}

/// The `TAD_*` environment of a test platform: the admin password, the extra variables, and
/// when `TEST_DATABASE_URL` is set a fresh PostgreSQL schema per service (answered as
/// `(url, schema prefix)`); when `TEST_REDIS_URL` is set, Redis under a fresh key prefix.
pub fn platform_env(
    admin_password: &str,
    extra_env: &[(&str, &str)],
) -> (
    std::collections::HashMap<String, String>,
    Option<(String, String)>,
) {
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let schema = format!("e2e_{}", common::ids::new_id());
    let mut env: std::collections::HashMap<String, String> = extra_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    env.insert("TAD_ADMIN_PASSWORD".to_owned(), admin_password.to_owned());
    if let Some(url) = &postgres {
        for service in SERVICES_WITH_DATABASES {
            env.insert(format!("TAD_{service}_DATABASE_URL"), url.clone());
            env.insert(
                format!("TAD_{service}_DATABASE_SCHEMA"),
                format!("{schema}_{}", service.to_lowercase()),
            );
        }
    }
    if let Some(redis) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        env.insert("TAD_REDIS_URL".to_owned(), redis);
        env.insert("TAD_REDIS_PREFIX".to_owned(), format!("{schema}:"));
    }
    (env, postgres.map(|url| (url, schema)))
}

/// Drops the PostgreSQL schemas [`platform_env`] named.
pub fn drop_platform_schemas(postgres: &Option<(String, String)>) {
    if let Some((url, schema)) = postgres {
        for service in SERVICES_WITH_DATABASES {
            common::db::testing::drop_postgres_schema(
                url,
                &format!("{schema}_{}", service.to_lowercase()),
            );
        }
    }
}

impl EmbeddedPlatform {
    pub async fn start(admin_password: &str, extra_env: &[(&str, &str)]) -> EmbeddedPlatform {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (env, postgres) = platform_env(admin_password, extra_env);
        let overrides = common::config::ConfigOverrides {
            data_dir: Some(data_dir.path().to_owned()),
            listen: Some("127.0.0.1:0".to_owned()),
            ..Default::default()
        };
        let config = common::config::Config::load(&overrides, &|name| env.get(name).cloned())
            .expect("config");
        let embedded = tad::runtime::start_embedded(&config)
            .await
            .expect("start embedded platform");
        EmbeddedPlatform {
            embedded,
            data_dir,
            postgres_schema: postgres,
        }
    }

    /// Starts a platform as [`EmbeddedPlatform::start`] does and answers it with its admin
    /// logged in.
    pub async fn start_with_admin(
        admin_password: &str,
        extra_env: &[(&str, &str)],
    ) -> (EmbeddedPlatform, Api) {
        let platform = EmbeddedPlatform::start(admin_password, extra_env).await;
        let admin = Api::new(platform.url())
            .login("admin", admin_password)
            .await;
        (platform, admin)
    }

    pub fn url(&self) -> &str {
        &self.embedded.url
    }

    /// The database of `service` (`jobs`, ...) as the platform opened it: its SQLite file, or
    /// its PostgreSQL schema.
    pub fn database(&self, service: &str) -> common::db::Database {
        let opened = match &self.postgres_schema {
            Some((url, schema)) => {
                common::db::Database::connect(url, &format!("{schema}_{service}"))
            }
            None => {
                let file = self.data_dir.path().join(format!("{service}.db"));
                common::db::Database::connect(&format!("sqlite://{}", file.display()), "unused")
            }
        };
        opened.expect("open the service's database")
    }

    /// Every file in the object store and the spool directory.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut found = files_under(&self.data_dir.path().join("objects"));
        found.extend(files_under(&self.data_dir.path().join("tmp")));
        found
    }

    /// Asserts the object store and the spool directory hold no file.
    pub fn assert_nothing_stored(&self) {
        let stored = self.stored_files();
        assert!(stored.is_empty(), "{stored:?}");
    }

    /// Every byte the platform stored: the files of the data dir, and a dump of the PostgreSQL
    /// schema when one is used. For "no secret in clear text" checks.
    pub fn stored_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut pending = vec![self.data_dir.path().to_owned()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("read data dir").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(content) = std::fs::read(&path) {
                    bytes.extend_from_slice(&content);
                }
            }
        }
        if let Some((url, schema)) = &self.postgres_schema {
            let mut command = Command::new("pg_dump");
            command.args(["-d", url, "--data-only"]);
            for service in SERVICES_WITH_DATABASES {
                command
                    .arg("-n")
                    .arg(format!("{schema}_{}", service.to_lowercase()));
            }
            let dump = command.output().expect("run pg_dump");
            assert_exited_ok(&dump, "pg_dump");
            assert!(!dump.stdout.is_empty());
            bytes.extend_from_slice(&dump.stdout);
        }
        bytes
    }

    /// A connection pool on the resource service's database (the SQLite file, or its PostgreSQL
    /// schema), for tests that look at or change rows directly.
    pub fn resource_database(&self) -> common::db::Database {
        let (url, schema) = match &self.postgres_schema {
            Some((url, schema)) => (url.clone(), format!("{schema}_resource")),
            None => (
                format!(
                    "sqlite://{}",
                    self.data_dir.path().join("resource.db").display()
                ),
                String::new(),
            ),
        };
        common::db::Database::connect(&url, &schema).expect("resource database")
    }

    pub async fn stop(self) {
        let EmbeddedPlatform {
            embedded,
            data_dir,
            postgres_schema,
        } = self;
        embedded.stop().await.expect("stop");
        drop_platform_schemas(&postgres_schema);
        drop(data_dir);
    }
}

/// POSTs a multipart form: files (each part named after its file, as the legacy UI does) and
/// text fields.
pub async fn post_multipart(
    api: &Api,
    path: &str,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, String)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (name, content) in files {
        form = form.part(
            (*name).to_owned(),
            reqwest::multipart::Part::bytes(content.clone()).file_name((*name).to_owned()),
        );
    }
    for (name, value) in fields {
        form = form.text((*name).to_owned(), value.clone());
    }
    let request = api
        .http
        .post(format!("{}{}", api.base, path))
        .header(
            "authorization",
            format!("Bearer {}", api.token.as_deref().expect("token")),
        )
        .multipart(form);
    let response = request.send().await.expect("POST multipart");
    decode(response).await
}

pub use common::storage::testing::files_under;

/// Whether `component`, which a test needs, is `present` here. When it is not, the test fails
/// under `CI` (whose `.ci/run` provides it) and is otherwise skipped with a note saying how to
/// `install` it.
pub fn component_available(present: bool, component: &str, install: &str) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must have {component} ({install})"
    );
    eprintln!("skipped: no {component} here ({install}); CI runs this test");
    false
}

/// Asserts a finished child process (`what`) exited with success, showing its output if not.
pub fn assert_exited_ok(output: &std::process::Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Hex md5 of bytes.
pub fn md5_hex(bytes: &[u8]) -> String {
    <md5::Md5 as md5::Digest>::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `size` random-looking bytes from `seed` (they do not compress; the same seed gives the same
/// bytes).
pub fn noise(seed: u64, size: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..size)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}

/// A .tar.gz of the given files.
pub fn tar_gz(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, path, content.as_slice())
            .expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}
