//! The rules of svc-resource: who may do what, validation, and consistent writes. No proto or
//! HTTP types here; the gRPC adapter translates.

pub mod audit;
pub mod catalog;
pub mod clusters;
pub mod error;
pub mod governance;
pub mod hosts;
pub mod import;
pub mod lookups;
pub mod records;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod validate;

use std::{sync::Arc, time::Duration};

use common::{
    auth::{Claims, JwtKeys},
    cache::SharedCache,
    crypto::CredentialCipher,
    db::Database,
    read_cache::{RESOURCE_CATALOG, ReadCache},
    roles::{
        require_admin, require_admin_reader, require_internal, require_operator, require_reader,
    },
};

pub use error::{ConflictKind, RecordKind, ResourceError, ResourceResult};
pub use users::AdminBootstrap;

/// Tunables of the resource rules.
#[derive(Debug, Clone)]
pub struct ResourceSettings {
    /// Lifetime of issued tokens.
    pub token_ttl: Duration,
    /// Failed logins allowed per username per minute.
    pub login_attempts_per_minute: u32,
    /// Time allowed for an SSH validation login.
    pub ssh_timeout: Duration,
}

/// What the jobs service knows of a cluster: whether a job step is bound to it (jobs owns the
/// step bindings; the resource rules ask before a cluster is deleted).
#[async_trait::async_trait]
pub trait ClusterUsage: Send + Sync {
    /// Fails while a step is bound to `cluster_id` (the jobs service's `cluster_in_use` answer,
    /// naming the instances, passed on as [`ResourceError::Upstream`]). `token` is the caller's.
    async fn check_unused(&self, token: &str, cluster_id: &str) -> ResourceResult<()>;
}

/// The scope of clusters and hosts in the read cache: their bindings, pinned host keys and
/// announced deletions too (8.1.3 and 8.2.4 show them, with catalog names).
pub const RESOURCES_SCOPE: &str = common::read_cache::RESOURCE_RECORDS;
/// What a catalog write changes: the catalog lists and names, and the cluster and host answers
/// that show catalog names.
pub(crate) const CATALOG_WRITE: &[&str] = &[RESOURCE_CATALOG, RESOURCES_SCOPE];
/// What a write of clusters, hosts or bindings changes.
pub(crate) const RESOURCES_WRITE: &[&str] = &[RESOURCES_SCOPE];
/// How long a read answer is served from memory at most: writes through any replica are read at
/// once (the generations); only a `tad import` run beside a `tad serve` without Redis, which
/// cannot reach its memory, waits this long.
pub const ANSWER_TTL: Duration = Duration::from_secs(5);

/// The resource service: its database, the shared cache (login rate limits, read-cache
/// generations), the answers kept for repeated reads, the token keys and the credential cipher.
#[derive(Clone)]
pub struct ResourceService {
    database: Database,
    cache: SharedCache,
    reads: Arc<ReadCache>,
    jwt: JwtKeys,
    cipher: CredentialCipher,
    settings: ResourceSettings,
    cluster_usage: Arc<dyn ClusterUsage>,
}

impl ResourceService {
    pub fn new(
        database: Database,
        cache: SharedCache,
        jwt: JwtKeys,
        cipher: CredentialCipher,
        settings: ResourceSettings,
        cluster_usage: Arc<dyn ClusterUsage>,
    ) -> ResourceService {
        ResourceService {
            database,
            reads: ReadCache::new("resource", cache.clone(), ANSWER_TTL),
            cache,
            jwt,
            cipher,
            settings,
            cluster_usage,
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

/// Which door a write comes through: the legacy (AOS) routes may not touch CMDB-owned records;
/// the admin routes and imports may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteChannel {
    Aos,
    Admin,
}

impl WriteChannel {
    /// Checks that `actor` may create a record through this channel, and answers the id it asked
    /// for: the admin routes may choose one, the legacy ones never do.
    pub fn new_record_id(self, actor: &Claims, id: Option<&str>) -> ResourceResult<Option<String>> {
        match self {
            WriteChannel::Aos => {
                require_operator(actor)?;
                Ok(None)
            }
            WriteChannel::Admin => {
                require_admin(actor)?;
                id.map(|id| validate::id_or_new("id", Some(id))).transpose()
            }
        }
    }
}

/// A checked page request (`page` from 1, `page_size` 1..=100; 0 means the default).
pub use common::paging::PageRequest;
