//! The wire form of the artifact rules' failures: each with its stable reason (and so its status).

use proto::{ErrorReason, error::ServiceError};
use tonic::Status;

use crate::service::{ArtifactError, RecordKind};

impl ServiceError for ArtifactError {
    type Code = ErrorReason;
    const SERVICE: &'static str = "artifact";

    fn reason(&self) -> ErrorReason {
        match self {
            ArtifactError::Missing { .. } => ErrorReason::MissingField,
            ArtifactError::Invalid { .. } => ErrorReason::InvalidField,
            ArtifactError::NotFound { kind, .. } => match kind {
                RecordKind::File => ErrorReason::FileNotFound,
                RecordKind::Script => ErrorReason::ScriptNotFound,
                RecordKind::Method => ErrorReason::MethodNotFound,
                RecordKind::Template => ErrorReason::TemplateNotFound,
                RecordKind::Application => ErrorReason::ApplicationNotFound,
            },
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

    fn into_upstream(self) -> Result<Status, ArtifactError> {
        match self {
            ArtifactError::Upstream(status) => Ok(status),
            other => Err(other),
        }
    }
}

proto::status_from!(ArtifactError);
