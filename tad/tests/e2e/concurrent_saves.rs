//! Saves that replace a record's parts whole, sent at once: a template's steps (jobtemplate
//! graded, which also adds and drops the steps of its instances) and a joint line's nodes (1.4).
//! Each answers success or a named refusal, never a fault; PostgreSQL when `TEST_DATABASE_URL`
//! is set (there two replacing transactions used to collide on the parts' keys).

use crate::support;

use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform, assert_success, fixtures};

const ADMIN_PASSWORD: &str = "concurrent-saves-admin";
const WRITERS: usize = 8;

/// Sends `body` to `path` from [`WRITERS`] clients at once; every answer must be a success.
async fn all_at_once(admin: &Api, path: &str, body: &Value) {
    let answers = futures::future::join_all((0..WRITERS).map(|_| admin.post(path, body))).await;
    for (status, answer) in answers {
        assert_eq!(status, 200, "{path}: {answer}");
        assert_success(&answer);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replacing_saves_at_once_all_succeed() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    fixtures::post_all(
        &admin,
        &[
            fixtures::product_line("pl", "pl"),
            fixtures::application("app", "app", "pl"),
            fixtures::module("mod", "mod", "app"),
            fixtures::env("env", "env"),
        ],
    )
    .await;
    let template = fixtures::template_with_methods(&admin, "t", "app", &[("custom", "cu1")]).await;
    let instance = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": "i", "env_id": "env", "application_id": "app", "job_template_id": template}),
        )
        .await;
    for round in 1..=3 {
        let steps: Vec<Value> = (0..=round)
            .map(|sequence| json!({"component_id": "custom", "method_id": "cu1", "sequence": sequence}))
            .collect();
        let graded = format!("/api/app/jobtemplate/{template}/graded");
        all_at_once(&admin, &graded, &json!({"method": steps})).await;
        let details = admin
            .get_ok(&format!("/api/app/jobinstance/{instance}/details"))
            .await;
        assert_eq!(
            details["methods"].as_array().map(Vec::len),
            Some(round + 1),
            "the instance follows its template's steps"
        );
    }
    let line = admin
        .post_ok(
            "/api/app/jointline/create",
            &json!({"name": "line", "productline_id": "pl"}),
        )
        .await;
    let line = line.as_str().expect("joint line id").to_owned();
    let graph = json!({"id": line, "joint": [
        {"jobi_id": instance, "sequence": 0, "parent": [""], "top": 1, "left": 2}
    ]});
    all_at_once(&admin, "/api/app/jointline/save", &graph).await;
    platform.stop().await;
}
