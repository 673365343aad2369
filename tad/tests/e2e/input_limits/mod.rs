//! SPEC §8 "Every input has a limit" and "Links are links" through the HTTP routes of a started
//! platform (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set): for every capped free-text
//! field, one over the cap, a NUL byte and a refused control character each fail naming the field,
//! never with HTTP 500, and leave nothing stored; a value exactly at the cap is accepted. Numbers
//! out of range and non-http(s) appinhouse URLs are refused the same way.

use crate::support;
use crate::support::fixtures::{
    app_catalog, bind_cluster, cluster_with_host, template_with_methods,
};

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_success, md5_hex, post_multipart};

mod fields;
mod refused;

use fields::fields;
use refused::refused_values;

const ADMIN_PASSWORD: &str = "limits-admin-pw";
const APPINHOUSE_SECRET: &str = "limits-appinhouse-secret";

/// One request a case sends.
enum Request {
    Json(String, Value),
    /// appinhouse form with the secret key.
    Form(String, Vec<(String, String)>),
    /// A script upload with its text fields.
    Script(Vec<(&'static str, String)>),
}

type Build = Box<dyn Fn(&str) -> Request + Send + Sync>;

/// One capped field: how to send a value in it and where a stored value would show.
struct Field {
    /// As the failure must name it.
    field: &'static str,
    max: usize,
    /// Tabs and newlines are fine (remarks, secrets, work-order values).
    multiline: bool,
    /// Put before the marker so the value is well-formed (`https://`, `-----BEGIN`).
    prefix: &'static str,
    /// A value exactly at the cap must be accepted (false when the field must also name
    /// something that exists, or match a fixed set).
    at_cap: bool,
    /// The read-back shows the value (false for secrets).
    visible: bool,
    send: Build,
    /// Read back to check nothing was stored (a GET answering JSON or a page).
    read: String,
}

fn field(
    field: &'static str,
    max: usize,
    multiline: bool,
    read: &str,
    send: impl Fn(&str) -> Request + Send + Sync + 'static,
) -> Field {
    Field {
        field,
        max,
        multiline,
        prefix: "",
        at_cap: true,
        visible: true,
        send: Box::new(send),
        read: read.to_owned(),
    }
}

impl Field {
    fn prefixed(mut self, prefix: &'static str) -> Field {
        self.prefix = prefix;
        self
    }

    fn not_at_cap(mut self) -> Field {
        self.at_cap = false;
        self
    }

    fn hidden(mut self) -> Field {
        self.visible = false;
        self
    }
}

struct Context {
    admin: Api,
    http: reqwest::Client,
    base: String,
    counter: Arc<AtomicUsize>,
}

impl Context {
    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    /// Sends a request; answers (HTTP status, body).
    async fn send(&self, request: Request) -> (u16, Value) {
        match request {
            Request::Json(path, body) => self.admin.post(&path, &body).await,
            Request::Form(path, form) => {
                let response = self
                    .http
                    .post(format!("{}{path}", self.base))
                    .header("X-SecretKey", APPINHOUSE_SECRET)
                    .form(&form)
                    .send()
                    .await
                    .expect("POST form");
                let status = response.status().as_u16();
                let text = response.text().await.expect("body");
                let body = serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
                (status, body)
            }
            Request::Script(fields) => {
                let script = b"#!/bin/sh\necho limits\n".to_vec();
                let mut fields: Vec<(&str, String)> = fields;
                if !fields.iter().any(|(name, _)| *name == "file_md5") {
                    fields.push((
                        "file_md5",
                        json!({"limits.sh": md5_hex(&script)}).to_string(),
                    ));
                }
                post_multipart(
                    &self.admin,
                    "/api/artifact/script/aos_upload",
                    &[("limits.sh", script)],
                    &fields,
                )
                .await
            }
        }
    }

    /// The text of a read-back route (JSON or HTML).
    async fn read(&self, path: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(
                "authorization",
                format!("Bearer {}", self.admin.token.as_deref().expect("token")),
            )
            .send()
            .await
            .expect("GET");
        assert_ne!(response.status().as_u16(), 500, "read-back {path}");
        response.text().await.expect("body")
    }
}

/// Whether `body` is a refusal naming `field` (TAD envelope `invalid_field`, or appinhouse 1001).
fn refusal_names(body: &Value, field: &str) -> Result<(), String> {
    if let Some(code) = body["code"].as_i64() {
        let msg = body["msg"].as_str().unwrap_or_default();
        return if code == 1001 && msg.contains(field) {
            Ok(())
        } else {
            Err(format!("wanted code 1001 naming {field}: {body}"))
        };
    }
    let info = body["info"].as_str().unwrap_or_default();
    if body["success"] == false
        && body["code"] == "invalid_field"
        && info.contains(field)
        && info.len() < 4096
    {
        Ok(())
    } else {
        Err(format!(
            "wanted invalid_field naming {field} (short info): {}",
            excerpt(&body.to_string())
        ))
    }
}

fn accepted(body: &Value) -> bool {
    body["success"] == true || body["code"] == 0
}

fn excerpt(text: &str) -> String {
    text.chars().take(600).collect()
}

/// A value of exactly `length` bytes: prefix, marker, padding (ASCII, so chars = bytes).
fn sized(prefix: &str, marker: &str, length: usize) -> String {
    let mut value = format!("{prefix}{marker}");
    while value.len() < length {
        value.push('a');
    }
    value
}

/// Runs every variant of one field; answers the failures found.
async fn check_field(context: &Context, case: &Field) -> Vec<String> {
    let mut failures = Vec::new();
    let mut refused = vec![
        ("one over the cap", {
            let marker = format!("mk{}q", context.next());
            (sized(case.prefix, &marker, case.max + 1), marker)
        }),
        ("a NUL byte", {
            let marker = format!("mk{}q", context.next());
            (format!("{}{marker}\u{0}z", case.prefix), marker)
        }),
        ("an escape character", {
            let marker = format!("mk{}q", context.next());
            (format!("{}{marker}\u{1b}[31mz", case.prefix), marker)
        }),
    ];
    if !case.multiline {
        let marker = format!("mk{}q", context.next());
        refused.push((
            "a line break",
            (format!("{}{marker}\nz", case.prefix), marker),
        ));
    }
    for (what, (value, marker)) in refused {
        let (status, body) = context.send((case.send)(&value)).await;
        if status == 500 {
            failures.push(format!("{}: {what} answered HTTP 500", case.field));
            continue;
        }
        if let Err(message) = refusal_names(&body, case.field) {
            failures.push(format!("{}: {what}: {message}", case.field));
        }
        if context.read(&case.read).await.contains(&marker) {
            failures.push(format!("{}: {what} was stored", case.field));
        }
    }
    if case.at_cap {
        let marker = format!("mk{}q", context.next());
        let value = sized(case.prefix, &marker, case.max);
        let (status, body) = context.send((case.send)(&value)).await;
        if status != 200 || !accepted(&body) {
            failures.push(format!(
                "{}: a value of exactly {} bytes was refused: {}",
                case.field,
                case.max,
                excerpt(&body.to_string())
            ));
        } else if case.visible && !context.read(&case.read).await.contains(&marker) {
            failures.push(format!(
                "{}: the value at the cap is not in {}",
                case.field, case.read
            ));
        }
    }
    if case.multiline {
        let marker = format!("mk{}q", context.next());
        let value = format!("{}{marker}\nline two\tend", case.prefix);
        if case.at_cap {
            let (_, body) = context.send((case.send)(&value)).await;
            if !accepted(&body) {
                failures.push(format!(
                    "{}: newlines and tabs were refused: {}",
                    case.field,
                    excerpt(&body.to_string())
                ));
            }
        }
    }
    failures
}

/// The records every case needs: catalog, a cluster with a host, a template with one step, an
/// instance, a script file, a joint line and an appinhouse app with a build.
struct Fixture {
    template: String,
    instance: String,
    script_file: String,
    script_version: String,
    joint_line: String,
}

async fn fixture(context: &Context) -> Fixture {
    let admin = &context.admin;
    app_catalog(admin, ("750", "pl"), ("5093", "app"), ("envM", "env")).await;
    let cluster = cluster_with_host(
        admin,
        &json!({"name": "base", "env_id": "envM", "app_id": "5093"}),
        &json!({"host_IP": "10.5.91.37", "host_name": "h", "ssh_user": "deploy",
            "ssh_passwd": "pw-123456", "productLine_id": "750", "env_id": "envM"}),
    )
    .await;
    let template = template_with_methods(admin, "tpl", "5093", &[("custom", "cu1")]).await;
    let instance = admin.post_id("/api/app/jobinstance/create",
            &json!({"name": "inst", "env_id": "envM", "application_id": "5093", "job_template_id": template})).await;
    bind_cluster(admin, &instance, "cu1", 0, &cluster).await;
    let (_, body) = context
        .send(Request::Script(vec![
            ("app_id", "5093".into()),
            ("name", "base-script".into()),
        ]))
        .await;
    let uploaded = assert_success(&body);
    let script_file = uploaded[0]["file_id"].as_str().expect("file").to_owned();
    let script_version = uploaded[0]["version_id"]
        .as_str()
        .expect("version")
        .to_owned();
    let joint_line = admin
        .post_ok(
            "/api/app/jointline/create",
            &json!({"name": "jl", "productline_id": "750"}),
        )
        .await
        .as_str()
        .expect("id as data")
        .to_owned();
    for (path, form) in [
        (
            "/api/v2/rog2/create",
            vec![("description", "d"), ("alias", "a")],
        ),
        (
            "/api/v2/rog2/desc/android",
            vec![
                ("version", "1.0.0"),
                ("time", "2016-05-10T02:11:50+0800"),
                ("url", "https://ci.example/1"),
                ("software_url", "https://files.example/app.apk"),
            ],
        ),
    ] {
        let form = form
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let (_, body) = context.send(Request::Form(path.to_owned(), form)).await;
        assert_eq!(body["code"], 0, "{path}: {body}");
    }
    Fixture {
        template,
        instance,
        script_file,
        script_version,
        joint_line,
    }
}

fn form(path: &str, fields: &[(&str, &str)]) -> Request {
    Request::Form(
        path.to_owned(),
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn json_request(path: &str, body: Value) -> Request {
    Request::Json(path.to_owned(), body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_has_a_limit_and_every_link_is_http() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[("TAD_APPINHOUSE_SECRET_KEY", APPINHOUSE_SECRET)],
    )
    .await;
    let context = Context {
        admin,
        http: support::http_client(),
        base: platform.url().trim_end_matches('/').to_owned(),
        counter: Arc::new(AtomicUsize::new(0)),
    };
    let fixture = fixture(&context).await;

    let mut failures = Vec::new();
    let cases = fields(&context, &fixture);
    let count = cases.len();
    for case in &cases {
        failures.extend(check_field(&context, case).await);
    }
    for (request, field, read) in refused_values(&fixture) {
        let before = context.read(&read).await;
        let (status, body) = context.send(request).await;
        if status == 500 {
            failures.push(format!("{field}: out of range answered HTTP 500"));
        } else if let Err(message) = refusal_names(&body, field) {
            failures.push(format!("{field}: out of range: {message}"));
        }
        let after = context.read(&read).await;
        if before != after {
            failures.push(format!("{field}: a refused value changed {read}"));
        }
    }
    assert!(
        !context.read("/app/rog2").await.contains("javascript:"),
        "no javascript: link on the download page"
    );
    platform.stop().await;
    assert!(
        failures.is_empty(),
        "{} of the checks on {count} fields failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
