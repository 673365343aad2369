//! The read caches of svc-resource, svc-jobs and svc-artifact through the gateway's kept
//! answers: for each cached route (1.1, 1.2, 1.6, 8.1.2, 8.1.3, 8.2.2, 8.2.4, 8.1.5, 8.1.6, 5.4,
//! the admin's cluster and host lists, 4.1, 4.3, 4.4, 5.3, 1.3, 5.5, 5.8.2.5, 5.10, 5.11.1) a reader keeps
//! the answer (read twice), a write goes through the other side, and the next read answers the
//! new value, never the old — catalog writes, joint lines, clusters, hosts and bindings,
//! templates, method packages, scripts, instances, a step's cluster (the instance's status), a
//! run (the engine's status), a work order, a copy, a renamed application shown in the instance
//! list, and deletes. Run on one `tad serve` (in process, always), and on two
//! replicas — each a gateway, a `tad resource` and a `tad jobs` — sharing PostgreSQL and Redis,
//! writing through one and reading through the other (`TEST_DATABASE_URL` and `TEST_REDIS_URL`,
//! else it skips).

use crate::support;

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform,
    fixtures::{
        application, bind_cluster, create_joint_line, env, post_all, product_line,
        save_joint_graph, template_with_methods, upload_component, upload_script,
    },
    replicated::{Layout, ReplicatedPlatform},
};

const ADMIN_PASSWORD: &str = "read-caches-admin-password";

/// The answer of `path` through `api` (a list route's `data`, or a page route's whole body).
pub(crate) async fn answer(api: &Api, path: &str) -> Value {
    let (status, body) = api.get(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    match body.get("data") {
        Some(data) if body.get("results").is_none() => data.clone(),
        _ => body,
    }
}

/// `field` of every item of a list answer (or of a page's `results`).
fn fields(answer: &Value, field: &str) -> Vec<Value> {
    let items = answer.get("results").unwrap_or(answer);
    items
        .as_array()
        .map(|items| items.iter().map(|item| item[field].clone()).collect())
        .unwrap_or_default()
}

/// Reads `field` of the items of `path` through `reader` twice (the second read is served from
/// what the reader kept) and checks it is `before`; then runs `write` (through the writer) and
/// checks the next read through `reader` answers `after` at once.
async fn seen_at_once(
    reader: &Api,
    path: &str,
    field: &str,
    before: Value,
    write: impl std::future::Future<Output = ()>,
    after: Value,
) {
    all_seen_at_once(reader, &[path], field, before, write, after).await;
}

/// As [`seen_at_once`], for several routes that show the same (one write, each read at once).
async fn all_seen_at_once(
    reader: &Api,
    paths: &[&str],
    field: &str,
    before: Value,
    write: impl std::future::Future<Output = ()>,
    after: Value,
) {
    for path in paths {
        for _ in 0..2 {
            let read = fields(&answer(reader, path).await, field);
            assert_eq!(Value::from(read), before, "{path}: before the write");
        }
    }
    write.await;
    for path in paths {
        let read = fields(&answer(reader, path).await, field);
        assert_eq!(
            Value::from(read),
            after,
            "{path}: read at once after the write"
        );
    }
}

/// The catalog, clusters and hosts, templates and instances, written through `writer` and read
/// through `reader` (both the admin).
async fn reads_follow_writes(writer: &Api, reader: &Api) {
    post_all(writer, &[product_line("pl1", "Line")]).await;
    seen_at_once(
        reader,
        "/api/app/productline/select",
        "name",
        json!(["Line"]),
        post_all(writer, &[product_line("pl2", "Other line")]),
        json!(["Line", "Other line"]),
    )
    .await;
    // 1.6: a joint line created, then its graph saved (its mender shown).
    let joint_lines = "/api/app/jointline/aos_json?page=1&page_size=50";
    let mut line = String::new();
    let create = async { line = create_joint_line(writer, "jl1", "pl1").await };
    seen_at_once(
        reader,
        joint_lines,
        "name",
        json!([]),
        create,
        json!(["jl1"]),
    )
    .await;
    let save = save_joint_graph(writer, &line, json!([]));
    seen_at_once(
        reader,
        joint_lines,
        "mender",
        json!([null]),
        save,
        json!(["admin"]),
    )
    .await;
    seen_at_once(
        reader,
        "/api/app/applications/pl1/select_by_pl",
        "name",
        json!([]),
        post_all(writer, &[application("a1", "billing", "pl1")]),
        json!(["billing"]),
    )
    .await;
    seen_at_once(
        reader,
        "/api/resource/envs/select",
        "name",
        json!([]),
        post_all(writer, &[env("e1", "prod")]),
        json!(["prod"]),
    )
    .await;

    // 8.1.3: a new cluster, an edit, a renamed environment.
    let clusters = "/api/resource/clusters/aos_json?page=1&page_size=50";
    seen_at_once(
        reader,
        clusters,
        "name",
        json!([]),
        async {
            let body = json!({"name": "web", "env_id": "e1", "app_id": "a1"});
            writer
                .post_ok("/api/resource/clusters/aos_create", &body)
                .await;
        },
        json!(["web"]),
    )
    .await;
    let cluster = fields(&answer(writer, clusters).await, "id")[0]
        .as_str()
        .expect("cluster id")
        .to_owned();
    seen_at_once(
        reader,
        clusters,
        "name",
        json!(["web"]),
        async {
            let body = json!({"name": "front", "env_id": "e1", "app_id": "a1"});
            writer
                .post_ok(&format!("/api/resource/clusters/{cluster}/update"), &body)
                .await;
        },
        json!(["front"]),
    )
    .await;
    seen_at_once(
        reader,
        clusters,
        "env_name",
        json!(["prod"]),
        post_all(writer, &[env("e1", "production")]),
        json!(["production"]),
    )
    .await;

    // 8.2.2 and the admin's list: a second cluster.
    all_seen_at_once(
        reader,
        &[
            "/api/resource/clusters/list_4_select",
            "/api/admin/clusters",
        ],
        "name",
        json!(["front"]),
        async {
            let body = json!({"name": "api", "env_id": "e1", "app_id": "a1"});
            writer
                .post_ok("/api/resource/clusters/aos_create", &body)
                .await;
        },
        json!(["front", "api"]),
    )
    .await;

    // 8.2.4: a new host, then bound to the cluster.
    let hosts = "/api/resource/hosts/aos_json?page=1&page_size=50";
    let host_body = json!({"host_IP": "127.0.0.1", "host_name": "h1", "ssh_user": "nobody", "ssh_port": "1", "ssh_passwd": "x", "productLine_id": "pl1", "env_id": "e1"});
    let mut host = String::new();
    seen_at_once(
        reader,
        hosts,
        "host_name",
        json!([]),
        async {
            host = writer
                .post_id("/api/resource/hosts/aos_create", &host_body)
                .await;
        },
        json!(["h1"]),
    )
    .await;
    // 8.1.6 and 8.1.5: bound, then unbound.
    let bound = format!("/api/resource/clusters/{cluster}/hosts");
    let candidates = format!("/api/resource/clusters/{cluster}/hosts/select/pl");
    seen_at_once(
        reader,
        &bound,
        "host_name",
        json!([]),
        async {
            let bind = format!("/api/resource/clusters/{cluster}/aos_bind");
            writer.post_ok(&bind, &json!({"hosts": [host]})).await;
        },
        json!(["h1"]),
    )
    .await;
    seen_at_once(
        reader,
        &candidates,
        "host_name",
        json!([]),
        async {
            let unbind = format!("/api/resource/clusters/{cluster}/unbind");
            writer.post_ok(&unbind, &json!({"hosts": [host]})).await;
        },
        json!(["h1"]),
    )
    .await;
    seen_at_once(
        reader,
        hosts,
        "clusters",
        json!([[]]),
        async {
            let bind = format!("/api/resource/clusters/{cluster}/aos_bind");
            writer.post_ok(&bind, &json!({"hosts": [host]})).await;
        },
        json!([[{"id": cluster, "name": "front"}]]),
    )
    .await;
    // 5.4 and the admin's hosts: the cluster renamed (it is edited through the admin's routes
    // too), a second host.
    all_seen_at_once(
        reader,
        &[&format!(
            "/api/resource/clusters/{cluster}/a1/select/envapp"
        )],
        "name",
        json!(["front"]),
        async {
            let body = json!({"name": "edge", "env_id": "e1", "app_id": "a1"});
            writer
                .post_ok(&format!("/api/resource/clusters/{cluster}/update"), &body)
                .await;
        },
        json!(["edge"]),
    )
    .await;
    seen_at_once(
        reader,
        "/api/admin/hosts",
        "host_name",
        json!(["h1"]),
        async {
            let body = json!({"host_IP": "127.0.0.2", "host_name": "h2", "ssh_user": "nobody", "ssh_port": "1", "ssh_passwd": "x", "productLine_id": "pl1", "env_id": "e1"});
            writer.post_id("/api/resource/hosts/aos_create", &body).await;
        },
        json!(["h1", "h2"]),
    )
    .await;

    // 4.1 and 5.3: a new template.
    let templates = "/api/app/jobtemplate/aos_json?application_id=a1&page=1&page_size=50";
    let mut template = String::new();
    seen_at_once(
        reader,
        templates,
        "name",
        json!([]),
        async {
            template = template_with_methods(writer, "deploy", "a1", &[("custom", "cu1")]).await;
        },
        json!(["deploy"]),
    )
    .await;
    let select = "/api/app/jobtemplate/ordinary/select";
    let mut second = String::new();
    seen_at_once(
        reader,
        select,
        "name",
        json!(["deploy"]),
        async {
            second = template_with_methods(writer, "second", "a1", &[("custom", "cu1")]).await;
        },
        json!(["deploy", "second"]),
    )
    .await;

    // 1.3: a new instance; its step bound (status); the application renamed (its name beside
    // the instance comes from svc-resource); a run (the engine sets the status); a delete.
    let instances = "/api/app/jobinstance/jobi_list_one?application_id=a1";
    let mut instance = String::new();
    seen_at_once(reader, instances, "name", json!([]), async {
        let body = json!({"name": "i1", "env_id": "e1", "application_id": "a1", "job_template_id": template});
        instance = writer.post_id("/api/app/jobinstance/create", &body).await;
    }, json!(["i1"]))
    .await;
    seen_at_once(
        reader,
        instances,
        "status",
        json!(["init"]),
        bind_cluster(writer, &instance, "cu1", 0, &cluster),
        json!(["ready"]),
    )
    .await;
    seen_at_once(
        reader,
        instances,
        "application_name",
        json!(["billing"]),
        post_all(writer, &[application("a1", "payments", "pl1")]),
        json!(["payments"]),
    )
    .await;
    // 5.10 (kept): the step's cluster and no status before the run.
    let details = format!("/api/app/jobinstance/{instance}/details");
    for _ in 0..2 {
        let step = &answer(reader, &details).await["methods"][0];
        assert_eq!(
            (step["cluster_name"].clone(), step["status"].clone()),
            (json!("edge"), Value::Null),
            "{details}: before the run"
        );
    }
    seen_at_once(
        reader,
        instances,
        "status",
        json!(["ready"]),
        async {
            // Nothing listens on port 1: the run starts, fails on its host and ends.
            let path = format!("/api/app/jobinstance/{instance}/executionall?wait=true");
            let (status, body) = writer.post(&path, &json!({})).await;
            assert_eq!(status, 200, "{body}");
        },
        json!(["failed"]),
    )
    .await;
    // 5.10 at once: the run's step status, then the cluster renamed in svc-resource.
    let step = &answer(reader, &details).await["methods"][0];
    assert_eq!(step["status"], "failed", "{details}: after the run");
    let rename = json!({"name": "edge2", "env_id": "e1", "app_id": "a1"});
    writer
        .post_ok(&format!("/api/resource/clusters/{cluster}/update"), &rename)
        .await;
    let step = &answer(reader, &details).await["methods"][0];
    assert_eq!(step["cluster_name"], "edge2", "{details}: after the rename");
    // A work order (7.3) moves the status on; a copy (5.7) is listed, in 5.5 too.
    seen_at_once(
        reader,
        instances,
        "status",
        json!(["failed"]),
        async {
            let order = json!({"job_instance_id": instance, "excel_data": {"CONTACTS": "ops"}});
            writer
                .post_ok("/api/app/jobinstance/online/process/save", &order)
                .await;
        },
        json!(["generate"]),
    )
    .await;
    let page = "/api/app/jobinstance/aos_json?application_id=a1&page=1&page_size=50";
    let mut copy = String::new();
    seen_at_once(
        reader,
        page,
        "name",
        json!(["i1"]),
        async {
            let path = format!("/api/app/jobinstance/{instance}/copy");
            let body = json!({"id": instance, "name": "i1-copy"});
            let copied = writer.post_ok(&path, &body).await;
            copy = copied["new_id"].as_str().expect("copy id").to_owned();
        },
        json!(["i1-copy", "i1"]),
    )
    .await;
    seen_at_once(
        reader,
        instances,
        "name",
        json!(["i1-copy", "i1"]),
        async {
            let (status, body) = writer.delete(&format!("/api/app/jobinstance/{copy}")).await;
            assert_eq!(status, 200, "{body}");
        },
        json!(["i1"]),
    )
    .await;
    seen_at_once(
        reader,
        instances,
        "name",
        json!(["i1"]),
        async {
            let (status, body) = writer
                .delete(&format!("/api/app/jobinstance/{instance}"))
                .await;
            assert_eq!(status, 200, "{body}");
        },
        json!([]),
    )
    .await;
    seen_at_once(
        reader,
        templates,
        "name",
        json!(["second", "deploy"]),
        async {
            let (status, body) = writer
                .delete(&format!("/api/app/jobtemplate/{template}"))
                .await;
            assert_eq!(status, 200, "{body}");
        },
        json!(["second"]),
    )
    .await;
    artifact_reads_follow_writes(writer, reader, &second).await;
}

/// Method packages (4.4) and the methods of template `template` (4.3, whose names and remarks
/// svc-jobs shows from svc-artifact's catalog), and scripts (5.11.1).
async fn artifact_reads_follow_writes(writer: &Api, reader: &Api, template: &str) {
    let package = |remark: &'static str| async move {
        let manifest = format!(
            "component: {{id: rc, name: rc, remark: rc}}\nmethod: {{id: rc1, name: restart, remark: {remark}}}\nentrypoint: run.sh\n"
        );
        upload_component(writer, &manifest, b"#!/bin/sh\necho restart\n".to_vec()).await;
    };
    let components = "/api/component/select";
    let known = fields(&answer(reader, components).await, "id");
    let mut with_rc = known.clone();
    with_rc.push(json!("rc"));
    with_rc.sort_by_key(|id| id.as_str().unwrap_or_default().to_owned());
    seen_at_once(
        reader,
        components,
        "id",
        Value::from(known),
        package("first"),
        Value::from(with_rc),
    )
    .await;
    let methods = json!({"method": [{"component_id": "rc", "method_id": "rc1", "sequence": 0}]});
    let graded = format!("/api/app/jobtemplate/{template}/graded_content");
    seen_at_once(
        reader,
        &graded,
        "id",
        json!(["cu1"]),
        async {
            writer
                .post_ok(&format!("/api/app/jobtemplate/{template}/graded"), &methods)
                .await;
        },
        json!(["rc1"]),
    )
    .await;
    seen_at_once(
        reader,
        &graded,
        "remark",
        json!(["first"]),
        package("second"),
        json!(["second"]),
    )
    .await;
    // 5.8.2.5: the method's parameters, from its newest package.
    seen_at_once(
        reader,
        "/api/app/jobinstance/rc1/config/desc",
        "key",
        json!([]),
        async {
            let manifest = "component: {id: rc, name: rc, remark: rc}\nmethod: {id: rc1, name: restart, remark: third}\nentrypoint: run.sh\nparams:\n  - key: port\n";
            upload_component(writer, manifest, b"#!/bin/sh\n".to_vec()).await;
        },
        json!(["port"]),
    )
    .await;
    seen_at_once(
        reader,
        "/api/script/index/aos_list?application_id=a1&name=",
        "name",
        json!([]),
        async {
            upload_script(writer, "a1", "restart", "restart.sh", b"#!/bin/sh\n").await;
        },
        json!(["restart"]),
    )
    .await;
}

/// Runs `statement` on `database` behind the services' back (no write announces it).
async fn behind_the_back(database: &common::db::Database, statement: &'static str) {
    use diesel::RunQueryDsl;
    database
        .run(move |connection| {
            diesel::sql_query(statement)
                .execute(connection)
                .map_err(common::db::DbError::Query)
        })
        .await
        .expect(statement);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_through_one_serve_follow_its_writes_at_once() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    reads_follow_writes(&admin, &admin).await;
    // Every route read twice between writes was served from the gateway's kept answers the
    // second time (so the checks above read through them).
    for route in [
        "/api/app/productline/select",
        "/api/app/jointline/aos_json",
        "/api/resource/clusters/aos_json",
        "/api/resource/clusters/list_4_select",
        "/api/admin/clusters",
        "/api/admin/hosts",
        "/api/resource/clusters/{id}/hosts",
        "/api/resource/clusters/{id}/hosts/select/pl",
        "/api/resource/clusters/{id}/{app_id}/select/envapp",
        "/api/resource/hosts/aos_json",
        "/api/app/jobinstance/jobi_list_one",
        "/api/component/select",
        "/api/app/jobtemplate/{id}/graded_content",
        "/api/script/index/aos_list",
        "/api/app/jobinstance/{id}/details",
        "/api/app/jobinstance/{cpm_id}/config/desc",
    ] {
        let served = kept_answers(platform.url(), route, "served").await;
        assert!(served >= 1, "{route}: no kept answer served");
    }

    // The lists are served from memory: a change no write announced is not seen (within the
    // answers' 5 s), the next write's is.
    let templates = "/api/app/jobtemplate/aos_json?application_id=a1&page=1&page_size=50";
    let unannounced = [
        (
            "jobs",
            templates,
            "UPDATE job_templates SET name = 'unannounced'",
            "second",
        ),
        (
            "resource",
            "/api/resource/envs/select",
            "UPDATE envs SET name = 'unannounced'",
            "production",
        ),
    ];
    for (service, path, statement, name) in unannounced {
        let database = platform.database(service);
        let write = behind_the_back(&database, statement);
        seen_at_once(&admin, path, "name", json!([name]), write, json!([name])).await;
    }
    let write = async {
        template_with_methods(&admin, "third", "a1", &[("custom", "cu1")]).await;
    };
    let after = json!(["third", "unannounced"]);
    seen_at_once(&admin, templates, "name", json!(["second"]), write, after).await;
    platform.stop().await;
}

/// Two replicas on PostgreSQL and Redis (`None` without them). Replica A: the platform's
/// gateway, resource and jobs services. Replica B: a resource and a jobs service of its own
/// behind a gateway of its own, on the same database and Redis. Answers the platform, the admin
/// through A (the writer), the admin through B (the reader) and B's URL.
pub(crate) async fn two_replicas(
    admin_password: &'static str,
) -> Option<(ReplicatedPlatform, Api, Api, String)> {
    if !support::split_env::postgres_and_redis_given() {
        return None;
    }
    let mut cluster = ReplicatedPlatform::start(Layout {
        admin_password,
        jobs_replicas: 1,
        gateways: 1,
        env: &[],
    });
    let resource_b = cluster.start_more(
        &["resource"],
        &[("TAD_RESOURCE_LISTEN", "127.0.0.1:0".to_owned())],
        "TAD resource service is listening on ",
    );
    let resource_b = format!("http://{resource_b}");
    let jobs_b = cluster.start_more(
        &["jobs"],
        &[
            ("TAD_JOBS_LISTEN", "127.0.0.1:0".to_owned()),
            ("TAD_RESOURCE_ADDR", resource_b.clone()),
        ],
        "TAD jobs service is listening on ",
    );
    let gateway_b = cluster.start_more(
        &["gateway", "--listen", "127.0.0.1:0"],
        &[
            ("TAD_RESOURCE_ADDR", resource_b),
            ("TAD_JOBS_ADDR", format!("http://{jobs_b}")),
        ],
        "TAD gateway is listening on ",
    );
    let writer = Api::new(&cluster.gateway_urls[0])
        .login("admin", admin_password)
        .await;
    let reader = writer.with_base(&gateway_b);
    Some((cluster, writer, reader, gateway_b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_replica_is_read_at_once_through_the_other() {
    let Some((_cluster, writer, reader, gateway_b)) = two_replicas(ADMIN_PASSWORD).await else {
        return;
    };
    reads_follow_writes(&writer, &reader).await;
    // Gateway B kept answers (under the generations in Redis) and served them again, and still
    // answered every write of A at once.
    let served = kept_answers(&gateway_b, "/api/app/productline/select", "served").await;
    assert!(served >= 1, "gateway B served no kept answer");
}

async fn metrics_text(url: &str) -> String {
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

/// How often the gateway kept (`event` "kept") or served again ("served") an answer of `route`.
pub(crate) async fn kept_answers(url: &str, route: &str, event: &str) -> u64 {
    let text = metrics_text(url).await;
    let line = format!("tad_kept_answers_total{{event=\"{event}\",route=\"{route}\"}} ");
    text.lines()
        .find_map(|found| found.strip_prefix(&line))
        .map_or(0, |count| count.trim().parse().expect("count"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_a_kept_answer_only_to_the_same_request_and_never_after_a_write() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let url = platform.url().to_owned();
    let route = "/api/app/productline/select";
    post_all(&admin, &[product_line("pl1", "Line")]).await;
    let first = admin.get(route).await;
    for _ in 0..2 {
        assert_eq!(admin.get(route).await, first);
    }
    assert_eq!(first.1["data"][0]["name"], "Line", "{first:?}");
    assert_eq!(kept_answers(&url, route, "kept").await, 1);
    assert_eq!(kept_answers(&url, route, "served").await, 2);

    // Another caller (another token) is never served what was kept for the first.
    let other = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    assert_eq!(other.get(route).await, first);
    assert_eq!(kept_answers(&url, route, "kept").await, 2);
    assert_eq!(kept_answers(&url, route, "served").await, 2);
    // Without a token: refused, as ever, and nothing kept.
    let (status, _) = Api::new(&url).get(route).await;
    assert_eq!(status, 401);

    // A write answered: the next read is the new one, then kept again.
    post_all(&admin, &[product_line("pl2", "Other line")]).await;
    let (_, after) = admin.get(route).await;
    assert_eq!(fields(&after["data"], "name"), vec!["Line", "Other line"]);
    assert_eq!(kept_answers(&url, route, "kept").await, 3);
    assert_eq!(admin.get(route).await.1, after);
    assert_eq!(kept_answers(&url, route, "served").await, 3);

    // A failure is never kept; nor is a route not marked kept.
    let missing = "/api/app/applications/{id}/select_by_pl";
    for _ in 0..2 {
        let (_, body) = admin.get("/api/app/applications/nope/select_by_pl").await;
        assert_eq!(body["success"], false, "{body}");
    }
    assert_eq!(kept_answers(&url, missing, "kept").await, 0);
    for _ in 0..2 {
        let (status, body) = admin.get("/api/admin/users").await;
        assert_eq!(status, 200, "{body}");
    }
    let text = metrics_text(&url).await;
    let kept_routes: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("tad_kept_answers_total{"))
        .collect();
    assert!(
        kept_routes.iter().all(|line| line.contains(route)),
        "{kept_routes:?}"
    );
    platform.stop().await;
}
