//! The web console (issue 18), first slice: login and logout, the layout, zh-CN/English, and the
//! dashboard, server-rendered from the one binary (templates in `view.rs`, script and style in
//! `gateway/assets/console.*`, no inline script). The console calls the same services with the
//! same rules as the JSON API: login is the resource service's login (rate limit included), the
//! session is the login's JWT in a cookie (`session.rs`), and the dashboard reads with the
//! caller's token. Without a valid session a console page redirects to the login page (the
//! middleware, see `crate::middleware::require_token`).

pub mod approvals;
pub mod apps;
pub mod audit;
pub mod dashboard;
pub mod failure;
pub mod i18n;
pub mod instance;
pub mod instance_steps;
pub mod instances;
pub mod joint_lines;
pub mod listing;
pub mod messages;
pub mod resources;
pub mod review;
pub mod run;
pub mod session;
pub mod tokens;
pub mod view;

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use common::auth::JwtKeys;
use proto::{ErrorReason, resource::v1 as pb};
use subtle::ConstantTimeEq;

use self::{
    i18n::{LANG_COOKIE, Lang},
    session::{DASHBOARD_PATH, LOGIN_PATH, SESSION_COOKIE, set_cookie},
    view::{DashboardPage, Frame, LoginView, UserView, render},
};
use crate::{
    clients::{Call, Caller, Clients, reply},
    convert::catalog::LoginBody,
    error::{ApiError, mark_refused},
    legacy::{
        appinhouse_pages::html,
        auth::{MAX_USERNAME_CHARS, check_login},
    },
};

/// What a console link encodes in a path segment: everything but letters, digits and `-._~`.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` as one path segment of a console link.
pub(crate) fn path_segment(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, PATH_SEGMENT).to_string()
}

/// Every page's messages (`i18n::Catalogue`): the frame's and the dashboard's, then each other
/// page's from its module. Keys are unique over all of them (a test checks it).
pub const CATALOGUES: &[i18n::Catalogue] = &[
    i18n::COMMON,
    instances::MESSAGES,
    instance::MESSAGES,
    joint_lines::MESSAGES,
    messages::review::MESSAGES,
    messages::resources::MESSAGES,
    messages::apps::MESSAGES,
    messages::audit::MESSAGES,
    messages::approvals::MESSAGES,
    messages::failure::MESSAGES,
    messages::run::MESSAGES,
    tokens::MESSAGES,
];

/// What the first start did about the admin user, shown on the login page while the process
/// that created the user runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstStart {
    /// Its password was generated and printed once on `tad serve`'s console output.
    GeneratedPassword,
    /// Its password is `TAD_ADMIN_PASSWORD`.
    ConfiguredPassword,
}

/// The console's settings (an actix `app_data`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConsoleSettings {
    pub first_start: Option<FirstStart>,
}

/// The cookie of the login form's CSRF token (the form has no session yet).
const LOGIN_CSRF_COOKIE: &str = "tad_login_csrf";
/// Life of the login form's token and of the language choice.
const LOGIN_FORM_SECONDS: i64 = 3600;
const LANG_COOKIE_SECONDS: i64 = 365 * 24 * 3600;
/// Longest CSRF field read from the login form.
const MAX_CSRF_BYTES: usize = 128;
/// How often the dashboard reloads itself.
const DASHBOARD_REFRESH_SECONDS: u32 = 5;

/// `303 See Other` to `location`, with cookies to set.
pub(crate) fn see_other(location: &str, cookies: &[String]) -> HttpResponse {
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    for cookie in cookies {
        if let Ok(value) = header::HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The header's view of the caller.
fn user_view(caller: &Caller) -> UserView {
    UserView {
        name: caller.claims.username().to_owned(),
        roles: caller.claims.roles.join(", "),
        reads_audit: caller.claims.may(&[common::auth::Role::Auditor]),
    }
}

/// The frame of a signed-in page, with the CSRF token of the caller's session.
fn signed_in_frame(
    request: &HttpRequest,
    caller: &Caller,
    page: &'static str,
) -> Result<Frame, ApiError> {
    let keys = request.app_data::<web::Data<JwtKeys>>().ok_or_else(|| {
        ApiError::new(ErrorReason::InternalError, "token keys are not configured")
    })?;
    Ok(Frame::new(
        Lang::of_request(request),
        page,
        Some(user_view(caller)),
        Some(keys.csrf_token(&caller.token)),
    ))
}

/// `GET /`: the dashboard (the middleware sends a visitor without a session to the login page).
pub async fn home(_caller: Caller) -> HttpResponse {
    see_other(DASHBOARD_PATH, &[])
}

/// `GET /console/dashboard`.
pub async fn dashboard_page(request: HttpRequest, call: Call) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let dashboard = dashboard::load(&call, lang).await?;
    let page = DashboardPage {
        frame: signed_in_frame(&request, &call.caller, "dashboard")?,
        dashboard,
        refresh_seconds: DASHBOARD_REFRESH_SECONDS,
        rendered_at: call
            .times
            .render_unix_ms(chrono::Utc::now().timestamp_millis()),
    };
    Ok(html(StatusCode::OK, render("dashboard.html", &page)?))
}

/// `GET /console/runs/{id}`: the run tree and the controls the caller's roles allow; the page's
/// script follows the run's events and host logs through the JSON routes.
pub async fn run_page(
    request: HttpRequest,
    call: Call,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(&request);
    let run = run::load(&call, lang, &id.into_inner()).await?;
    let page = run::RunPage {
        frame: signed_in_frame(&request, &call.caller, "run")?,
        run,
    };
    Ok(html(StatusCode::OK, render("run.html", &page)?))
}

/// The login page: a new form token in its cookie, the first-start note, the last problem.
fn login_form(
    request: &HttpRequest,
    status: StatusCode,
    problem: Option<String>,
    username: &str,
) -> Result<HttpResponse, ApiError> {
    let lang = Lang::of_request(request);
    let messages = lang.messages();
    let first_start = request
        .app_data::<web::Data<ConsoleSettings>>()
        .and_then(|settings| settings.first_start);
    let note = first_start.map(|first_start| {
        let key = match first_start {
            FirstStart::GeneratedPassword => "login_generated_password",
            FirstStart::ConfiguredPassword => "login_configured_password",
        };
        messages.get(key).copied().unwrap_or_default().to_owned()
    });
    let token = uuid::Uuid::new_v4().simple().to_string();
    let page = LoginView {
        frame: Frame::new(lang, "login", None, None),
        note,
        problem,
        username: username.to_owned(),
        login_csrf: token.clone(),
    };
    let mut response = html(status, render("login.html", &page)?);
    let cookie = set_cookie(
        request,
        (LOGIN_CSRF_COOKIE, &token),
        LOGIN_PATH,
        LOGIN_FORM_SECONDS,
        "Strict",
    );
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `GET /console/login`.
pub async fn login_page(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    login_form(&request, StatusCode::OK, None, "")
}

/// The body limit of the login form (as the JSON login's).
pub fn login_form_limit() -> web::PayloadConfig {
    web::PayloadConfig::new(crate::legacy::auth::LOGIN_BODY_BYTES)
}

/// The field of a console form that changes something: the session's CSRF token.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct CsrfForm {
    /// The CSRF token of the session (the page's `<meta name="tad-csrf">`).
    #[schema(max_length = 64)]
    pub csrf: String,
}

/// The fields of the login form.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct LoginForm {
    #[schema(max_length = 128)]
    pub username: String,
    #[schema(max_length = 1024)]
    pub password: String,
    /// The form's token (from the login page).
    #[schema(max_length = 128)]
    pub csrf: String,
}

impl LoginForm {
    fn parse(body: &[u8]) -> LoginForm {
        let mut form = LoginForm::default();
        for (name, value) in form_urlencoded::parse(body) {
            match name.as_ref() {
                "username" => form.username = value.into_owned(),
                "password" => form.password = value.into_owned(),
                "csrf" => form.csrf = value.into_owned(),
                _ => {}
            }
        }
        form
    }

    /// The JSON login's field caps, then the form token's (named in the answer).
    fn check(self) -> Result<(LoginBody, String), String> {
        let body = LoginBody {
            username: self.username,
            password: self.password,
        };
        check_login(&body).map_err(|error| error.info)?;
        if self.csrf.len() > MAX_CSRF_BYTES {
            return Err(format!("field csrf must be at most {MAX_CSRF_BYTES} bytes"));
        }
        Ok((body, self.csrf))
    }
}

/// `POST /console/login` (form `username`, `password`, `csrf`): the resource service's login,
/// as `POST /api/auth/login`; on success the token becomes the session cookie and the browser
/// goes to the dashboard, else the form again with the problem (401, 429 when rate-limited).
pub async fn login(
    request: HttpRequest,
    clients: web::Data<Clients>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let form = LoginForm::parse(&body);
    let username = form
        .username
        .chars()
        .take(MAX_USERNAME_CHARS)
        .collect::<String>();
    let messages = Lang::of_request(&request).messages();
    let message = |key: &str| messages.get(key).copied().unwrap_or_default().to_owned();
    let (body, csrf) = match form.check() {
        Ok(checked) => checked,
        Err(problem) => {
            return login_form(&request, StatusCode::BAD_REQUEST, Some(problem), &username)
                .map(|page| mark_refused(page, ErrorReason::InvalidField.as_str()));
        }
    };
    let expected = session::cookie_value(request.headers(), LOGIN_CSRF_COOKIE).unwrap_or_default();
    let form_token_matches =
        !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(csrf.as_bytes()));
    if !form_token_matches {
        let problem = Some(message("login_expired_form"));
        return login_form(&request, StatusCode::FORBIDDEN, problem, &username)
            .map(|page| mark_refused(page, ErrorReason::Forbidden.as_str()));
    }
    let login = pb::LoginRequest {
        username: body.username,
        password: body.password,
    };
    let answer = match reply(clients.resource(None).login(login)).await {
        Ok(answer) => answer,
        Err(status) => {
            let error = ApiError::from(status);
            let (status, problem) = match error.reason {
                ErrorReason::InvalidCredentials | ErrorReason::Unauthorized => {
                    (StatusCode::UNAUTHORIZED, message("login_failed"))
                }
                ErrorReason::TooManyLoginAttempts => {
                    (StatusCode::TOO_MANY_REQUESTS, message("login_throttled"))
                }
                ErrorReason::ServiceUnavailable => (StatusCode::SERVICE_UNAVAILABLE, error.info),
                _ => (StatusCode::BAD_REQUEST, error.info),
            };
            let page = login_form(&request, status, Some(problem), &username)?;
            // A refusal is on the audit trail; an unavailable service is no refusal.
            return Ok(if error.reason.level() == proto::ErrorLevel::Warning {
                mark_refused(page, error.reason.as_str())
            } else {
                page
            });
        }
    };
    let life_seconds = (answer.expires_at_ms - chrono::Utc::now().timestamp_millis()) / 1000;
    let session = set_cookie(
        &request,
        (SESSION_COOKIE, &answer.token),
        "/",
        life_seconds,
        "Strict",
    );
    let spent_form = set_cookie(&request, (LOGIN_CSRF_COOKIE, ""), LOGIN_PATH, 0, "Strict");
    Ok(see_other(DASHBOARD_PATH, &[session, spent_form]))
}

/// `POST /console/logout` (form `csrf`, checked by the middleware): ends the session as
/// `POST /api/auth/logout` does (the token answers 401 everywhere from now on), clears the
/// cookie and goes to the login page.
pub async fn logout(
    request: HttpRequest,
    caller: Caller,
    clients: web::Data<Clients>,
) -> Result<HttpResponse, ApiError> {
    reply(clients.resource(&caller).logout(pb::LogoutRequest {})).await?;
    Ok(see_other(LOGIN_PATH, &[cleared_session(&request)]))
}

/// The `Set-Cookie` that removes the session cookie.
pub fn cleared_session(request: &HttpRequest) -> String {
    set_cookie(request, (SESSION_COOKIE, ""), "/", 0, "Strict")
}

/// `GET /console/lang?to=zh-CN`: keeps the language in the `lang` cookie and goes back to the
/// console (`/`: the dashboard, or the login page without a session).
pub async fn switch_language(
    request: HttpRequest,
    query: web::Query<std::collections::HashMap<String, String>>,
) -> Result<HttpResponse, ApiError> {
    let wanted = query.get("to").map(String::as_str).unwrap_or_default();
    let lang = Lang::parse(wanted).ok_or_else(|| {
        ApiError::new(
            ErrorReason::InvalidField,
            format!(
                "field to must be zh-CN or en, not {:?}",
                crate::error::excerpt(wanted)
            ),
        )
    })?;
    let cookie = set_cookie(
        &request,
        (LANG_COOKIE, lang.tag()),
        "/",
        LANG_COOKIE_SECONDS,
        "Lax",
    );
    Ok(see_other("/", &[cookie]))
}
