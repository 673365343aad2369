//! The wire form of the resource rules' failures: each with its stable reason (and so its status).

use proto::ErrorReason;

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
        RecordKind::ApiToken => ErrorReason::TokenNotFound,
    }
}

fn in_use_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::Application => ErrorReason::ApplicationInUse,
        RecordKind::Env => ErrorReason::EnvInUse,
        RecordKind::Host => ErrorReason::HostBound,
        _ => ErrorReason::ProductLineInUse,
    }
}

fn conflict_reason(kind: ConflictKind) -> ErrorReason {
    match kind {
        ConflictKind::ClusterNameTaken => ErrorReason::ClusterNameTaken,
        ConflictKind::HostIpTaken => ErrorReason::HostIpTaken,
        ConflictKind::HostOutsideCluster => ErrorReason::HostOutsideCluster,
        ConflictKind::HostBound => ErrorReason::HostBound,
        ConflictKind::TokenNameTaken => ErrorReason::TokenNameTaken,
    }
}

common::service_error! {
    impl ServiceError for ResourceError as "resource" {
        type Code = ErrorReason;
        upstream: Upstream,
        reasons {
            // An entry of an import fails with the reason of its own failure.
            ResourceError::Entry { source, .. } => source.reason(),
            ResourceError::Missing { .. } => ErrorReason::MissingField,
            ResourceError::Invalid { .. } => ErrorReason::InvalidField,
            ResourceError::NotFound { kind, .. } => not_found_reason(*kind),
            ResourceError::UsernameTaken(_) => ErrorReason::UsernameTaken,
            ResourceError::InUse { kind, .. } => in_use_reason(*kind),
            ResourceError::Conflict(kind, _) => conflict_reason(*kind),
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
            | ResourceError::Unreadable { .. }
            | ResourceError::Upstream(_) => ErrorReason::InternalError,
        }
    }
}
