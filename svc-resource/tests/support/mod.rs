//! What the svc-resource test suites share: callers, the service over a test database, and a
//! catalog seeded through the service.
// Each suite uses what it needs of this module.
#![allow(dead_code)]

use std::{sync::Arc, time::Duration};

use common::{
    auth::{Actor, Claims, JwtKeys},
    cache::{InMemoryCache, SharedCache},
    crypto::CredentialCipher,
    db::Database,
};
use svc_resource::{
    ClusterUsage, ResourceService, ResourceSettings,
    service::{
        WriteChannel,
        clusters::{ClusterFields, ClusterView},
        hosts::HostFields,
    },
};

const TEST_CREDENTIAL_KEY: &[u8] =
    b"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The resource service over `database`, asking `usage` before a cluster delete.
pub fn resource_service(database: Database, usage: Arc<dyn ClusterUsage>) -> ResourceService {
    resource_service_sharing(database, usage, Arc::new(InMemoryCache::new()))
}

/// The resource service over `database` and the shared `cache` (one replica of several).
pub fn resource_service_sharing(
    database: Database,
    usage: Arc<dyn ClusterUsage>,
    cache: SharedCache,
) -> ResourceService {
    ResourceService::new(
        database,
        cache,
        JwtKeys::new(b"test-secret-test-secret-test-secret!"),
        CredentialCipher::from_hex_key(TEST_CREDENTIAL_KEY).expect("test key"),
        ResourceSettings {
            token_ttl: Duration::from_secs(600),
            login_attempts_per_minute: 3,
            ssh_timeout: Duration::from_secs(5),
        },
        usage,
    )
}

/// A caller `username` with one role, never expiring.
pub fn actor(username: &str, role: &str) -> Claims {
    Claims {
        sub: username.to_owned(),
        roles: vec![role.to_owned()],
        iat: 0,
        exp: i64::MAX,
        sid: None,
        api_token: None,
    }
}

/// `claims` with a token to pass on to other services.
pub fn with_token(claims: Claims) -> Actor {
    Actor {
        claims,
        token: "token".to_owned(),
    }
}

/// Makes, as `admin`, each product line `(id, name)`, then each application
/// `(id, name, product line id)`, then each env `(id, name)`.
pub async fn seed(
    service: &ResourceService,
    admin: &Claims,
    product_lines: &[(&str, &str)],
    applications: &[(&str, &str, &str)],
    envs: &[(&str, &str)],
) {
    for (id, name) in product_lines {
        service
            .upsert_product_line(admin, Some(id), name)
            .await
            .expect("pl");
    }
    for (id, name, product_line_id) in applications {
        service
            .upsert_application(admin, Some(id), name, product_line_id)
            .await
            .expect("app");
    }
    for (id, name) in envs {
        service
            .upsert_env(admin, Some(id), name, "")
            .await
            .expect("env");
    }
}

/// Cluster `name` of application `app_id` in env e1, created by `operator` through AOS.
pub async fn create_cluster(
    service: &ResourceService,
    operator: &Actor,
    name: String,
    app_id: &str,
) -> ClusterView {
    let fields = ClusterFields {
        name,
        env_id: "e1".into(),
        app_id: app_id.into(),
        ..ClusterFields::default()
    };
    service
        .create_cluster(&operator.claims, None, fields, WriteChannel::Aos)
        .await
        .expect("cluster")
}

/// Host `name` at `ip` of product line pl1 in env e1, with an SSH password.
pub fn host_fields(ip: &str, name: &str) -> HostFields {
    HostFields {
        host_ip: ip.to_owned(),
        host_name: name.to_owned(),
        ssh_user: "deploy".to_owned(),
        ssh_password: Some("secret".to_owned()),
        product_line_id: "pl1".to_owned(),
        env_id: "e1".to_owned(),
        ..HostFields::default()
    }
}

/// Cluster `name` of application a1 in env e1.
pub fn cluster_fields(name: &str) -> ClusterFields {
    ClusterFields {
        name: name.to_owned(),
        env_id: "e1".to_owned(),
        app_id: "a1".to_owned(),
        ..ClusterFields::default()
    }
}
