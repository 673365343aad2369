//! Failures of the gateway: a reason (the envelope's `code` and `level`) and a sentence naming the
//! field or object at fault, answered as the failure envelope. `tonic::Status` from a service maps
//! here. HTTP status: 200 for domain failures, 401 for a missing or bad token, 413 for an oversize
//! body, 404/405 for unknown routes, 408 for a body that stalled, 5xx only for real faults.
//! Answers and log lines repeat request input only as a short excerpt ([`excerpt`],
//! [`bound_message`]).

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use proto::ErrorReason;

use crate::envelope::FailureEnvelope;

pub use proto::excerpt::{EXCERPT_CHARS, MAX_MESSAGE_CHARS, bound_message, excerpt};

/// A failed request, answered as the failure envelope.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{info}")]
pub struct ApiError {
    pub reason: ErrorReason,
    pub info: String,
}

/// Marks a response as a failure so the metrics can count it by reason.
#[derive(Debug, Clone, Copy)]
pub struct FailureMark(pub ErrorReason);

/// The refusal an answer that is not a TAD envelope carries (an appinhouse `{code,msg}`
/// failure, a page's form refused): its reason, for the audit trail's record of refused writes.
#[derive(Debug, Clone)]
pub struct RefusalMark(pub &'static str);

/// `response`, marked as refused for `reason`.
pub fn mark_refused(
    mut response: actix_web::HttpResponse,
    reason: &'static str,
) -> actix_web::HttpResponse {
    response.extensions_mut().insert(RefusalMark(reason));
    response
}

/// The `info` of a failure's envelope, beside its [`FailureMark`] (a console page shows it).
#[derive(Debug, Clone)]
pub struct FailureInfo(pub String);

impl ApiError {
    pub fn new(reason: ErrorReason, info: impl Into<String>) -> ApiError {
        let info = info.into();
        let info = if info.len() > EXCERPT_CHARS {
            bound_message(&info)
        } else {
            info
        };
        ApiError { reason, info }
    }

    pub fn envelope(&self) -> FailureEnvelope {
        FailureEnvelope::new(
            self.info.clone(),
            self.reason.level().as_str(),
            self.reason.as_str(),
        )
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> ApiError {
        let reason = ErrorReason::of_status(&status);
        let info = match reason {
            ErrorReason::ServiceUnavailable if status.code() == tonic::Code::Unavailable => {
                tracing::error!(error = %excerpt(status.message()), "service unavailable");
                match status
                    .metadata()
                    .get(crate::failover::UNAVAILABLE_SERVICE)
                    .and_then(|service| service.to_str().ok())
                {
                    Some(service) => {
                        format!("the {service} service is unavailable; try again shortly")
                    }
                    None => "a backend service is unavailable; try again shortly".to_owned(),
                }
            }
            ErrorReason::InternalError => {
                tracing::error!(code = ?status.code(), error = %bound_message(status.message()), "service call failed");
                status.message().to_owned()
            }
            _ => status.message().to_owned(),
        };
        ApiError::new(reason, info)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self.reason {
            ErrorReason::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorReason::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorReason::RangeNotSatisfiable => StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorReason::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorReason::RouteNotFound => StatusCode::NOT_FOUND,
            ErrorReason::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorReason::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorReason::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::OK,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code()).json(self.envelope());
        response.extensions_mut().insert(FailureMark(self.reason));
        response
            .extensions_mut()
            .insert(FailureInfo(self.info.clone()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_wire_rules() {
        let cases = [
            (ErrorReason::ProductLineNotFound, 200),
            (ErrorReason::MissingField, 200),
            (ErrorReason::Forbidden, 200),
            (ErrorReason::Unauthorized, 401),
            (ErrorReason::PayloadTooLarge, 413),
            (ErrorReason::RequestTimeout, 408),
            (ErrorReason::InternalError, 500),
        ];
        for (reason, status) in cases {
            assert_eq!(
                ApiError::new(reason, "x").status_code().as_u16(),
                status,
                "{reason:?}"
            );
        }
    }

    #[test]
    fn a_service_status_keeps_its_reason_and_message() {
        let status = ErrorReason::ProductLineNotFound.status("product line \"9\" does not exist");
        let error = ApiError::from(status);
        let envelope = error.envelope();
        assert_eq!(envelope.code, "product_line_not_found");
        assert_eq!(envelope.level, "warning");
        assert_eq!(envelope.info, "product line \"9\" does not exist");
    }

    #[test]
    fn an_unreachable_service_is_named_with_503() {
        let mut status = tonic::Status::unavailable("the jobs service is unavailable");
        status.metadata_mut().insert(
            crate::failover::UNAVAILABLE_SERVICE,
            tonic::metadata::MetadataValue::from_static("jobs"),
        );
        let error = ApiError::from(status);
        assert_eq!(error.status_code().as_u16(), 503);
        assert_eq!(
            error.info,
            "the jobs service is unavailable; try again shortly"
        );
        assert_eq!(error.envelope().code, "service_unavailable");
    }

    #[test]
    fn long_request_values_are_cut_to_an_excerpt() {
        // `excerpt` and `bound_message` themselves are tested where they live (proto::excerpt).
        let value = "A".repeat(1_000_000);
        let message = format!("product line \"{value}\" does not exist");
        let error = ApiError::new(ErrorReason::InvalidField, message);
        assert!(error.info.len() < 100, "{}", error.info);
        let from_service =
            ApiError::from(ErrorReason::ProductLineNotFound.status(format!("x {value}")));
        assert!(from_service.info.len() < 100, "{}", from_service.info);
    }
}
