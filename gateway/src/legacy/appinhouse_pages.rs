//! The appinhouse download pages and what they link to (beyond the contract): `/app/{app}` (with
//! `?page=`, `?q=` search), a build's permalink page `/app/{app}/{platform}/{version}`, its
//! counted download link `.../install`, the password form of a protected app
//! (`POST /app/{app}/unlock`, CSRF-checked, which keeps the grant in a cookie), and the JSON
//! routes of install counts and protection (`/api/v2/{app}/installs`, `protect`, `share`).

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use proto::appinhouse::{AppinhouseCode, Refusal, v1 as pb};
use serde_json::{Map, json};
use subtle::ConstantTimeEq;

use super::appinhouse::{
    ACCESS_COOKIE_PREFIX, cookie, form_fields, ok, query_map, reader_request, request_base,
    secret_request, touch_hint, user_agent,
};
use crate::{
    clients::{Clients, reply},
    convert::{
        appinhouse::{Failure, parse_time_offset},
        appinhouse_page::{PageView, render, render_build, render_locked, render_message},
    },
    cookies::set_cookie,
    error::mark_refused,
};

type Answer = Result<HttpResponse, Failure>;

/// The cookie holding the CSRF token of the password form.
const CSRF_COOKIE: &str = "tad_csrf";
/// Longest search text read from the query, in bytes.
const MAX_QUERY_BYTES: usize = 256;

/// An HTML answer that is never cached (the console's pages too).
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Whether `app` can be an app's name (what svc-appinhouse accepts: `A-Z a-z 0-9 . _ -`, up to
/// 128 bytes): only such a name goes into a cookie's name or path.
fn app_name_like(app: &str) -> bool {
    !app.is_empty()
        && app.len() <= 128
        && app
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// The password form of a protected app, with a new CSRF token in its cookie.
fn locked_page(
    request: &HttpRequest,
    app: &str,
    problem: Option<&str>,
    throttled: bool,
) -> HttpResponse {
    if !app_name_like(app) {
        return html(StatusCode::NOT_FOUND, render_message("no such app"));
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let csrf = set_cookie(
        request,
        (CSRF_COOKIE, &token),
        &format!("/app/{app}"),
        3600,
        "Strict",
    );
    let status = if throttled {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNAUTHORIZED
    };
    let mut response = html(status, render_locked(app, &token, problem));
    if let Ok(value) = header::HeaderValue::from_str(&csrf) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The page a failed page read answers: the password form of a protected app, else the message.
fn failed_page(request: &HttpRequest, app: &str, status: tonic::Status) -> HttpResponse {
    let failure = Failure::from(status);
    let code = match failure.code {
        AppinhouseCode::SecretKey => {
            let throttled = failure.refusal == Some(Refusal::Throttled);
            return locked_page(request, app, None, throttled);
        }
        AppinhouseCode::AppNotFound | AppinhouseCode::ArchiveMissing => StatusCode::NOT_FOUND,
        AppinhouseCode::InvalidParameter => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html(code, render_message(&failure.msg))
}

/// The page the service made for `path` (what its QR code encodes), or the page of its failure.
fn page_answer(
    request: &HttpRequest,
    app: &str,
    path: &str,
    reply: Result<tonic::Response<pb::PageContent>, tonic::Status>,
    render_page: fn(&pb::PageContent, &PageView<'_>) -> String,
) -> HttpResponse {
    let time_offset = parse_time_offset(query_map(request).get("time_offset").map(String::as_str))
        .ok()
        .flatten();
    match reply {
        Ok(content) => {
            let content = content.into_inner();
            let page_url = format!("{}{path}", request_base(request));
            let view = PageView::of(&content, &page_url, time_offset);
            html(StatusCode::OK, render_page(&content, &view))
        }
        Err(status) => failed_page(request, app, status),
    }
}

/// `GET /app/{app}`: the download page.
pub async fn page(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> HttpResponse {
    let query = query_map(&request);
    let app = app.into_inner();
    let search = query
        .get("q")
        .filter(|text| text.len() <= MAX_QUERY_BYTES)
        .cloned()
        .unwrap_or_default();
    let message = pb::MobileRequest {
        app: app.clone(),
        user_agent: user_agent(&request),
        touch_hint: touch_hint(&request, &query),
        page: query.get("page").map(|page| common::limits::excerpt(page)),
        request_base_url: request_base(&request),
        query: search,
    };
    let call = reader_request(message, &request, &app);
    let reply = clients.appinhouse().app_page(call).await;
    page_answer(&request, &app, &format!("/app/{app}"), reply, render)
}

/// `GET /app/{app}/{platform}/{version}`: one build's page (its permalink).
pub async fn build_page(
    request: HttpRequest,
    clients: web::Data<Clients>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (app, platform, version) = path.into_inner();
    let query = query_map(&request);
    let message = pb::BuildPageRequest {
        build: Some(pb::BuildRef {
            app: app.clone(),
            platform: platform.clone(),
            version: version.clone(),
        }),
        user_agent: user_agent(&request),
        touch_hint: touch_hint(&request, &query),
        request_base_url: request_base(&request),
    };
    let call = reader_request(message, &request, &app);
    let reply = clients.appinhouse().build_page(call).await;
    let path = format!("/app/{app}/{platform}/{version}");
    page_answer(&request, &app, &path, reply, render_build)
}

/// `GET /app/{app}/{platform}/{version}/install`: counts an install, then redirects to the file.
pub async fn install(
    request: HttpRequest,
    clients: web::Data<Clients>,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (app, platform, version) = path.into_inner();
    let message = pb::BuildRef {
        app: app.clone(),
        platform,
        version,
    };
    let call = reader_request(message, &request, &app);
    match clients.appinhouse().install_build(call).await {
        Ok(target) => {
            let url = target.into_inner().url;
            let location = crate::convert::appinhouse_page::safe_href(&url);
            HttpResponse::Found()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        Err(status) => failed_page(&request, &app, status),
    }
}

/// `POST /app/{app}/unlock` (form `password`, `csrf`): the page password of a protected app,
/// traded for a grant kept in an HttpOnly cookie; then back to the page.
pub async fn unlock(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> HttpResponse {
    let app = app.into_inner();
    let fields = match form_fields(&request, payload).await {
        Ok(fields) => fields,
        Err(failure) => {
            let page = locked_page(&request, &app, Some(&failure.msg), false);
            return mark_refused(page, "invalid_parameter");
        }
    };
    let sent = fields.get("csrf").map(String::as_str).unwrap_or_default();
    let expected = cookie(&request, CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        let page = locked_page(
            &request,
            &app,
            Some("The form expired; enter the password again."),
            false,
        );
        return mark_refused(page, "form_expired");
    }
    let message = pb::UnlockAppRequest {
        app: app.clone(),
        password: fields.get("password").cloned().unwrap_or_default(),
    };
    let grant = match clients.appinhouse().unlock_app(message).await {
        Ok(grant) => grant.into_inner(),
        Err(status) => {
            let failure = Failure::from(status);
            if failure.code == AppinhouseCode::AppNotFound {
                let page = html(StatusCode::NOT_FOUND, render_message(&failure.msg));
                return mark_refused(page, "app_not_found");
            }
            let throttled = failure.refusal == Some(Refusal::Throttled);
            let (problem, reason) = if throttled {
                (failure.msg, "too_many_attempts")
            } else {
                ("Wrong password.".to_owned(), "wrong_password")
            };
            return mark_refused(
                locked_page(&request, &app, Some(&problem), throttled),
                reason,
            );
        }
    };
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, format!("/app/{app}")));
    if !grant.access.is_empty() {
        let lifetime = grant.expires_unix - chrono::Utc::now().timestamp();
        let name = format!("{ACCESS_COOKIE_PREFIX}{app}");
        let access = set_cookie(&request, (&name, &grant.access), "/", lifetime, "Lax");
        response.append_header((header::SET_COOKIE, access));
    }
    response.finish()
}

/// `GET /api/v2/{app}/installs`: every build of the app that was installed, with its count.
pub async fn installs(
    request: HttpRequest,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let app = app.into_inner();
    let call = reader_request(pb::AppRef { app: app.clone() }, &request, &app);
    let list = reply(clients.appinhouse().list_installs(call)).await?;
    let items: Vec<_> = list
        .builds
        .into_iter()
        .map(|count| {
            json!({
                "platform": count.platform,
                "version": count.version,
                "installs": count.installs,
            })
        })
        .collect();
    let mut extra = Map::new();
    extra.insert("items".to_owned(), json!(items));
    Ok(ok(extra))
}

/// `POST /api/v2/{app}/protect` (X-SecretKey; form `password`, empty to lift the protection).
pub async fn protect(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let fields = form_fields(&request, payload).await?;
    let message = pb::ProtectAppRequest {
        app: app.into_inner(),
        password: fields.get("password").cloned().unwrap_or_default(),
    };
    clients
        .appinhouse()
        .protect_app(secret_request(message, &request))
        .await?;
    Ok(ok(Map::new()))
}

/// `POST /api/v2/{app}/share` (X-SecretKey; form `hours`, default 24): a signed link to the page
/// of a protected app that expires.
pub async fn share(
    request: HttpRequest,
    payload: web::Payload,
    clients: web::Data<Clients>,
    app: web::Path<String>,
) -> Answer {
    let app = app.into_inner();
    let fields = form_fields(&request, payload).await?;
    let hours = match fields.get("hours").map(|text| text.trim()) {
        None | Some("") => 24,
        Some(text) => text.parse::<i64>().map_err(|_| {
            Failure::new(
                AppinhouseCode::InvalidParameter,
                format!("hours: {:?} is not a number", common::limits::excerpt(text)),
            )
        })?,
    };
    let message = pb::ShareAppRequest {
        app: app.clone(),
        hours,
    };
    let grant = reply(
        clients
            .appinhouse()
            .share_app(secret_request(message, &request)),
    )
    .await?;
    let base = request_base(&request);
    let mut extra = Map::new();
    extra.insert(
        "url".to_owned(),
        json!(format!("{base}/app/{app}?access={}", grant.access)),
    );
    extra.insert("access".to_owned(), json!(grant.access));
    extra.insert("expires_unix".to_owned(), json!(grant.expires_unix));
    Ok(ok(extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_app_like_names_reach_a_cookie() {
        let request = actix_web::test::TestRequest::default().to_http_request();
        let locked = locked_page(&request, "rog2", None, false);
        assert_eq!(locked.status(), StatusCode::UNAUTHORIZED);
        let cookie = locked
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        assert!(cookie.starts_with("tad_csrf="), "{cookie}");
        assert!(
            cookie.contains("; Path=/app/rog2; ") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        for hostile in ["x; Domain=evil.example", "a/b", "", &"x".repeat(129)] {
            let answer = locked_page(&request, hostile, None, false);
            assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{hostile:?}");
            assert!(
                answer.headers().get(header::SET_COOKIE).is_none(),
                "{hostile:?}"
            );
        }
    }
}
