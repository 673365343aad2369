//! What can go wrong in svc-appinhouse, each failure with the kind of answer of the appinhouse
//! contract it gives ([`Fault`], put on the wire by the gRPC adapter) and a message naming the
//! field or record at fault. The secret key never appears.

use common::db::DbError;

use crate::store::StoreError;

/// The answers of the appinhouse contract a failure gives (its numeric codes are the wire's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    SystemError,
    InvalidParameter,
    PageOutOfRange,
    PlistError,
    ArchiveMissing,
    DeleteFileError,
    TimeFormat,
    DatabaseError,
    AppNotFound,
    AppExists,
    SecretKey,
}

common::rules_error! {
    /// Failures of the appinhouse rules.
    #[derive(Debug, thiserror::Error)]
    pub enum AppinhouseError (field: &'static str) {
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
        #[error("app {0:?} is protected: open it with its page password or a valid link")]
        Protected(String),
        #[error("too many wrong passwords for app {0:?}; wait a minute")]
        TooManyAttempts(String),
        #[error("cannot read the build: {0}")]
        Metadata(String),
        #[error(transparent)]
        Database(#[from] DbError),
        #[error(transparent)]
        Store(#[from] StoreError),
        #[error("upload failed: {0}")]
        Upload(String),
        #[error("cannot hash the page password: {0}")]
        Hashing(String),
    }
}

impl AppinhouseError {
    /// The contract answer this failure gives.
    pub fn code(&self) -> Fault {
        match self {
            AppinhouseError::Missing { .. }
            | AppinhouseError::Invalid { .. }
            | AppinhouseError::NotFound(_)
            | AppinhouseError::Metadata(_) => Fault::InvalidParameter,
            AppinhouseError::PastTheEnd { .. } => Fault::PageOutOfRange,
            AppinhouseError::Plist(_) => Fault::PlistError,
            AppinhouseError::ArchiveMissing(_) => Fault::ArchiveMissing,
            AppinhouseError::DeleteFile(_) => Fault::DeleteFileError,
            AppinhouseError::TimeFormat(_) => Fault::TimeFormat,
            AppinhouseError::Database(_) => Fault::DatabaseError,
            AppinhouseError::AppNotFound(_) => Fault::AppNotFound,
            AppinhouseError::AppExists(_) => Fault::AppExists,
            AppinhouseError::SecretKey
            | AppinhouseError::Protected(_)
            | AppinhouseError::TooManyAttempts(_) => Fault::SecretKey,
            AppinhouseError::Store(_)
            | AppinhouseError::Upload(_)
            | AppinhouseError::Hashing(_) => Fault::SystemError,
        }
    }
}

pub type AppinhouseResult<T> = Result<T, AppinhouseError>;
