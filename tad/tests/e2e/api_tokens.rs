//! API tokens (issue 20) through the gateway: a user creates a token with some of their roles,
//! the token reads and writes what its roles allow (in the resource and jobs services alike) and
//! nothing more, cannot make tokens, is listed without its secret and with its last use, is
//! refused (401) once revoked or expired, is capped when its owner's roles are lowered and void
//! when its owner is deleted; its secret is never stored (the database files, or a dump of the
//! PostgreSQL schema, hold only its SHA-256). Then two gateway replicas on PostgreSQL + Redis: a
//! revoke through one is honoured by the other within a second.

use crate::support;

use std::time::Instant;

use serde_json::{Value, json};
use support::split_env::{ProcessEnv, postgres_and_redis_given, refused_within_a_second};
use support::{Api, EmbeddedPlatform, assert_failure, assert_success, fixtures};

const ADMIN_PASSWORD: &str = "tokens-admin-pw";

/// Creates a token as `owner` (a password session); answers the whole `data`.
async fn create_token(owner: &Api, name: &str, days: i64, roles: &[&str]) -> Value {
    let body = json!({"name": name, "expires_in_days": days, "roles": roles});
    let (status, answer) = owner.post("/api/auth/tokens", &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_success(&answer)
}

/// Asserts `api` is refused with 401 and an info containing `because`.
async fn assert_unauthorized(api: &Api, because: &str) {
    let (status, body) = api.get("/api/app/productline/select").await;
    assert_eq!(status, 401, "{body}");
    let info = assert_failure(&body, "unauthorized");
    assert!(info.contains(because), "{info}");
}

/// The token of `list` (the `data` of `GET /api/auth/tokens`) with `id`.
fn listed(list: &Value, id: &str) -> Option<Value> {
    list.as_array()
        .expect("tokens")
        .iter()
        .find(|token| token["id"] == id)
        .cloned()
}

/// Moves the expiry of token `id` into the past, in the resource database.
async fn expire_in_database(platform: &EmbeddedPlatform, id: &str) {
    let id = id.to_owned();
    let five_minutes_ago = common::time::to_unix_ms(common::time::now_utc()) - 300_000;
    let past = common::time::from_unix_ms(five_minutes_ago).expect("a time");
    let changed = platform
        .resource_database()
        .run(move |connection| {
            svc_resource::db::models::api_tokens::set_expires_at(connection, &id, past)
                .map_err(common::db::DbError::Query)
        })
        .await
        .expect("update the expiry");
    assert!(changed, "the token row exists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_acts_within_its_roles_until_revoked_or_expired_and_is_never_stored() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    fixtures::app_catalog(
        &admin,
        ("pl-tok", "tokens line"),
        ("app-tok", "tokens app"),
        ("env-tok", "tokens env"),
    )
    .await;
    let olga = admin
        .login_new_user("olga", "olga-password", &["operator"])
        .await;

    // Created once with its secret: `tad_` and 43 base62 characters.
    let created = create_token(&olga, "deploy", 30, &["operator"]).await;
    let secret = created["token"].as_str().expect("secret").to_owned();
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(secret.starts_with("tad_") && secret.len() == 47, "{secret}");
    assert!(secret[4..].bytes().all(|byte| byte.is_ascii_alphanumeric()));
    assert_eq!(created["name"], "deploy");
    assert_eq!(created["username"], "olga");
    assert_eq!(created["roles"], json!(["operator"]));
    assert_eq!(created["last_used"], Value::Null);
    assert!(
        created["expires_at"]
            .as_str()
            .is_some_and(|at| at.len() == 19)
    );

    // It reads and writes what `operator` may, in the resource and jobs services alike, as olga.
    let token = Api::new(platform.url()).with_token(&secret);
    let me = token.get_ok("/api/auth/me").await;
    assert_eq!(
        (me["username"].clone(), me["roles"].clone()),
        (json!("olga"), json!(["operator"]))
    );
    let lines = token.get_ok("/api/app/productline/select").await;
    assert!(lines.to_string().contains("tokens line"), "{lines}");
    let template = token
        .post_ok(
            "/api/app/jobtemplate/create",
            &json!({"name": "by token", "application_id": "app-tok"}),
        )
        .await;
    assert!(template["id"].as_str().is_some(), "{template}");
    // Beyond its roles: an admin write is refused, and nothing was made.
    let (status, body) = token
        .post(
            "/api/admin/productlines",
            &json!({"name": "not by a token"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_failure(&body, "forbidden");
    let lines = admin.get_ok("/api/admin/productlines").await;
    assert!(!lines.to_string().contains("not by a token"));
    // A token cannot make tokens (not even with its own roles).
    let (_, body) = token
        .post(
            "/api/auth/tokens",
            &json!({"name": "child", "roles": ["operator"]}),
        )
        .await;
    let info = assert_failure(&body, "forbidden");
    assert!(
        info.contains("token:deploy") && info.contains("password"),
        "{info}"
    );
    // A token's roles are some of its creator's; names are unique per user and capped.
    let (_, body) = olga
        .post(
            "/api/auth/tokens",
            &json!({"name": "root", "roles": ["admin"]}),
        )
        .await;
    let info = assert_failure(&body, "invalid_field");
    assert!(info.contains("roles") && info.contains("admin"), "{info}");
    let (_, body) = olga
        .post(
            "/api/auth/tokens",
            &json!({"name": "deploy", "roles": ["operator"]}),
        )
        .await;
    assert_failure(&body, "token_name_taken");
    let refusals = [
        (json!({"name": "", "roles": ["operator"]}), "name"),
        (
            json!({"name": "n".repeat(65), "roles": ["operator"]}),
            "name",
        ),
        (
            json!({"name": "d", "roles": ["operator"], "expires_in_days": 0}),
            "expires_in_days",
        ),
        (
            json!({"name": "d", "roles": ["operator"], "expires_in_days": 3651}),
            "expires_in_days",
        ),
        (json!({"name": "d", "roles": []}), "roles"),
    ];
    for (body, field) in refusals {
        let (_, answer) = olga.post("/api/auth/tokens", &body).await;
        assert_eq!(answer["success"], false, "{body}: {answer}");
        assert!(
            answer["info"]
                .as_str()
                .is_some_and(|info| info.contains(field)),
            "{body}: {answer}"
        );
    }

    // Listed without its secret, with its last use; an admin sees it with its owner.
    let (_, list) = olga.get("/api/auth/tokens").await;
    assert!(!list.to_string().contains(&secret));
    let mine = listed(&assert_success(&list), &id).expect("listed");
    assert!(mine["last_used"].as_str().is_some(), "{mine}");
    assert_eq!(mine["expired"], false);
    let everyone = admin.get_ok("/api/auth/tokens").await;
    assert_eq!(
        listed(&everyone, &id).expect("admin sees it")["username"],
        "olga"
    );
    let viktor = admin
        .login_new_user("viktor", "viktor-password", &["viewer"])
        .await;
    assert!(listed(&viktor.get_ok("/api/auth/tokens").await, &id).is_none());

    // Only its SHA-256 is stored: not the secret, in any file or (PostgreSQL) dump.
    let stored = platform.stored_bytes();
    let hash = common::auth::api_token_hash(&secret);
    let contains = |needle: &str| {
        stored
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
    };
    assert!(contains(&hash), "the token's hash is where the test looks");
    assert!(!contains(&secret), "the token is stored in clear");
    assert!(
        !contains(&secret[4..]),
        "the token's secret part is stored in clear"
    );

    // Someone else cannot revoke it; its owner can, and it is refused at once.
    let (_, body) = viktor.delete(&format!("/api/auth/tokens/{id}")).await;
    assert_failure(&body, "token_not_found");
    token.get_ok("/api/app/productline/select").await;
    let (_, body) = olga.delete(&format!("/api/auth/tokens/{id}")).await;
    assert_eq!(assert_success(&body)["id"], id);
    assert_unauthorized(&token, "unknown or was revoked").await;
    let (status, _) = token
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "after revoke", "application_id": "app-tok"}),
        )
        .await;
    assert_eq!(status, 401);

    // Expired: refused with a clear info (the expiry moved into the past in the database).
    let expiring = create_token(&olga, "expiring", 1, &["operator"]).await;
    expire_in_database(&platform, expiring["id"].as_str().expect("id")).await;
    let expired = Api::new(platform.url()).with_token(expiring["token"].as_str().expect("secret"));
    assert_unauthorized(&expired, "expired").await;
    let list = olga.get_ok("/api/auth/tokens").await;
    let shown = listed(&list, expiring["id"].as_str().expect("id")).expect("listed");
    assert_eq!(shown["expired"], true);

    // Lowering the owner's roles caps the token; deleting the owner voids it.
    let rita_id = admin
        .create_user("rita", "rita-password", &["operator", "viewer"])
        .await;
    let rita = Api::new(platform.url())
        .login("rita", "rita-password")
        .await;
    let both = create_token(&rita, "both", 10, &["operator", "viewer"]).await;
    let capped = Api::new(platform.url()).with_token(both["token"].as_str().expect("secret"));
    assert_eq!(
        capped.get_ok("/api/auth/me").await["roles"],
        json!(["operator", "viewer"])
    );
    admin
        .post_ok(
            &format!("/api/admin/users/{rita_id}"),
            &json!({"roles": ["viewer"]}),
        )
        .await;
    assert_eq!(
        capped.get_ok("/api/auth/me").await["roles"],
        json!(["viewer"])
    );
    let (_, body) = capped
        .post(
            "/api/app/jobtemplate/create",
            &json!({"name": "capped", "application_id": "app-tok"}),
        )
        .await;
    assert_failure(&body, "forbidden");
    let (_, body) = admin.delete(&format!("/api/admin/users/{rita_id}")).await;
    assert_success(&body);
    assert_unauthorized(&capped, "unknown or was revoked").await;
    assert!(
        listed(
            &admin.get_ok("/api/auth/tokens").await,
            both["id"].as_str().expect("id")
        )
        .is_none()
    );
    platform.stop().await;
}

/// Two gateway replicas in front of one `tad resource` on PostgreSQL + Redis: a token revoked
/// through one replica answers 401 through the other within a second; the table holds no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_answers_401_on_the_other_replica_within_a_second() {
    if !postgres_and_redis_given() {
        return;
    }
    let env = ProcessEnv::new();
    let (resource, resource_addr) =
        env.start_resource(ADMIN_PASSWORD, |command| env.configure(command));
    let gateways = env.start_gateways(&resource_addr, 2);
    let first = Api::new(&gateways[0].1);
    let admin = first.login("admin", ADMIN_PASSWORD).await;
    let created = create_token(&admin, "ci", 7, &["viewer"]).await;
    let secret = created["token"].as_str().expect("secret").to_owned();
    let here = first.with_token(&secret);
    let elsewhere = here.with_base(&gateways[1].1);
    // Both replicas honour (and cache) the token first.
    here.get_ok("/api/app/productline/select").await;
    elsewhere.get_ok("/api/app/productline/select").await;

    // The table, read as a dump would: the hash, never the secret.
    let postgres = env.postgres.clone().expect("postgres");
    let database = common::db::Database::connect(&postgres, &env.schema).expect("database");
    let rows = database
        .run(|connection| {
            svc_resource::db::models::api_tokens::list(connection)
                .map_err(common::db::DbError::Query)
        })
        .await
        .expect("select the tokens");
    let dump = format!("{rows:?}");
    assert!(
        dump.contains(&common::auth::api_token_hash(&secret)),
        "{dump}"
    );
    assert!(!dump.contains(&secret[4..]), "{dump}");

    let id = created["id"].as_str().expect("id");
    let (_, body) = admin.delete(&format!("/api/auth/tokens/{id}")).await;
    assert_success(&body);
    let revoked = Instant::now();
    let (status, _) = here.get("/api/app/productline/select").await;
    assert_eq!(status, 401);
    refused_within_a_second(&elsewhere, "/api/app/productline/select", revoked).await;
    drop(gateways);
    drop(resource);
    common::db::testing::drop_postgres_schema(&postgres, &env.schema);
}
