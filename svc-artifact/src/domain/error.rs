//! What can go wrong in svc-artifact, each message naming the field, file or record at fault.

use common::{db::DbError, storage::StorageError};

/// A kind of record, as named in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    File,
    Script,
    Method,
    Template,
    Application,
}

impl RecordKind {
    pub fn label(self) -> &'static str {
        match self {
            RecordKind::File => "file",
            RecordKind::Script => "script",
            RecordKind::Method => "method",
            RecordKind::Template => "app-config template",
            RecordKind::Application => "application",
        }
    }
}

common::rules_error! {
    /// Failures of the artifact rules.
    #[derive(Debug, thiserror::Error)]
    pub enum ArtifactError (field: String, forbidden) {
        #[error("{} {id:?} does not exist", kind.label())]
        NotFound { kind: RecordKind, id: String },
        #[error("md5 of {file:?} is {actual}, not the declared {declared}")]
        Md5Mismatch {
            file: String,
            declared: String,
            actual: String,
        },
        #[error("archive {archive:?} is refused: {reason}")]
        ArchiveRejected { archive: String, reason: String },
        #[error("{message}")]
        InvalidSchema { message: String },
        #[error("{message}")]
        InvalidValues { message: String },
        #[error("{message}")]
        RenderFailed { message: String },
        #[error("file {name:?} is binary; only text files can be shown")]
        BinaryFile { name: String },
        #[error("upload is larger than the limit of {limit} bytes")]
        TooLarge { limit: u64 },
        #[error("range {start}-{end} is outside file {id:?} of {size} bytes")]
        Range {
            id: String,
            start: u64,
            end: u64,
            size: u64,
        },
        #[error("{0}")]
        Forbidden(String),
        #[error("{0}")]
        SelfReview(String),
        #[error("authentication required: {0}")]
        Unauthenticated(String),
        #[error(transparent)]
        Database(#[from] DbError),
        #[error(transparent)]
        Storage(#[from] StorageError),
        #[error("{0}")]
        Io(String),
        /// A call to another service failed; its status is passed on.
        #[error("{0}")]
        Upstream(tonic::Status),
    }
}

impl ArtifactError {
    pub fn missing(field: &str) -> ArtifactError {
        ArtifactError::Missing {
            field: field.to_owned(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> ArtifactError {
        ArtifactError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn not_found(kind: RecordKind, id: &str) -> ArtifactError {
        ArtifactError::NotFound {
            kind,
            id: id.to_owned(),
        }
    }

    /// A local file system failure, with what was being done.
    pub fn io(doing: &str, error: std::io::Error) -> ArtifactError {
        ArtifactError::Io(format!("{doing}: {error}"))
    }
}

pub type ArtifactResult<T> = Result<T, ArtifactError>;
