//! Request middleware: a span per request (continuing an incoming W3C trace, with request id and
//! trace id), one log line and metrics per request, the access rule of each route (token and
//! roles, as the route table declares them), the audit trail's record of each refused write, and
//! the security headers of every answer.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{
        CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderName, HeaderValue, REFERRER_POLICY,
        X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    },
    middleware::Next,
    web,
};
use common::{
    auth::{JwtKeys, Role},
    telemetry::{adopt_parent, extract_trace_context, trace_id_of},
};
use proto::{ErrorLevel, ErrorReason, audit::v1 as pb};
use tracing::Instrument;

use crate::{
    clients::{Caller, Clients, reply},
    console::session,
    error::{ApiError, FailureMark, RefusalMark, excerpt},
    metrics::Metrics,
    refusal_limit::{Admission, RefusalLimiter, SUPPRESSED_ACTION},
    routes::ROUTES,
    routing::{self, Access},
};

/// Header carrying the request id (taken from the caller when sane, else generated).
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Header answering the trace id of the request.
pub const TRACE_ID_HEADER: &str = "x-trace-id";

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
    // The calls the handler makes carry the request's id and its client's address.
    let origin = common::telemetry::RequestOrigin {
        request_id: request_id.clone(),
        client_ip: request
            .peer_addr()
            .map(|address| address.ip().to_string())
            .unwrap_or_default(),
    };
    let mut response = origin
        .scope(next.call(request).instrument(span.clone()))
        .await?
        .map_into_boxed_body();

    let route =
        routing::matched_pattern(response.request()).unwrap_or_else(|| "unmatched".to_owned());
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

/// The access rule of the request's route (`routing::access_of` over the route table).
fn access(request: &ServiceRequest) -> Access {
    routing::access_of(
        ROUTES,
        routing::matched_pattern(request.request()).as_deref(),
        request.method(),
        request.path(),
    )
}

/// The roles a route needs (admins pass): the failure the handlers answered themselves before.
fn check_roles(caller: &Caller, roles: &[Role]) -> Result<(), ApiError> {
    if roles.is_empty() || caller.claims.may(roles) {
        return Ok(());
    }
    let names = routing::admitted_role_names(roles);
    Err(ApiError::new(
        ErrorReason::Forbidden,
        format!(
            "user {:?} lacks the {} role this needs",
            caller.claims.username(),
            names.join(" or ")
        ),
    ))
}

/// Applies each route's access rule: routes declared `Bearer` need `Authorization: Bearer
/// <token>` or the console's session cookie (401 otherwise; a console page redirects to the login
/// page instead) and the roles they name; a cookie-authenticated request that is not GET/HEAD
/// must also carry the session's CSRF token (403 otherwise; see `crate::console::session`).
/// Public and `X-SecretKey` routes pass (the appinhouse service checks the key).
pub async fn require_token(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Access::Bearer(roles) = access(&request) else {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(keys) = request.app_data::<web::Data<JwtKeys>>().cloned() else {
        let error = ApiError::new(ErrorReason::InternalError, "token keys are not configured");
        return Ok(request.error_response(error).map_into_boxed_body());
    };
    let (header, from_cookie) = session::credential(request.headers());
    // Signature, expiry, and the token's login session (revoked on logout, user deletion, role
    // or password change); an unanswerable session check refuses the request.
    match keys.authenticate(header.as_deref()).await {
        Ok(actor) => {
            let caller = Caller {
                token: actor.token,
                claims: actor.claims,
            };
            if from_cookie
                && !session::is_safe(request.method())
                && !session::carries_csrf(&mut request, &keys, &caller.token).await
            {
                let error = ApiError::new(
                    ErrorReason::Forbidden,
                    format!(
                        "a request authenticated by the session cookie must carry header {} (or the console form field {}) with the session's CSRF token",
                        session::CSRF_HEADER,
                        session::CSRF_FIELD
                    ),
                );
                // Refused as HTTP 403 (a domain `forbidden` answers 200 in the envelope).
                let mut response = request.error_response(error);
                *response.response_mut().status_mut() = actix_web::http::StatusCode::FORBIDDEN;
                return Ok(response.map_into_boxed_body());
            }
            let console_page = request.method() == actix_web::http::Method::GET
                && session::is_console_path(request.path());
            if let Err(error) = check_roles(&caller, roles) {
                // A console page a role may not see answers the console's failure page.
                let response = request.error_response(error).map_into_boxed_body();
                return Ok(if console_page {
                    console_failure_as_page(response, &caller)
                } else {
                    response
                });
            }
            let page_caller = console_page.then(|| caller.clone());
            request.extensions_mut().insert(caller);
            let response = next.call(request).await?.map_into_boxed_body();
            Ok(match page_caller {
                Some(caller) => console_failure_as_page(response, &caller),
                None => response,
            })
        }
        Err(error) => {
            let unavailable = error.is_unavailable();
            if !unavailable && session::is_console_path(request.path()) {
                // A browser without a (valid) session goes to the login page.
                let (request, _) = request.into_parts();
                let mut cookies = Vec::new();
                if from_cookie {
                    cookies.push(crate::console::cleared_session(&request));
                }
                let response = crate::console::see_other(session::LOGIN_PATH, &cookies);
                return Ok(ServiceResponse::new(request, response).map_into_boxed_body());
            }
            let reason = if unavailable {
                ErrorReason::ServiceUnavailable
            } else {
                ErrorReason::Unauthorized
            };
            let error = ApiError::new(reason, error.to_string());
            Ok(request.error_response(error).map_into_boxed_body())
        }
    }
}

/// A console page's failure (the JSON envelope of an `ApiError`) as the console's failure page.
fn console_failure_as_page(
    response: ServiceResponse<BoxBody>,
    caller: &Caller,
) -> ServiceResponse<BoxBody> {
    let failure = {
        let extensions = response.response().extensions();
        extensions.get::<FailureMark>().map(|mark| {
            let info = extensions
                .get::<crate::error::FailureInfo>()
                .map(|info| info.0.clone())
                .unwrap_or_default();
            (mark.0, info)
        })
    };
    let Some((reason, info)) = failure else {
        return response;
    };
    let (request, _) = response.into_parts();
    let page = crate::console::failure::failure_page(&request, caller, reason, &info);
    ServiceResponse::new(request, page).map_into_boxed_body()
}

/// The audit trail's refused writes (issue 20).
/// The reason a write's answer refused it, if it did (a caller's fault: a server fault or an
/// unavailable service is no refusal, and a write that failed records nothing).
fn refusal_of(response: &ServiceResponse<BoxBody>) -> Option<String> {
    let extensions = response.response().extensions();
    if let Some(FailureMark(reason)) = extensions.get::<FailureMark>() {
        return (reason.level() == ErrorLevel::Warning).then(|| reason.as_str().to_owned());
    }
    extensions
        .get::<RefusalMark>()
        .map(|refusal| refusal.0.to_owned())
}

/// The id of the object a write route's path names: the step's three segments, else the first
/// segment (`{id}`, `{key}`, `{app}`); empty when the path names none (a create). Read from the
/// path against the route's pattern (a request refused before routing has no match info).
fn object_id_of(pattern: &str, path: &str, object_kind: &str) -> String {
    let segments: Vec<String> = pattern
        .split('/')
        .zip(path.split('/'))
        .filter(|(declared, _)| declared.starts_with('{'))
        .map(|(_, sent)| {
            percent_encoding::percent_decode_str(sent)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let taken = if object_kind == "step" { 3 } else { 1 };
    let id = segments
        .into_iter()
        .take(taken)
        .collect::<Vec<_>>()
        .join("/");
    id.chars()
        .filter(|character| !character.is_control())
        .take(common::audit_rpc::MAX_FIELD_CHARS)
        .collect()
}

/// Records each refused write of a declared write route in svc-resource's trail, by the caller
/// (`anonymous` without valid credentials), before the answer leaves: the refusal is on record
/// when the caller reads it. A trail that cannot be written is logged, and the answer still goes.
pub async fn record_refusals(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let pattern = routing::matched_pattern(request.request());
    let audited = routing::audit_of(ROUTES, pattern.as_deref(), request.method());
    let (Some(audited), Some(pattern)) = (audited, pattern) else {
        return next
            .call(request)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let object_id = object_id_of(&pattern, request.path(), audited.object_kind);
    let clients = request.app_data::<web::Data<Clients>>().cloned();
    let limiter = request.app_data::<web::Data<RefusalLimiter>>().cloned();
    let response = next.call(request).await?.map_into_boxed_body();
    let (Some(reason), Some(clients)) = (refusal_of(&response), clients) else {
        return Ok(response);
    };
    let caller = response.request().extensions().get::<Caller>().cloned();
    let mut refusals = vec![pb::AuditRefusal {
        action: audited.action.to_owned(),
        object_kind: audited.object_kind.to_owned(),
        object_id,
        reason,
        suppressed: 0,
    }];
    // Without credentials: at most so many a minute per address (a flood cannot fill the trail).
    if caller.is_none()
        && let Some(limiter) = limiter
        && let Some(address) = response.request().peer_addr().map(|peer| peer.ip())
    {
        match limiter.admit(address, std::time::Instant::now()) {
            Admission::Record => {}
            Admission::RecordAfterSuppressed(suppressed) => refusals.push(pb::AuditRefusal {
                action: SUPPRESSED_ACTION.to_owned(),
                object_kind: "client".to_owned(),
                object_id: address.to_string(),
                reason: "too_many_refusals".to_owned(),
                suppressed: i64::try_from(suppressed).unwrap_or(i64::MAX),
            }),
            Admission::Suppress { first } => {
                if first {
                    tracing::warn!(client = %address, per_minute = limiter.per_minute(), "too many refused writes without credentials from one address: the rest of this minute are counted, not recorded one by one");
                }
                return Ok(response);
            }
        }
    }
    for refusal in refusals {
        if let Err(status) = reply(
            clients
                .resource(caller.as_ref())
                .record_audit_refusal(refusal),
        )
        .await
        {
            tracing::warn!(action = audited.action, error = %status.message(), "cannot record a refused write in the audit trail");
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_object_is_read_from_the_path_against_its_pattern() {
        let step = "/api/app/jobinstance/{id}/{cpm_id}/{sequence}/{cluster_id}/relation/cluster";
        assert_eq!(
            object_id_of(
                step,
                "/api/app/jobinstance/i1/m2/3/c4/relation/cluster",
                "step"
            ),
            "i1/m2/3"
        );
        assert_eq!(
            object_id_of(
                "/api/v2/{app}/delete/{platform}",
                "/api/v2/my%20app/delete/ios",
                "app"
            ),
            "my app"
        );
        assert_eq!(
            object_id_of("/api/auth/login", "/api/auth/login", "user"),
            ""
        );
        assert_eq!(
            object_id_of("/api/admin/users/{id}", "/api/admin/users/a%0Ab", "user"),
            "ab"
        );
    }

    use actix_web::{App, HttpResponse, middleware::from_fn, test as actix_test};

    use super::*;

    /// Answers the access rule of each request instead of serving it.
    async fn report_access(
        request: ServiceRequest,
        _next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<BoxBody>, Error> {
        let access = format!("{:?}", access(&request));
        Ok(request.into_response(HttpResponse::Ok().body(access)))
    }

    #[actix_web::test]
    async fn only_login_operations_docs_pages_and_appinhouse_routes_need_no_token() {
        let app = actix_test::init_service(
            App::new()
                .wrap(from_fn(report_access))
                .configure(crate::routes::configure),
        )
        .await;
        let cases = [
            ("POST", "/api/auth/login", "Public"),
            ("GET", "/healthz", "Public"),
            ("GET", "/api/app/productline/select", "Bearer([])"),
            ("GET", "/api/admin/users", "Bearer([])"),
            ("GET", "/api/admin/productlines", "Bearer([Auditor])"),
            ("POST", "/api/admin/productlines", "Bearer([])"),
            // another method of a known path: the token, not the roles
            ("PUT", "/api/admin/productlines", "Bearer([])"),
            ("GET", "/api/v2/apps", "Public"),
            ("POST", "/api/v2/rog2/create", "SecretKey"),
            ("GET", "/api/v2/rog2/create", "SecretKey"),
            ("GET", "/app/rog2", "Public"),
            ("GET", "/download/rog2/ios/1.0.0/a.ipa", "Public"),
            ("GET", "/api/v2", "Bearer([])"),
            ("GET", "/api/v2/a/b/c/d/e", "Public"),
            ("GET", "/api/openapi.json", "Public"),
            ("GET", "/api/docs", "Public"),
            ("GET", "/api/docs/index.html", "Public"),
            ("GET", "/api/docsx", "Bearer([])"),
            ("GET", "/favicon.ico", "Public"),
            ("GET", "/static/app-page.js", "Public"),
            ("GET", "/staticx", "Bearer([])"),
            ("GET", "/", "Bearer([])"),
            ("GET", "/console/dashboard", "Bearer([])"),
            ("POST", "/console/logout", "Bearer([])"),
            ("GET", "/console/login", "Public"),
            ("POST", "/console/login", "Public"),
            ("GET", "/console/lang", "Public"),
            ("GET", "/static/console.js", "Public"),
            ("GET", "/nowhere", "Bearer([])"),
        ];
        for (method, path, expected) in cases {
            let request = actix_test::TestRequest::default()
                .method(method.parse().expect("method"))
                .uri(path)
                .to_request();
            let body = actix_test::call_and_read_body(&app, request).await;
            assert_eq!(String::from_utf8_lossy(&body), expected, "{method} {path}");
        }
    }
}
