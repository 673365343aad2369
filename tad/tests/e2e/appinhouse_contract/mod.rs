//! The appinhouse contract end to end through the gateway against the embedded services: every
//! route of contract/appinhouse-api.md with its `{code,msg,...}` answers and codes 1001, 1002,
//! 1004, 1006, 1008, 1009 and 1010 (HTTP 401), pagination edges, the user-agent table, plists,
//! hosted ipa/apk uploads with their metadata, downloads with Range, the `tad appinhouse publish`
//! command, and the download page rendered in headless Chromium.

use crate::support;

#[path = "../../../../svc-appinhouse/tests/support/fixtures.rs"]
mod fixtures;

use std::{path::PathBuf, process::Command};

use serde_json::{Value, json};

mod apps;
mod builds;
mod hosted;

const SECRET: &str = "appinhouse-secret-1";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
const IPADOS_DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// A form to POST (path, fields) and the `code` its answer must carry.
type FormCase<'a> = (&'a str, &'a [(&'a str, &'a str)], i64);

struct Platform {
    embedded: support::EmbeddedPlatform,
    http: reqwest::Client,
}

/// The platform with app `app` created.
async fn start_with_app(app: &str) -> Platform {
    let platform = start().await;
    platform
        .post(&format!("/api/v2/{app}/create"), &[("description", "d")])
        .await;
    platform
}

async fn start() -> Platform {
    let embedded = support::EmbeddedPlatform::start(
        "admin-password-1",
        &[
            ("TAD_APPINHOUSE_SECRET_KEY", SECRET),
            ("TAD_APPINHOUSE_PAGE_SIZE", "2"),
            ("TAD_APPINHOUSE_MAX_PAGE", "3"),
            ("TAD_APPINHOUSE_MIN_RESIDUE", "1"),
        ],
    )
    .await;
    Platform {
        embedded,
        http: support::http_client(),
    }
}

impl Platform {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.embedded.url())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        support::decode(request.send().await.expect("request")).await
    }

    /// The status of a GET answer.
    async fn get_status(&self, path: &str) -> u16 {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        response.status().as_u16()
    }

    /// The text of a GET answer (a plist).
    async fn get_text(&self, path: &str) -> String {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("text")
    }

    /// POSTs each form in order and asserts the `code` of its answer, naming the case that fails.
    async fn post_cases(&self, cases: &[FormCase<'_>]) {
        for (path, form, expected) in cases {
            let (_, body) = self.post(path, form).await;
            assert_eq!(code(&body), *expected, "{path} {form:?}: {body}");
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    /// The HTML of a download page, as a browser with `agent` gets it.
    async fn page_html(&self, path: &str, agent: &str) -> String {
        self.page_html_with(path, agent, &[]).await
    }

    /// The page as `agent` sees it, with extra request headers.
    async fn page_html_with(&self, path: &str, agent: &str, headers: &[(&str, &str)]) -> String {
        let mut request = self.http.get(self.url(path)).header("user-agent", agent);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html")
    }

    async fn get_as(&self, path: &str, agent: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path)).header("user-agent", agent))
            .await
    }

    async fn form(
        &self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        self.send(
            self.http
                .request(method, self.url(path))
                .header("X-SecretKey", SECRET)
                .form(form),
        )
        .await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.form(reqwest::Method::DELETE, path, &[]).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        self.form(reqwest::Method::POST, path, form).await
    }

    /// POSTs the fields as `multipart/form-data` (what `curl -F` sends), with a file part too.
    async fn post_multipart(&self, path: &str, fields: &[(&str, &str)]) -> (u16, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "attachment",
            reqwest::multipart::Part::bytes(b"not a field".to_vec()).file_name("notes.txt"),
        );
        for (name, value) in fields {
            form = form.text((*name).to_owned(), (*value).to_owned());
        }
        self.send(
            self.http
                .post(self.url(path))
                .header("X-SecretKey", SECRET)
                .multipart(form),
        )
        .await
    }
}

fn code(body: &Value) -> i64 {
    body["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no code: {body}"))
}

async fn desc(platform: &Platform, app: &str, os: &str, version: &str, time: &str) {
    let software_url = format!("http://cdn.example/{app}/{version}.{os}");
    let (status, body) = platform
        .post(
            &format!("/api/v2/{app}/desc/{os}"),
            &[
                ("version", version),
                ("time", time),
                ("url", "http://ci.example/1"),
                ("description", &format!("build {version}")),
                ("software_url", &software_url),
                ("plist_bundle_identifier", "org.rog2.dev"),
                ("plist_title", "ROG2"),
            ],
        )
        .await;
    assert_eq!((status, code(&body)), (200, 0), "{body}");
}

/// Renders the page in headless Chromium: its DOM shows the app, the newest version and the QR
/// image; a screenshot is kept under the target directory.
async fn render_in_chromium(page_url: &str) {
    let chromium = PathBuf::from("/usr/bin/chromium");
    if !chromium.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have /usr/bin/chromium (.ci/run installs it)"
        );
        eprintln!("skipped: /usr/bin/chromium is absent (apt-get install chromium); CI runs this");
        return;
    }
    let profile = tempfile::tempdir().expect("profile dir");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let artifacts = target.join("test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let screenshot = artifacts.join("appinhouse-page.png");
    let _ = std::fs::remove_file(&screenshot);
    let profile_dir = profile.path().to_owned();
    let base_flags = move |command: &mut Command| {
        command.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]);
        command.arg(format!("--user-data-dir={}", profile_dir.display()));
    };
    let url = page_url.to_owned();
    let shot = screenshot.clone();
    let (dom, shot_status) = tokio::task::spawn_blocking(move || {
        let mut dump = Command::new(&chromium);
        base_flags(&mut dump);
        dump.args(["--dump-dom", &url]);
        let dom = dump.output().expect("run chromium --dump-dom");
        let mut capture = Command::new(&chromium);
        base_flags(&mut capture);
        capture.arg(format!("--screenshot={}", shot.display()));
        capture.args(["--window-size=1024,1400", "--hide-scrollbars", &url]);
        let status = capture.output().expect("run chromium --screenshot");
        (dom, status)
    })
    .await
    .expect("chromium task");
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    support::assert_exited_ok(&dom, "chromium --dump-dom");
    assert!(
        dom_text.contains("id=\"app\">ROG2 (rog2)</h1>"),
        "{dom_text}"
    );
    assert!(
        dom_text.contains("5.5.0"),
        "newest android version shown: {dom_text}"
    );
    assert!(
        dom_text.contains("3.1.0"),
        "newest ios version shown: {dom_text}"
    );
    assert!(
        dom_text.contains("<img id=\"qr\""),
        "QR image for a desktop visitor: {dom_text}"
    );
    assert!(
        dom_text.contains("data:image/svg+xml"),
        "QR made here, no external asset"
    );
    support::assert_exited_ok(&shot_status, "chromium --screenshot");
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    eprintln!("download page screenshot: {}", screenshot.display());
}
