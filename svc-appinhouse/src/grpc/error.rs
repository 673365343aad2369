//! The wire form of the appinhouse rules' failures: each answer of the contract with its numeric
//! code (metadata `appinhouse-code`) and status.

use proto::appinhouse::{AppinhouseCode, Refusal, WireFailure};

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
        type Code = WireFailure;
        reasons {
            error => WireFailure {
                code: error.code().into(),
                refusal: match error {
                    AppinhouseError::SecretKey => Some(Refusal::SecretKey),
                    AppinhouseError::Protected(_) => Some(Refusal::Protected),
                    AppinhouseError::TooManyAttempts(_) => Some(Refusal::Throttled),
                    _ => None,
                },
            },
        }
    }
}
