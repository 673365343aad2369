//! The wire form of the appinhouse rules' failures: each answer of the contract with its numeric
//! code (metadata `appinhouse-code`) and status.

use proto::appinhouse::AppinhouseCode;

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

common::service_error! {
    impl ServiceError for AppinhouseError as "appinhouse" {
        type Code = AppinhouseCode;
        reasons {
            error => error.code().into(),
        }
    }
}
