//! Recorded answers (issue 16, "Must show"): a fixed, deterministic script of requests covering
//! every route of the gateway (every method of every path: successes and the main failures — 401
//! without a token, `forbidden` for a role that may not, unknown ids, refused fields, 405 on a
//! wrong method), played against the embedded platform; each answer's status, chosen headers and
//! body are normalised (`normalise.rs`: generated ids, times of today, JWTs, the gateway's address,
//! temp paths) and compared with the recording in `tests/e2e/recorded/answers.json`, made on the
//! code before the restructuring. A mismatch prints the first differing entries and writes all
//! the actual ones to `target/tmp/actual-answers.json` for a diff tool.
//!
//! Besides ids and times, only what varies with timing is summarised: a run's log is recorded as
//! the engine's lines and the command's output, each in order (`split_log`); consecutive log
//! events of an event stream are joined; an Office file by the md5 of each normalised zip entry;
//! a text over 20 000 characters by its md5; `/metrics` by its families and request counters.
//! The script avoids the rest: records are created in the order of their ids (lists sort by
//! creation second, then id), scripts write to one stream, the download page is asked for with a
//! fixed `Host` (its QR code encodes the URL asked for).
//!
//! Re-record (only when an answer is meant to change, and say so in the commit):
//! `TAD_RECORD_ANSWERS=1 cargo test -p tad --test e2e recorded_answers::every_route` (the
//! variable rewrites the recording of each test it runs instead of comparing).
//! The same on PostgreSQL + Redis (`TEST_DATABASE_URL`, `TEST_REDIS_URL`) gives the same file.
//!
//! Three tests: the answers, the OpenAPI document (its own recording, see
//! [`the_openapi_document_is_unchanged`]) and the script's coverage of the route table (every
//! method and path the live OpenAPI document lists has an entry in the recording answered with
//! something else than 401 or 405).

mod admin;
pub(crate) mod appinhouse;
mod approvals;
mod artifact;
mod audit;
mod console;
mod executions;
mod jobs;
mod normalise;
mod pages;
mod probes;
pub(crate) mod resource;
mod schedules;
mod steps;
mod tokens;

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use serde_json::{Value, json};

use crate::support::{EmbeddedPlatform, md5_hex};
use normalise::Normaliser;

pub const ADMIN_PASSWORD: &str = "recorded-admin-password";
/// The appinhouse `X-SecretKey`.
pub const APPINHOUSE_KEY: &str = "recorded-appinhouse-key";
/// Every user the script creates has this password.
pub const USER_PASSWORD: &str = "recorded-user-password";
/// The public URL the platform builds its links on (instead of its random port).
pub const PUBLIC_URL: &str = "http://tad.test";
/// Set to 1 to rewrite the recordings instead of comparing with them.
const RECORD_VARIABLE: &str = "TAD_RECORD_ANSWERS";

/// Headers recorded along with status and body (when present).
const RECORDED_HEADERS: [&str; 8] = [
    "content-type",
    "content-disposition",
    "content-range",
    "location",
    "x-checksum-md5",
    "cache-control",
    "accept-ranges",
    "allow",
];
/// Longer texts are recorded as their md5 and length (after normalisation), shorter ones line by
/// line.
const LONGEST_RECORDED_TEXT: usize = 20_000;

fn recording(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/recorded")
        .join(file)
}

fn recording_wanted() -> bool {
    std::env::var(RECORD_VARIABLE).is_ok_and(|value| value == "1")
}

/// The body of one request.
pub enum Payload {
    None,
    Json(Value),
    /// Bytes sent as `application/json` (malformed JSON).
    Raw(&'static [u8]),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(&'static str, String)>),
    /// `multipart/form-data`: files (each part named after its file) and text fields.
    Multipart {
        files: Vec<(String, Vec<u8>)>,
        fields: Vec<(&'static str, String)>,
    },
}

impl Payload {
    pub fn json(value: Value) -> Payload {
        Payload::Json(value)
    }

    /// What the recording says was sent (file contents by md5 and length).
    fn summary(&self) -> Value {
        match self {
            Payload::None => Value::Null,
            Payload::Json(value) => json!({"json": value}),
            Payload::Raw(bytes) => json!({"raw": String::from_utf8_lossy(bytes)}),
            Payload::Form(fields) => {
                json!({"form": fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>()})
            }
            Payload::Multipart { files, fields } => json!({
                "files": files.iter().map(|(name, bytes)| json!({"name": name, "md5": md5_hex(bytes), "length": bytes.len()})).collect::<Vec<_>>(),
                "fields": fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            }),
        }
    }
}

/// One answer as received (before normalisation).
pub struct Answer {
    /// The JSON body, or `Null` when the body is not JSON.
    pub body: Value,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// `body.data` of a TAD envelope.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The string (or number) at a JSON pointer of the body (e.g. `/data/id`); panics naming it
    /// when absent.
    pub fn text_at(&self, pointer: &str) -> String {
        match self.body.pointer(pointer) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => panic!("no string at {pointer} in {}", self.body),
        }
    }
}

/// Plays requests against one platform and keeps their normalised answers.
pub struct Recorder {
    pub platform: EmbeddedPlatform,
    /// The runs' work directory (`TAD_EXECUTION_WORK_DIR`), removed with the recorder.
    work_dir: tempfile::TempDir,
    http: reqwest::Client,
    /// Role name → bearer token (`admin`, `operator`, `viewer`, `reviewer`, …).
    tokens: BTreeMap<String, String>,
    pub normaliser: Normaliser,
    entries: Vec<Value>,
    /// When set (the audit trail's check, `audit_trail::every_route`), each request is sent with
    /// its own `x-request-id` and kept here with its answer.
    pub observed: Option<Vec<Observed>>,
}

/// One request of the script as the audit trail's check sees it.
#[derive(Debug, Clone)]
pub struct Observed {
    pub request_id: String,
    pub role: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub status: u16,
    pub body: Value,
}

impl Recorder {
    pub async fn start() -> Recorder {
        let work_dir = tempfile::tempdir().expect("work dir");
        let work_path = work_dir.path().display().to_string();
        let platform = EmbeddedPlatform::start(
            ADMIN_PASSWORD,
            &[
                ("TAD_APPINHOUSE_SECRET_KEY", APPINHOUSE_KEY),
                ("TAD_PUBLIC_URL", PUBLIC_URL),
                ("TAD_EXECUTION_WORK_DIR", &work_path),
                // The probes refuse every route without a token at once: each on record.
                ("TAD_AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE", "100000"),
            ],
        )
        .await;
        let mut normaliser = Normaliser::new(recent_days());
        normaliser.literal(&work_path, "<work>");
        let base = platform.url().trim_end_matches('/').to_owned();
        normaliser.literal(&base, "<base>");
        if let Some(host) = base.strip_prefix("http://") {
            normaliser.literal(host, "<host>");
        }
        let data_dir = platform.data_dir.path().display().to_string();
        normaliser.literal(&data_dir, "<data>");
        if let Ok(real) = platform.data_dir.path().canonicalize() {
            normaliser.literal(&real.display().to_string(), "<data>");
        }
        let http = common::https::client_builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Recorder {
            platform,
            work_dir,
            http,
            tokens: BTreeMap::new(),
            normaliser,
            entries: Vec::new(),
            observed: None,
        }
    }

    /// A temp directory of the platform's data dir (recorded as `<data>/…`).
    pub fn data_path(&self, name: &str) -> PathBuf {
        let path = self.platform.data_dir.path().join(name);
        std::fs::create_dir_all(&path).expect("create dir");
        path
    }

    /// The md5 of fixed content the script sends: kept as it is by the normaliser.
    pub fn keep_md5(&mut self, content: &[u8]) {
        self.normaliser.keep(&md5_hex(content));
    }

    /// Plays one request as `role` and records its answer.
    pub async fn call(&mut self, role: &str, method: &str, path: &str, payload: Payload) -> Answer {
        self.call_with(role, method, path, payload, &[]).await
    }

    /// `GET path` as `role`.
    pub async fn get(&mut self, role: &str, path: &str) -> Answer {
        self.call(role, "GET", path, Payload::None).await
    }

    /// `DELETE path` as `role`.
    pub async fn delete(&mut self, role: &str, path: &str) -> Answer {
        self.call(role, "DELETE", path, Payload::None).await
    }

    /// `POST path` with a JSON body as `role`.
    pub async fn post(&mut self, role: &str, path: &str, body: Value) -> Answer {
        self.call(role, "POST", path, Payload::Json(body)).await
    }

    /// `GET` each path in turn as `role`.
    pub async fn get_each<P: AsRef<str>>(&mut self, role: &str, paths: &[P]) {
        for path in paths {
            self.get(role, path.as_ref()).await;
        }
    }

    /// Plays each (role, method, path) without a body, in turn.
    pub async fn play_each<P: AsRef<str>>(&mut self, calls: &[(&str, &str, P)]) {
        for (role, method, path) in calls {
            self.call(role, method, path.as_ref(), Payload::None).await;
        }
    }

    /// `POST` each (role, JSON body) to `path` in turn.
    pub async fn post_each(&mut self, path: &str, bodies: Vec<(&str, Value)>) {
        for (role, body) in bodies {
            self.post(role, path, body).await;
        }
    }

    /// [`Recorder::call`] with extra request headers (recorded too).
    pub async fn call_with(
        &mut self,
        role: &str,
        method: &str,
        path: &str,
        payload: Payload,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method_value, format!("{}{path}", self.platform.url()));
        match role {
            "anonymous" => {}
            "bad-token" => request = request.bearer_auth("not.a.token"),
            "appinhouse-key" => request = request.header("X-SecretKey", APPINHOUSE_KEY),
            "wrong-key" => request = request.header("X-SecretKey", "wrong-key"),
            role => {
                let token = self
                    .tokens
                    .get(role)
                    .unwrap_or_else(|| panic!("no token for role {role}"));
                request = request.bearer_auth(token);
            }
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request_id = self
            .observed
            .as_ref()
            .map(|observed| format!("script-{}", observed.len()));
        if let Some(request_id) = &request_id {
            request = request.header("x-request-id", request_id.as_str());
        }
        let summary = payload.summary();
        if let Payload::Multipart { files, .. } = &payload {
            for (_, content) in files {
                self.keep_md5(content);
            }
        }
        request = match payload {
            Payload::None => request,
            Payload::Json(value) => request
                .header("content-type", "application/json")
                .body(value.to_string()),
            Payload::Raw(bytes) => request
                .header("content-type", "application/json")
                .body(bytes.to_vec()),
            Payload::Form(fields) => request.form(&fields),
            Payload::Multipart { files, fields } => {
                let mut form = reqwest::multipart::Form::new();
                for (name, content) in files {
                    form = form.part(
                        name.clone(),
                        reqwest::multipart::Part::bytes(content).file_name(name),
                    );
                }
                for (name, value) in fields {
                    form = form.text(name, value);
                }
                request.multipart(form)
            }
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        let status = response.status().as_u16();
        let mut recorded_headers = serde_json::Map::new();
        for name in RECORDED_HEADERS {
            if let Some(value) = response.headers().get(name) {
                let text = value.to_str().unwrap_or("<not text>");
                recorded_headers.insert(name.to_owned(), json!(self.normaliser.text(text)));
            }
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = response.bytes().await.expect("body").to_vec();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let (Some(observed), Some(request_id)) = (self.observed.as_mut(), request_id) {
            observed.push(Observed {
                request_id,
                role: role.to_owned(),
                method: method.to_owned(),
                path: path.to_owned(),
                headers: headers
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                    .collect(),
                status,
                body: body.clone(),
            });
        }
        let path_entry = self.normaliser.text(path);
        let request_entry = json!({
            "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "body": summary,
        });
        let request_entry = self.normaliser.value(&request_entry);
        let recorded_body = self.recorded_body(&content_type, &bytes, &body);
        self.entries.push(json!({
            "method": method,
            "path": path_entry,
            "role": role,
            "request": request_entry,
            "status": status,
            "headers": Value::Object(recorded_headers),
            "body": recorded_body,
        }));
        Answer { body, bytes }
    }

    fn recorded_body(&mut self, content_type: &str, bytes: &[u8], body: &Value) -> Value {
        if !body.is_null() || bytes == b"null" {
            return self.normaliser.value(body);
        }
        if content_type.starts_with("text/event-stream") {
            return self.events(&String::from_utf8_lossy(bytes));
        }
        if content_type.contains("spreadsheetml") {
            return self.zip_entries(bytes);
        }
        let texty = content_type.starts_with("text/")
            || content_type.contains("xml")
            || content_type.contains("javascript")
            || content_type.contains("json");
        match std::str::from_utf8(bytes) {
            Ok(text) if texty || bytes.is_empty() => {
                let text = self.normaliser.text(text);
                if text.len() <= LONGEST_RECORDED_TEXT {
                    json!({"lines": text.split('\n').collect::<Vec<_>>()})
                } else {
                    json!({"text_md5": md5_hex(text.as_bytes()), "length": text.len()})
                }
            }
            _ => json!({"bytes_md5": md5_hex(bytes), "length": bytes.len()}),
        }
    }

    /// An Office file (a zip): each entry's name and the md5 of its normalised content (the
    /// document's creation time is today's).
    fn zip_entries(&mut self, bytes: &[u8]) -> Value {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
        let mut entries = serde_json::Map::new();
        for index in 0..archive.len() {
            let mut entry = archive.by_index(index).expect("zip entry");
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).expect("zip read");
            let text = self.normaliser.text(&String::from_utf8_lossy(&content));
            let name = entry.name().expect("zip entry name").into_owned();
            entries.insert(name, json!(md5_hex(text.as_bytes())));
        }
        json!({"zip_entries": entries})
    }

    /// A Server-Sent Events stream as its frames (event and normalised JSON data, in order).
    /// The log's chunking depends on timing: consecutive `log` frames of one host task are
    /// joined, and the frame ids (which count the chunks) are checked to increase, not recorded.
    fn events(&mut self, text: &str) -> Value {
        let mut frames: Vec<Value> = Vec::new();
        let mut last_id = 0_u64;
        for frame in text.split("\n\n").filter(|frame| !frame.trim().is_empty()) {
            let mut fields = serde_json::Map::new();
            for line in frame.lines() {
                let (name, value) = line.split_once(": ").unwrap_or((line, ""));
                if name == "id" {
                    let id: u64 = value.parse().expect("numeric event id");
                    assert!(id > last_id, "event ids increase: {id} after {last_id}");
                    last_id = id;
                    continue;
                }
                let value = match serde_json::from_str::<Value>(value) {
                    Ok(parsed) if name == "data" => parsed,
                    _ => json!(value),
                };
                fields.insert(name.to_owned(), value);
            }
            let frame = Value::Object(fields);
            if let Some(previous) = frames.last_mut().filter(|previous| {
                previous["event"] == "log"
                    && frame["event"] == "log"
                    && previous["data"]["host_task"] == frame["data"]["host_task"]
            }) {
                let joined = format!(
                    "{}{}",
                    previous["data"]["text"].as_str().unwrap_or_default(),
                    frame["data"]["text"].as_str().unwrap_or_default()
                );
                previous["data"]["text"] = json!(joined);
                continue;
            }
            frames.push(frame);
        }
        let frames: Vec<Value> = frames
            .iter_mut()
            .map(|frame| {
                if frame["event"] == "log" {
                    frame["data"]["text"] = split_log(&frame["data"]["text"]);
                }
                self.normaliser.value(frame)
            })
            .collect();
        json!({"events": frames})
    }

    /// Records the last answer's `data.text` (a host task's log) as [`split_log`] does.
    pub fn split_last_log(&mut self) {
        if let Some(entry) = self.entries.last_mut() {
            let text = &mut entry["body"]["data"]["text"];
            if text.is_string() {
                *text = split_log(text);
            }
        }
    }

    /// Logs `username` in (recorded) and keeps the token for `role`.
    pub async fn login(&mut self, role: &str, username: &str, password: &str) {
        let answer = self
            .call(
                "anonymous",
                "POST",
                "/api/auth/login",
                Payload::json(json!({"username": username, "password": password})),
            )
            .await;
        let token = answer.text_at("/data/token");
        self.tokens.insert(role.to_owned(), token);
    }

    /// Sends `token` as the bearer of `role` from now on (an API token).
    pub fn bearer(&mut self, role: &str, token: &str) {
        self.tokens.insert(role.to_owned(), token.to_owned());
    }

    /// Creates a user with one role (as admin, recorded), logs it in and keeps its token.
    pub async fn user(&mut self, username: &str, role: &str) {
        let answer = self
            .call(
                "admin",
                "POST",
                "/api/admin/users",
                Payload::json(
                    json!({"username": username, "password": USER_PASSWORD, "roles": [role]}),
                ),
            )
            .await;
        assert_eq!(answer.body["success"], true, "{}", answer.body);
        self.login(role, username, USER_PASSWORD).await;
    }

    /// Sends a request without recording it (the OpenAPI document, kept in its own file).
    pub async fn fetch_unrecorded(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.platform.url()))
            .send()
            .await
            .expect("request");
        response.json().await.expect("JSON")
    }

    /// Records `body` instead of the last answer's body (for answers recorded elsewhere or
    /// summarised).
    pub fn replace_last_body(&mut self, body: Value) {
        if let Some(entry) = self.entries.last_mut() {
            entry["body"] = body;
        }
    }

    pub fn entries(&self) -> &[Value] {
        &self.entries
    }
}

/// A host task's log as two lists of lines: the engine's own (`==>` and the indented lines under
/// them) and the command's output, each in order. The engine writes its lines and the command's
/// output through different paths, so how the two interleave varies from run to run.
fn split_log(text: &Value) -> Value {
    let (engine, output): (Vec<&str>, Vec<&str>) = text
        .as_str()
        .unwrap_or_default()
        .lines()
        .partition(|line| line.starts_with("==>") || line.starts_with("    "));
    json!({"engine": engine, "output": output})
}

/// Today and the days around it (`YYYY-MM-DD`): a time on one of these was made by the run.
fn recent_days() -> Vec<String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let today = now.div_euclid(86_400);
    // Up to the day after tomorrow: a one-day API token made late in the UTC day expires then
    // in zones east of UTC.
    (today - 1..=today + 2).map(civil_date).collect()
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (Howard Hinnant's civil-from-days).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Writes `actual` to the recording `file`, or compares it with it (printing the first
/// differing entries).
fn compare_or_record(file: &str, actual: &[Value]) {
    let path = recording(file);
    if recording_wanted() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("create recorded/");
        let mut text = serde_json::to_string_pretty(actual).expect("json");
        text.push('\n');
        // Whole or not at all: another test may be reading the recording.
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text).expect("write recording");
        std::fs::rename(&partial, &path).expect("move the recording in place");
        eprintln!("recorded {} entries to {}", actual.len(), path.display());
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "no recording at {} ({error}); make it with {RECORD_VARIABLE}=1",
            path.display()
        )
    });
    let expected: Vec<Value> = serde_json::from_str(&text).expect("recording is JSON");
    // The whole actual answer set, for a diff tool.
    let actual_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("actual-{file}"));
    let mut actual_text = serde_json::to_string_pretty(actual).expect("json");
    actual_text.push('\n');
    let _ = std::fs::write(&actual_path, actual_text);
    let mut differences = Vec::new();
    for index in 0..expected.len().max(actual.len()) {
        let (want, got) = (expected.get(index), actual.get(index));
        if want != got {
            differences.push(format!(
                "entry {index}:\n--- recorded\n{}\n+++ now\n{}",
                want.map_or("(none)".to_owned(), pretty),
                got.map_or("(none)".to_owned(), pretty)
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} entries differ from {} (first ones below, all in {}; re-record with \
         {RECORD_VARIABLE}=1 only if the change is meant):\n{}",
        differences.len(),
        expected.len().max(actual.len()),
        path.display(),
        actual_path.display(),
        differences
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Plays the whole script, area by area, on one platform.
async fn play() -> Recorder {
    let mut recorder = Recorder::start().await;
    play_script(&mut recorder).await;
    recorder
}

/// The whole script, area by area, on `recorder`'s platform.
pub async fn play_script(recorder: &mut Recorder) {
    let recorder = &mut *recorder;
    pages::public(recorder).await;
    admin::play(recorder).await;
    resource::play(recorder).await;
    let uploaded = artifact::play(recorder).await;
    let configured = jobs::play(recorder, &uploaded).await;
    executions::play(recorder, &configured).await;
    approvals::play(recorder, &configured).await;
    schedules::play(recorder, &configured).await;
    appinhouse::play(recorder).await;
    probes::play(recorder).await;
    pages::closing(recorder).await;
    console::play(recorder, &configured).await;
    tokens::play(recorder).await;
    audit::play(recorder).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_answers_as_recorded() {
    let recorder = play().await;
    let entries = recorder.entries().to_vec();
    let Recorder {
        platform, work_dir, ..
    } = recorder;
    platform.stop().await;
    drop(work_dir);
    compare_or_record("answers.json", &entries);
}

/// The OpenAPI document, recorded apart from the answers: it must stay identical unless a change
/// adds real request and answer schemas (issue 16's typed OpenAPI), in which case its author
/// re-records it knowingly (`TAD_RECORD_ANSWERS=1 cargo test -p tad --test e2e
/// recorded_answers::the_openapi_document_is_unchanged`) and says so; `answers.json` must not
/// change with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_unchanged() {
    let recorder = Recorder::start().await;
    let document = recorder.fetch_unrecorded("/api/openapi.json").await;
    recorder.platform.stop().await;
    compare_or_record("openapi.json", &openapi_entries(&document));
}

/// The document as entries that diff readably: everything but the paths, then one entry per
/// path (sorted) with its operations.
fn openapi_entries(document: &Value) -> Vec<Value> {
    let mut head = document.clone();
    let paths = head
        .as_object_mut()
        .and_then(|object| object.remove("paths"))
        .unwrap_or(Value::Null);
    let mut entries = vec![head];
    if let Some(paths) = paths.as_object() {
        let mut sorted: Vec<(&String, &Value)> = paths.iter().collect();
        sorted.sort_by_key(|(path, _)| *path);
        entries.extend(
            sorted
                .into_iter()
                .map(|(path, item)| json!({"path": path, "operations": item})),
        );
    }
    entries
}

/// Every (method, path) of the live OpenAPI document has at least one entry in the recording
/// (matched by the path's template); fails naming the routes the script does not play.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_script_plays_every_route() {
    let recorder = Recorder::start().await;
    let document = recorder.fetch_unrecorded("/api/openapi.json").await;
    recorder.platform.stop().await;
    let text = std::fs::read_to_string(recording("answers.json")).expect("answers.json");
    let entries: Vec<Value> = serde_json::from_str(&text).expect("answers.json is JSON");
    let listed = document["paths"].as_object().map_or(0, |paths| paths.len());
    assert!(listed > 0, "the OpenAPI document lists no path: {document}");
    let missing = probes::uncovered_routes(&document, &entries);
    assert!(
        missing.is_empty(),
        "the script plays no request for these routes:\n{}",
        missing.join("\n")
    );
}
