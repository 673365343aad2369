//! svc-appinhouse's gRPC contract and the numeric answer codes of the appinhouse contract, which
//! travel on a failed `tonic::Status` in the metadata key `appinhouse-code`.

use tonic::{Code as GrpcCode, Status, metadata::MetadataValue};

/// Version 1 of the appinhouse API.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("tad.appinhouse.v1");
}

/// Metadata key of the appinhouse code of a failed call.
pub const CODE_METADATA_KEY: &str = "appinhouse-code";
/// Metadata key carrying the caller's `X-SecretKey`.
pub const SECRET_KEY_METADATA_KEY: &str = "x-secretkey";
/// gRPC metadata key of the grant a reader of a protected app shows (`EXPIRES.SIGNATURE`).
pub const ACCESS_METADATA_KEY: &str = "x-app-access";

/// Why a call answered 1010 ([`AppinhouseCode::SecretKey`]): the contract has one code for all
/// three, the gRPC status code tells them apart, so a client never reads it from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or wrong `X-SecretKey` (`Unauthenticated`).
    SecretKey,
    /// A protected app read without a valid grant (`PermissionDenied`).
    Protected,
    /// Too many wrong page passwords (`ResourceExhausted`).
    Throttled,
}

impl Refusal {
    pub fn grpc_code(self) -> GrpcCode {
        match self {
            Refusal::SecretKey => GrpcCode::Unauthenticated,
            Refusal::Protected => GrpcCode::PermissionDenied,
            Refusal::Throttled => GrpcCode::ResourceExhausted,
        }
    }

    /// The refusal a 1010 status is (`None` for any other status).
    pub fn of_status(status: &Status) -> Option<Refusal> {
        if AppinhouseCode::of_status(status) != AppinhouseCode::SecretKey {
            return None;
        }
        Some(match status.code() {
            GrpcCode::PermissionDenied => Refusal::Protected,
            GrpcCode::ResourceExhausted => Refusal::Throttled,
            _ => Refusal::SecretKey,
        })
    }
}

/// The code a failure travels with: the contract's code and, for 1010, which refusal it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireFailure {
    pub code: AppinhouseCode,
    pub refusal: Option<Refusal>,
}

impl From<AppinhouseCode> for WireFailure {
    fn from(code: AppinhouseCode) -> WireFailure {
        WireFailure {
            code,
            refusal: None,
        }
    }
}

impl crate::error::WireCode for WireFailure {
    fn status_code(self) -> GrpcCode {
        match self.refusal {
            Some(refusal) if self.code == AppinhouseCode::SecretKey => refusal.grpc_code(),
            _ => self.code.grpc_code(),
        }
    }

    fn status(self, message: String) -> Status {
        let mut status = self.code.status(message);
        let code = crate::error::WireCode::status_code(self);
        if code != status.code() {
            let metadata = status.metadata().clone();
            status = Status::with_metadata(code, status.message().to_owned(), metadata);
        }
        status
    }
}

/// The answer codes of the appinhouse contract (and 1010 of SPEC §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppinhouseCode {
    SystemError,
    UnknownError,
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

impl AppinhouseCode {
    /// Every code, for exhaustive tests.
    pub const ALL: &'static [AppinhouseCode] = &[
        AppinhouseCode::SystemError,
        AppinhouseCode::UnknownError,
        AppinhouseCode::InvalidParameter,
        AppinhouseCode::PageOutOfRange,
        AppinhouseCode::PlistError,
        AppinhouseCode::ArchiveMissing,
        AppinhouseCode::DeleteFileError,
        AppinhouseCode::TimeFormat,
        AppinhouseCode::DatabaseError,
        AppinhouseCode::AppNotFound,
        AppinhouseCode::AppExists,
        AppinhouseCode::SecretKey,
    ];

    /// The number answered in `code`.
    pub fn number(self) -> i32 {
        match self {
            AppinhouseCode::SystemError => -1,
            AppinhouseCode::UnknownError => -2,
            AppinhouseCode::InvalidParameter => 1001,
            AppinhouseCode::PageOutOfRange => 1002,
            AppinhouseCode::PlistError => 1003,
            AppinhouseCode::ArchiveMissing => 1004,
            AppinhouseCode::DeleteFileError => 1005,
            AppinhouseCode::TimeFormat => 1006,
            AppinhouseCode::DatabaseError => 1007,
            AppinhouseCode::AppNotFound => 1008,
            AppinhouseCode::AppExists => 1009,
            AppinhouseCode::SecretKey => 1010,
        }
    }

    /// The code of a number, if it is one.
    pub fn from_number(number: i32) -> Option<AppinhouseCode> {
        AppinhouseCode::ALL
            .iter()
            .copied()
            .find(|code| code.number() == number)
    }

    /// The gRPC status code it travels with.
    pub fn grpc_code(self) -> GrpcCode {
        match self {
            AppinhouseCode::SystemError | AppinhouseCode::UnknownError => GrpcCode::Internal,
            AppinhouseCode::PlistError
            | AppinhouseCode::DeleteFileError
            | AppinhouseCode::DatabaseError => GrpcCode::Internal,
            AppinhouseCode::InvalidParameter
            | AppinhouseCode::PageOutOfRange
            | AppinhouseCode::TimeFormat => GrpcCode::InvalidArgument,
            AppinhouseCode::ArchiveMissing | AppinhouseCode::AppNotFound => GrpcCode::NotFound,
            AppinhouseCode::AppExists => GrpcCode::AlreadyExists,
            AppinhouseCode::SecretKey => GrpcCode::Unauthenticated,
        }
    }

    /// A status carrying this code and `message`.
    /// A request value in `message` travels only as an excerpt ([`crate::excerpt::bound_message`]).
    pub fn status(self, message: impl Into<String>) -> Status {
        let message = crate::excerpt::bound_message(&message.into());
        let mut status = Status::new(self.grpc_code(), message);
        if let Ok(value) = MetadataValue::try_from(self.number().to_string()) {
            status.metadata_mut().insert(CODE_METADATA_KEY, value);
        }
        status
    }

    /// The code a status carries; `-1` (system error) for a status without one.
    pub fn of_status(status: &Status) -> AppinhouseCode {
        status
            .metadata()
            .get(CODE_METADATA_KEY)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<i32>().ok())
            .and_then(AppinhouseCode::from_number)
            .unwrap_or(match status.code() {
                GrpcCode::Unauthenticated => AppinhouseCode::SecretKey,
                GrpcCode::InvalidArgument => AppinhouseCode::InvalidParameter,
                _ => AppinhouseCode::SystemError,
            })
    }
}

impl crate::error::WireCode for AppinhouseCode {
    fn status_code(self) -> GrpcCode {
        self.grpc_code()
    }

    fn status(self, message: String) -> Status {
        AppinhouseCode::status(self, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_a_status() {
        for code in AppinhouseCode::ALL {
            let status = code.status("x");
            assert_eq!(AppinhouseCode::of_status(&status), *code);
            assert_eq!(AppinhouseCode::from_number(code.number()), Some(*code));
        }
        assert_eq!(
            AppinhouseCode::of_status(&Status::unavailable("down")),
            AppinhouseCode::SystemError
        );
    }
}
