//! Request middleware: a span per request (continuing an incoming W3C trace, with request id and
//! trace id), one log line and metrics per request, and the token check of every non-public route.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{AUTHORIZATION, HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use common::{
    auth::JwtKeys,
    telemetry::{adopt_parent, extract_trace_context, trace_id_of},
};
use proto::ErrorReason;
use tracing::Instrument;

use crate::{
    clients::Caller,
    error::{ApiError, FailureMark},
    metrics::Metrics,
};

/// Header carrying the request id (taken from the caller when sane, else generated).
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Header answering the trace id of the request.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

/// Routes that need no token: login, operations, the OpenAPI document and its UI. appinhouse
/// routes are guarded by `X-SecretKey` instead (SPEC §6).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/api/auth/login" | "/healthz" | "/readyz" | "/metrics" | "/api/openapi.json" | "/api/docs"
    ) || ["/api/v2/", "/app/", "/download/", "/api/docs/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn request_id_of(request: &ServiceRequest) -> String {
    request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic())
        })
        .map(str::to_owned)
        .unwrap_or_else(common::ids::new_id)
}

/// Span, log line, metrics, request id and trace id of every request.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = request_id_of(&request);
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let span = tracing::info_span!("http", %method, %path, request_id = %request_id, trace_id = tracing::field::Empty);
    let headers = request.headers();
    adopt_parent(
        &span,
        extract_trace_context(|key| {
            headers
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        }),
    );
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let mut response = next
        .call(request)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();

    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let outcome = response
        .response()
        .extensions()
        .get::<FailureMark>()
        .map(|mark| mark.0.as_str())
        .unwrap_or("ok");
    let seconds = started.elapsed().as_secs_f64();
    if let Some(metrics) = metrics {
        metrics.observe(&route, &method, status, outcome, seconds);
    }
    span.in_scope(|| {
        tracing::info!(%route, status, outcome, latency_ms = (seconds * 1000.0).round() as u64, "http request");
    });
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    if let Some(trace_id) = trace_id_of(&span)
        && let Ok(value) = HeaderValue::from_str(&trace_id)
    {
        headers.insert(HeaderName::from_static(TRACE_ID_HEADER), value);
    }
    Ok(response)
}

/// Every route but the public ones needs `Authorization: Bearer <token>`; 401 otherwise.
pub async fn require_token(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if is_public(request.path()) {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(keys) = request.app_data::<web::Data<JwtKeys>>().cloned() else {
        let error = ApiError::new(ErrorReason::InternalError, "token keys are not configured");
        return Ok(request.error_response(error).map_into_boxed_body());
    };
    let header = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    // Signature, expiry, and the token's login session (revoked on logout, user deletion, role
    // or password change); an unanswerable session check refuses the request.
    match keys.authenticate(header.as_deref()).await {
        Ok(actor) => {
            request.extensions_mut().insert(Caller {
                token: actor.token,
                claims: actor.claims,
            });
            next.call(request)
                .await
                .map(ServiceResponse::map_into_boxed_body)
        }
        Err(error) => {
            let reason = if error.is_unavailable() {
                ErrorReason::ServiceUnavailable
            } else {
                ErrorReason::Unauthorized
            };
            let error = ApiError::new(reason, error.to_string());
            Ok(request.error_response(error).map_into_boxed_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_login_operations_docs_and_appinhouse_routes_are_public() {
        assert!(is_public("/api/auth/login"));
        assert!(is_public("/healthz"));
        assert!(!is_public("/api/app/productline/select"));
        assert!(!is_public("/api/admin/users"));
        assert!(is_public("/api/v2/apps"));
        assert!(is_public("/app/rog2"));
        assert!(is_public("/download/rog2/ios/1.0.0/a.ipa"));
        assert!(!is_public("/api/v2"));
        assert!(is_public("/api/openapi.json"));
        assert!(is_public("/api/docs"));
        assert!(is_public("/api/docs/index.html"));
        assert!(!is_public("/api/docsx"));
    }
}
