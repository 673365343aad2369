//! The audit trail of the resource writes (issue 20), on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: every write appends exactly one event naming its action, record
//! and caller, secrets only as whether they were set, the chain verifies; and a write whose
//! event cannot be appended leaves neither change nor event.

use std::sync::Arc;

use common::{
    audit::MASKED,
    audit_testing::{Trail, break_appends, change},
    auth::Claims,
    database_test_suite,
    db::{Database, testing::TestDatabase},
};
use svc_resource::{
    ClusterUsage,
    db::MIGRATIONS,
    service::{
        ResourceError, WriteChannel, catalog::ProductLineInput, hosts::HostFields,
        import::CatalogImport, tokens::NewToken,
    },
};

mod support;

use support::{actor, cluster_fields, resource_service, with_token};

/// No cluster is in use.
struct NoSteps;

#[async_trait::async_trait]
impl ClusterUsage for NoSteps {
    async fn check_unused(&self, _token: &str, _cluster_id: &str) -> Result<(), ResourceError> {
        Ok(())
    }
}

/// Host `ip` with SSH password `password`.
fn host_fields(ip: &str, password: &str) -> HostFields {
    HostFields {
        ssh_password: Some(password.to_owned()),
        ..support::host_fields(ip, &format!("host-{ip}"))
    }
}

async fn catalog_writes_append_one_event_each(database: Database) {
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    let mut trail = Trail::new(&database).await;

    service
        .upsert_product_line(&admin, Some("pl1"), "Line")
        .await
        .expect("pl");
    let event = trail
        .one(("product_line.save", "product_line", "pl1"), "root")
        .await;
    assert_eq!(change(&event, "name")["after"], "Line");
    service
        .upsert_product_line(&admin, Some("pl1"), "Renamed")
        .await
        .expect("rename");
    let event = trail
        .one(("product_line.save", "product_line", "pl1"), "root")
        .await;
    assert_eq!(change(&event, "name")["before"], "Line");
    assert_eq!(change(&event, "name")["after"], "Renamed");
    service
        .upsert_application(&admin, Some("a1"), "App", "pl1")
        .await
        .expect("app");
    let event = trail
        .one(("application.save", "application", "a1"), "root")
        .await;
    assert_eq!(event.app_id.as_deref(), Some("a1"));
    service
        .upsert_module(&admin, Some("m1"), "Module", "a1")
        .await
        .expect("module");
    trail.one(("module.save", "module", "m1"), "root").await;
    service
        .upsert_env(&admin, Some("e1"), "Env", "remark")
        .await
        .expect("env");
    let event = trail.one(("env.save", "env", "e1"), "root").await;
    assert_eq!(event.env_id.as_deref(), Some("e1"));
    service
        .upsert_cluster_type(&admin, "web", "Web")
        .await
        .expect("type");
    trail
        .one(("cluster_type.save", "cluster_type", "web"), "root")
        .await;

    // A refused write appends nothing (the gateway records refusals).
    assert!(service.delete_application(&admin, "a1").await.is_err());
    trail.none("refused delete").await;

    service.delete_module(&admin, "m1").await.expect("module");
    let event = trail.one(("module.delete", "module", "m1"), "root").await;
    assert_eq!(change(&event, "name")["before"], "Module");
    service
        .delete_cluster_type(&admin, "web")
        .await
        .expect("type");
    trail
        .one(("cluster_type.delete", "cluster_type", "web"), "root")
        .await;
    service.delete_application(&admin, "a1").await.expect("app");
    trail
        .one(("application.delete", "application", "a1"), "root")
        .await;
    service.delete_env(&admin, "e1").await.expect("env");
    trail.one(("env.delete", "env", "e1"), "root").await;
    service
        .delete_product_line(&admin, "pl1")
        .await
        .expect("pl");
    trail
        .one(("product_line.delete", "product_line", "pl1"), "root")
        .await;

    let catalog = CatalogImport {
        product_lines: vec![ProductLineInput::new(Some("pl9"), "Imported").expect("input")],
        ..CatalogImport::default()
    };
    service
        .import_catalog(&admin, catalog)
        .await
        .expect("import");
    let event = trail
        .one(("catalog.import", "catalog", "catalog"), "root")
        .await;
    assert_eq!(change(&event, "product_lines")["after"], "1");
}

async fn cluster_and_host_writes_append_one_event_each(database: Database) {
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    let operator = with_token(actor("olga", "operator"));
    support::seed(
        &service,
        &admin,
        &[("pl1", "Line")],
        &[("a1", "App", "pl1")],
        &[("e1", "Env")],
    )
    .await;
    let mut trail = Trail::new(&database).await;

    let cluster = service
        .create_cluster(
            &operator.claims,
            None,
            cluster_fields("web"),
            WriteChannel::Aos,
        )
        .await
        .expect("cluster");
    let id = cluster.row.id.clone();
    let event = trail.one(("cluster.create", "cluster", &id), "olga").await;
    assert_eq!(
        (event.app_id.as_deref(), event.env_id.as_deref()),
        (Some("a1"), Some("e1"))
    );
    service
        .update_cluster(
            &operator.claims,
            &id,
            cluster_fields("web2"),
            WriteChannel::Aos,
        )
        .await
        .expect("update");
    let event = trail.one(("cluster.update", "cluster", &id), "olga").await;
    assert_eq!(change(&event, "name")["before"], "web");
    assert_eq!(change(&event, "name")["after"], "web2");
    service
        .create_cluster(
            &admin,
            Some("c9"),
            cluster_fields("cmdb"),
            WriteChannel::Admin,
        )
        .await
        .expect("cmdb cluster");
    trail.one(("cluster.save", "cluster", "c9"), "root").await;

    let host = service
        .create_host(
            &operator.claims,
            None,
            host_fields("10.0.0.1", "ssh-secret"),
            WriteChannel::Aos,
        )
        .await
        .expect("host");
    let host_id = host.row.id.clone();
    let event = trail.one(("host.create", "host", &host_id), "olga").await;
    assert_eq!(change(&event, "ssh_password")["after"], MASKED);
    assert!(!event.changes.contains("ssh-secret"), "{}", event.changes);
    service
        .update_host(
            &operator.claims,
            &host_id,
            host_fields("10.0.0.2", "new-secret"),
            WriteChannel::Aos,
        )
        .await
        .expect("update host");
    let event = trail.one(("host.update", "host", &host_id), "olga").await;
    assert_eq!(change(&event, "host_ip")["after"], "10.0.0.2");
    assert_eq!(change(&event, "ssh_password")["before"], MASKED);
    assert!(!event.changes.contains("new-secret"), "{}", event.changes);
    service
        .create_host(
            &admin,
            Some("h9"),
            host_fields("10.0.0.9", "pw"),
            WriteChannel::Admin,
        )
        .await
        .expect("cmdb host");
    trail.one(("host.save", "host", "h9"), "root").await;

    service
        .bind_hosts(&operator.claims, &id, vec![host_id.clone()])
        .await
        .expect("bind");
    let event = trail
        .one(("cluster.bind_hosts", "cluster", &id), "olga")
        .await;
    assert_eq!(change(&event, "hosts")["after"], format!("[\"{host_id}\"]"));
    service
        .unbind_hosts(&operator.claims, &id, vec![host_id.clone()])
        .await
        .expect("unbind");
    trail
        .one(("cluster.unbind_hosts", "cluster", &id), "olga")
        .await;

    let internal = actor("jobs", "internal");
    service
        .pin_host_key(&internal, &host_id, "SHA256:first")
        .await
        .expect("pin");
    let event = trail.one(("host.pin_key", "host", &host_id), "jobs").await;
    assert_eq!(change(&event, "host_key")["after"], "SHA256:first");
    // A key pinned already is kept: nothing is written.
    service
        .pin_host_key(&internal, &host_id, "SHA256:other")
        .await
        .expect("pinned");
    trail.none("second pin").await;

    service
        .delete_host(&operator.claims, &host_id, WriteChannel::Aos)
        .await
        .expect("delete host");
    trail.one(("host.delete", "host", &host_id), "olga").await;
    service
        .delete_cluster(&operator, &id, WriteChannel::Aos)
        .await
        .expect("delete cluster");
    let event = trail.one(("cluster.delete", "cluster", &id), "olga").await;
    assert_eq!(change(&event, "name")["before"], "web2");
}

async fn user_session_and_token_writes_append_one_event_each(database: Database) {
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    let mut trail = Trail::new(&database).await;

    let user = service
        .create_user(&admin, "olga", "olga-password", &["operator".into()])
        .await
        .expect("user");
    let event = trail.one(("user.create", "user", &user.id), "root").await;
    assert_eq!(change(&event, "password")["after"], MASKED);
    assert!(!event.changes.contains("olga-password"));
    service
        .update_user(
            &admin,
            &user.id,
            Some("changed-password"),
            &["viewer".into()],
        )
        .await
        .expect("update");
    let event = trail.one(("user.update", "user", &user.id), "root").await;
    assert_eq!(change(&event, "roles")["before"], "[\"operator\"]");
    assert_eq!(change(&event, "roles")["after"], "[\"viewer\"]");
    assert_eq!(change(&event, "password")["before"], MASKED);
    assert!(!event.changes.contains("changed-password"));

    let (token, _) = service
        .login("olga", "changed-password")
        .await
        .expect("login");
    let event = trail.one(("session.login", "user", "olga"), "olga").await;
    assert_eq!(event.role, "viewer");
    assert!(service.login("olga", "wrong-password").await.is_err());
    trail.none("failed login").await;
    let claims = service.jwt().verify(&token.token).expect("verifies");
    service
        .logout(&with_token(claims.clone()))
        .await
        .expect("logout");
    trail.one(("session.logout", "user", "olga"), "olga").await;

    let olga = Claims {
        roles: vec!["viewer".into()],
        ..actor("olga", "viewer")
    };
    let new = NewToken {
        name: "ci",
        expires_in_days: Some(7),
        roles: &["viewer".into()],
    };
    let (view, secret) = service.create_api_token(&olga, new).await.expect("token");
    let event = trail
        .one(("api_token.create", "api_token", &view.row.id), "olga")
        .await;
    assert_eq!(change(&event, "name")["after"], "ci");
    assert!(!event.changes.contains(&secret) && !event.changes.contains(&view.row.token_hash));
    service
        .revoke_api_token(&olga, &view.row.id)
        .await
        .expect("revoke");
    trail
        .one(("api_token.revoke", "api_token", &view.row.id), "olga")
        .await;

    service.delete_user(&admin, &user.id).await.expect("delete");
    let event = trail.one(("user.delete", "user", &user.id), "root").await;
    assert_eq!(change(&event, "username")["before"], "olga");
}

database_test_suite!(MIGRATIONS;
    catalog_writes_append_one_event_each,
    cluster_and_host_writes_append_one_event_each,
    user_session_and_token_writes_append_one_event_each,
);

/// A write whose event cannot be appended fails whole: no record, no event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_event_fails_leaves_no_change() {
    let test_database = TestDatabase::sqlite(&MIGRATIONS);
    let database = test_database.database.clone();
    let service = resource_service(database.clone(), Arc::new(NoSteps));
    let admin = actor("root", "admin");
    break_appends(&database).await;
    let refused = service
        .upsert_product_line(&admin, Some("pl1"), "Line")
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(
        service
            .list_product_lines(&admin)
            .await
            .expect("list")
            .is_empty()
    );
    let refused = service
        .create_user(&admin, "olga", "olga-password", &["viewer".into()])
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(service.list_users(&admin).await.expect("users").is_empty());
    assert_eq!(Trail::new(&database).await.newest().await.0, 0);
}
