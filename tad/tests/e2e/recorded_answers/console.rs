//! The console's routes (issue 18), played last: the pages without a session (redirects, the
//! login page, a login form without its token), the language switch, and with a bearer token
//! of a session of their own (accepted wherever the cookie is, without CSRF) `/`, the dashboard
//! and logout, the instance and joint-line pages (with filters, a refused filter, unknown ids).
//! A page is recorded by its status, headers and title: its body holds per-run tokens and times.

use serde_json::json;

use super::{ADMIN_PASSWORD, Payload, Recorder, jobs::Configured};

/// The `<title>` of an HTML page.
fn title(html: &[u8]) -> String {
    let text = String::from_utf8_lossy(html);
    text.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title.to_owned())
        .unwrap_or_default()
}

/// The script review, resources and app distribution pages, with real ids and unknown ones,
/// and refused filters.
async fn management_pages(recorder: &mut Recorder) {
    let scripts = recorder
        .get("console", "/api/script/index/aos_list?application_id=app1")
        .await;
    let script = scripts.text_at("/data/0/id");
    let clusters = recorder
        .get("console", "/api/resource/clusters/aos_json")
        .await;
    let cluster = clusters.text_at("/results/0/id");
    let long = "x".repeat(65);
    let pages = [
        "/console/scripts".to_owned(),
        "/console/scripts?state=all&application_id=app1".to_owned(),
        format!("/console/scripts/{script}"),
        "/console/clusters?name=a&page=1".to_owned(),
        format!("/console/clusters/{cluster}"),
        "/console/hosts?page=2".to_owned(),
        "/console/apps".to_owned(),
        "/console/apps/rog1?platform=android".to_owned(),
        "/console/tokens".to_owned(),
    ];
    for path in pages {
        page(recorder, "console", "GET", &path, Payload::None).await;
    }
    // Failures: the console's failure page, with the status of the failure.
    for path in [
        "/console/scripts/nope".to_owned(),
        format!("/console/scripts?application_id={long}"),
        "/console/clusters/nope".to_owned(),
        format!("/console/hosts?name={long}"),
        "/console/hosts?page=abc".to_owned(),
        "/console/apps?page=0".to_owned(),
        "/console/apps/rog1?platform=symbian".to_owned(),
    ] {
        page(recorder, "console", "GET", &path, Payload::None).await;
    }
    recorder.get("anonymous", "/console/scripts").await;
}

/// The text of the failure page's problem (empty on other pages).
fn failure_info(html: &[u8]) -> String {
    let text = String::from_utf8_lossy(html);
    text.split_once("id=\"failure-info\" role=\"alert\">")
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map(|(info, _)| info.to_owned())
        .unwrap_or_default()
}

/// Records a console page by its title (and a failure page by its problem; ids in both
/// normalised).
pub(super) async fn page(
    recorder: &mut Recorder,
    role: &str,
    method: &str,
    path: &str,
    payload: Payload,
) {
    let answer = recorder.call(role, method, path, payload).await;
    let title = recorder.normaliser.text(&title(&answer.bytes));
    let info = recorder.normaliser.text(&failure_info(&answer.bytes));
    let body = if info.is_empty() {
        json!({"title": title})
    } else {
        json!({"title": title, "failure": info})
    };
    recorder.replace_last_body(body);
}

pub async fn play(recorder: &mut Recorder, configured: &Configured) {
    recorder
        .get_each(
            "anonymous",
            &[
                "/",
                "/console/dashboard",
                "/console/runs/ghost",
                "/console/lang?to=zh-CN",
                "/console/lang?to=fr",
            ],
        )
        .await;
    page(
        recorder,
        "anonymous",
        "GET",
        "/console/login",
        Payload::None,
    )
    .await;
    // No form token (its cookie): refused before the password is checked.
    let form = Payload::Form(vec![
        ("username", "admin".to_owned()),
        ("password", ADMIN_PASSWORD.to_owned()),
        ("csrf", "no-such-token".to_owned()),
    ]);
    page(recorder, "anonymous", "POST", "/console/login", form).await;
    recorder.login("console", "admin", ADMIN_PASSWORD).await;
    recorder.get("console", "/").await;
    page(
        recorder,
        "console",
        "GET",
        "/console/dashboard",
        Payload::None,
    )
    .await;
    management_pages(recorder).await;
    instance_pages(recorder, configured).await;
    recorder
        .call("console", "POST", "/console/logout", Payload::Form(vec![]))
        .await;
    // The session is over.
    recorder.get("console", "/console/dashboard").await;
    recorder.get("console", "/api/auth/me").await;
}

/// The instance and joint-line pages with the console's session: lists (filtered, a filter too
/// long refused), an instance (and its history's second page), a joint line, unknown ids.
async fn instance_pages(recorder: &mut Recorder, configured: &Configured) {
    let Configured {
        instance,
        joint_line,
        ..
    } = configured;
    for path in [
        "/console/instances".to_owned(),
        "/console/instances?product_line=pl1&status=failed&name=x".to_owned(),
        format!("/console/instances/{instance}"),
        format!("/console/instances/{instance}?page=2"),
        "/console/jointlines".to_owned(),
        "/console/jointlines?product_line=pl1&name=re".to_owned(),
        format!("/console/jointlines/{joint_line}"),
    ] {
        page(recorder, "console", "GET", &path, Payload::None).await;
    }
    let too_long = "x".repeat(129);
    for path in [
        format!("/console/instances?application={too_long}"),
        "/console/instances/no-such-instance".to_owned(),
        "/console/instances/x?page=0".to_owned(),
        "/console/jointlines/no-such-line".to_owned(),
    ] {
        page(recorder, "console", "GET", &path, Payload::None).await;
    }
}
