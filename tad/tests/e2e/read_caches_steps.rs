//! The read-backs of a step (5.8.2.2, 5.8.2.3, 5.8.2.4, 5.8.2.6, 5.8.2.7), svc-artifact's other
//! reads (5.11.1's artifact filter, 5.11.2, 5.11.4, a template's versions) and the work order's
//! xlsx export through the gateway's kept answers: each is read twice (the second from what the
//! reader kept), a write goes through the other side, and the next read answers the new value at
//! once. Values under a secret key are answered as ever but never kept. On one `tad serve`, and
//! on two replicas sharing PostgreSQL and Redis (`TEST_DATABASE_URL` and `TEST_REDIS_URL`, else
//! it skips).

use crate::read_caches::{answer, kept_answers, two_replicas};
use crate::support;

use serde_json::{Value, json};
use support::{
    Api, EmbeddedPlatform, assert_success,
    fixtures::{
        app_catalog, bind_app_config, cluster_with_host, sync_package_field, template_with_methods,
        upload_component, upload_config, upload_script,
    },
    md5_hex, post_multipart, schema_node_id as node, tar_gz,
};

const ADMIN_PASSWORD: &str = "read-caches-steps-admin-password";

/// Reads `path` through `reader` twice and checks `pick` of it is `before`; runs `write`, then
/// checks the next read answers `after` at once.
async fn changes_at_once(
    reader: &Api,
    path: &str,
    pick: impl Fn(&Value) -> Value,
    before: Value,
    write: impl std::future::Future<Output = ()>,
    after: Value,
) {
    for _ in 0..2 {
        assert_eq!(pick(&answer(reader, path).await), before, "{path}: before");
    }
    write.await;
    assert_eq!(
        pick(&answer(reader, path).await),
        after,
        "{path}: read at once after the write"
    );
}

/// `field` of every item of a list.
fn each(field: &'static str) -> impl Fn(&Value) -> Value {
    move |list| {
        Value::from(
            list.as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| item[field].clone())
                        .collect::<Vec<Value>>()
                })
                .unwrap_or_default(),
        )
    }
}

/// Uploads version `version` of app-config template `name` of `app1` (no secret key).
async fn config_version(writer: &Api, version: &str, j2: &[u8]) {
    let yml = b"- key: port\n".to_vec();
    let (_, body) = post_multipart(
        writer,
        "/api/artifact/configure/aos_upload",
        &[("app.conf.j2", j2.to_vec()), ("app.conf.yml", yml.clone())],
        &[
            ("app_id", "app1".into()),
            ("name", "app_config".into()),
            ("version", version.into()),
            (
                "file_md5",
                json!({"app.conf.j2": md5_hex(j2), "app.conf.yml": md5_hex(&yml)}).to_string(),
            ),
        ],
    )
    .await;
    assert_success(&body);
}

/// Every step read-back and svc-artifact read, written through `writer` and read through
/// `reader` (both the admin).
async fn step_reads_follow_writes(writer: &Api, reader: &Api) {
    app_catalog(writer, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let cluster = cluster_with_host(
        writer,
        &json!({"name": "shop-c", "env_id": "env1", "app_id": "app1"}),
        &json!({"host_IP": "127.0.0.2", "host_name": "h1", "ssh_user": "nobody", "ssh_port": "22",
                "ssh_passwd": "unused", "productLine_id": "pl1", "env_id": "env1"}),
    )
    .await;
    let manifest = "component: {id: web, name: web, remark: web}\nmethod: {id: web1, name: install, remark: install}\nentrypoint: run.sh\nparams:\n  - key: port\n";
    upload_component(writer, manifest, b"#!/bin/sh\n".to_vec()).await;
    let template = template_with_methods(writer, "web-install", "app1", &[("web", "web1")]).await;
    let instance = writer
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": "web-i", "env_id": "env1", "application_id": "app1", "job_template_id": template}),
        )
        .await;
    let step = format!("/api/app/jobinstance/{instance}/web1/0");
    writer
        .post_ok(&format!("{step}/{cluster}/relation/cluster"), &json!({}))
        .await;

    // 5.8.2.6: parameters saved, then changed.
    let schema = answer(reader, "/api/app/jobinstance/web1/config/desc").await;
    let port = node(&schema, "port");
    let value = |values: &Value| values.get(&port).cloned().unwrap_or(Value::Null);
    let save_port = |port_value: &'static str| {
        let body = json!({"config_value": {port.clone(): port_value}});
        let path = format!("{step}/config/update");
        async move {
            writer.post_ok(&path, &body).await;
        }
    };
    let params = format!("{step}/config/value");
    changes_at_once(
        reader,
        &params,
        value,
        Value::Null,
        save_port("80"),
        json!("80"),
    )
    .await;
    changes_at_once(
        reader,
        &params,
        value,
        json!("80"),
        save_port("8080"),
        json!("8080"),
    )
    .await;

    // 5.11.1's filter and 5.8.2.2: a package synced, then bound to the step.
    let filter = "/api/artifact/filter/name/aos?application_id=app1&type=package";
    let mut file = String::new();
    let sync = async {
        let archive = tar_gz(&[("bin/web", b"web 1".to_vec())]);
        let query = "app_id=app1&version=1.0.0&name=web-pkg";
        file = sync_package_field(writer, query, "web.tar.gz", &archive, "file_id").await;
    };
    changes_at_once(
        reader,
        filter,
        each("name"),
        json!([]),
        sync,
        json!(["web-pkg"]),
    )
    .await;
    let bind = async {
        let body = json!({"artifacts": [{"file_id": file, "dest": "/opt/web", "host_IP": []}]});
        writer
            .post_ok(&format!("{step}/relation/artifact"), &body)
            .await;
    };
    let artifacts = format!("{step}/artifact/json");
    let after = json!(["web.tar.gz"]);
    changes_at_once(reader, &artifacts, each("filename"), json!([]), bind, after).await;

    // 5.8.2.3 and 5.8.2.4: an app config bound, then its values saved.
    let j2 = upload_config(
        writer,
        "app1",
        "app_config",
        "app.conf",
        b"port={{ port }}\n",
        b"- key: port\n",
    )
    .await;
    let config_schema = format!("{step}/actemplate/config/desc");
    let bound = async {
        bind_app_config(writer, &step, &j2).await;
    };
    changes_at_once(
        reader,
        &config_schema,
        each("key"),
        json!([]),
        bound,
        json!(["port"]),
    )
    .await;
    let config_node = node(&answer(reader, &config_schema).await, "port");
    let configs = format!("{step}/actemplate/{j2}/config/value");
    let groups = async {
        let group = json!({"dest": "/opt/web", "host_IP": [], "configs": {config_node.clone(): "81"}, "targetname": "app.conf"});
        let body = json!({"file_id": j2, "groups": [group]});
        writer
            .post_ok(&format!("{step}/relation/actemplate"), &body)
            .await;
    };
    let ports = |groups: &Value| {
        Value::from(
            groups
                .as_array()
                .map(|groups| {
                    groups
                        .iter()
                        .map(|group| group[&config_node].clone())
                        .collect::<Vec<Value>>()
                })
                .unwrap_or_default(),
        )
    };
    changes_at_once(reader, &configs, ports, json!([]), groups, json!(["81"])).await;

    // A template's versions (SPEC §3): a second version uploaded.
    let template_id = answer(
        reader,
        "/api/artifact/filter/name/aos?application_id=app1&type=configure",
    )
    .await[0]["id"]
        .as_str()
        .expect("template id")
        .to_owned();
    let versions = format!("/api/artifact/configure/{template_id}/versions");
    let pick = |answer: &Value| each("version")(&answer["versions"]);
    let second = config_version(writer, "2", b"port={{ port }}\n# 2\n");
    changes_at_once(
        reader,
        &versions,
        pick,
        json!(["1"]),
        second,
        json!(["2", "1"]),
    )
    .await;

    // 5.8.2.7: a script bound; 5.11.4 its text (files never change: kept).
    let uploaded = upload_script(
        writer,
        "app1",
        "restart",
        "restart.sh",
        b"#!/bin/sh\necho restart\n",
    )
    .await;
    let script_file = uploaded[0]["file_id"]
        .as_str()
        .expect("script file")
        .to_owned();
    let scripts = format!("{step}/script/json");
    let bind = async {
        let body = json!({"script_id": "", "scripts_data": [{"id": script_file, "dest": "/opt/web", "host_IP": [], "parameter": "", "execute_type": "shell"}]});
        writer
            .post_ok(&format!("{step}/relation/script"), &body)
            .await;
    };
    let after = json!(["restart.sh"]);
    changes_at_once(
        reader,
        &scripts,
        each("script_file_name"),
        json!([]),
        bind,
        after,
    )
    .await;
    let text = format!("/api/script/index/detail_data/filedata/{script_file}");
    for _ in 0..2 {
        let answer = answer(reader, &text).await;
        assert_eq!(answer["file_data"], "#!/bin/sh\necho restart\n", "{answer}");
    }

    // The work order exported (kept: the same file again), then saved anew: another file at once.
    let export = format!("/api/app/jobinstance/{instance}/online/process/export");
    let save_order = |contacts: &'static str| {
        let order = json!({"job_instance_id": instance, "excel_data": {"CONTACTS": contacts}});
        async move {
            writer
                .post_ok("/api/app/jobinstance/online/process/save", &order)
                .await;
        }
    };
    save_order("ops").await;
    let (status, first) = reader.get_bytes(&export).await;
    assert_eq!(status, 200);
    assert!(first.starts_with(b"PK"), "an .xlsx is a zip file");
    assert_eq!(reader.get_bytes(&export).await, (200, first.clone()));
    save_order("release team").await;
    let (status, second) = reader.get_bytes(&export).await;
    assert_eq!(status, 200);
    assert_ne!(
        second, first,
        "{export}: read at once after the work order was saved"
    );

    // The instance deleted: every read-back of its step answers that it is gone.
    let (status, body) = writer
        .delete(&format!("/api/app/jobinstance/{instance}"))
        .await;
    assert_eq!(status, 200, "{body}");
    for path in [&params, &artifacts, &config_schema, &configs, &scripts] {
        let (_, body) = reader.get(path).await;
        assert_eq!(body["success"], false, "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_reads_through_one_serve_follow_its_writes_at_once() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    step_reads_follow_writes(&admin, &admin).await;
    for route in [
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/config/value",
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json",
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/config/desc",
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/actemplate/{file_id}/config/value",
        "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/script/json",
        "/api/artifact/filter/name/aos",
        "/api/artifact/configure/{id}/versions",
        "/api/script/index/detail_data/filedata/{id}",
        "/api/app/jobinstance/{id}/online/process/export",
    ] {
        let served = kept_answers(platform.url(), route, "served").await;
        assert!(served >= 1, "{route}: no kept answer served");
    }
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_reads_written_through_one_replica_are_read_at_once_through_the_other() {
    let Some((_cluster, writer, reader, gateway_b)) = two_replicas(ADMIN_PASSWORD).await else {
        return;
    };
    step_reads_follow_writes(&writer, &reader).await;
    let route = "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/artifact/json";
    assert!(kept_answers(&gateway_b, route, "served").await >= 1);
}

/// 5.11.2 is kept for its caller, and a role change (which ends the caller's tokens) is never
/// answered from what was kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn may_review_is_kept_per_caller_and_ends_with_a_role_change() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let route = "/api/script/index/urole_script";
    let ruth_id = admin
        .create_user("ruth", "ruth-password", &["reviewer"])
        .await;
    let ruth = Api::new(platform.url())
        .login("ruth", "ruth-password")
        .await;
    let olga = admin
        .login_new_user("olga", "olga-password", &["operator"])
        .await;
    for _ in 0..2 {
        assert_eq!(answer(&ruth, route).await, json!(true));
        assert_eq!(answer(&olga, route).await, json!(false));
    }
    assert!(kept_answers(platform.url(), route, "served").await >= 2);
    let body = json!({"roles": ["operator"]});
    admin
        .post_ok(&format!("/api/admin/users/{ruth_id}"), &body)
        .await;
    let (status, body) = ruth.get(route).await;
    assert_ne!(
        (status, body["data"].clone()),
        (200, json!(true)),
        "a kept answer outlived the role change: {body}"
    );
    let ruth = Api::new(platform.url())
        .login("ruth", "ruth-password")
        .await;
    assert_eq!(answer(&ruth, route).await, json!(false));
    platform.stop().await;
}
