//! The wire form of the artifact rules' failures: each with its stable reason (and so its status).

use proto::ErrorReason;

use crate::service::{ArtifactError, RecordKind};

fn not_found_reason(kind: RecordKind) -> ErrorReason {
    match kind {
        RecordKind::File => ErrorReason::FileNotFound,
        RecordKind::Script => ErrorReason::ScriptNotFound,
        RecordKind::Method => ErrorReason::MethodNotFound,
        RecordKind::Template => ErrorReason::TemplateNotFound,
        RecordKind::Application => ErrorReason::ApplicationNotFound,
    }
}

common::service_error! {
    impl ServiceError for ArtifactError as "artifact" {
        type Code = ErrorReason;
        upstream: Upstream,
        reasons {
            ArtifactError::Missing { .. } => ErrorReason::MissingField,
            ArtifactError::Invalid { .. } => ErrorReason::InvalidField,
            ArtifactError::NotFound { kind, .. } => not_found_reason(*kind),
            ArtifactError::Md5Mismatch { .. } => ErrorReason::Md5Mismatch,
            ArtifactError::ArchiveRejected { .. } => ErrorReason::ArchiveRejected,
            ArtifactError::InvalidSchema { .. } => ErrorReason::InvalidSchema,
            ArtifactError::InvalidValues { .. } => ErrorReason::InvalidValues,
            ArtifactError::RenderFailed { .. } => ErrorReason::RenderFailed,
            ArtifactError::BinaryFile { .. } => ErrorReason::BinaryFile,
            ArtifactError::TooLarge { .. } => ErrorReason::PayloadTooLarge,
            ArtifactError::Range { .. } => ErrorReason::RangeNotSatisfiable,
            ArtifactError::Forbidden(_) => ErrorReason::Forbidden,
            ArtifactError::SelfReview(_) => ErrorReason::SelfReview,
            ArtifactError::Unauthenticated(_) => ErrorReason::Unauthorized,
            ArtifactError::Database(_)
            | ArtifactError::Storage(_)
            | ArtifactError::Io(_)
            | ArtifactError::Upstream(_) => ErrorReason::InternalError,
        }
    }
}
