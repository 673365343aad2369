//! The gateway against the embedded services, in process: exact answer shapes of contract 1.1,
//! 1.2 / 3.x and 8.1.2, the failure envelope of SPEC §1, auth (401), body limits (413), legacy
//! quirks (trailing slash, unknown query keys), roles on admin routes, and operations routes.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};
use crate::support::refusals;

use serde_json::{Value, json};
use support::{Api, assert_failure, assert_success};

const ADMIN_PASSWORD: &str = "admin-password-1";

type Platform = support::EmbeddedPlatform;

async fn start() -> Platform {
    Platform::start(ADMIN_PASSWORD, &[("TAD_MAX_BODY_BYTES", "65536")]).await
}

async fn admin(platform: &Platform) -> Api {
    Api::new(platform.url())
        .login("admin", ADMIN_PASSWORD)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_1_1_1_2_and_8_1_2_have_the_exact_shapes() {
    let platform = start().await;
    let admin = admin(&platform).await;
    for (id, name) in [("5000", "OPENSRVC,USASTRAN"), ("5105", "OPENTKT")] {
        let (status, body) = admin
            .post("/api/admin/productlines", &json!({"id": id, "name": name}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(assert_success(&body)["id"], id);
    }
    assert_eq!(
        admin
            .post_ok(
                "/api/admin/applications",
                &json!({"id": 5000, "name": "OPENSRVC,USASTRAN", "product_line_id": 5000})
            )
            .await["product_line_id"],
        "5000",
        "numeric ids become strings"
    );
    admin
        .post_ok(
            "/api/admin/envs",
            &json!({"id": "b2fa4164776a11e79ae8005056b361cd", "name": "预投产环境", "remark": ""}),
        )
        .await;

    let (status, body) = admin.get("/api/app/productline/select").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "info": "操作成功！",
            "data": [{"id": "5000", "name": "OPENSRVC,USASTRAN"}, {"id": "5105", "name": "OPENTKT"}],
            "success": true,
            "level": "info"
        })
    );

    let (status, body) = admin.get("/api/app/applications/5000/select_by_pl").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"info": "操作成功！", "data": [{"id": "5000", "name": "OPENSRVC,USASTRAN"}], "success": true, "level": "info"})
    );
    assert_eq!(
        admin
            .get_ok("/api/app/applications/5105/select_by_pl")
            .await,
        json!([])
    );

    let (status, body) = admin.get("/api/resource/envs/select").await;
    assert_eq!(status, 200);
    let envs = assert_success(&body);
    let env = &envs[0];
    assert_eq!(
        support::object_keys(env),
        vec!["create_time", "creator", "id", "name", "remark"]
    );
    assert_eq!(env["id"], "b2fa4164776a11e79ae8005056b361cd");
    assert_eq!(env["name"], "预投产环境");
    assert_eq!(env["remark"], "");
    assert_eq!(env["creator"], "admin");
    let create_time = env["create_time"].as_str().expect("time");
    assert_eq!(create_time.len(), 19, "{create_time}");
    assert!(
        chrono_like(create_time),
        "YYYY-MM-DD HH:MM:SS: {create_time}"
    );
    platform.stop().await;
}

fn chrono_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 19
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            10 => *byte == b' ',
            13 | 16 => *byte == b':',
            _ => byte.is_ascii_digit(),
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_keep_the_envelope_and_name_the_field() {
    let platform = start().await;
    let admin = admin(&platform).await;

    let (status, body) = admin.get("/api/app/applications/nope/select_by_pl").await;
    assert_eq!(status, 200, "domain failures answer 200");
    let info = assert_failure(&body, "product_line_not_found");
    assert!(info.contains("nope"), "{info}");
    assert_eq!(body["level"], "warning");

    let (status, body) = admin
        .post_raw("/api/admin/productlines", br#"{"name": "x",,}"#.to_vec())
        .await;
    assert_eq!(status, 200);
    assert_failure(&body, "invalid_json");

    admin
        .assert_refusals(
            "/api/admin/productlines",
            &refusals![
                {"name": 42} => "invalid_field", "name";
                {"name": "   "} => "missing_field", "name";
            ],
        )
        .await;
    admin
        .assert_refusals(
            "/api/admin/applications",
            &refusals![
                {"name": "a"} => "missing_field", "product_line_id";
                {"name": "a", "product_line_id": "ghost"} => "product_line_not_found", "ghost";
            ],
        )
        .await;
    assert_eq!(
        admin.get_ok("/api/admin/applications").await,
        json!([]),
        "nothing half-written"
    );

    post_all(
        &admin,
        &[product_line("p1", "P"), application("a1", "App", "p1")],
    )
    .await;
    let (_, body) = admin.delete("/api/admin/productlines/p1").await;
    let info = assert_failure(&body, "product_line_in_use");
    assert!(info.contains("App (a1)"), "{info}");

    let (status, body) = admin.get("/no/such/route").await;
    assert_eq!(status, 404);
    assert_failure(&body, "route_not_found");
    let (status, body) = admin.delete("/api/app/productline/select").await;
    assert_eq!(status, 405);
    assert_failure(&body, "method_not_allowed");
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_required_and_checked() {
    let platform = start().await;
    let anonymous = Api::new(platform.url());
    for path in [
        "/api/app/productline/select",
        "/api/resource/envs/select",
        "/api/admin/users",
    ] {
        let (status, body) = anonymous.get(path).await;
        assert_eq!(status, 401, "{path}");
        assert_failure(&body, "unauthorized");
    }
    let (status, body) = anonymous
        .with_token("not.a.token")
        .get("/api/app/productline/select")
        .await;
    assert_eq!(status, 401);
    let info = assert_failure(&body, "unauthorized");
    assert!(info.contains("invalid"), "{info}");

    let (status, body) = anonymous
        .post(
            "/api/auth/login",
            &json!({"username": "admin", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_failure(&body, "invalid_credentials");
    let (_, body) = anonymous
        .post("/api/auth/login", &json!({"username": "admin"}))
        .await;
    let info = assert_failure(&body, "missing_field");
    assert!(info.contains("password"), "{info}");

    let (status, body) = anonymous
        .post(
            "/api/auth/login",
            &json!({"username": "admin", "password": ADMIN_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200);
    let data = assert_success(&body);
    assert_eq!(data["username"], "admin");
    assert_eq!(data["roles"], json!(["admin"]));
    assert!(chrono_like(
        data["expires_at"].as_str().expect("expires_at")
    ));
    let token = data["token"].as_str().expect("token");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let (status, _) = anonymous
        .with_token(token)
        .get("/api/app/productline/select")
        .await;
    assert_eq!(status, 200);

    // A urlencoded form body is taken as the legacy server took it.
    let response = support::http_client()
        .post(format!("{}/api/auth/login", platform.url()))
        .form(&[("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .expect("form login");
    let body: Value = response.json().await.expect("json");
    assert_eq!(assert_success(&body)["username"], "admin");
    let response = support::http_client()
        .post(format!("{}/api/auth/login", platform.url()))
        .form(&[("username", "admin")])
        .send()
        .await
        .expect("form login");
    let body: Value = response.json().await.expect("json");
    assert!(assert_failure(&body, "missing_field").contains("password"));
    // JSON sent with the form content type (`curl -d '{...}'`, as in the README) is JSON.
    let response = support::http_client()
        .post(format!("{}/api/auth/login", platform.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string())
        .send()
        .await
        .expect("curl -d login");
    let body: Value = response.json().await.expect("json");
    assert_eq!(assert_success(&body)["username"], "admin");
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_answer_413_with_the_envelope() {
    let platform = start().await;
    let admin = admin(&platform).await;
    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(70_000));
    let (status, body) = admin
        .post_raw("/api/admin/productlines", huge.into_bytes())
        .await;
    assert_eq!(status, 413);
    assert_failure(&body, "payload_too_large");
    assert_eq!(admin.get_ok("/api/admin/productlines").await, json!([]));
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_quirks_are_accepted() {
    let platform = start().await;
    let admin = admin(&platform).await;
    admin
        .post(
            "/api/admin/productlines/",
            &json!({"id": "750", "name": "服务整合平台"}),
        )
        .await;
    for path in [
        "/api/app/productline/select/",
        "/api/app/productline/select?format=json",
        "/api/app/productline/select?&format=json&unknown=1",
        "/api/app/productline/select/?&",
    ] {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            assert_success(&body),
            json!([{"id": "750", "name": "服务整合平台"}]),
            "{path}"
        );
    }
    let (status, _) = admin.get("/api/resource/envs/select/?format=json").await;
    assert_eq!(status, 200);
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_routes_need_the_admin_role() {
    let platform = start().await;
    let admin = admin(&platform).await;
    for (username, role) in [("olga", "operator"), ("vic", "viewer")] {
        let user = admin
            .post_ok(
                "/api/admin/users",
                &json!({"username": username, "password": "long-enough-pw", "roles": [role]}),
            )
            .await;
        assert_eq!(user["roles"], json!([role]));
        assert!(
            user.get("password").is_none() && user.get("password_hash").is_none(),
            "{user}"
        );
    }
    let (_, body) = admin
        .post(
            "/api/admin/users",
            &json!({"username": "olga", "password": "long-enough-pw", "roles": ["viewer"]}),
        )
        .await;
    assert_failure(&body, "username_taken");
    let (_, body) = admin
        .post(
            "/api/admin/users",
            &json!({"username": "zed", "password": "long-enough-pw", "roles": ["root"]}),
        )
        .await;
    let info = assert_failure(&body, "invalid_field");
    assert!(info.contains("root"), "{info}");

    for (username, role) in [("olga", "operator"), ("vic", "viewer")] {
        let user = Api::new(platform.url())
            .login(username, "long-enough-pw")
            .await;
        for (path, payload) in [
            ("/api/admin/productlines", json!({"name": "x"})),
            (
                "/api/admin/users",
                json!({"username": "x", "password": "long-enough-pw", "roles": ["admin"]}),
            ),
            ("/api/admin/envs", json!({"name": "x"})),
            (
                "/api/admin/cluster-types",
                json!({"key": "k", "value": "v"}),
            ),
        ] {
            let (status, body) = user.post(path, &payload).await;
            assert_eq!(status, 200, "{role} {path}");
            let info = assert_failure(&body, "forbidden");
            assert!(info.contains(username), "{info}");
        }
        let (_, body) = user.get("/api/admin/users").await;
        assert_failure(&body, "forbidden");
        let (status, body) = user.get("/api/app/productline/select").await;
        assert_eq!(status, 200, "{role} reads");
        assert_success(&body);
    }

    assert_eq!(
        admin
            .post_ok(
                "/api/admin/cluster-types",
                &json!({"key": "ApacheCluster", "value": "ApacheCluster"})
            )
            .await,
        json!({"id": "ApacheCluster", "key": "ApacheCluster", "value": "ApacheCluster"})
    );
    assert_eq!(
        admin
            .get_ok("/api/admin/cluster-types")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let (_, body) = admin.delete("/api/admin/cluster-types/ApacheCluster").await;
    assert_eq!(assert_success(&body), json!({"id": "ApacheCluster"}));
    let orphan = json!({"name": "m", "application_id": "ghost"});
    let (_, body) = admin.post("/api/admin/modules", &orphan).await;
    assert_failure(&body, "application_not_found");
    let users = admin.get_ok("/api/admin/users").await;
    let usernames = support::string_fields(&users, "username");
    assert!(
        usernames.contains(&"olga") && usernames.contains(&"vic") && usernames.contains(&"admin"),
        "{users}"
    );
    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_routes_answer_without_a_token() {
    let platform = start().await;
    let anonymous = Api::new(platform.url());
    let (status, body) = anonymous.get("/healthz").await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));
    let (status, body) = anonymous.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"]["resource"], "serving");

    let admin = admin(&platform).await;
    admin.get("/api/app/productline/select").await;
    admin.get("/api/app/applications/x/select_by_pl").await;
    let response = reqwest::get(format!("{}/metrics", platform.url()))
        .await
        .expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.expect("text");
    assert!(
        text.contains(r#"tad_http_requests_total{method="GET",outcome="ok",route="/api/app/productline/select",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"outcome="product_line_not_found",route="/api/app/applications/{id}/select_by_pl",status="200"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("tad_http_request_duration_seconds_bucket"),
        "{text}"
    );
    platform.stop().await;
}
