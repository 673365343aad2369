//! SPEC §2 admin routes: users of each role (created, logged in, updated, deleted), the catalog
//! (product lines, applications, modules, environments, cluster types: create, list, refusals,
//! deletes of records in use and of unknown ids), webhooks, and the reads of contract 1.1 / 1.2
//! / 8.1.2; each refused for a role that may not.

use serde_json::json;

use super::{Payload, Recorder};

/// The catalog every later area uses. Lists are ordered by creation time, then id: records are
/// created in the order of their ids so that the order is the same whether or not they fall in
/// the same second.
const CATALOG: [(&str, &str); 9] = [
    (
        "/api/admin/productlines",
        r#"{"id": "pl1", "name": "服务整合平台"}"#,
    ),
    (
        "/api/admin/productlines",
        r#"{"id": "pl2", "name": "other line"}"#,
    ),
    (
        "/api/admin/applications",
        r#"{"id": 5000, "name": "numeric", "product_line_id": "pl2"}"#,
    ),
    (
        "/api/admin/applications",
        r#"{"id": "app1", "name": "消息总线(TUMS)", "product_line_id": "pl1"}"#,
    ),
    (
        "/api/admin/modules",
        r#"{"id": "m1", "name": "TUMS", "application_id": "app1"}"#,
    ),
    (
        "/api/admin/envs",
        r#"{"id": "env1", "name": "内测环境M", "remark": "test"}"#,
    ),
    ("/api/admin/envs", r#"{"id": "env2", "name": "生产环境"}"#),
    (
        "/api/admin/cluster-types",
        r#"{"key": "ApacheCluster", "value": "Apache"}"#,
    ),
    (
        "/api/admin/cluster-types",
        r#"{"key": "TodeMPCluster", "value": "TodeMPCluster"}"#,
    ),
];

pub async fn play(recorder: &mut Recorder) {
    users(recorder).await;
    for (path, body) in CATALOG {
        let body = serde_json::from_str(body).expect("catalog JSON");
        recorder.post("admin", path, body).await;
    }
    catalog_refusals(recorder).await;
    recorder
        .get_each(
            "admin",
            &[
                "/api/admin/productlines",
                "/api/admin/applications",
                "/api/admin/modules",
                "/api/admin/envs",
                "/api/admin/cluster-types",
                "/api/admin/users",
                "/api/app/productline/select",
                "/api/app/applications/pl1/select_by_pl",
                "/api/app/applications/pl2/select_by_pl",
                "/api/app/applications/nope/select_by_pl",
                "/api/resource/envs/select",
                "/api/resource/envs/select/?format=json",
            ],
        )
        .await;
    recorder
        .get_each("viewer", &["/api/admin/productlines", "/api/admin/users"])
        .await;
    recorder.get("viewer", "/api/app/productline/select").await;
    catalog_deletes(recorder).await;
    webhooks(recorder).await;
}

/// Users of each role; the roles' tokens are kept for the rest of the script.
async fn users(recorder: &mut Recorder) {
    // In the order of their names (see CATALOG).
    recorder.user("olga", "operator").await;
    recorder.user("rita", "reviewer").await;
    recorder.user("vic", "viewer").await;
    for body in [
        json!({"username": "olga", "password": "long-enough-pw", "roles": ["viewer"]}),
        json!({"username": "zed", "password": "long-enough-pw", "roles": ["root"]}),
        json!({"username": "zed", "password": "short", "roles": ["viewer"]}),
        json!({"username": "", "password": "long-enough-pw", "roles": ["viewer"]}),
        json!({"password": "long-enough-pw", "roles": ["viewer"]}),
    ] {
        recorder.post("admin", "/api/admin/users", body).await;
    }
    let body = json!({"username": "x", "password": "long-enough-pw", "roles": ["admin"]});
    for role in ["operator", "viewer", "reviewer"] {
        recorder.post(role, "/api/admin/users", body.clone()).await;
    }
    // A user changed and deleted; its token ends with each change.
    let answer = recorder
        .post(
            "admin",
            "/api/admin/users",
            json!({"username": "temp", "password": "temp-password", "roles": ["viewer"]}),
        )
        .await;
    let temp = answer.text_at("/data/id");
    recorder.login("temp", "temp", "temp-password").await;
    let user_path = format!("/api/admin/users/{temp}");
    for body in [
        json!({"roles": ["operator"]}),
        json!({"password": "temp-password-2"}),
        json!({"roles": ["wizard"]}),
        json!({"password": "x"}),
    ] {
        recorder.post("admin", &user_path, body).await;
    }
    recorder.get("temp", "/api/app/productline/select").await;
    recorder
        .post("operator", &user_path, json!({"roles": ["admin"]}))
        .await;
    recorder
        .post(
            "admin",
            "/api/admin/users/ghost",
            json!({"roles": ["viewer"]}),
        )
        .await;
    recorder.delete("operator", &user_path).await;
    recorder.delete("admin", &user_path).await;
    recorder.delete("admin", &user_path).await;
}

async fn catalog_refusals(recorder: &mut Recorder) {
    for (path, body) in [
        ("/api/admin/productlines", json!({"name": 42})),
        ("/api/admin/productlines", json!({"name": "   "})),
        ("/api/admin/applications", json!({"name": "a"})),
        (
            "/api/admin/applications",
            json!({"name": "a", "product_line_id": "ghost"}),
        ),
        (
            "/api/admin/modules",
            json!({"name": "m", "application_id": "ghost"}),
        ),
        ("/api/admin/envs", json!({"remark": "no name"})),
        ("/api/admin/cluster-types", json!({"key": "k"})),
    ] {
        recorder.post("admin", path, body).await;
    }
    recorder
        .call(
            "admin",
            "POST",
            "/api/admin/productlines",
            Payload::Raw(b"{\"name\": \"x\",,}"),
        )
        .await;
    for (role, path, body) in [
        ("operator", "/api/admin/productlines", json!({"name": "x"})),
        ("viewer", "/api/admin/envs", json!({"name": "x"})),
        (
            "reviewer",
            "/api/admin/cluster-types",
            json!({"key": "k", "value": "v"}),
        ),
        (
            "operator",
            "/api/admin/applications",
            json!({"name": "a", "product_line_id": "pl1"}),
        ),
        (
            "viewer",
            "/api/admin/modules",
            json!({"name": "m", "application_id": "app1"}),
        ),
    ] {
        recorder.post(role, path, body).await;
    }
}

/// Deletes: in use (named), unknown, forbidden, and of a record made for the purpose.
async fn catalog_deletes(recorder: &mut Recorder) {
    let extra = [
        (
            "/api/admin/productlines",
            json!({"id": "pl9", "name": "gone"}),
        ),
        (
            "/api/admin/applications",
            json!({"id": "app9", "name": "gone", "product_line_id": "pl9"}),
        ),
        (
            "/api/admin/modules",
            json!({"id": "m9", "name": "gone", "application_id": "app9"}),
        ),
        ("/api/admin/envs", json!({"id": "env9", "name": "gone"})),
        (
            "/api/admin/cluster-types",
            json!({"key": "ZGone", "value": "ZGone"}),
        ),
    ];
    for (path, body) in extra {
        recorder.post("admin", path, body).await;
    }
    governance(recorder).await;
    for (role, path) in [
        ("admin", "/api/admin/productlines/pl9"),
        ("admin", "/api/admin/applications/app9"),
        ("viewer", "/api/admin/modules/m9"),
        ("admin", "/api/admin/modules/m9"),
        ("admin", "/api/admin/modules/m9"),
        ("admin", "/api/admin/applications/app9"),
        ("admin", "/api/admin/productlines/pl9"),
        ("operator", "/api/admin/envs/env9"),
        ("admin", "/api/admin/envs/env9"),
        ("admin", "/api/admin/envs/ghost"),
        ("admin", "/api/admin/cluster-types/ZGone"),
        ("admin", "/api/admin/cluster-types/ghost"),
        ("admin", "/api/admin/productlines/ghost"),
        ("admin", "/api/admin/applications/ghost"),
    ] {
        recorder.delete(role, path).await;
    }
}

/// The governance of env9 (issue 20): saved, read by a viewer, a bad field of each kind named,
/// refused for a non-admin, unknown environments; env9 is deleted after, with it.
async fn governance(recorder: &mut Recorder) {
    let path = "/api/admin/envs/env9/governance";
    recorder.get("viewer", path).await;
    let office_hours = json!({
        "protected": true,
        "deploy_windows": ["* 9-17 * * MON-FRI"],
        "window_timezone": "Asia/Shanghai",
        "frozen_until": "2030-12-24T18:00:00+08:00",
        "outside_window": "refuse",
    });
    recorder.post("admin", path, office_hours.clone()).await;
    recorder.get("viewer", path).await;
    for body in [
        json!({"protected": true, "deploy_windows": ["* 25 * * *"]}),
        json!({"protected": true, "window_timezone": "Mars/Olympus"}),
        json!({"protected": true, "frozen_until": "tomorrow"}),
        json!({"protected": true, "outside_window": "later"}),
        json!({"protected": "yes"}),
        json!({"protected": true, "surprise": 1}),
    ] {
        recorder.post("admin", path, body).await;
    }
    recorder.post("operator", path, office_hours.clone()).await;
    recorder
        .post("admin", "/api/admin/envs/ghost/governance", office_hours)
        .await;
    recorder
        .get("viewer", "/api/admin/envs/ghost/governance")
        .await;
}

async fn webhooks(recorder: &mut Recorder) {
    let hook = json!({"url": "http://127.0.0.1:9/recorded-hook"});
    let answer = recorder
        .post("admin", "/api/admin/webhooks", hook.clone())
        .await;
    let id = answer.text_at("/data/id");
    for (role, body) in [
        ("admin", hook),
        ("admin", json!({"url": "ftp://nope"})),
        ("admin", json!({})),
        ("operator", json!({"url": "http://127.0.0.1:9/other"})),
    ] {
        recorder.post(role, "/api/admin/webhooks", body).await;
    }
    recorder.get("admin", "/api/admin/webhooks").await;
    recorder.get("viewer", "/api/admin/webhooks").await;
    let path = format!("/api/admin/webhooks/{id}");
    recorder.delete("operator", &path).await;
    recorder.delete("admin", &path).await;
    recorder.delete("admin", &path).await;
    recorder.get("admin", "/api/admin/webhooks").await;
}
