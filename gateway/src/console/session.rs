//! The console's cookie session and its CSRF rule. The session is the login's JWT in the cookie
//! `tad_session` (HttpOnly, SameSite=Strict, Path=/, Secure on https, Max-Age the token's life);
//! the gateway accepts it wherever it accepts `Authorization: Bearer` (same verification, same
//! revocation; the header wins when both are sent). A cookie-authenticated request that is not
//! GET/HEAD must carry the session's CSRF token — header `X-CSRF-Token`, or the form field `csrf`
//! of a console form (`/console/...`, urlencoded) — else it is refused with 403. The token is an
//! HMAC of the session's JWT under a key derived from the server secret
//! ([`common::auth::JwtKeys::csrf_token`]): nothing to store, it dies with the session, and a
//! page of this origin gets it from its `<meta name="tad-csrf">` (the cookie itself is HttpOnly).

use actix_web::{
    HttpMessage,
    dev::{Payload, ServiceRequest},
    http::{
        Method,
        header::{self, HeaderMap},
    },
    web::BytesMut,
};
use common::auth::JwtKeys;

pub use crate::cookies::{cookie_value, set_cookie};
use futures::StreamExt;

/// The cookie holding the session's JWT.
pub const SESSION_COOKIE: &str = "tad_session";
/// The header carrying the CSRF token of a cookie session.
pub const CSRF_HEADER: &str = "X-CSRF-Token";
/// The form field carrying it in the console's own forms.
pub const CSRF_FIELD: &str = "csrf";
/// Where console pages live (besides `/`): a request to them without a session is sent to the
/// login page instead of answered 401.
pub const CONSOLE_PREFIX: &str = "/console/";
/// The login page.
pub const LOGIN_PATH: &str = "/console/login";
/// The dashboard (where `/` and a login lead).
pub const DASHBOARD_PATH: &str = "/console/dashboard";
/// Largest console form body read for its `csrf` field.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// Longest cookie value taken as a session token.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Whether the request's path is a console page (`/` or under `/console/`).
pub fn is_console_path(path: &str) -> bool {
    path == "/" || path.starts_with(CONSOLE_PREFIX)
}

/// The credential of a request: its `Authorization` header, else the session cookie as a bearer
/// header value; and whether it came from the cookie.
pub fn credential(headers: &HeaderMap) -> (Option<String>, bool) {
    if let Some(header) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    {
        return (Some(header.to_owned()), false);
    }
    match cookie_value(headers, SESSION_COOKIE)
        .filter(|token| !token.is_empty() && token.len() <= MAX_TOKEN_BYTES)
    {
        Some(token) => (Some(format!("Bearer {token}")), true),
        None => (None, false),
    }
}

/// Whether a method changes nothing (no CSRF token needed).
pub fn is_safe(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Whether a cookie-authenticated request carries the CSRF token of its session `token`: the
/// header, or (console forms only) the form field, read here and put back for the handler.
pub async fn carries_csrf(request: &mut ServiceRequest, keys: &JwtKeys, token: &str) -> bool {
    if let Some(presented) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
    {
        return keys.csrf_matches(token, presented);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form || !request.path().starts_with(CONSOLE_PREFIX) {
        return false;
    }
    form_field(request, CSRF_FIELD)
        .await
        .is_some_and(|presented| keys.csrf_matches(token, &presented))
}

/// Reads an urlencoded body (up to [`MAX_FORM_BYTES`]) for one field, and puts the body back.
async fn form_field(request: &mut ServiceRequest, name: &str) -> Option<String> {
    let mut payload = request.take_payload();
    let mut body = BytesMut::new();
    let mut complete = true;
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(chunk) if body.len() + chunk.len() <= MAX_FORM_BYTES => {
                body.extend_from_slice(&chunk);
            }
            _ => {
                complete = false;
                break;
            }
        }
    }
    let body = body.freeze();
    let value = complete
        .then(|| {
            form_urlencoded::parse(&body)
                .find(|(field, _)| field == name)
                .map(|(_, value)| value.into_owned())
        })
        .flatten();
    request.set_payload(Payload::from(body));
    value
}

#[cfg(test)]
mod tests {
    use actix_web::{http::header::HeaderValue, test::TestRequest};

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn the_authorization_header_wins_over_the_cookie() {
        let both = headers(&[
            (header::AUTHORIZATION, "Bearer from-header"),
            (header::COOKIE, "lang=en; tad_session=from-cookie"),
        ]);
        assert_eq!(
            credential(&both),
            (Some("Bearer from-header".to_owned()), false)
        );
        let cookie = headers(&[(header::COOKIE, "lang=en; tad_session=from-cookie")]);
        assert_eq!(
            credential(&cookie),
            (Some("Bearer from-cookie".to_owned()), true)
        );
        let empty = headers(&[(header::COOKIE, "tad_session=")]);
        assert_eq!(credential(&empty), (None, false));
        assert_eq!(credential(&HeaderMap::new()), (None, false));
    }

    #[actix_web::test]
    async fn a_console_form_carries_its_csrf_field_and_keeps_its_body() {
        let keys = JwtKeys::new(b"0123456789abcdef0123456789abcdef");
        let csrf = keys.csrf_token("session-token");
        let body = format!("next=%2F&csrf={csrf}");
        let mut request = TestRequest::post()
            .uri("/console/logout")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(body.clone())
            .to_srv_request();
        assert!(carries_csrf(&mut request, &keys, "session-token").await);
        let mut kept = request.take_payload();
        let mut read = Vec::new();
        while let Some(chunk) = kept.next().await {
            read.extend_from_slice(&chunk.expect("chunk"));
        }
        assert_eq!(read, body.as_bytes());

        // The same form on an API route, or with another session's token, does not pass.
        let mut api = TestRequest::post()
            .uri("/api/auth/logout")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(format!("csrf={csrf}"))
            .to_srv_request();
        assert!(!carries_csrf(&mut api, &keys, "session-token").await);
        let mut header_only = TestRequest::post()
            .uri("/api/auth/logout")
            .insert_header((CSRF_HEADER, csrf.as_str()))
            .to_srv_request();
        assert!(carries_csrf(&mut header_only, &keys, "session-token").await);
        assert!(!carries_csrf(&mut header_only, &keys, "another-token").await);
    }

    #[test]
    fn console_paths_are_the_root_and_the_console_tree() {
        assert!(is_console_path("/"));
        assert!(is_console_path("/console/dashboard"));
        assert!(!is_console_path("/api/auth/me"));
        assert!(!is_console_path("/consolex"));
    }
}
