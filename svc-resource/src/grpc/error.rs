//! The wire form of the resource rules' failures: each with its stable reason (and so its status).

use proto::{ErrorReason, error::ServiceError};

use crate::service::{ConflictKind, RecordKind, ResourceError};

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::User => ErrorReason::UserNotFound,
        RecordKind::ProductLine => ErrorReason::ProductLineNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
        RecordKind::Module => ErrorReason::ModuleNotFound,
        RecordKind::Env => ErrorReason::EnvNotFound,
        RecordKind::ClusterType => ErrorReason::ClusterTypeNotFound,
        RecordKind::Cluster => ErrorReason::ClusterNotFound,
        RecordKind::Host => ErrorReason::HostNotFound,
    }
}

impl ServiceError for ResourceError {
    type Code = ErrorReason;
    const SERVICE: &'static str = "resource";

    /// An entry of an import fails with the reason of its own failure.
    fn reason(&self) -> ErrorReason {
        match self {
            ResourceError::Entry { source, .. } => source.reason(),
            other => reason_of_single(other),
        }
    }

    fn into_upstream(self) -> Result<tonic::Status, ResourceError> {
        match self {
            ResourceError::Upstream(status) => Ok(status),
            other => Err(other),
        }
    }
}

proto::status_from!(ResourceError);

fn reason_of_single(error: &ResourceError) -> ErrorReason {
    match error {
        ResourceError::Missing { .. } => ErrorReason::MissingField,
        ResourceError::Invalid { .. } => ErrorReason::InvalidField,
        ResourceError::NotFound { kind, .. } => not_found_reason(*kind),
        ResourceError::UsernameTaken(_) => ErrorReason::UsernameTaken,
        ResourceError::InUse { kind, .. } => match kind {
            RecordKind::Application => ErrorReason::ApplicationInUse,
            RecordKind::Env => ErrorReason::EnvInUse,
            RecordKind::Host => ErrorReason::HostBound,
            _ => ErrorReason::ProductLineInUse,
        },
        ResourceError::Conflict(kind, _) => match kind {
            ConflictKind::ClusterNameTaken => ErrorReason::ClusterNameTaken,
            ConflictKind::HostIpTaken => ErrorReason::HostIpTaken,
            ConflictKind::HostOutsideCluster => ErrorReason::HostOutsideCluster,
            ConflictKind::HostBound => ErrorReason::HostBound,
        },
        ResourceError::CmdbOwned { .. } => ErrorReason::CmdbOwned,
        ResourceError::CannotDeleteSelf(_) => ErrorReason::CannotDeleteSelf,
        ResourceError::Forbidden(_) => ErrorReason::Forbidden,
        ResourceError::InvalidCredentials => ErrorReason::InvalidCredentials,
        ResourceError::TooManyLoginAttempts(_) => ErrorReason::TooManyLoginAttempts,
        ResourceError::Unauthenticated(_) => ErrorReason::Unauthorized,
        ResourceError::Unavailable(_) => ErrorReason::ServiceUnavailable,
        ResourceError::Database(_)
        | ResourceError::Cache(_)
        | ResourceError::Hashing(_)
        | ResourceError::Token(_)
        | ResourceError::Credentials(_)
        | ResourceError::Upstream(_)
        | ResourceError::Entry { .. } => ErrorReason::InternalError,
    }
}
