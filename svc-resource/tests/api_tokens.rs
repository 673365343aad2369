//! API tokens (issue 20) in the resource rules, on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: stored only as a hash, resolved with the owner's current roles
//! (capped when they are lowered, gone with the owner), their use written at most once a minute,
//! never made by a token.

use std::sync::Arc;

use common::{
    auth::{ApiTokenRef, Claims, api_token_hash},
    database_test_suite,
    db::{Database, DbError},
    time::{from_unix_ms, now_utc, to_unix_ms},
};
use svc_resource::{
    ClusterUsage,
    db::{MIGRATIONS, models::api_tokens},
    service::{ResourceError, tokens::NewToken},
};

mod support;

use support::{actor, resource_service};

/// No cluster is in use (this suite deletes none).
struct NoSteps;

#[async_trait::async_trait]
impl ClusterUsage for NoSteps {
    async fn check_unused(&self, _token: &str, _cluster_id: &str) -> Result<(), ResourceError> {
        Ok(())
    }
}

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

/// The stored `last_used` of token `id`.
async fn last_used(database: &Database, id: &str) -> Option<chrono::NaiveDateTime> {
    let id = id.to_owned();
    database
        .run(move |connection| api_tokens::find(connection, &id).map_err(DbError::Query))
        .await
        .expect("find")
        .expect("row")
        .last_used
}

async fn tokens_are_hashed_capped_voided_and_their_use_written_once_a_minute(database: Database) {
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    let olga_row = service
        .create_user(
            &admin,
            "olga",
            "olga-password",
            &roles(&["operator", "viewer"]),
        )
        .await
        .expect("olga");
    let olga = Claims {
        roles: roles(&["operator", "viewer"]),
        ..actor("olga", "operator")
    };
    let new = NewToken {
        name: "ci",
        expires_in_days: None,
        roles: &roles(&["operator", "viewer"]),
    };
    let (view, secret) = service.create_api_token(&olga, new).await.expect("token");
    assert_eq!((view.row.expires_at - view.row.create_time).num_days(), 90);
    assert_eq!(view.row.token_hash, api_token_hash(&secret));
    assert!(!format!("{:?}", view.row).contains(&secret[4..]));

    // Resolved with its roles; the first use is written, the next within a minute is not.
    let resolved = service.resolve_api_token(&secret).await.expect("resolve");
    assert_eq!(
        resolved.expect("known").roles,
        roles(&["operator", "viewer"])
    );
    let first_use = last_used(&database, &view.row.id)
        .await
        .expect("use written");
    service.resolve_api_token(&secret).await.expect("resolve");
    assert_eq!(last_used(&database, &view.row.id).await, Some(first_use));
    // A minute later the next use is written again.
    let earlier = from_unix_ms(to_unix_ms(now_utc()) - 120_000).expect("time");
    let id = view.row.id.clone();
    database
        .run(move |connection| {
            api_tokens::set_last_used(connection, &id, earlier).map_err(DbError::Query)
        })
        .await
        .expect("move last use");
    service.resolve_api_token(&secret).await.expect("resolve");
    assert!(last_used(&database, &view.row.id).await.expect("use") > earlier);

    // A token cannot make a token.
    let by_token = Claims {
        api_token: Some(ApiTokenRef {
            id: view.row.id.clone(),
            name: "ci".into(),
        }),
        ..olga.clone()
    };
    let new = NewToken {
        name: "child",
        expires_in_days: Some(1),
        roles: &roles(&["viewer"]),
    };
    let refused = service.create_api_token(&by_token, new).await;
    assert!(
        matches!(refused, Err(ResourceError::Forbidden(_))),
        "{refused:?}"
    );

    // Lowering the owner's roles caps the token; deleting the owner voids it.
    service
        .update_user(&admin, &olga_row.id, None, &roles(&["viewer"]))
        .await
        .expect("lower roles");
    let capped = service.resolve_api_token(&secret).await.expect("resolve");
    assert_eq!(capped.expect("known").roles, roles(&["viewer"]));
    service
        .delete_user(&admin, &olga_row.id)
        .await
        .expect("delete");
    assert!(
        service
            .resolve_api_token(&secret)
            .await
            .expect("resolve")
            .is_none()
    );
    assert!(
        service
            .list_api_tokens(&admin)
            .await
            .expect("list")
            .is_empty()
    );
    // Unknown and non-tokens resolve to nothing.
    for unknown in ["tad_unknown", "eyJhbGciOi.x.y", ""] {
        assert!(
            service
                .resolve_api_token(unknown)
                .await
                .expect("resolve")
                .is_none()
        );
    }
}

database_test_suite!(MIGRATIONS;
    tokens_are_hashed_capped_voided_and_their_use_written_once_a_minute,
);
