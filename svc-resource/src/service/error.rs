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
        }
    }
}

/// Failures of the resource rules.
#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
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
}

impl From<diesel::result::Error> for ResourceError {
    fn from(error: diesel::result::Error) -> Self {
        ResourceError::Database(DbError::Query(error))
    }
}

pub type ResourceResult<T> = Result<T, ResourceError>;
