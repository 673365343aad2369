//! Cookies of the pages (the console's session and language, the download page's grants and
//! form tokens): reading one from the request's `Cookie` headers, and the `Set-Cookie` value of
//! one with the attributes every page cookie has.

use actix_web::{
    HttpRequest,
    http::header::{self, HeaderMap},
};

/// The value of cookie `name` among the `Cookie` headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .filter_map(|cookie| cookie.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, with its path, life, SameSite and, on https, Secure. `name`
/// and `value` are tokens made here (cookie names, hex digits, a JWT, a language tag).
pub fn set_cookie(
    request: &HttpRequest,
    (name, value): (&str, &str),
    path: &str,
    max_age_seconds: i64,
    same_site: &str,
) -> String {
    let secure = if request.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite={same_site}{secure}",
        max_age_seconds.max(0)
    )
}
