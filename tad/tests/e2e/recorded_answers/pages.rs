//! Operations, documentation and static routes (health, readiness, favicon, the download page's
//! files, the Swagger UI, the OpenAPI document's status and type), login failures and successes,
//! and at the end the metrics (their names and request counters) and logout.

use serde_json::{Value, json};

use super::{ADMIN_PASSWORD, Payload, Recorder};

/// The first requests: public routes and logins.
pub async fn public(recorder: &mut Recorder) {
    recorder
        .get_each(
            "anonymous",
            &[
                "/healthz",
                "/readyz",
                "/favicon.ico",
                "/static/app-page.css",
                "/static/app-page.js",
                "/static/nope.css",
                "/api/docs",
                "/api/docs/",
                "/api/docs/index.html",
                "/api/docs/swagger-initializer.js",
                "/api/docs/swagger-ui.css",
                "/api/docs/swagger-ui-bundle.js",
                "/api/docs/no-such-file.js",
            ],
        )
        .await;
    // The document itself is recorded in openapi.json (see mod.rs): here its status and headers.
    recorder.get("anonymous", "/api/openapi.json").await;
    recorder.replace_last_body(json!("<recorded in openapi.json>"));

    for body in [
        json!({"username": "admin", "password": "wrong-password"}),
        json!({"username": "admin"}),
        json!({"password": "x"}),
        json!({"username": "nobody", "password": "whatever-password"}),
    ] {
        recorder.post("anonymous", "/api/auth/login", body).await;
    }
    recorder
        .call(
            "anonymous",
            "POST",
            "/api/auth/login",
            Payload::Raw(b"{\"username\": \"admin\",,}"),
        )
        .await;
    recorder
        .call(
            "anonymous",
            "POST",
            "/api/auth/login",
            Payload::Form(vec![
                ("username", "admin".to_owned()),
                ("password", ADMIN_PASSWORD.to_owned()),
            ]),
        )
        .await;
    recorder.login("admin", "admin", ADMIN_PASSWORD).await;
    recorder.get("admin", "/api/app/productline/select").await;
    recorder
        .get(
            "admin",
            "/api/app/productline/select/?&format=json&unknown=1",
        )
        .await;
}

/// The last requests: metrics, who the viewer is, then logout (the token no longer works).
pub async fn closing(recorder: &mut Recorder) {
    let answer = recorder.get("anonymous", "/metrics").await;
    let text = String::from_utf8_lossy(&answer.bytes).into_owned();
    recorder.replace_last_body(metrics_summary(&text));

    recorder.get("viewer", "/api/auth/me").await;
    recorder.post("viewer", "/api/auth/logout", json!({})).await;
    recorder.post("viewer", "/api/auth/logout", json!({})).await;
    recorder.get("viewer", "/api/app/productline/select").await;
    recorder.get("viewer", "/api/auth/me").await;
    recorder
        .call("admin", "POST", "/api/auth/logout", Payload::None)
        .await;
    recorder.get("admin", "/api/admin/users").await;
}

/// The metric families (`# TYPE` lines) and the HTTP request counters of the run, sorted; the
/// timings (histograms, gauges) vary from run to run and are left out.
fn metrics_summary(text: &str) -> Value {
    let mut types: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("# TYPE "))
        .collect();
    types.sort_unstable();
    let mut counters: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("tad_http_requests_total{"))
        .collect();
    counters.sort_unstable();
    json!({"types": types, "tad_http_requests_total": counters})
}
