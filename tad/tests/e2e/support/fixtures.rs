//! Setup the e2e tests share: catalog records, clusters with hosts, templates with methods,
//! and uploads of method packages, scripts and app-config templates. Each helper sends the
//! requests a test would and asserts the success envelope of every answer.

use serde_json::{Value, json};

use super::{Api, assert_success, md5_hex, post_multipart, tar_gz};

/// Three host bodies, made by `host(ip, name)`, that the host routes refuse: an `ssh_port` that
/// is no number, an unknown `productLine_id` (999), and no `ssh_passwd`.
pub fn refused_hosts(host: impl Fn(&str, &str) -> Value) -> [Value; 3] {
    let mut bad_port = host("10.0.0.9", "x");
    bad_port["ssh_port"] = json!("ssh");
    let mut unknown_line = host("10.0.0.8", "x");
    unknown_line["productLine_id"] = json!("999");
    let mut no_password = host("10.0.0.7", "x");
    no_password
        .as_object_mut()
        .expect("object")
        .remove("ssh_passwd");
    [bad_port, unknown_line, no_password]
}

/// A product line to post with [`post_all`].
pub fn product_line(id: &str, name: &str) -> (&'static str, Value) {
    ("/api/admin/productlines", json!({"id": id, "name": name}))
}

/// An application of `product_line`, to post with [`post_all`].
pub fn application(id: &str, name: &str, product_line: &str) -> (&'static str, Value) {
    (
        "/api/admin/applications",
        json!({"id": id, "name": name, "product_line_id": product_line}),
    )
}

/// A module of `application`, to post with [`post_all`].
pub fn module(id: &str, name: &str, application: &str) -> (&'static str, Value) {
    (
        "/api/admin/modules",
        json!({"id": id, "name": name, "application_id": application}),
    )
}

/// An environment, to post with [`post_all`].
pub fn env(id: &str, name: &str) -> (&'static str, Value) {
    ("/api/admin/envs", json!({"id": id, "name": name}))
}

/// Posts product line `product_line`, its application `application` and environment `env`,
/// each an `(id, name)`.
pub async fn app_catalog(
    admin: &Api,
    product_line: (&str, &str),
    application: (&str, &str),
    env: (&str, &str),
) {
    post_all(
        admin,
        &[
            self::product_line(product_line.0, product_line.1),
            self::application(application.0, application.1, product_line.0),
            self::env(env.0, env.1),
        ],
    )
    .await;
}

/// POSTs each `(path, body)` in order, asserting every answer is a success.
pub async fn post_all(admin: &Api, posts: &[(&str, Value)]) {
    for (path, body) in posts {
        admin.post_ok(path, body).await;
    }
}

/// Creates a cluster (`cluster`: the 8.1.3 body) and a host (`host`: the 8.2.2 body) and binds
/// the host to the cluster; answers the cluster id.
pub async fn cluster_with_host(admin: &Api, cluster: &Value, host: &Value) -> String {
    let cluster = admin
        .post_id("/api/resource/clusters/aos_create", cluster)
        .await;
    let host = admin.post_id("/api/resource/hosts/aos_create", host).await;
    bind_hosts(admin, &cluster, &[host]).await;
    cluster
}

/// Creates application `app` (named `app`) of `product_line` and its cluster `cluster` in `env`,
/// with `hosts` bound; answers the cluster id.
pub async fn app_with_cluster(
    admin: &Api,
    (app, product_line): (&str, &str),
    (cluster, env): (&str, &str),
    hosts: &[String],
) -> String {
    let (path, body) = application(app, app, product_line);
    admin.post_ok(path, &body).await;
    let cluster = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": cluster, "env_id": env, "app_id": app}),
        )
        .await;
    bind_hosts(admin, &cluster, hosts).await;
    cluster
}

/// Binds `hosts` to `cluster` (8.1.7).
pub async fn bind_hosts(admin: &Api, cluster: &str, hosts: &[String]) {
    let bind = format!("/api/resource/clusters/{cluster}/aos_bind");
    admin.post_ok(&bind, &json!({"hosts": hosts})).await;
}

/// Creates template `name` of `application` and saves its steps, the `(component, method)`
/// pairs in order from sequence 0; answers the template id.
pub async fn template_with_methods(
    admin: &Api,
    name: &str,
    application: &str,
    methods: &[(&str, &str)],
) -> String {
    let template = admin
        .post_id(
            "/api/app/jobtemplate/create",
            &json!({"name": name, "application_id": application}),
        )
        .await;
    let steps: Vec<Value> = methods
        .iter()
        .enumerate()
        .map(|(sequence, (component, method))| {
            json!({"component_id": component, "method_id": method, "sequence": sequence})
        })
        .collect();
    admin
        .post_ok(
            &format!("/api/app/jobtemplate/{template}/graded"),
            &json!({"method": steps}),
        )
        .await;
    template
}

/// Binds step `method`/`sequence` of `instance` to `cluster` (5.6.2.1).
pub async fn bind_cluster(admin: &Api, instance: &str, method: &str, sequence: u32, cluster: &str) {
    admin
        .post_ok(
            &format!(
                "/api/app/jobinstance/{instance}/{method}/{sequence}/{cluster}/relation/cluster"
            ),
            &json!({}),
        )
        .await;
}

/// POSTs a method package archive (4.4); answers the status and the body.
pub async fn post_component(admin: &Api, package: Vec<u8>) -> (u16, Value) {
    post_multipart(admin, "/api/component/upload", &[("file", package)], &[]).await
}

/// Uploads a method package (`method.yml` with `manifest`, and `run.sh`); answers the data.
pub async fn upload_component(admin: &Api, manifest: &str, run_sh: Vec<u8>) -> Value {
    let package = tar_gz(&[
        ("method.yml", manifest.as_bytes().to_vec()),
        ("run.sh", run_sh),
    ]);
    let (_, body) = post_component(admin, package).await;
    assert_success(&body)
}

/// POSTs `archive` as file `file_name` to package sync (9) with `query` (`app_id=…&version=…`
/// and the rest) followed by the archive's md5; answers the status and the body.
pub async fn sync_package(
    admin: &Api,
    query: &str,
    file_name: &str,
    archive: &[u8],
) -> (u16, Value) {
    let path = format!("/api/artifact/version/aos?{query}&md5={}", md5_hex(archive));
    post_multipart(admin, &path, &[(file_name, archive.to_vec())], &[]).await
}

/// Syncs `archive` as [`sync_package`] does, asserting the answer is a success; answers the text
/// field `field` of its data.
pub async fn sync_package_field(
    admin: &Api,
    query: &str,
    file_name: &str,
    archive: &[u8],
    field: &str,
) -> String {
    let (_, body) = sync_package(admin, query, file_name, archive).await;
    assert_success(&body)[field]
        .as_str()
        .expect(field)
        .to_owned()
}

/// POSTs script `name` of `app` as file `file` with its md5 (5.9.3.1); answers the status and
/// the body.
pub async fn post_script(
    admin: &Api,
    app: &str,
    name: &str,
    file: &str,
    script: &[u8],
) -> (u16, Value) {
    post_multipart(
        admin,
        "/api/artifact/script/aos_upload",
        &[(file, script.to_vec())],
        &[
            ("app_id", app.into()),
            ("name", name.into()),
            ("file_md5", json!({file: md5_hex(script)}).to_string()),
        ],
    )
    .await
}

/// Uploads script `name` of `app` as file `file` (5.9.3.1); answers the data.
pub async fn upload_script(admin: &Api, app: &str, name: &str, file: &str, script: &[u8]) -> Value {
    let (_, body) = post_script(admin, app, name, file, script).await;
    assert_success(&body)
}

/// Uploads app-config template `name` version 1 of `app` (5.11) as files `{stem}.j2` and
/// `{stem}.yml`; answers the id of the `.j2` file.
pub async fn upload_config(
    admin: &Api,
    app: &str,
    name: &str,
    stem: &str,
    j2: &[u8],
    yml: &[u8],
) -> String {
    let (j2_name, yml_name) = (format!("{stem}.j2"), format!("{stem}.yml"));
    let (_, body) = post_multipart(
        admin,
        "/api/artifact/configure/aos_upload",
        &[(&j2_name, j2.to_vec()), (&yml_name, yml.to_vec())],
        &[
            ("app_id", app.into()),
            ("name", name.into()),
            ("version", "1".into()),
            (
                "file_md5",
                json!({j2_name.clone(): md5_hex(j2), yml_name.clone(): md5_hex(yml)}).to_string(),
            ),
        ],
    )
    .await;
    assert_success(&body)
        .as_array()
        .expect("files")
        .iter()
        .find(|file| file["filename"] == j2_name.as_str())
        .and_then(|file| file["id"].as_str())
        .expect("j2 id")
        .to_owned()
}

/// Binds app-config file `j2` to the instance step at path `step` with no groups yet (5.6.2.3);
/// answers the step's app-config schema (5.8.2.3).
pub async fn bind_app_config(admin: &Api, step: &str, j2: &str) -> Value {
    admin
        .post_ok(
            &format!("{step}/relation/actemplate"),
            &json!({"file_id": j2, "groups": []}),
        )
        .await;
    admin
        .get_ok(&format!("{step}/actemplate/config/desc"))
        .await
}

/// Creates joint line `name` of `product_line` (1.4); answers its id (the answer's data).
pub async fn create_joint_line(admin: &Api, name: &str, product_line: &str) -> String {
    let body = json!({"name": name, "remark": "", "productline_id": product_line});
    let data = admin.post_ok("/api/app/jointline/create", &body).await;
    data.as_str().expect("id as data").to_owned()
}

/// Saves the graph of joint line `line`: its `joint` nodes (1.5).
pub async fn save_joint_graph(admin: &Api, line: &str, joint: Value) {
    let graph = json!({"id": line, "joint": joint});
    admin.post_ok("/api/app/jointline/save/", &graph).await;
}
