//! Read-route benchmark (issue 19): starts the embedded platform (`tad serve` in process),
//! seeds a catalog of the size a team has (product lines, applications, environments, clusters
//! with hosts, templates, instances, an appinhouse app with builds), then loads each read route
//! the legacy UI and phones repeat, and `/healthz` of the same process before and after them (the
//! HTTP layer's ceiling in this run). Prints req/s, p50 and p99 per route and its ratio to
//! `/healthz`. Usage: `cargo run [--release] -p bench --bin read_routes -- [SECONDS] [CONCURRENCY]`.
//! With `TAD_BENCH_URL` set it starts nothing and loads the platform there instead (the split
//! layout, started by `bench/read_split.sh`), logging in with `TAD_ADMIN_PASSWORD` and writing
//! to appinhouse with `TAD_APPINHOUSE_SECRET_KEY`.

use anyhow::Context;
use bench::{Outcome, load, report};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-key";
const ADMIN_PASSWORD: &str = "bench-admin-password";
const PRODUCT_LINES: usize = 8;
const APPS_PER_LINE: usize = 6;
const ENVS: usize = 4;
const CLUSTERS: usize = 24;
const HOSTS: usize = 60;
const TEMPLATES: usize = 20;
const INSTANCES: usize = 40;

/// The platform's URL and the admin's bearer token.
struct Seeder {
    client: reqwest::Client,
    url: String,
    token: String,
    /// `X-SecretKey` of appinhouse writes.
    secret: String,
}

impl Seeder {
    /// POSTs to `path` as the admin, with the body `with` sets; answers the success's data.
    async fn post_with(
        &self,
        path: &str,
        with: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> anyhow::Result<Value> {
        let request = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        let answer: Value = with(request).send().await?.json().await?;
        anyhow::ensure!(answer["success"] == true, "{path}: {answer}");
        Ok(answer["data"].clone())
    }

    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.post_with(path, |request| request.json(&body)).await
    }

    async fn post_id(&self, path: &str, body: Value) -> anyhow::Result<String> {
        let data = self.post(path, body).await?;
        data["id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{path}: no id in {data}"))
    }

    /// Uploads `file` (a part named after it, as the legacy UI sends it) with `fields` and the
    /// file's md5 as `file_md5`; answers the data.
    async fn upload(
        &self,
        path: &str,
        (file_name, bytes): (&str, &[u8]),
        fields: &[(&str, &str)],
    ) -> anyhow::Result<Value> {
        let md5: String = <md5::Md5 as md5::Digest>::digest(bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned());
        let mut form = reqwest::multipart::Form::new()
            .part(file_name.to_owned(), part)
            .text("file_md5", json!({file_name: md5}).to_string());
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        self.post_with(path, |request| request.multipart(form))
            .await
    }

    async fn appinhouse(&self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<()> {
        let answer: Value = self
            .client
            .post(format!("{}{path}", self.url))
            .header("X-SecretKey", &self.secret)
            .form(form)
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(answer["code"] == 0, "{path}: {answer}");
        Ok(())
    }
}

async fn login(client: &reqwest::Client, url: &str, password: &str) -> anyhow::Result<String> {
    let answer: Value = client
        .post(format!("{url}/api/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await?
        .json()
        .await?;
    answer["data"]["token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login: {answer}"))
}

/// The catalog, clusters with hosts, templates, instances and appinhouse builds.
/// Ids the per-object routes read: a cluster (with hosts), a template (with a method), an
/// instance, a joint line of two instances.
struct Seeded {
    cluster: String,
    template: String,
    instance: String,
    joint_line: String,
    /// A script file, bound to the instance's step.
    script_file: String,
}

async fn seed(seeder: &Seeder) -> anyhow::Result<Seeded> {
    for line in 0..PRODUCT_LINES {
        let body = json!({"id": format!("pl{line}"), "name": format!("产品线 {line}")});
        seeder.post("/api/admin/productlines", body).await?;
        for app in 0..APPS_PER_LINE {
            let id = format!("a{line}-{app}");
            let body = json!({"id": id, "name": format!("应用 {line}-{app}"), "product_line_id": format!("pl{line}")});
            seeder.post("/api/admin/applications", body).await?;
        }
    }
    for env in 0..ENVS {
        let body =
            json!({"id": format!("e{env}"), "name": format!("环境 {env}"), "remark": "bench"});
        seeder.post("/api/admin/envs", body).await?;
    }
    let mut clusters = Vec::new();
    for cluster in 0..CLUSTERS {
        let body = json!({"name": format!("cluster-{cluster}"), "env_id": "e0", "app_id": format!("a0-{}", cluster % APPS_PER_LINE)});
        clusters.push(
            seeder
                .post_id("/api/resource/clusters/aos_create", body)
                .await?,
        );
    }
    for host in 0..HOSTS {
        let body = json!({"host_IP": format!("10.0.{}.{}", host / 200, host % 200 + 1), "host_name": format!("host-{host}"), "ssh_user": "deploy", "ssh_passwd": "bench", "productLine_id": "pl0", "env_id": "e0"});
        let id = seeder
            .post_id("/api/resource/hosts/aos_create", body)
            .await?;
        let cluster = &clusters[host % clusters.len()];
        let bind = format!("/api/resource/clusters/{cluster}/aos_bind");
        seeder.post(&bind, json!({"hosts": [id]})).await?;
    }
    let mut templates = Vec::new();
    for template in 0..TEMPLATES {
        let body = json!({"name": format!("template-{template}"), "application_id": "a0-0", "remark": "bench"});
        templates.push(seeder.post_id("/api/app/jobtemplate/create", body).await?);
    }
    let graded = json!({"method": [{"component_id": "custom", "method_id": "cu1", "sequence": 0}]});
    let graded_path = format!("/api/app/jobtemplate/{}/graded", templates[0]);
    seeder.post(&graded_path, graded).await?;
    let mut instances = Vec::new();
    for instance in 0..INSTANCES {
        let body = json!({"name": format!("instance-{instance}"), "env_id": format!("e{}", instance % ENVS), "application_id": "a0-0", "job_template_id": templates[instance % templates.len()], "remark": "bench"});
        instances.push(seeder.post_id("/api/app/jobinstance/create", body).await?);
    }
    for app in ["rog1", "rog2", "rog3"] {
        seeder
            .appinhouse(
                &format!("/api/v2/{app}/create"),
                &[("description", "bench")],
            )
            .await?;
    }
    for platform in ["android", "ios", "windows"] {
        let form = [
            ("version", "1.0.0"),
            ("time", "2016-05-10T02:11:50+0800"),
            ("url", "http://ci.example/1"),
            ("description", "bench build"),
            ("software_url", "http://cdn.example/build"),
            ("plist_bundle_identifier", "org.bench"),
            ("plist_title", "Bench"),
        ];
        seeder
            .appinhouse(&format!("/api/v2/rog2/desc/{platform}"), &form)
            .await?;
    }
    let body = json!({"name": "release", "remark": "bench", "productline_id": "pl0"});
    let joint_line = seeder
        .post("/api/app/jointline/create", body)
        .await?
        .as_str()
        .context("joint line id")?
        .to_owned();
    let joint = json!([
        {"jobi_id": instances[0], "sequence": 0, "parent": [], "top": 10, "left": 10},
        {"jobi_id": instances[1], "sequence": 1, "parent": [0], "top": 20, "left": 10},
    ]);
    seeder
        .post(
            "/api/app/jointline/save",
            json!({"id": joint_line, "joint": joint}),
        )
        .await?;
    // The first instance's step: the first cluster (of a0-0 in e0) and a script bound.
    let script = seeder
        .upload(
            "/api/artifact/script/aos_upload",
            ("restart.sh", b"#!/bin/sh\nsystemctl restart app\n"),
            &[("app_id", "a0-0"), ("name", "restart")],
        )
        .await?;
    let script_file = script[0]["file_id"]
        .as_str()
        .context("script file id")?
        .to_owned();
    let step = format!("/api/app/jobinstance/{}/cu1/0", instances[0]);
    let bind = format!("{step}/{}/relation/cluster", clusters[0]);
    seeder.post(&bind, json!({})).await?;
    let scripts = json!({"script_id": "", "scripts_data": [{"id": script_file, "dest": "/opt/app", "host_IP": [], "parameter": "", "execute_type": "shell"}]});
    seeder
        .post(&format!("{step}/relation/script"), scripts)
        .await?;
    let order = json!({"job_instance_id": instances[0], "excel_data": {"CONTACTS": "ops", "SERVICE_NAME": "bench"}});
    seeder
        .post("/api/app/jobinstance/online/process/save", order)
        .await?;
    Ok(Seeded {
        cluster: clusters[0].clone(),
        template: templates[0].clone(),
        instance: instances[0].clone(),
        joint_line,
        script_file,
    })
}

/// The read routes measured: (name, path, with the admin's token).
const ROUTES: &[(&str, &str, bool)] = &[
    ("appinhouse last", "/api/v2/rog2/last", false),
    ("appinhouse apps", "/api/v2/apps", false),
    ("1.1 product lines", "/api/app/productline/select", true),
    (
        "1.2 applications of a line",
        "/api/app/applications/pl0/select_by_pl",
        true,
    ),
    ("8.1.2 environments", "/api/resource/envs/select", true),
    (
        "8.1.3 clusters aos_json",
        "/api/resource/clusters/aos_json?page=1&page_size=20",
        true,
    ),
    (
        "4.1 templates aos_json",
        "/api/app/jobtemplate/aos_json?page=1&page_size=20",
        true,
    ),
    (
        "1.3 jobi_list_one",
        "/api/app/jobinstance/jobi_list_one?application_id=a0-0",
        true,
    ),
    ("appinhouse list", "/api/v2/rog2/list/android?page=1", false),
    ("appinhouse mobile last", "/api/v2/rog2/mobile/last", false),
    (
        "5.3 templates select",
        "/api/app/jobtemplate/ordinary/select",
        true,
    ),
    (
        "8.1.1 cluster types",
        "/api/resource/clusters/cmdb_type",
        true,
    ),
    (
        "8.2.4 hosts aos_json",
        "/api/resource/hosts/aos_json?page=1&page_size=20",
        true,
    ),
    (
        "5.5 instances aos_json",
        "/api/app/jobinstance/aos_json?page=1&page_size=20",
        true,
    ),
    (
        "1.6 joint lines aos_json",
        "/api/app/jointline/aos_json?page=1&page_size=20",
        true,
    ),
    (
        "8.2.2 clusters select",
        "/api/resource/clusters/list_4_select",
        true,
    ),
    ("4.4 components", "/api/component/select", true),
    (
        "5.11.1 scripts",
        "/api/script/index/aos_list?application_id=a0-0&name=",
        true,
    ),
    ("admin hosts", "/api/admin/hosts", true),
    (
        "5.11.1 artifact filter",
        "/api/artifact/filter/name/aos?application_id=a0-0",
        true,
    ),
    ("5.11.2 may review", "/api/script/index/urole_script", true),
    ("appinhouse plist", "/api/v2/rog2/plist/1.0.0.plist", false),
    ("appinhouse page", "/app/rog2", false),
    // A read route the gateway answers itself, without a service, for comparison.
    ("SPEC 8 auth/me", "/api/auth/me", true),
];

/// The per-object read routes measured, on the seeded ids: (name, path, with the admin's
/// token).
fn object_routes(seeded: &Seeded) -> Vec<(&'static str, String, bool)> {
    let Seeded {
        cluster,
        template,
        instance,
        joint_line,
        script_file,
    } = seeded;
    let step = format!("/api/app/jobinstance/{instance}/cu1/0");
    vec![
        (
            "8.1.6 hosts of a cluster",
            format!("/api/resource/clusters/{cluster}/hosts"),
            true,
        ),
        (
            "5.4 clusters of an app",
            format!("/api/resource/clusters/{cluster}/a0-0/select/envapp"),
            true,
        ),
        (
            "4.3 template methods",
            format!("/api/app/jobtemplate/{template}/graded_content"),
            true,
        ),
        (
            "5.10 instance details",
            format!("/api/app/jobinstance/{instance}/details"),
            true,
        ),
        (
            "5.8.2.5 method parameters",
            "/api/app/jobinstance/cu1/config/desc".to_owned(),
            true,
        ),
        (
            "1.5 joint-line structure",
            format!("/api/app/jointline/get_structure/{joint_line}"),
            true,
        ),
        (
            "5.8.2.2 step artifacts",
            format!("{step}/artifact/json"),
            true,
        ),
        (
            "5.8.2.3 step config schema",
            format!("{step}/actemplate/config/desc"),
            true,
        ),
        (
            "5.8.2.4 step config values",
            format!("{step}/actemplate/none/config/value"),
            true,
        ),
        (
            "5.8.2.6 step parameters",
            format!("{step}/config/value"),
            true,
        ),
        ("5.8.2.7 step scripts", format!("{step}/script/json"), true),
        (
            "5.11.4 script text",
            format!("/api/script/index/detail_data/filedata/{script_file}"),
            true,
        ),
        (
            "work order export (xlsx)",
            format!("/api/app/jobinstance/{instance}/online/process/export"),
            true,
        ),
    ]
}

/// The platform measured: started here (embedded) or already running at `TAD_BENCH_URL`.
enum Platform {
    Embedded(tempfile::TempDir, tad::runtime::Embedded),
    Running(String),
}

impl Platform {
    fn url(&self) -> &str {
        match self {
            Platform::Embedded(_, embedded) => &embedded.url,
            Platform::Running(url) => url,
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (seconds, concurrency) = bench::arguments(5, 16)?;
    let given = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let admin_password = given("TAD_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let secret = given("TAD_APPINHOUSE_SECRET_KEY", SECRET);
    let platform = match std::env::var("TAD_BENCH_URL") {
        Ok(url) => {
            println!("platform: already running at {url}");
            Platform::Running(url.trim_end_matches('/').to_owned())
        }
        Err(_) => {
            println!("platform: embedded (tad serve in process)");
            let (data_dir, embedded) = bench::embedded(&admin_password, &secret).await?;
            Platform::Embedded(data_dir, embedded)
        }
    };
    let url = platform.url().to_owned();
    let client = common::https::client("bench")?;
    let token = login(&client, &url, &admin_password).await?;
    let seeder = Seeder {
        client,
        url: url.clone(),
        token: token.clone(),
        secret,
    };
    let seeded = seed(&seeder).await.context("seeding")?;
    let routes: Vec<(&str, String, bool)> = ROUTES
        .iter()
        .map(|(name, path, with_token)| (*name, (*path).to_owned(), *with_token))
        .chain(object_routes(&seeded))
        .collect();

    let mut authorized = HeaderMap::new();
    authorized.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let load_client = common::https::build(
        common::https::client_builder().pool_max_idle_per_host(concurrency),
        "bench load",
    )?;
    // Each route answers once before it is measured (and its answer is kept where cached).
    for (name, path, with_token) in &routes {
        let headers = if *with_token {
            authorized.clone()
        } else {
            HeaderMap::new()
        };
        let response = load_client
            .get(format!("{url}{path}"))
            .headers(headers)
            .send()
            .await?;
        let status = response.status();
        let body = response.bytes().await?;
        let size = body.len();
        anyhow::ensure!(status.is_success(), "{name}: {status}");
        // A failure answered with 200 (the envelope's `success`, appinhouse's `code`) would
        // measure the failure path: refused. (A file or a page is not JSON.)
        if let Ok(answer) = serde_json::from_slice::<serde_json::Value>(&body) {
            let failed = answer.get("success") == Some(&serde_json::Value::Bool(false))
                || answer.get("code").is_some_and(|code| code != 0);
            anyhow::ensure!(!failed, "{name}: answered a failure: {answer}");
        }
        println!("{name:<28} {size:>6} bytes per answer");
    }
    println!("{seconds}s per target, {concurrency} concurrent clients");
    let healthz = format!("{url}/healthz");
    load(
        &load_client,
        healthz.clone(),
        HeaderMap::new(),
        1,
        concurrency,
    )
    .await; // warm-up
    let before = load(
        &load_client,
        healthz.clone(),
        HeaderMap::new(),
        seconds,
        concurrency,
    )
    .await;
    report("/healthz (before)", &before);
    let mut measured: Vec<(&str, Outcome)> = Vec::new();
    for (name, path, with_token) in &routes {
        let headers = if *with_token {
            authorized.clone()
        } else {
            HeaderMap::new()
        };
        let route_url = format!("{url}{path}");
        let outcome = load(&load_client, route_url, headers, seconds, concurrency).await;
        report(name, &outcome);
        measured.push((name, outcome));
    }
    let after = load(
        &load_client,
        healthz,
        HeaderMap::new(),
        seconds,
        concurrency,
    )
    .await;
    report("/healthz (after)", &after);
    let ceiling = (before.per_second() + after.per_second()) / 2.0;
    println!("ratio to /healthz ({ceiling:.0} req/s, the mean of before and after):");
    for (name, outcome) in &measured {
        println!(
            "{name:<28} {:>5.2}   p99 {:>7.2} ms",
            outcome.per_second() / ceiling,
            outcome.percentile(0.99).as_secs_f64() * 1000.0
        );
    }
    if let Platform::Embedded(_data_dir, embedded) = platform {
        embedded.stop().await?;
    }
    Ok(())
}
