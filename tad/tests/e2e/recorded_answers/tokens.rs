//! API tokens (issue 20), played last (their ids come after every other): created by a password
//! session with some of its roles (and the refusals: a role not held, a taken name, limits, a
//! viewer asking for more), listed by the owner and by an admin, used as a bearer (it may not
//! make tokens), revoked by its owner only, then refused (401).

use serde_json::json;

use super::{ADMIN_PASSWORD, Recorder, USER_PASSWORD};

pub async fn play(recorder: &mut Recorder) {
    // The console's part ended the admin's and the viewer's earlier sessions: new ones.
    recorder.login("admin", "admin", ADMIN_PASSWORD).await;
    recorder.login("viewer", "vic", USER_PASSWORD).await;
    let created = recorder
        .post(
            "operator",
            "/api/auth/tokens",
            json!({"name": "ci", "expires_in_days": 1, "roles": ["operator"]}),
        )
        .await;
    assert_eq!(created.body["success"], true, "{}", created.body);
    let id = created.text_at("/data/id");
    let secret = created.text_at("/data/token");
    for (role, body) in [
        ("operator", json!({"name": "root", "roles": ["admin"]})),
        ("operator", json!({"name": "ci", "roles": ["operator"]})),
        ("operator", json!({"name": "", "roles": ["operator"]})),
        (
            "operator",
            json!({"name": "x", "expires_in_days": 0, "roles": ["operator"]}),
        ),
        ("operator", json!({"name": "x", "roles": []})),
        ("viewer", json!({"name": "more", "roles": ["operator"]})),
    ] {
        recorder.post(role, "/api/auth/tokens", body).await;
    }
    recorder.get("operator", "/api/auth/tokens").await;
    recorder.bearer("ci-token", &secret);
    recorder.get("ci-token", "/api/auth/me").await;
    recorder
        .post(
            "ci-token",
            "/api/auth/tokens",
            json!({"name": "child", "roles": ["operator"]}),
        )
        .await;
    recorder.get("admin", "/api/auth/tokens").await;
    let path = format!("/api/auth/tokens/{id}");
    recorder.delete("viewer", &path).await;
    recorder.delete("operator", &path).await;
    recorder.get("ci-token", "/api/auth/me").await;
    recorder.delete("operator", &path).await;
    recorder.get("anonymous", "/api/auth/tokens").await;
}
