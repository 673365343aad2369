//! The rules of svc-resource: who may do what, validation, and consistent writes. No proto or
//! HTTP types here; the gRPC adapter translates.

pub mod catalog;
pub mod error;
pub mod import;
pub mod users;
pub mod validate;

use std::time::Duration;

use common::{
    auth::{Claims, JwtKeys, Role},
    cache::SharedCache,
    db::Database,
};

pub use error::{RecordKind, ResourceError, ResourceResult};
pub use users::AdminBootstrap;

/// Tunables of the resource rules.
#[derive(Debug, Clone)]
pub struct ResourceSettings {
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Failed logins allowed per username per minute.
    pub login_attempts_per_minute: u32,
}

/// The resource service: its database, the shared cache (login rate limits) and the token keys.
#[derive(Clone)]
pub struct ResourceService {
    database: Database,
    cache: SharedCache,
    jwt: JwtKeys,
    settings: ResourceSettings,
}

impl ResourceService {
    pub fn new(
        database: Database,
        cache: SharedCache,
        jwt: JwtKeys,
        settings: ResourceSettings,
    ) -> ResourceService {
        ResourceService {
            database,
            cache,
            jwt,
            settings,
        }
    }

    /// The database (readiness checks).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The token keys (the gRPC adapter verifies callers with them).
    pub fn jwt(&self) -> &JwtKeys {
        &self.jwt
    }
}

/// Admin routes need the `admin` role.
fn require_admin(actor: &Claims) -> ResourceResult<()> {
    if actor.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ResourceError::Forbidden(format!(
            "user {:?} lacks the admin role this needs",
            actor.username()
        )))
    }
}

/// Reads need any role at all.
fn require_reader(actor: &Claims) -> ResourceResult<()> {
    if actor.may(&[Role::Operator, Role::Reviewer, Role::Viewer]) {
        Ok(())
    } else {
        Err(ResourceError::Forbidden(format!(
            "user {:?} has no role",
            actor.username()
        )))
    }
}
