//! What can go wrong in svc-resource, each message naming the field or record at fault.

use common::{cache::CacheError, db::DbError};

/// A kind of record, as named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    User,
    ProductLine,
    Application,
    Module,
    Env,
    ClusterType,
    Cluster,
    Host,
    ApiToken,
}

impl RecordKind {
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::User => "user",
            RecordKind::ProductLine => "product line",
            RecordKind::Application => "application",
            RecordKind::Module => "module",
            RecordKind::Env => "environment",
            RecordKind::ClusterType => "cluster type",
            RecordKind::Cluster => "cluster",
            RecordKind::Host => "host",
            RecordKind::ApiToken => "API token",
        }
    }
}

/// What a conflict is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    ClusterNameTaken,
    HostIpTaken,
    HostOutsideCluster,
    HostBound,
    TokenNameTaken,
}

common::rules_error! {
    /// Failures of the resource rules.
    #[derive(Debug, thiserror::Error)]
    pub enum ResourceError (field: &'static str, forbidden) {
        #[error("{} {id:?} does not exist", kind.label())]
        NotFound { kind: RecordKind, id: String },
        #[error("username {0:?} is already taken")]
        UsernameTaken(String),
        #[error("{} {id:?} is still used by {}: {}", kind.label(), dependent_kind.label(), dependents.join(", "))]
        InUse {
            kind: RecordKind,
            id: String,
            dependent_kind: RecordKind,
            dependents: Vec<String>,
        },
        #[error("{1}")]
        Conflict(ConflictKind, String),
        #[error("{} {id:?} is owned by the CMDB and cannot be {action} here", kind.label())]
        CmdbOwned {
            kind: RecordKind,
            id: String,
            action: &'static str,
        },
        #[error("{entry}: {source}")]
        Entry {
            entry: String,
            source: Box<ResourceError>,
        },
        #[error("cannot read the stored credentials of host {0:?}")]
        Credentials(String),
        /// A stored value the service wrote cannot be read back (never answered as a default).
        #[error("cannot read the stored {what}: {detail}")]
        Unreadable { what: String, detail: String },
        #[error("you cannot delete your own user {0:?}")]
        CannotDeleteSelf(String),
        #[error("{0}")]
        Forbidden(String),
        #[error("username or password is wrong")]
        InvalidCredentials,
        #[error("too many failed logins for {0:?}; try again in a minute")]
        TooManyLoginAttempts(String),
        #[error("authentication required: {0}")]
        Unauthenticated(String),
        #[error(transparent)]
        Database(#[from] DbError),
        #[error("login rate limit unavailable: {0}")]
        Cache(#[from] CacheError),
        #[error("password hashing failed: {0}")]
        Hashing(String),
        #[error("cannot issue token: {0}")]
        Token(String),
        /// The service could not finish now; the caller may try again.
        #[error("{0}")]
        Unavailable(String),
        /// A call to another service failed; its status is passed on.
        #[error("{0}")]
        Upstream(tonic::Status),
    }
}

pub type ResourceResult<T> = Result<T, ResourceError>;
