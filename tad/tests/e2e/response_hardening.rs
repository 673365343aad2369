//! Security headers, pages and echoes, over plain HTTP against the embedded platform: every
//! answer carries `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and a CSP with
//! `frame-ancestors 'none'`; the download page and the Swagger UI run without inline script and
//! escape every value; `/favicon.ico` is served without a token; a 1 MB request value comes back
//! in an answer only as a short excerpt.

use crate::support;

use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use support::{Api, EmbeddedPlatform};

const ADMIN_PASSWORD: &str = "admin-password-1";
const SECRET: &str = "appinhouse-secret-1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
/// Text that breaks out of HTML text, of both attribute quotes, and names a script URL.
const HOSTILE: &str =
    "<script>alert(1)</script>\"'><img src=x onerror=alert(2)> javascript:alert(3)";

async fn start() -> (EmbeddedPlatform, Api) {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[("TAD_APPINHOUSE_SECRET_KEY", SECRET)],
    )
    .await;
    (platform, admin)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

/// The `info` of a failure envelope.
fn failure_info(answer: &Value) -> String {
    assert_eq!(answer["success"], false, "{}", excerpt_of(answer));
    assert!(answer["code"].is_string(), "{}", excerpt_of(answer));
    answer["info"].as_str().expect("info").to_owned()
}

fn excerpt_of(answer: &Value) -> String {
    answer.to_string().chars().take(300).collect()
}

/// The headers every answer carries.
fn assert_hardened(headers: &HeaderMap, what: &str) {
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header(headers, "x-frame-options"), "DENY", "{what}");
    assert!(
        header(headers, "content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
}

/// The script directive of a policy allows no inline script.
fn assert_no_inline_script(policy: &str, what: &str) {
    let script = policy
        .split(';')
        .map(str::trim)
        .find(|directive| directive.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{what}: no script-src in {policy}"));
    assert_eq!(script, "script-src 'self'", "{what}: {policy}");
    assert!(policy.contains("object-src 'none'"), "{what}: {policy}");
    assert!(policy.contains("base-uri 'none'"), "{what}: {policy}");
}

/// Every `<script` of the page loads a file; no `<style>` element.
fn assert_no_inline_code(html: &str, what: &str) {
    for (index, _) in html.match_indices("<script") {
        let tag = &html[index..index + html[index..].find('>').unwrap_or(0)];
        assert!(tag.contains(" src="), "{what}: inline script {tag}");
    }
    assert!(!html.contains("<style"), "{what}: inline style");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_the_security_headers_and_favicon_is_public() {
    let (platform, admin) = start().await;
    let http = support::http_client();
    let url = |path: &str| format!("{}{path}", platform.url());

    for (path, token) in [
        ("/healthz", None),
        ("/api/app/productline/select", Some(admin.token.clone())),
        ("/api/app/productline/select", None),
        ("/api/v2/apps", None),
        ("/no/such/route", None),
    ] {
        let mut request = http.get(url(path));
        if let Some(Some(token)) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("GET");
        assert_hardened(response.headers(), path);
    }

    let favicon = http.get(url("/favicon.ico")).send().await.expect("favicon");
    assert_eq!(favicon.status(), 200);
    assert_hardened(favicon.headers(), "/favicon.ico");
    assert_eq!(header(favicon.headers(), "content-type"), "image/x-icon");
    assert!(header(favicon.headers(), "cache-control").starts_with("public"));
    let icon = favicon.bytes().await.expect("icon");
    assert_eq!(&icon[..4], &[0, 0, 1, 0], "an ICO file");

    // The Swagger UI: its own policy, still without inline script; its page has none.
    let docs = http
        .get(url("/api/docs/index.html"))
        .send()
        .await
        .expect("docs");
    assert_eq!(docs.status(), 200);
    assert_hardened(docs.headers(), "/api/docs");
    assert_no_inline_script(header(docs.headers(), "content-security-policy"), "docs");
    let page = docs.text().await.expect("docs page");
    assert_no_inline_code(&page, "docs");
    for file in [
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
        "swagger-ui.css",
    ] {
        let response = http
            .get(url(&format!("/api/docs/{file}")))
            .send()
            .await
            .expect("docs file");
        assert_eq!(response.status(), 200, "{file}");
    }

    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_page_escapes_every_value_and_runs_no_inline_script() {
    let (platform, _admin) = start().await;
    let http = support::http_client();
    let url = |path: &str| format!("{}{path}", platform.url());
    let post = |path: &str, form: Vec<(&str, &str)>| {
        http.post(url(path))
            .header("x-secretkey", SECRET)
            .form(&form)
            .send()
    };

    let created = post(
        "/api/v2/xss/create",
        vec![("description", HOSTILE), ("alias", HOSTILE)],
    )
    .await
    .expect("create");
    let created: Value = created.json().await.expect("create answer");
    assert_eq!(created["code"], 0, "{created}");
    // Versions are letters, digits, '.', '_' and '-' (svc-appinhouse refuses others).
    let version = "1.0-rc_1";
    let saved = post(
        "/api/v2/xss/desc/android",
        vec![
            ("version", version),
            ("time", "2016-05-12T02:11:50Z"),
            ("url", "http://ci.example/1"),
            ("description", HOSTILE),
            ("software_url", "http://cdn.example/1.0.apk"),
        ],
    )
    .await
    .expect("desc");
    let saved: Value = saved.json().await.expect("desc answer");
    assert_eq!(saved["code"], 0, "{saved}");

    let pages = ["/app/xss", "/app/xss/android/1.0-rc_1"];
    for (page, user_agent) in pages.into_iter().flat_map(|page| {
        [ANDROID, "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"].map(|agent| (page, agent))
    }) {
        let response = http
            .get(url(page))
            .header("user-agent", user_agent)
            .send()
            .await
            .expect("page");
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        assert_hardened(&headers, page);
        assert!(header(&headers, "content-type").starts_with("text/html"));
        assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
        let policy = header(&headers, "content-security-policy");
        assert_no_inline_script(policy, "page");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let html = response.text().await.expect("html");
        assert_no_inline_code(&html, "page");
        assert!(!html.contains("alert(1)</script>"), "{html}");
        assert!(!html.contains("<img src=x"), "{html}");
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;"),
            "{html}"
        );
        assert!(html.contains(version), "{html}");
        assert!(
            html.contains("href=\"/app/xss/android/1.0-rc_1/install\""),
            "the counted download link: {html}"
        );
        assert!(html.contains("href=\"http://ci.example/1\""), "{html}");
        // The page's own style and script are files of this server, public.
        for (file, media_type) in [
            ("/static/app-page.css", "text/css"),
            ("/static/app-page.js", "text/javascript"),
        ] {
            assert!(html.contains(&format!("\"{file}\"")), "{file} in {html}");
            let asset = http.get(url(file)).send().await.expect("asset");
            assert_eq!(asset.status(), 200, "{file}");
            assert!(header(asset.headers(), "content-type").starts_with(media_type));
            assert_hardened(asset.headers(), file);
        }
    }

    // An unknown app's page is HTML under the same policy.
    let missing = http.get(url("/app/nope")).send().await.expect("page");
    assert_eq!(missing.status(), 404);
    assert_no_inline_script(
        header(missing.headers(), "content-security-policy"),
        "missing page",
    );

    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_request_value_comes_back_only_as_an_excerpt() {
    let (platform, admin) = start().await;
    let huge = "A".repeat(1_000_000);

    // In a body field: a product line that does not exist, a value of the wrong shape.
    let (status, answer) = admin
        .post(
            "/api/admin/applications",
            &json!({"name": "app", "product_line_id": huge}),
        )
        .await;
    assert_eq!(status, 200, "{}", excerpt_of(&answer));
    let info = failure_info(&answer);
    assert!(info.len() < 600, "info of {} bytes", info.len());
    let (_, answer) = admin
        .post(
            "/api/app/jointline/save",
            &json!({"name": "j", "remark": "", "data": [{"sequence": huge}]}),
        )
        .await;
    let info = failure_info(&answer);
    assert!(info.len() < 600, "info of {} bytes", info.len());
    let (_, answer) = admin
        .post_raw(
            "/api/auth/login",
            format!("{{\"username\": \"{huge}").into_bytes(),
        )
        .await;
    let info = failure_info(&answer);
    assert!(info.len() < 600, "info of {} bytes", info.len());

    // In a path segment: as long as the server takes a request line, and longer.
    for length in [60_000, 1_000_000] {
        let segment = "B".repeat(length);
        let response = admin
            .http
            .get(format!("{}/api/executions/{segment}", admin.base))
            .bearer_auth(admin.token.as_deref().expect("token"))
            .send()
            .await;
        let Ok(response) = response else {
            continue; // the server may close the connection on a request line this long
        };
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert!(
            text.len() < 1000,
            "{length}-char segment: answer of {} bytes (status {status}): {}",
            text.len(),
            text.chars().take(200).collect::<String>()
        );
        if status == 200 {
            let answer: Value = serde_json::from_str(&text).expect("JSON");
            failure_info(&answer);
        }
    }

    platform.stop().await;
}
