//! What can go wrong in svc-appinhouse, each failure with the code of the appinhouse contract it
//! answers and a message naming the field or record at fault. The secret key never appears.

use common::db::DbError;
use proto::appinhouse::AppinhouseCode;

use crate::store::StoreError;

/// Failures of the appinhouse rules.
#[derive(Debug, thiserror::Error)]
pub enum AppinhouseError {
    #[error("{field} is required")]
    Missing { field: &'static str },
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("page {page} is past the last page {total_page}")]
    PastTheEnd { page: i64, total_page: i64 },
    #[error("{0}")]
    NotFound(String),
    #[error("cannot build the plist: {0}")]
    Plist(String),
    #[error("archive file {0} does not exist")]
    ArchiveMissing(String),
    #[error("cannot delete files: {0}")]
    DeleteFile(String),
    #[error("time {0:?} is not like 2016-05-10T02:11:50+0800, +08:00 or Z")]
    TimeFormat(String),
    #[error("app {0:?} does not exist")]
    AppNotFound(String),
    #[error("app {0:?} already exists")]
    AppExists(String),
    #[error("missing or invalid X-SecretKey")]
    SecretKey,
    #[error("cannot read the build: {0}")]
    Metadata(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("upload failed: {0}")]
    Upload(String),
}

impl From<common::limits::LimitError> for AppinhouseError {
    fn from(error: common::limits::LimitError) -> Self {
        AppinhouseError::Invalid {
            field: error.field,
            message: error.message,
        }
    }
}

impl From<diesel::result::Error> for AppinhouseError {
    fn from(error: diesel::result::Error) -> Self {
        AppinhouseError::Database(DbError::Query(error))
    }
}

impl AppinhouseError {
    /// The contract code this failure answers.
    pub fn code(&self) -> AppinhouseCode {
        match self {
            AppinhouseError::Missing { .. }
            | AppinhouseError::Invalid { .. }
            | AppinhouseError::NotFound(_)
            | AppinhouseError::Metadata(_) => AppinhouseCode::InvalidParameter,
            AppinhouseError::PastTheEnd { .. } => AppinhouseCode::PageOutOfRange,
            AppinhouseError::Plist(_) => AppinhouseCode::PlistError,
            AppinhouseError::ArchiveMissing(_) => AppinhouseCode::ArchiveMissing,
            AppinhouseError::DeleteFile(_) => AppinhouseCode::DeleteFileError,
            AppinhouseError::TimeFormat(_) => AppinhouseCode::TimeFormat,
            AppinhouseError::Database(_) => AppinhouseCode::DatabaseError,
            AppinhouseError::AppNotFound(_) => AppinhouseCode::AppNotFound,
            AppinhouseError::AppExists(_) => AppinhouseCode::AppExists,
            AppinhouseError::SecretKey => AppinhouseCode::SecretKey,
            AppinhouseError::Store(_) | AppinhouseError::Upload(_) => AppinhouseCode::SystemError,
        }
    }
}

pub type AppinhouseResult<T> = Result<T, AppinhouseError>;
