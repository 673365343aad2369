//! The wire form of the appinhouse rules' failures: each answer of the contract with its numeric
//! code (metadata `appinhouse-code`) and status.

use proto::{appinhouse::AppinhouseCode, error::ServiceError};

use crate::service::{AppinhouseError, Fault};

impl From<Fault> for AppinhouseCode {
    fn from(fault: Fault) -> AppinhouseCode {
        match fault {
            Fault::SystemError => AppinhouseCode::SystemError,
            Fault::InvalidParameter => AppinhouseCode::InvalidParameter,
            Fault::PageOutOfRange => AppinhouseCode::PageOutOfRange,
            Fault::PlistError => AppinhouseCode::PlistError,
            Fault::ArchiveMissing => AppinhouseCode::ArchiveMissing,
            Fault::DeleteFileError => AppinhouseCode::DeleteFileError,
            Fault::TimeFormat => AppinhouseCode::TimeFormat,
            Fault::DatabaseError => AppinhouseCode::DatabaseError,
            Fault::AppNotFound => AppinhouseCode::AppNotFound,
            Fault::AppExists => AppinhouseCode::AppExists,
            Fault::SecretKey => AppinhouseCode::SecretKey,
        }
    }
}

impl ServiceError for AppinhouseError {
    type Code = AppinhouseCode;
    const SERVICE: &'static str = "appinhouse";

    fn reason(&self) -> AppinhouseCode {
        self.code().into()
    }
}

proto::status_from!(AppinhouseError);
