//! The audit trail through the gateway (issue 20): refused writes are recorded by the caller (or
//! `anonymous`) with the reason, the request id and the client address; `GET /api/audit` merges
//! the services' events newest first for admins and auditors only, filters and pages them;
//! `GET /api/audit/export.csv` streams the same filter as CSV. On SQLite, and on PostgreSQL +
//! Redis when `TEST_DATABASE_URL` / `TEST_REDIS_URL` are set.

mod browser;
mod every_route;

use serde_json::{Value, json};

use crate::support::{Api, EmbeddedPlatform, assert_failure, http_client};

const ADMIN_PASSWORD: &str = "audit-admin-password";
const PASSWORD: &str = "audit-user-password";

/// The events `GET /api/audit` answers for `query` (asserting the page shape).
async fn audit_page(api: &Api, query: &str) -> (u64, Vec<Value>) {
    let (status, body) = api.get(&format!("/api/audit{query}")).await;
    assert_eq!(status, 200, "{body}");
    let count = body["count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count: {body}"));
    let results = body["results"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no results: {body}"));
    (count, results)
}

#[tokio::test]
async fn refused_writes_are_recorded_and_only_admins_and_auditors_read_the_trail() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let auditor = admin.login_new_user("audrey", PASSWORD, &["auditor"]).await;
    let viewer = admin.login_new_user("victor", PASSWORD, &["viewer"]).await;

    // A viewer's write, refused by the service (forbidden), with our request id.
    let answer = http_client()
        .post(format!("{}/api/resource/hosts/aos_create", platform.url()))
        .header("authorization", format!("Bearer {}", viewer.token.as_deref().expect("token")))
        .header("x-request-id", "audit-e2e-request-1")
        .json(&json!({"host_name": "h1", "ssh_ip": "10.0.0.1", "ssh_user": "root", "ssh_password": "x", "ssh_port": 22}))
        .send()
        .await
        .expect("POST");
    let body: Value = answer.json().await.expect("json");
    assert_eq!(body["success"], false, "{body}");
    let refused_code = body["code"].clone();
    // Without a token: refused by the gateway (401), by anonymous, naming the user's id.
    let (status, _) = Api::new(platform.url())
        .delete("/api/admin/users/u-404")
        .await;
    assert_eq!(status, 401);
    // An auditor writes nothing.
    let (_, body) = auditor
        .post("/api/admin/productlines", &json!({"name": "pl"}))
        .await;
    assert_failure(&body, "forbidden");

    let (count, events) = audit_page(&auditor, "?action=host.create").await;
    assert_eq!(count, 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["actor"], "victor");
    assert_eq!(event["role"], "viewer");
    assert_eq!(event["outcome"], "refused");
    assert_eq!(event["reason"], refused_code);
    assert_eq!(event["object_kind"], "host");
    assert_eq!(event["service"], "resource");
    assert_eq!(event["request_id"], "audit-e2e-request-1");
    assert_eq!(event["client_ip"], "127.0.0.1");
    assert!(
        event["time"]
            .as_str()
            .is_some_and(|time| time.ends_with('Z')),
        "{event}"
    );
    assert_eq!(event["hash"].as_str().map(str::len), Some(64));

    let (_, events) = audit_page(&admin, "?action=user.delete").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (
            &events[0]["actor"],
            &events[0]["reason"],
            &events[0]["object_id"]
        ),
        (&json!("anonymous"), &json!("unauthorized"), &json!("u-404"))
    );
    let (_, events) = audit_page(&admin, "?actor=audrey").await;
    assert!(
        events
            .iter()
            .any(|event| event["action"] == "product_line.save"),
        "{events:?}"
    );

    // Newest first, paged.
    let (count, first) = audit_page(&admin, "?page_size=1").await;
    assert!(count >= 3, "{count}");
    let (_, second) = audit_page(&admin, "?page_size=1&page=2").await;
    assert_eq!(first.len(), 1);
    assert!(first[0]["time"].as_str() >= second[0]["time"].as_str());
    assert_ne!(first[0]["hash"], second[0]["hash"]);

    // Only admins and auditors.
    let (_, body) = viewer.get("/api/audit").await;
    assert_failure(&body, "forbidden");
    let (status, _) = Api::new(platform.url()).get("/api/audit").await;
    assert_eq!(status, 401);

    // Bad filters are named.
    let (_, body) = auditor.get("/api/audit?since=yesterday").await;
    assert!(assert_failure(&body, "invalid_field").contains("since"));
    let (_, body) = auditor.get("/api/audit?page=1000&page_size=100").await;
    assert!(assert_failure(&body, "invalid_field").contains("page"));
    let long = "a".repeat(300);
    let (_, body) = auditor.get(&format!("/api/audit?object_id={long}")).await;
    assert!(assert_failure(&body, "invalid_field").contains("object_id"));

    // The CSV export: the same filter, one row per event, cells never formulas.
    let answer = http_client()
        .get(format!(
            "{}/api/audit/export.csv?actor=victor&action=host.create",
            platform.url()
        ))
        .header(
            "authorization",
            format!("Bearer {}", auditor.token.as_deref().expect("token")),
        )
        .send()
        .await
        .expect("export");
    assert_eq!(answer.status(), 200);
    assert!(
        answer.headers()["content-type"]
            .to_str()
            .is_ok_and(|kind| kind.starts_with("text/csv")),
        "{:?}",
        answer.headers()
    );
    let text = answer.text().await.expect("csv");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("time,service,seq,actor"), "{text}");
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[1].contains(",victor,viewer,host.create,host,"),
        "{text}"
    );
    let answer = http_client()
        .get(format!("{}/api/audit/export.csv", platform.url()))
        .header(
            "authorization",
            format!("Bearer {}", viewer.token.as_deref().expect("token")),
        )
        .send()
        .await
        .expect("export");
    let body: Value = answer.json().await.expect("json refusal");
    assert_failure(&body, "forbidden");
    platform.stop().await;
}

#[tokio::test]
async fn a_flood_without_credentials_is_recorded_up_to_the_limit_and_users_always() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[("TAD_AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE", "3")],
    )
    .await;
    let viewer = admin.login_new_user("vince", PASSWORD, &["viewer"]).await;
    let anonymous = Api::new(platform.url());
    for n in 0..6 {
        let (status, _) = anonymous
            .delete(&format!("/api/admin/users/flood-{n}"))
            .await;
        assert_eq!(status, 401);
        let (_, body) = viewer
            .post(
                "/api/admin/productlines",
                &json!({"name": format!("pl-{n}")}),
            )
            .await;
        assert_failure(&body, "forbidden");
    }
    let (count, events) = audit_page(&admin, "?action=user.delete").await;
    assert_eq!(count, 3, "{events:?}");
    assert!(events.iter().all(|event| event["actor"] == "anonymous"));
    let (count, _) = audit_page(&admin, "?action=product_line.save&actor=vince").await;
    assert_eq!(count, 6);
    platform.stop().await;
}

#[tokio::test]
async fn an_api_token_is_named_as_the_actor_and_an_auditor_token_reads_the_trail() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let token = |answer: Value| answer["token"].as_str().expect("token secret").to_owned();
    let ci = token(
        admin
            .post_ok(
                "/api/auth/tokens",
                &json!({"name": "ci", "expires_in_days": 1, "roles": ["admin"]}),
            )
            .await,
    );
    let reader = token(
        admin
            .post_ok(
                "/api/auth/tokens",
                &json!({"name": "soc", "expires_in_days": 1, "roles": ["auditor"]}),
            )
            .await,
    );
    let ci = Api::new(platform.url()).with_token(&ci);
    let created = ci
        .post_ok("/api/admin/productlines", &json!({"name": "by-token"}))
        .await;
    let reader = Api::new(platform.url()).with_token(&reader);
    let (count, events) = audit_page(&reader, "?action=product_line.save").await;
    assert_eq!(count, 1, "{events:?}");
    assert_eq!(events[0]["actor"], "token:ci");
    assert_eq!(events[0]["outcome"], "ok");
    assert_eq!(events[0]["object_id"], created["id"]);
    assert!(
        events[0]["changes"]
            .as_array()
            .is_some_and(|changes| changes.iter().any(|change| change["after"] == "by-token")),
        "{events:?}"
    );
    // The auditor token writes nothing, and its refusal is on record under its name.
    let (_, body) = reader
        .post("/api/admin/productlines", &json!({"name": "never"}))
        .await;
    assert_failure(&body, "forbidden");
    let (_, events) = audit_page(&admin, "?actor=token:soc").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["outcome"], "refused");
    // Every service's trail answered the token (appinhouse checks bearer tokens too).
    let answer = http_client()
        .get(format!("{}/api/audit/export.csv", platform.url()))
        .header(
            "authorization",
            format!("Bearer {}", reader.token.as_deref().expect("token")),
        )
        .send()
        .await
        .expect("export");
    assert_eq!(answer.status(), 200);
    let csv = answer.text().await.expect("csv");
    assert!(csv.contains(",token:ci,admin,product_line.save,"), "{csv}");
    platform.stop().await;
}
