//! End to end with separate processes: `tad resource`, `tad artifact`, `tad jobs`,
//! `tad appinhouse serve` and `tad gateway`, sharing a JWT key, on
//! PostgreSQL and Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set (as in CI), else on a
//! SQLite file. Shows the same calls as the embedded mode, readiness across processes, that
//! `tad artifact` asks `tad resource` whether an upload's application exists, and that a trace
//! started at the gateway continues in the service (same trace id in both logs).

use crate::support;
use crate::support::fixtures::sync_package;
use crate::support::fixtures::{application, post_all, product_line};

use futures::StreamExt;
use serde_json::{Value, json};
use support::split_env::ProcessEnv;
use support::{Api, TadProcess, assert_failure, assert_success, tad_command};

struct Split {
    resource: TadProcess,
    _appinhouse: TadProcess,
    _jobs: TadProcess,
    artifact: TadProcess,
    gateway: TadProcess,
    url: String,
    postgres_schema: Option<(String, String)>,
    _env: ProcessEnv,
}

impl Drop for Split {
    fn drop(&mut self) {
        if let Some((url, schema)) = &self.postgres_schema {
            common::db::testing::drop_postgres_schema(url, schema);
            common::db::testing::drop_postgres_schema(url, &format!("{schema}_appinhouse"));
            common::db::testing::drop_postgres_schema(url, &format!("{schema}_jobs"));
            common::db::testing::drop_postgres_schema(url, &format!("{schema}_artifact"));
        }
    }
}

const ADMIN_PASSWORD: &str = "split-admin-password";

fn start_split() -> Split {
    let env = ProcessEnv::new();
    eprintln!(
        "split processes on {} with {}",
        if env.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        if env.redis.is_some() {
            "redis"
        } else {
            "in-process cache"
        }
    );

    let common_env = |command: &mut std::process::Command| {
        command.env("TAD_LOG_FORMAT", "json");
        env.configure(command);
    };
    let (resource, resource_addr) = env.start_resource(ADMIN_PASSWORD, common_env);

    // `tad <args>`: service `name` with its listen address, database and schema (the keys
    // `TAD_<NAME>_...`) and `envs`, configured as every split process; answers it and the
    // address it logs.
    let service = |name: &str, args: &[&str], envs: &[(&str, String)]| {
        let upper = name.to_uppercase();
        let mut command = tad_command();
        command
            .args(args)
            .env(format!("TAD_{upper}_LISTEN"), "127.0.0.1:0")
            .env(
                format!("TAD_{upper}_DATABASE_URL"),
                env.database_url(&format!("{name}.db")),
            )
            .env(
                format!("TAD_{upper}_DATABASE_SCHEMA"),
                format!("{}_{name}", env.schema),
            )
            .envs(envs.iter().map(|(key, value)| (*key, value)));
        common_env(&mut command);
        TadProcess::start(command, &format!("TAD {name} service is listening on "))
    };
    let (appinhouse, appinhouse_addr) = service(
        "appinhouse",
        &["appinhouse", "serve"],
        &[("TAD_APPINHOUSE_SECRET_KEY", "split-appinhouse-key".into())],
    );
    let resource_url = format!("http://{resource_addr}");
    let (artifact, artifact_addr) = service(
        "artifact",
        &["artifact"],
        &[("TAD_RESOURCE_ADDR", resource_url.clone())],
    );
    let artifact_url = format!("http://{artifact_addr}");
    let (jobs, jobs_addr) = service(
        "jobs",
        &["jobs"],
        &[
            ("TAD_RESOURCE_ADDR", resource_url.clone()),
            ("TAD_ARTIFACT_ADDR", artifact_url.clone()),
        ],
    );

    let mut command = tad_command();
    command
        .args(["gateway", "--listen", "127.0.0.1:0"])
        .env("TAD_JOBS_ADDR", format!("http://{jobs_addr}"))
        .env("TAD_RESOURCE_ADDR", resource_url)
        .env("TAD_ARTIFACT_ADDR", artifact_url)
        .env("TAD_APPINHOUSE_ADDR", format!("http://{appinhouse_addr}"));
    common_env(&mut command);
    let (gateway, url) = TadProcess::start(command, "TAD gateway is listening on ");
    Split {
        resource,
        _appinhouse: appinhouse,
        _jobs: jobs,
        artifact,
        gateway,
        url,
        postgres_schema: env.postgres.clone().map(|url| (url, env.schema.clone())),
        _env: env,
    }
}

/// JSON log lines of a process whose current span carries `trace_id`.
fn lines_with_trace(process: &TadProcess, trace_id: &str) -> Vec<Value> {
    process
        .stderr
        .lock()
        .expect("lines")
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["span"]["trace_id"] == trace_id)
        .collect()
}

fn wait_for_trace(process: &TadProcess, trace_id: &str, message: &str) -> Vec<Value> {
    for _ in 0..100 {
        let lines = lines_with_trace(process, trace_id);
        if lines
            .iter()
            .any(|line| line["fields"]["message"] == message)
        {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "no {message:?} log line with trace id {trace_id}; stderr:\n{}",
        process.stderr_text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_and_resource_as_two_processes_pass_the_same_calls() {
    let split = start_split();
    let anonymous = Api::new(&split.url);
    let (status, body) = anonymous.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"]["resource"], "serving");
    assert_eq!(body["services"]["appinhouse"], "serving");
    assert_eq!(body["services"]["jobs"], "serving");
    assert_eq!(body["services"]["artifact"], "serving");
    let (status, body) = anonymous.get("/api/v2/apps").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"code": 0, "msg": "", "items": [], "page": 1, "total_page": 0})
    );

    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    post_all(
        &admin,
        &[
            product_line("5000", "OPENSRVC,USASTRAN"),
            // The product line id as a number.
            (
                "/api/admin/applications",
                json!({"id": "5093", "name": "服务整合", "product_line_id": 5000}),
            ),
        ],
    )
    .await;
    assert_eq!(
        admin.get_ok("/api/app/productline/select").await,
        json!([{"id": "5000", "name": "OPENSRVC,USASTRAN"}])
    );
    assert_eq!(
        admin
            .get_ok("/api/app/applications/5000/select_by_pl/")
            .await,
        json!([{"id": "5093", "name": "服务整合"}])
    );

    // The artifact process asks the resource process whether the application exists.
    let archive = support::tar_gz(&[("app.bin", b"build".to_vec())]);
    for (app_id, known) in [("nope", false), ("5093", true)] {
        let query = format!("app_id={app_id}&version=1.0.3&name=app");
        let (status, body) = sync_package(&admin, &query, "app.tar.gz", &archive).await;
        assert_eq!(status, 200, "{body}");
        if known {
            assert_success(&body);
        } else {
            let info = assert_failure(&body, "application_not_found");
            assert!(info.contains("nope"), "{info}");
        }
    }

    // Failed logins are counted in the shared cache (Redis when configured).
    for _ in 0..10 {
        let (_, body) = anonymous
            .post(
                "/api/auth/login",
                &json!({"username": "admin", "password": "wrong-password"}),
            )
            .await;
        assert_eq!(body["code"], "invalid_credentials");
    }
    let (_, body) = anonymous
        .post(
            "/api/auth/login",
            &json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(body["code"], "too_many_login_attempts", "{body}");

    let Split {
        resource,
        artifact,
        gateway,
        ..
    } = &split;
    assert!(
        !artifact.stderr_text().contains(ADMIN_PASSWORD),
        "no password in logs"
    );
    assert!(
        !resource.stderr_text().contains(ADMIN_PASSWORD),
        "no password in logs"
    );
    assert!(
        !gateway.stderr_text().contains(ADMIN_PASSWORD),
        "no password in logs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_started_at_the_gateway_continues_in_the_service() {
    let split = start_split();
    let http = support::http_client();

    // A caller's own W3C trace is continued by both processes.
    let caller_trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let response = http
        .post(format!("{}/api/auth/login", split.url))
        .header(
            "traceparent",
            format!("00-{caller_trace_id}-00f067aa0ba902b7-01"),
        )
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(
        response.headers()["x-trace-id"].to_str().expect("header"),
        caller_trace_id
    );
    wait_for_trace(&split.gateway, caller_trace_id, "http request");
    let service_lines = wait_for_trace(&split.resource, caller_trace_id, "login succeeded");
    assert_eq!(service_lines[0]["span"]["name"], "grpc");

    // A trace the gateway starts itself reaches the service too.
    let response = http
        .post(format!("{}/api/auth/login", split.url))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("login");
    let gateway_trace_id = response.headers()["x-trace-id"]
        .to_str()
        .expect("header")
        .to_owned();
    assert_eq!(gateway_trace_id.len(), 32);
    assert_ne!(gateway_trace_id, caller_trace_id);
    wait_for_trace(&split.gateway, &gateway_trace_id, "http request");
    wait_for_trace(&split.resource, &gateway_trace_id, "login succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_stopped_by_sigterm_answers_its_in_flight_requests() {
    let mut split = start_split();
    let admin = Api::new(&split.url).login("admin", ADMIN_PASSWORD).await;
    post_all(
        &admin,
        &[product_line("pl", "pl"), application("app", "app", "pl")],
    )
    .await;
    // 20 package syncs whose bodies trickle in over about 2 s: all in flight at the SIGTERM.
    let token = admin.token.clone().expect("token");
    let mut requests = Vec::new();
    for index in 0..20_u32 {
        let archive = support::tar_gz(&[(
            "app.bin",
            format!("build {index}").repeat(20_000).into_bytes(),
        )]);
        let md5 = support::md5_hex(&archive);
        let pieces: Vec<Vec<u8>> = archive
            .chunks(archive.len() / 10 + 1)
            .map(<[u8]>::to_vec)
            .collect();
        let body =
            reqwest::Body::wrap_stream(futures::stream::iter(pieces).then(|piece| async move {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                Ok::<_, std::io::Error>(piece)
            }));
        let form = reqwest::multipart::Form::new().part(
            "app.tar.gz",
            reqwest::multipart::Part::stream(body).file_name("app.tar.gz"),
        );
        let request = admin
            .http
            .post(format!(
                "{}/api/artifact/version/aos?app_id=app&version=1.0.{index}&name=app&md5={md5}",
                split.url
            ))
            .bearer_auth(&token)
            .multipart(form)
            .send();
        requests.push(tokio::spawn(request));
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let pid = split.gateway.child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    for (index, request) in requests.into_iter().enumerate() {
        let response = request
            .await
            .expect("task")
            .unwrap_or_else(|error| panic!("request {index} got no answer: {error}"));
        let status = response.status().as_u16();
        let body = response.text().await.expect("body");
        assert_eq!(status, 200, "request {index}: {body}");
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["success"], true, "request {index}: {body}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = split.gateway.child.try_wait().expect("wait") {
            assert!(status.success(), "the gateway exits cleanly: {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
