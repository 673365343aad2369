//! Contract section 8 end to end through the gateway (embedded services; PostgreSQL when
//! `TEST_DATABASE_URL` is set): clusters 8.1.1–8.1.10, hosts 8.2.2–8.2.6, the 5.4 / 5.8.2.1
//! read-back, bind/unbind moving hosts between 8.1.5 and 8.1.6, pagination and filters, failures
//! naming the field, CMDB protection, and no SSH secret in any answer.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line, refused_hosts};
use crate::support::refusals;

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_failure, assert_success, object_keys as keys, sorted};

const ADMIN_PASSWORD: &str = "resource-admin-pw";
const SECRET: &str = "S3cret-ssh-passw0rd";

const CLUSTER_KEYS: &[&str] = &[
    "remark",
    "name",
    "creator",
    "env_name",
    "apps",
    "update_time",
    "create_time",
    "env_id",
    "type",
    "id",
];
const HOST_KEYS: &[&str] = &[
    "remark",
    "name",
    "creator",
    "ssh_port",
    "env_name",
    "app",
    "productLine_name",
    "host_IP",
    "create_time",
    "ssh_user",
    "host_name",
    "productLine_id",
    "clusters",
    "env_id",
    "id",
];

async fn catalog(admin: &Api) {
    post_all(
        admin,
        &[
            product_line("4", "apache产品线"),
            product_line("5", "other line"),
            application("4", "apache应用", "4"),
            (
                "/api/admin/envs",
                json!({"id": "e1", "name": "生产环境", "remark": ""}),
            ),
            (
                "/api/admin/envs",
                json!({"id": "e2", "name": "内测环境N", "remark": ""}),
            ),
            (
                "/api/admin/cluster-types",
                json!({"key": "TodeMPCluster", "value": "TodeMPCluster"}),
            ),
        ],
    )
    .await;
}

fn host_body(ip: &str, name: &str, env: &str) -> Value {
    json!({"id": 0, "host_IP": ip, "host_name": name, "remark": "dad", "ssh_user": "root", "ssh_passwd": SECRET,
           "productLine_id": "4", "env_id": env})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_hosts_and_bindings_follow_section_8() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    catalog(&admin).await;

    // 8.1.1
    assert_eq!(
        admin
            .get_ok("/api/resource/clusters/cmdb_type?format=json")
            .await,
        json!([{"value": "TodeMPCluster", "key": "TodeMPCluster"}])
    );

    // 8.1.4 and its failures
    let cluster = admin.post_ok("/api/resource/clusters/aos_create", &json!({"name": "ceshi12", "remark": "描述", "type": "TodeMPCluster", "env_id": "e1", "app_id": "4"})).await;
    assert_eq!(keys(&cluster), sorted(CLUSTER_KEYS));
    assert_eq!(cluster["env_name"], "生产环境");
    assert_eq!(cluster["apps"], "apache应用");
    assert_eq!(cluster["type"], "TodeMPCluster");
    assert_eq!(cluster["remark"], "描述");
    assert_eq!(cluster["creator"], "admin");
    let cluster_id = cluster["id"].as_str().expect("id").to_owned();
    assert_eq!(cluster_id.len(), 32);

    admin
        .assert_refusals(
            "/api/resource/clusters/aos_create",
            &refusals![
                {"name": "x", "type": "Nope", "env_id": "e1", "app_id": "4"} => "invalid_field", "type";
                {"name": "x", "env_id": "ghost-env", "app_id": "4"} => "env_not_found", "ghost-env";
                {"name": "x", "env_id": "e1", "app_id": "ghost-app"} => "application_not_found", "ghost-app";
                {"name": " ", "env_id": "e1", "app_id": "4"} => "missing_field", "name";
                {"name": "ceshi12", "env_id": "e1", "app_id": "4"} => "cluster_name_taken", "ceshi12";
                {"env_id": "e1", "app_id": "4"} => "missing_field", "name";
            ],
        )
        .await;
    assert_eq!(
        admin
            .post_ok(
                "/api/resource/clusters/aos_create",
                &json!({"name": "other", "env_id": "e1", "app_id": 4})
            )
            .await["type"],
        "其它",
        "no type means 其它"
    );

    // 8.2.3 and its failures
    let mut host_ids = Vec::new();
    for (ip, name, env) in [
        ("1.1.1.1", "dwadw", "e1"),
        ("1.1.1.2", "web2", "e1"),
        ("1.1.1.3", "web3", "e2"),
    ] {
        let (_, body) = admin
            .post("/api/resource/hosts/aos_create", &host_body(ip, name, env))
            .await;
        assert!(!body.to_string().contains(SECRET), "no secret in answers");
        let host = assert_success(&body);
        assert_eq!(keys(&host), sorted(HOST_KEYS));
        assert_eq!(host["name"], ip);
        assert_eq!(host["ssh_port"], "22");
        assert_eq!(host["productLine_name"], "apache产品线");
        assert_eq!(host["clusters"], json!([]));
        assert_eq!(host["app"], json!([]));
        host_ids.push(host["id"].as_str().expect("id").to_owned());
    }
    let [bad_port, unknown_line, no_password] = refused_hosts(|ip, name| host_body(ip, name, "e1"));
    admin
        .assert_refusals(
            "/api/resource/hosts/aos_create",
            &refusals![
                (host_body("1.1.1.999", "x", "e1")) => "invalid_field", "host_IP";
                (bad_port) => "invalid_field", "ssh_port";
                (host_body("1.1.1.1", "dup", "e1")) => "host_ip_taken", "1.1.1.1";
                (unknown_line) => "product_line_not_found", "999";
                (no_password) => "missing_field", "ssh_passwd";
            ],
        )
        .await;
    let mut with_port = host_body("10.0.0.6", "ported", "e2");
    with_port["ssh_port"] = json!(2222);
    assert_eq!(
        admin
            .post_ok("/api/resource/hosts/aos_create", &with_port)
            .await["ssh_port"],
        "2222"
    );

    // 8.1.5: hosts of the cluster's environment and product line; 8.1.7 bind; 8.1.6 bound
    let candidates_path =
        format!("/api/resource/clusters/{cluster_id}/hosts/select/pl?format=json");
    let bound_path = format!("/api/resource/clusters/{cluster_id}/hosts?format=json");
    let candidates = admin.get_ok(&candidates_path).await;
    assert_eq!(candidates.as_array().map(Vec::len), Some(2), "{candidates}");
    assert_eq!(
        candidates[0],
        json!({"ssh_port": "22", "host_IP": "1.1.1.1", "ssh_user": "root", "host_name": "dwadw", "wait_bind": "True", "id": host_ids[0]})
    );
    let bind_path = format!("/api/resource/clusters/{cluster_id}/aos_bind");
    for _ in 0..2 {
        let (_, body) = admin
            .post(&bind_path, &json!({"hosts": [host_ids[0]]}))
            .await;
        assert_eq!(
            body,
            json!({"info": "操作成功！", "data": true, "success": true, "level": "info"})
        );
    }
    let bound = admin.get_ok(&bound_path).await;
    assert_eq!(bound.as_array().map(Vec::len), Some(1));
    assert_eq!(bound[0]["id"], host_ids[0].as_str());
    assert_eq!(bound[0]["wait_bind"], "False");
    let candidates = admin.get_ok(&candidates_path).await;
    assert_eq!(candidates.as_array().map(Vec::len), Some(1));
    assert_eq!(
        candidates[0]["id"],
        host_ids[1].as_str(),
        "the bound host left the candidates"
    );
    let (_, body) = admin
        .post(&bind_path, &json!({"hosts": ["no-such-host"]}))
        .await;
    assert!(assert_failure(&body, "host_not_found").contains("no-such-host"));
    let (_, body) = admin
        .post(&bind_path, &json!({"hosts": [host_ids[2]]}))
        .await;
    assert!(assert_failure(&body, "host_outside_cluster").contains("1.1.1.3"));

    // 8.2.4: filters and pagination
    let (status, page) = admin
        .get("/api/resource/hosts/aos_json?format=json&host_name=dwa&productLine=4")
        .await;
    assert_eq!(status, 200);
    assert_eq!(keys(&page), sorted(&["count", "page", "results"]));
    assert_eq!(page["count"], 1);
    let listed = &page["results"][0];
    assert_eq!(keys(listed), sorted(HOST_KEYS));
    assert_eq!(
        listed["clusters"],
        json!([{"id": cluster_id, "name": "ceshi12"}])
    );
    assert_eq!(listed["app"], json!(["apache应用"]));
    let (_, page) = admin
        .get("/api/resource/hosts/aos_json?productLine=4&page=2&page_size=3")
        .await;
    assert_eq!(
        (page["count"].clone(), page["page"].clone()),
        (json!(4), json!(2))
    );
    assert_eq!(page["results"].as_array().map(Vec::len), Some(1));
    let (_, page) = admin
        .get("/api/resource/hosts/aos_json?productLine=4&page=9")
        .await;
    assert_eq!(page["count"], 4);
    assert_eq!(
        page["results"],
        json!([]),
        "a page past the end is empty with the true count"
    );
    let (_, page) = admin
        .get("/api/resource/hosts/aos_json?productLine=5")
        .await;
    assert_eq!(page["count"], 0);
    let (_, body) = admin.get("/api/resource/hosts/aos_json?page=x").await;
    assert!(assert_failure(&body, "invalid_field").contains("page"));
    let (status, page) = admin
        .get("/api/resource/hosts/aos_json?productLine=4&page_size=500")
        .await;
    assert_eq!(
        (
            status,
            page["count"].clone(),
            page["results"].as_array().map(Vec::len)
        ),
        (200, json!(4), Some(4)),
        "a page_size over 100 is cut to 100, not refused: {page}"
    );

    // 8.2.5 refuses a bound host; 8.1.8 unbinds; then 8.2.5 answers the legacy shape
    let (_, body) = admin
        .delete(&format!(
            "/api/resource/hosts/aos_deletes/{}?format=json",
            host_ids[0]
        ))
        .await;
    assert!(assert_failure(&body, "host_bound").contains("ceshi12"));
    for _ in 0..2 {
        assert_eq!(
            admin
                .post_ok(
                    &format!("/api/resource/clusters/{cluster_id}/unbind"),
                    &json!({"hosts": [host_ids[0]]})
                )
                .await,
            json!(true)
        );
    }
    assert_eq!(admin.get_ok(&bound_path).await, json!([]));
    let (_, body) = admin
        .post(
            &format!("/api/resource/clusters/{cluster_id}/unbind"),
            &json!({"hosts": ["nope"]}),
        )
        .await;
    assert!(assert_failure(&body, "host_not_found").contains("nope"));
    let (_, body) = admin
        .delete(&format!(
            "/api/resource/hosts/aos_deletes/{}?format=json",
            host_ids[0]
        ))
        .await;
    assert_eq!(
        assert_success(&body),
        json!({"id": null, "name": "1.1.1.1"})
    );

    // 8.2.6 keeps the password when none is sent
    let mut edit = host_body("1.1.1.22", "web2-renamed", "e1");
    edit.as_object_mut().expect("object").remove("ssh_passwd");
    let edited = admin
        .post_ok(
            &format!("/api/resource/hosts/{}/update", host_ids[1]),
            &edit,
        )
        .await;
    assert_eq!(keys(&edited), sorted(HOST_KEYS));
    assert_eq!(
        (edited["host_IP"].clone(), edited["host_name"].clone()),
        (json!("1.1.1.22"), json!("web2-renamed"))
    );

    // 8.1.3: by application and name fragment
    let (_, page) = admin
        .get("/api/resource/clusters/aos_json?format=json&app=4&name=ceshi")
        .await;
    assert_eq!(page["count"], 1);
    assert_eq!(keys(&page["results"][0]), sorted(CLUSTER_KEYS));
    assert_eq!(page["results"][0]["id"], cluster_id.as_str());
    let (_, page) = admin.get("/api/resource/clusters/aos_json?app=4").await;
    assert_eq!(page["count"], 2);
    let (_, page) = admin.get("/api/resource/clusters/aos_json?app=5").await;
    assert_eq!(
        (page["count"].clone(), page["results"].clone()),
        (json!(0), json!([]))
    );

    // 8.2.2 and 5.4 / 5.8.2.1
    let select = admin
        .get_ok("/api/resource/clusters/list_4_select?format=json")
        .await;
    assert_eq!(select.as_array().map(Vec::len), Some(2));
    assert_eq!(keys(&select[0]), sorted(&["remark", "id", "name"]));
    assert_eq!(
        admin
            .get_ok(&format!(
                "/api/resource/clusters/{cluster_id}/4/select/envapp"
            ))
            .await,
        json!([{"remark": "描述", "id": cluster_id, "name": "ceshi12"}])
    );
    let (_, body) = admin
        .get("/api/resource/clusters/unknown-id/4/select/envapp")
        .await;
    assert!(assert_failure(&body, "cluster_not_found").contains("unknown-id"));

    // 8.1.10
    let updated = admin.post_ok(&format!("/api/resource/clusters/{cluster_id}/update"),
            &json!({"id": cluster_id, "name": "connor0666", "remark": "描述", "type": "TodeMPCluster", "env_id": "e1", "app_id": "4"})).await;
    let mut expected_keys = sorted(CLUSTER_KEYS);
    expected_keys.retain(|key| key != "creator");
    assert_eq!(keys(&updated), expected_keys);
    assert_eq!(updated["name"], "connor0666");

    // CMDB-owned records are read-only through the legacy routes
    assert_eq!(admin.post_ok("/api/admin/clusters", &json!({"id": "cmdb-c1", "name": "from-cmdb", "type": "TodeMPCluster", "env_id": "e1", "app_id": "4"})).await["source"], "cmdb");
    let (_, body) = admin
        .post(
            "/api/resource/clusters/cmdb-c1/update",
            &json!({"name": "renamed", "env_id": "e1", "app_id": "4"}),
        )
        .await;
    assert!(assert_failure(&body, "cmdb_owned").contains("CMDB"));
    let (_, body) = admin
        .delete("/api/resource/clusters/aos_deletes/cmdb-c1")
        .await;
    assert_eq!(body["level"], "warning");
    assert_failure(&body, "cmdb_owned");
    let mut cmdb_host = host_body("2.2.2.2", "cmdb-host", "e1");
    cmdb_host["id"] = json!("cmdb-h1");
    assert_eq!(
        admin.post_ok("/api/admin/hosts", &cmdb_host).await["source"],
        "cmdb"
    );
    let (_, body) = admin
        .post(
            "/api/resource/hosts/cmdb-h1/update",
            &host_body("2.2.2.3", "x", "e1"),
        )
        .await;
    assert_failure(&body, "cmdb_owned");
    let (_, body) = admin
        .delete("/api/resource/hosts/aos_deletes/cmdb-h1")
        .await;
    assert_failure(&body, "cmdb_owned");
    let (_, body) = admin.delete("/api/admin/hosts/cmdb-h1").await;
    assert_eq!(assert_success(&body), json!({"id": "cmdb-h1"}));
    let (_, body) = admin.delete("/api/admin/clusters/cmdb-c1").await;
    assert_eq!(assert_success(&body), json!({"id": "cmdb-c1"}));

    // A viewer reads but does not configure
    let viewer = admin
        .login_new_user("vic", "viewer-password", &["viewer"])
        .await;
    let (_, body) = viewer
        .post(
            "/api/resource/clusters/aos_create",
            &json!({"name": "v", "env_id": "e1", "app_id": "4"}),
        )
        .await;
    assert_failure(&body, "forbidden");
    let (status, _) = viewer.get("/api/resource/clusters/aos_json").await;
    assert_eq!(status, 200);

    // 8.1.9 deletes the cluster; catalog records in use are refused by name
    let (_, body) = admin.delete("/api/admin/envs/e1").await;
    assert_failure(&body, "env_in_use");
    let (_, body) = admin
        .delete(&format!(
            "/api/resource/clusters/aos_deletes/{cluster_id}?format=json"
        ))
        .await;
    assert_eq!(
        assert_success(&body),
        json!({"id": cluster_id, "name": "connor0666"})
    );
    let (_, body) = admin
        .delete(&format!("/api/resource/clusters/aos_deletes/{cluster_id}"))
        .await;
    assert_failure(&body, "cluster_not_found");

    let (_, body) = admin.get("/api/admin/hosts").await;
    assert!(
        !body.to_string().contains(SECRET),
        "no secret in the admin list"
    );
    platform.stop().await;
}
