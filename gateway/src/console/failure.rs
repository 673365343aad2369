//! A console page that failed (an unknown id, a refused filter, a service down) answers an HTML
//! page in the console's frame, in the page's language, saying what failed, with the HTTP status
//! of the failure (404, 400, 403, 503, ...), instead of the JSON envelope the API answers. The
//! middleware (`crate::middleware::require_token`) turns a console GET's failure into this page.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode};
use proto::ErrorReason;
use serde::Serialize;
use tonic::Code;

use super::{
    signed_in_frame,
    view::{Frame, render},
};
use crate::{clients::Caller, error::FailureMark, legacy::appinhouse_pages::html};

#[derive(Debug, Serialize)]
struct FailurePage {
    #[serde(flatten)]
    frame: Frame,
    status: u16,
    code: &'static str,
    info: String,
}

/// The HTTP status of a failed page: by the kind of failure its reason travels as.
pub fn page_status(reason: ErrorReason) -> StatusCode {
    match reason.grpc_code() {
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

/// The page of a failure of `reason` saying `info`; plain text if even that cannot render.
pub fn failure_page(
    request: &HttpRequest,
    caller: &Caller,
    reason: ErrorReason,
    info: &str,
) -> HttpResponse {
    let status = page_status(reason);
    let page = signed_in_frame(request, caller, "failure").and_then(|frame| {
        render(
            "failure.html",
            &FailurePage {
                frame,
                status: status.as_u16(),
                code: reason.as_str(),
                info: info.to_owned(),
            },
        )
    });
    let mut response = match page {
        Ok(page) => html(status, page),
        Err(_) => HttpResponse::build(status)
            .content_type("text/plain; charset=utf-8")
            .body(format!("{}: {info}", reason.as_str())),
    };
    // Counted by the metrics as the failure it is.
    response.extensions_mut().insert(FailureMark(reason));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_answer_the_status_of_their_kind() {
        let cases = [
            (ErrorReason::ScriptNotFound, 404),
            (ErrorReason::ClusterNotFound, 404),
            (ErrorReason::InvalidField, 400),
            (ErrorReason::Forbidden, 403),
            (ErrorReason::ServiceUnavailable, 503),
            (ErrorReason::InternalError, 500),
        ];
        for (reason, status) in cases {
            assert_eq!(page_status(reason).as_u16(), status, "{reason:?}");
        }
    }
}
