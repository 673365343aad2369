//! The console's app distribution pages (appinhouse, SPEC §6): the apps with their newest build
//! per platform, and one app's builds per platform, paged, with links to the public download
//! pages (`/app/{app}`, each build's permalink) and files. Reads go through the same appinhouse
//! calls as `GET /api/v2/...` with the browser's grant for a protected app; without one the app
//! shows the service's answer (it needs its password) instead of its builds.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use futures::{StreamExt, stream};
use proto::appinhouse::v1 as pb;
use serde::Serialize;

use super::{
    listing::PageQuery,
    path_segment as segment,
    review::capped,
    signed_in_frame,
    view::{Frame, render},
};
use crate::{
    clients::{Call, reply},
    error::ApiError,
    legacy::{
        appinhouse::{reader_request, request_base},
        appinhouse_pages::html,
    },
};

/// The platforms of SPEC §6, in the order the pages show them.
const PLATFORMS: [&str; 3] = ["ios", "android", "windows"];
/// Calls to the appinhouse service made at once for the app list.
const PARALLEL_CALLS: usize = 8;
/// Highest page number read from a URL.
const MAX_PAGE: usize = 100_000;

/// The page number of a list's query (1 when absent; refused, naming `page`, when not 1 or more).
fn page_of(query: &PageQuery) -> Result<String, ApiError> {
    Ok(query.page()?.min(MAX_PAGE).to_string())
}

/// One build as the pages show it.
#[derive(Debug, Serialize)]
struct BuildView {
    platform: String,
    version: String,
    label: String,
    time: String,
    description: String,
    size: String,
    installs: i64,
    /// The build's public page.
    permalink: String,
    /// The file (or the store page) to download.
    down: String,
}

/// An app of the list: its newest builds, or why they cannot be read.
#[derive(Debug, Serialize)]
struct AppView {
    name: String,
    /// The app's path segment, encoded.
    path: String,
    builds: Vec<BuildView>,
    problem: Option<String>,
}

#[derive(Debug, Serialize)]
struct AppsPage {
    #[serde(flatten)]
    frame: Frame,
    apps: Vec<AppView>,
    page: i64,
    total_page: i64,
    previous: Option<i64>,
    next: Option<i64>,
}

#[derive(Debug, Serialize)]
struct AppPage {
    #[serde(flatten)]
    frame: Frame,
    app: AppView,
    platforms: [&'static str; 3],
    platform: String,
    page: i64,
    total_page: i64,
    previous: Option<i64>,
    next: Option<i64>,
}

/// `12.3 MiB`, `512 KiB`, empty when the build is not hosted here.
fn size_text(bytes: i64) -> String {
    const KIB: f64 = 1024.0;
    let value = bytes as f64;
    match bytes {
        ..=0 => String::new(),
        1..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.0} KiB", value / KIB),
        _ => format!("{:.1} MiB", value / KIB / KIB),
    }
}

fn build_view(call: &Call, app: &str, build: pb::Build) -> BuildView {
    BuildView {
        permalink: format!(
            "/app/{}/{}/{}",
            segment(app),
            segment(&build.platform),
            segment(&build.version)
        ),
        time: call.times.render_unix_ms(build.time_ms),
        size: size_text(build.size),
        platform: build.platform,
        version: build.version,
        label: build.label,
        description: build.description,
        installs: build.installs,
        down: web_link(build.down),
    }
}

/// A link the page may show: `http(s)://` or a path on this server; anything else (a
/// `javascript:` or `data:` URL a build was recorded with) is not linked.
fn web_link(url: String) -> String {
    let lower = url.to_ascii_lowercase();
    let web = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"));
    if web { url } else { String::new() }
}

/// An app with its newest build per platform (or the service's refusal).
async fn app_with_last_builds(request: &HttpRequest, call: &Call, name: String) -> AppView {
    let message = pb::LastBuildsRequest {
        app: name.clone(),
        request_base_url: request_base(request),
    };
    let answer = reply(
        call.clients
            .appinhouse()
            .last_builds(reader_request(message, request, &name)),
    )
    .await;
    let (builds, problem) = match answer {
        Ok(list) => (
            list.builds
                .into_iter()
                .map(|build| build_view(call, &name, build))
                .collect(),
            None,
        ),
        Err(status) => (Vec::new(), Some(ApiError::from(status).info)),
    };
    AppView {
        path: segment(&name),
        name,
        builds,
        problem,
    }
}

fn neighbours(page: i64, total_page: i64) -> (Option<i64>, Option<i64>) {
    (
        (page > 1).then(|| page - 1),
        (page < total_page).then(|| page + 1),
    )
}

/// `GET /console/apps?page=`.
pub async fn apps_page(
    request: HttpRequest,
    call: Call,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let page = Some(page_of(&query)?);
    let list = reply(
        call.clients
            .appinhouse()
            .list_apps(pb::PageRequest { page }),
    )
    .await?;
    let apps = stream::iter(list.apps)
        .map(|name| app_with_last_builds(&request, &call, name))
        .buffered(PARALLEL_CALLS)
        .collect::<Vec<_>>()
        .await;
    let (previous, next) = neighbours(list.page, list.total_page);
    let view = AppsPage {
        frame: signed_in_frame(&request, &call.caller, "apps")?,
        apps,
        page: list.page,
        total_page: list.total_page,
        previous,
        next,
    };
    Ok(html(StatusCode::OK, render("apps.html", &view)?))
}

/// `GET /console/apps/{app}?platform=&page=`: one platform's builds, newest first.
pub async fn app_page(
    request: HttpRequest,
    call: Call,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let query = PageQuery::new(query.into_inner())?;
    let name = capped("app", &path)?.to_owned();
    let platform = match query.text("platform").as_str() {
        "" => PLATFORMS[0].to_owned(),
        wanted if PLATFORMS.contains(&wanted) => wanted.to_owned(),
        other => {
            return Err(ApiError::new(
                proto::ErrorReason::InvalidField,
                format!(
                    "field platform must be one of {}, not {:?}",
                    PLATFORMS.join(", "),
                    crate::error::excerpt(other)
                ),
            ));
        }
    };
    let message = pb::ListBuildsRequest {
        app: name.clone(),
        platform: platform.clone(),
        user_agent: String::new(),
        touch_hint: false,
        page: Some(page_of(&query)?),
        request_base_url: request_base(&request),
    };
    let answer = reply(
        call.clients
            .appinhouse()
            .list_builds(reader_request(message, &request, &name)),
    )
    .await;
    let (builds, problem, page, total_page) = match answer {
        Ok(list) => (
            list.builds
                .into_iter()
                .map(|build| build_view(&call, &name, build))
                .collect(),
            None,
            list.page,
            list.total_page,
        ),
        Err(status) => (Vec::new(), Some(ApiError::from(status).info), 1, 1),
    };
    let (previous, next) = neighbours(page, total_page);
    let view = AppPage {
        frame: signed_in_frame(&request, &call.caller, "apps")?,
        app: AppView {
            path: segment(&name),
            name,
            builds,
            problem,
        },
        platforms: PLATFORMS,
        platform,
        page,
        total_page,
        previous,
        next,
    };
    Ok(html(StatusCode::OK, render("app.html", &view)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_naturally_and_unhosted_builds_show_none() {
        assert_eq!(size_text(0), "");
        assert_eq!(size_text(900), "900 B");
        assert_eq!(size_text(524_288), "512 KiB");
        assert_eq!(size_text(12 * 1_048_576 + 400_000), "12.4 MiB");
        assert_eq!(neighbours(1, 1), (None, None));
        assert_eq!(neighbours(2, 3), (Some(1), Some(3)));
        assert_eq!(segment("my app/1.0-b_2~"), "my%20app%2F1.0-b_2~");
        assert_eq!(web_link("HTTPS://cdn/a.apk".into()), "HTTPS://cdn/a.apk");
        assert_eq!(
            web_link("/download/a/android/1/a.apk".into()),
            "/download/a/android/1/a.apk"
        );
        for refused in [
            "javascript:alert(1)",
            " javascript:x",
            "data:text/html,x",
            "//evil/x",
        ] {
            assert_eq!(web_link(refused.into()), "", "{refused}");
        }
    }
}
