//! The console's routes (issue 18), played last: the pages without a session (redirects, the
//! login page, a login form without its token), the language switch, and with a bearer token
//! of a session of their own (accepted wherever the cookie is, without CSRF) `/`, the dashboard
//! and logout. A page is recorded by its status, headers and title: its body holds per-run
//! tokens and times.

use serde_json::json;

use super::{ADMIN_PASSWORD, Payload, Recorder};

/// The `<title>` of an HTML page.
fn title(html: &[u8]) -> String {
    let text = String::from_utf8_lossy(html);
    text.split_once("<title>")
        .and_then(|(_, rest)| rest.split_once("</title>"))
        .map(|(title, _)| title.to_owned())
        .unwrap_or_default()
}

/// Records a console page by its title (ids in it normalised).
pub(super) async fn page(
    recorder: &mut Recorder,
    role: &str,
    method: &str,
    path: &str,
    payload: Payload,
) {
    let answer = recorder.call(role, method, path, payload).await;
    let title = recorder.normaliser.text(&title(&answer.bytes));
    recorder.replace_last_body(json!({"title": title}));
}

pub async fn play(recorder: &mut Recorder) {
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
    recorder
        .call("console", "POST", "/console/logout", Payload::Form(vec![]))
        .await;
    // The session is over.
    recorder.get("console", "/console/dashboard").await;
    recorder.get("console", "/api/auth/me").await;
}
