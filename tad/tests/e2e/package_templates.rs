//! App-config templates created by package sync (9), end to end through the gateway: the
//! template shows in the 5.11.1 `type=configure` list, its versions are listed with their `.j2`
//! file ids, 5.6.2.3 binds it by that file id and by the template id (its newest version),
//! 5.8.2.3 / 5.8.2.4 answer its schema and values, and 6.1 over `use_tad_host` renders the file
//! on the host with the bound values. On PostgreSQL + Redis when `TEST_DATABASE_URL` /
//! `TEST_REDIS_URL` are set.

use crate::support;
use crate::support::fixtures::sync_package;
use crate::support::fixtures::{
    app_catalog, bind_app_config, bind_cluster, cluster_with_host, template_with_methods,
};

use std::path::Path;

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_failure, assert_success, md5_hex};

const ADMIN_PASSWORD: &str = "templates-admin-password";

/// The template of the package: `app.conf.j2` with the schema of `app.conf.yml`.
const J2_V1: &str = "port={{ port }}\n{% for backend in backends %}backend={{ backend.host }}\n{% endfor %}mode=v1\n";
const J2_V2: &str = "port={{ port }}\n{% for backend in backends %}backend={{ backend.host }}\n{% endfor %}mode=v2\n";
const YML: &str = "- key: port\n  rule: '^[0-9]+$'\n  require: true\n- key: backends\n  type: list-map\n  children:\n    - key: host\n      require: true\n";

/// Package sync of `version`: a binary, the template and its schema, in subdirectories.
async fn sync(admin: &Api, version: &str, j2: &str) -> Value {
    let archive = support::tar_gz(&[
        ("bin/app.sh", b"#!/bin/sh\necho app\n".to_vec()),
        ("conf/app.conf.j2", j2.as_bytes().to_vec()),
        ("conf/app.conf.yml", YML.as_bytes().to_vec()),
    ]);
    let query = format!("app_id=app1&version={version}&name=shop");
    let (_, body) = sync_package(admin, &query, "shop.tar.gz", &archive).await;
    assert_success(&body)
}

/// The id of the node with `key` in a 5.8.2.3 schema (top level, or below `parent`).
fn node_id(schema: &Value, parent: Option<&str>, key: &str) -> String {
    let nodes = match parent {
        None => schema.clone(),
        Some(parent_key) => schema
            .as_array()
            .expect("nodes")
            .iter()
            .find(|node| node["key"] == parent_key)
            .expect("parent node")["children"]
            .clone(),
    };
    support::schema_node_id(&nodes, key)
}

async fn configure_catalog(admin: &Api) -> String {
    app_catalog(admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;

    cluster_with_host(admin, &json!({"name": "shop-c", "env_id": "env1", "app_id": "app1"}), &json!({"host_IP": "127.0.0.2", "host_name": "h1", "ssh_user": "nobody",
                "ssh_port": "22", "ssh_passwd": "unused-password", "productLine_id": "pl1", "env_id": "env1"})).await
}

/// An instance of a one-step template (the built-in custom script, which runs nothing but
/// what is bound) with its cluster saved; answers its id.
async fn instance(admin: &Api, cluster: &str) -> String {
    let template = template_with_methods(admin, "configs-only", "app1", &[("custom", "cu1")]).await;
    let instance = admin.post_id("/api/app/jobinstance/create",
            &json!({"name": "shop-configs", "env_id": "env1", "application_id": "app1", "job_template_id": template})).await;
    bind_cluster(admin, &instance, "cu1", 0, cluster).await;
    instance
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn templates_from_package_sync_are_listed_bound_and_rendered_on_the_host() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let cluster = configure_catalog(&admin).await;
    sync(&admin, "1.0.0", J2_V1).await;

    // 5.11.1 lists the template the sync created.
    let listed = admin
        .get_ok("/api/artifact/filter/name/aos?application_id=app1&type=configure")
        .await;
    let template_id = listed
        .as_array()
        .expect("list")
        .iter()
        .find(|item| item["name"] == "app.conf")
        .and_then(|item| item["id"].as_str())
        .unwrap_or_else(|| panic!("app.conf is not listed: {listed}"))
        .to_owned();

    // Its versions, with the .j2 file id of each.
    let versions_path = format!("/api/artifact/configure/{template_id}/versions");
    let listing = admin.get_ok(&versions_path).await;
    assert_eq!(listing["id"], template_id.as_str(), "{listing}");
    assert_eq!(listing["name"], "app.conf", "{listing}");
    assert_eq!(listing["app_id"], "app1", "{listing}");
    let versions = listing["versions"].as_array().expect("versions").clone();
    assert_eq!(versions.len(), 1, "{listing}");
    assert_eq!(versions[0]["version"], "1.0.0");
    assert_eq!(versions[0]["filename"], "app.conf.j2");
    assert_eq!(versions[0]["targetname"], "app.conf");
    assert_eq!(versions[0]["md5"], md5_hex(J2_V1.as_bytes()).as_str());
    let j2_v1 = versions[0]["file_id"].as_str().expect("j2 id").to_owned();
    // The listed .j2 downloads as the template text.
    let download = admin
        .http
        .get(format!(
            "{}/api/artifact/files/{j2_v1}/download",
            admin.base
        ))
        .header(
            "authorization",
            format!("Bearer {}", admin.token.as_deref().expect("token")),
        )
        .send()
        .await
        .expect("download");
    assert_eq!(download.text().await.expect("text"), J2_V1);
    // Not a template: a failure naming it.
    let (_, body) = admin
        .get("/api/artifact/configure/0123456789abcdef0123456789abcdef/versions")
        .await;
    assert_failure(&body, "template_not_found");

    let instance = instance(&admin, &cluster).await;
    let step = format!("/api/app/jobinstance/{instance}/cu1/0");
    let values_of = |id: &str| format!("{step}/actemplate/{id}/config/value");
    let dest = tempfile::tempdir().expect("dest dir");

    // 5.6.2.3 by the .j2 file id.
    let schema = bind_app_config(&admin, &step, &j2_v1).await;
    let keys = support::string_fields(&schema, "key");
    assert_eq!(keys, vec!["port", "backends"], "{schema}");
    let port = node_id(&schema, None, "port");
    let backends = node_id(&schema, None, "backends");
    let host = node_id(&schema, Some("backends"), "host");
    let values = json!({port.clone(): "8081", backends.clone(): [{host.clone(): "10.0.0.1"}, {host.clone(): "10.0.0.2"}]});
    admin.post_ok(&format!("{step}/relation/actemplate"),
            &json!({"file_id": j2_v1, "groups": [{"dest": dest.path().display().to_string(), "host_IP": [], "configs": values, "targetname": ""}]})).await;
    for id in [&j2_v1, &template_id] {
        assert_eq!(
            admin.get_ok(&values_of(id)).await,
            json!([values]),
            "by {id}"
        );
    }

    // A second sync makes a newer version; the template id now means its .j2.
    sync(&admin, "2.0.0", J2_V2).await;
    let listing = admin.get_ok(&versions_path).await;
    let versions = listing["versions"].as_array().expect("versions").clone();
    let labels: Vec<&str> = versions
        .iter()
        .filter_map(|version| version["version"].as_str())
        .collect();
    assert_eq!(labels, vec!["2.0.0", "1.0.0"], "newest first: {listing}");
    assert_eq!(versions[1]["file_id"], j2_v1.as_str());
    let j2_v2 = versions[0]["file_id"].as_str().expect("j2 id").to_owned();
    assert_ne!(j2_v2, j2_v1);

    // Values that do not fit the schema are refused, naming the key path.
    let (_, body) = admin
        .post(
            &format!("{step}/relation/actemplate"),
            &json!({"file_id": template_id, "groups": [{"dest": "/tmp", "host_IP": [], "configs": {port.clone(): "eighty"}}]}),
        )
        .await;
    let info = assert_failure(&body, "invalid_values");
    assert!(info.contains("port"), "{info}");

    // 5.6.2.3 by the template id: bound to the newest .j2 (node ids are stable across versions).
    let new_values = json!({port.clone(): "9090", backends.clone(): [{host.clone(): "10.0.0.3"}]});
    admin.post_ok(&format!("{step}/relation/actemplate"),
            &json!({"file_id": template_id, "groups": [{"dest": dest.path().display().to_string(), "host_IP": ["127.0.0.2"], "configs": new_values, "targetname": "shop.conf"}]})).await;
    assert_eq!(
        admin
            .get_ok(&format!("{step}/actemplate/config/desc"))
            .await,
        schema,
        "same schema, same node ids"
    );
    for id in [&j2_v2, &template_id] {
        assert_eq!(
            admin.get_ok(&values_of(id)).await,
            json!([new_values]),
            "by {id}"
        );
    }
    assert_eq!(
        admin.get_ok(&values_of(&j2_v1)).await,
        json!([]),
        "the older .j2 is not bound"
    );
    let (_, body) = admin
        .get(&format!("/api/app/jobinstance/{instance}/details"))
        .await;
    assert_eq!(assert_success(&body)["status"], "ready", "{body}");

    // 6.1 on the TAD host renders the newest version with the bound values.
    let execute_all = format!("/api/app/jobinstance/{instance}/executionall");
    let (_, body) = admin
        .post(&execute_all, &json!({"use_tad_host": true}))
        .await;
    let data = assert_success(&body);
    assert_eq!(data["result"], true, "{body}");
    assert_eq!(data["status"], "success", "{body}");
    assert_eq!(
        read(&dest.path().join("shop.conf")),
        "port=9090\nbackend=10.0.0.3\nmode=v2\n"
    );
    platform.stop().await;
}
