//! A gateway given every replica of the jobs service (`TAD_JOBS_ADDR` as a list) keeps answering
//! when one replica dies: three `tad jobs` on one database (PostgreSQL when `TEST_DATABASE_URL`
//! is set, else one SQLite file), one `tad gateway`; after a `kill -9` of one replica, not one
//! call through the gateway fails, writes included (a call that finds the dead replica never
//! reached it and goes to another). With every replica dead, the answer is 503 naming the jobs
//! service.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};

use serde_json::{Value, json};
use support::{Api, TadProcess, tad_command};

const ADMIN_PASSWORD: &str = "failover-admin-password";

/// The processes of the test, and the PostgreSQL schemas to drop after it.
struct Cluster {
    _resource: TadProcess,
    _artifact: TadProcess,
    _appinhouse: TadProcess,
    jobs: Vec<Option<TadProcess>>,
    _gateway: TadProcess,
    url: String,
    postgres: Option<(String, String)>,
    _data_dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.jobs.clear();
        if let Some((url, schema)) = &self.postgres {
            for service in ["resource", "artifact", "jobs", "appinhouse"] {
                common::db::testing::drop_postgres_schema(url, &format!("{schema}_{service}"));
            }
        }
    }
}

fn start_cluster(replicas: usize) -> Cluster {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let postgres = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty());
    let schema = format!("failover_{}", common::ids::new_id());
    let jwt_secret = format!("{}{}", common::ids::new_id(), common::ids::new_id());
    let credential_key = format!("{}{}", common::ids::new_id(), common::ids::new_id());
    let database = |service: &str| match &postgres {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}",
            data_dir.path().join(format!("{service}.db")).display()
        ),
    };
    let spawn = |role: &[&str], env: &[(&str, String)], ready: &str| {
        let mut command = tad_command();
        command
            .args(role)
            .arg("--data-dir")
            .arg(data_dir.path())
            .env("TAD_JWT_SECRET", &jwt_secret)
            .env("TAD_CREDENTIAL_KEY", &credential_key)
            .env("TAD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("TAD_APPINHOUSE_SECRET_KEY", "failover-appinhouse-key");
        for service in ["resource", "artifact", "jobs", "appinhouse"] {
            let upper = service.to_uppercase();
            command
                .env(format!("TAD_{upper}_DATABASE_URL"), database(service))
                .env(
                    format!("TAD_{upper}_DATABASE_SCHEMA"),
                    format!("{schema}_{service}"),
                );
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut process = TadProcess::spawn(command);
        let addr = process.wait_for_line(ready);
        (process, addr)
    };
    let (resource, resource_addr) = spawn(
        &["resource"],
        &[("TAD_RESOURCE_LISTEN", "127.0.0.1:0".into())],
        "TAD resource service is listening on ",
    );
    let resource_url = format!("http://{resource_addr}");
    let (artifact, artifact_addr) = spawn(
        &["artifact"],
        &[
            ("TAD_ARTIFACT_LISTEN", "127.0.0.1:0".into()),
            ("TAD_RESOURCE_ADDR", resource_url.clone()),
        ],
        "TAD artifact service is listening on ",
    );
    let artifact_url = format!("http://{artifact_addr}");
    let (appinhouse, appinhouse_addr) = spawn(
        &["appinhouse", "serve"],
        &[("TAD_APPINHOUSE_LISTEN", "127.0.0.1:0".into())],
        "TAD appinhouse service is listening on ",
    );
    let mut jobs = Vec::new();
    let mut jobs_urls = Vec::new();
    for _ in 0..replicas {
        let (process, addr) = spawn(
            &["jobs"],
            &[
                ("TAD_JOBS_LISTEN", "127.0.0.1:0".into()),
                ("TAD_RESOURCE_ADDR", resource_url.clone()),
                ("TAD_ARTIFACT_ADDR", artifact_url.clone()),
            ],
            "TAD jobs service is listening on ",
        );
        jobs.push(Some(process));
        jobs_urls.push(format!("http://{addr}"));
    }
    let (gateway, url) = spawn(
        &["gateway", "--listen", "127.0.0.1:0"],
        &[
            ("TAD_RESOURCE_ADDR", resource_url),
            ("TAD_ARTIFACT_ADDR", artifact_url),
            ("TAD_JOBS_ADDR", jobs_urls.join(",")),
            ("TAD_APPINHOUSE_ADDR", format!("http://{appinhouse_addr}")),
        ],
        "TAD gateway is listening on ",
    );
    Cluster {
        _resource: resource,
        _artifact: artifact,
        _appinhouse: appinhouse,
        jobs,
        _gateway: gateway,
        url,
        postgres: postgres.map(|url| (url, schema)),
        _data_dir: data_dir,
    }
}

/// `kill -9` of jobs replica `index`, reaped.
fn kill(cluster: &mut Cluster, index: usize) {
    let mut process = cluster.jobs[index].take().expect("replica alive");
    process.child.kill().expect("kill -9");
    process.child.wait().expect("reaped");
}

/// One round of calls through the gateway, each answered with success: reads and writes of the
/// jobs service (a template created, read back, listed).
async fn round(admin: &Api, round: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let mut check = |what: String, status: u16, body: &Value| {
        if status != 200 || body["success"] != true {
            failures.push(format!("{what}: {status} {body}"));
        }
    };
    let (status, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": format!("template-{round}"), "application_id": "app1"}),
        )
        .await;
    check(format!("create template {round}"), status, &body);
    let template = body["data"]["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = admin
        .get(&format!("/api/app/jobtemplate/{template}/graded_content"))
        .await;
    check(format!("read template {round}"), status, &body);
    let (status, body) = admin
        .get("/api/app/jobtemplate/aos_json?application_id=app1")
        .await;
    if status != 200 || body["count"].as_u64().is_none() {
        failures.push(format!("list templates {round}: {status} {body}"));
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_of_three_jobs_replicas_fails_no_call() {
    let mut cluster = start_cluster(3);
    let anonymous = Api::new(&cluster.url);
    let (status, body) = anonymous.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    let admin = anonymous.login("admin", ADMIN_PASSWORD).await;
    post_all(
        &admin,
        &[
            product_line("pl1", "pl"),
            application("app1", "shop", "pl1"),
        ],
    )
    .await;
    // Every replica has served calls (the gateway holds connections to all three).
    for index in 0..6 {
        assert!(round(&admin, index).await.is_empty());
    }

    for victim in [1, 0] {
        kill(&mut cluster, victim);
        let mut failures = Vec::new();
        for index in 0..20 {
            failures.extend(round(&admin, 100 * (victim + 1) + index).await);
        }
        // And concurrently, through every gateway worker.
        let calls: Vec<_> = (0..12)
            .map(|index| {
                let api = admin.with_base(&admin.base);
                tokio::spawn(async move { round(&api, 1000 * (victim + 1) + index).await })
            })
            .collect();
        for call in calls {
            failures.extend(call.await.expect("call"));
        }
        assert!(
            failures.is_empty(),
            "{} calls failed after replica {victim} was killed: {failures:#?}",
            failures.len()
        );
    }
    let (_, body) = admin
        .get("/api/app/jobtemplate/aos_json?application_id=app1&page_size=1")
        .await;
    assert_eq!(
        body["count"],
        json!(6 + 2 * (20 + 12)),
        "every create counted once"
    );

    // The last replica dies: 503 naming the jobs service, in the failure envelope.
    kill(&mut cluster, 2);
    let (status, body) = admin
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "nowhere", "application_id": "app1"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        json!({"info": "the jobs service is unavailable; try again shortly", "data": null,
            "success": false, "level": "error", "code": "service_unavailable"})
    );
    let (status, body) = admin.get("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["services"]["jobs"]
            .as_str()
            .is_some_and(|state| state.contains("the jobs service is unavailable")),
        "{body}"
    );
}
