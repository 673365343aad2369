//! Request middleware: a span per request (continuing an incoming W3C trace, with request id and
//! trace id), one log line and metrics per request, the token check of every non-public route,
//! and the security headers of every answer.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{
        AUTHORIZATION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderName, HeaderValue,
        REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    },
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
    error::{ApiError, FailureMark, excerpt},
    metrics::Metrics,
};

/// Header carrying the request id (taken from the caller when sane, else generated).
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Header answering the trace id of the request.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

/// Routes that need no token: login, operations, the OpenAPI document and its UI, the favicon
/// and the pages' static assets. appinhouse routes are guarded by `X-SecretKey` instead (SPEC §6).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/api/auth/login"
            | "/healthz"
            | "/readyz"
            | "/metrics"
            | "/api/openapi.json"
            | "/api/docs"
            | "/favicon.ico"
    ) || ["/api/v2/", "/app/", "/download/", "/api/docs/", "/static/"]
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
    let path = excerpt(request.path()).into_owned();
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

/// Policy of the HTML pages: no inline script or style, nothing from elsewhere, no framing.
/// Images may be `data:` URLs (the QR code of the download page).
pub const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";
/// Policy of the Swagger UI under `/api/docs`: its scripts are its own files (no inline script),
/// but it styles elements inline.
pub const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";
/// Policy of every other answer (JSON, downloads): nothing in it may load or run anything, so a
/// stored file opened in a browser cannot script this origin.
pub const DATA_POLICY: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'; sandbox";

/// Security headers of every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
/// `Referrer-Policy: no-referrer` and a Content-Security-Policy (per kind of answer, see the
/// policies above). A header a handler set itself is kept.
pub async fn security_headers(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let docs =
        request.path() == crate::openapi::DOCS_PATH || request.path().starts_with("/api/docs/");
    let mut response = next.call(request).await?.map_into_boxed_body();
    let headers = response.headers_mut();
    let is_html = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("text/html")
        });
    let policy = match (is_html, docs) {
        (true, true) => DOCS_POLICY,
        (true, false) => PAGE_POLICY,
        (false, _) => DATA_POLICY,
    };
    for (name, value) in [
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (X_FRAME_OPTIONS, "DENY"),
        (REFERRER_POLICY, "no-referrer"),
        (CONTENT_SECURITY_POLICY, policy),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
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
        assert!(is_public("/favicon.ico"));
        assert!(is_public("/static/app-page.js"));
        assert!(!is_public("/staticx"));
    }
}
