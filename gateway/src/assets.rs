//! Static files vendored into the binary: `/favicon.ico`, and the download page's and the
//! console's styles and scripts under `/static/` (files, not inline, so the page runs under a CSP without inline
//! script or style). Public and cacheable.

use actix_web::{
    HttpResponse,
    http::header::{CACHE_CONTROL, CONTENT_TYPE},
    web,
};
use proto::ErrorReason;

use crate::error::{ApiError, excerpt};

/// Browsers ask for it on every page view.
const FAVICON: &[u8] = include_bytes!("../assets/favicon.ico");

/// The files under `/static/`: name, media type, content.
const STATIC_FILES: &[(&str, &str, &[u8])] = &[
    (
        "app-page.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app-page.css"),
    ),
    (
        "app-page.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app-page.js"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console.js"),
    ),
    (
        "console-manage.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-manage.js"),
    ),
    (
        "console-instances.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-instances.js"),
    ),
    (
        "console-plan.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-plan.js"),
    ),
    (
        "console-approvals.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-approvals.js"),
    ),
    (
        "console-tokens.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-tokens.js"),
    ),
    (
        "console-run.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/console-run.css"),
    ),
    (
        "console-run.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/console-run.js"),
    ),
];

/// Cached for a day: the files change only with the binary.
const CACHE_FOR_A_DAY: &str = "public, max-age=86400";

fn file(content_type: &'static str, bytes: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .insert_header((CACHE_CONTROL, CACHE_FOR_A_DAY))
        .body(bytes)
}

/// `GET /favicon.ico`.
pub async fn favicon() -> HttpResponse {
    file("image/x-icon", FAVICON)
}

/// `GET /static/{file}`.
pub async fn static_file(name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    STATIC_FILES
        .iter()
        .find(|(file_name, _, _)| *file_name == name)
        .map(|(_, content_type, bytes)| file(content_type, bytes))
        .ok_or_else(|| {
            ApiError::new(
                ErrorReason::RouteNotFound,
                format!("no static file {:?}", excerpt(&name)),
            )
        })
}
