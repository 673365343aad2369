//! The appinhouse contract end to end through the gateway against the embedded services: every
//! route of contract/appinhouse-api.md with its `{code,msg,...}` answers and codes 1001, 1002,
//! 1004, 1006, 1008, 1009 and 1010 (HTTP 401), pagination edges, the user-agent table, plists,
//! hosted ipa/apk uploads with their metadata, downloads with Range, the `tad appinhouse publish`
//! command, and the download page's HTML (appinhouse_browser drives it in Chromium, with these
//! fixtures).

use crate::support;

#[path = "../../../../svc-appinhouse/tests/support/fixtures.rs"]
pub(crate) mod fixtures;

use serde_json::{Value, json};

mod apps;
mod builds;
mod hosted;
mod kept;

pub(crate) const SECRET: &str = "appinhouse-secret-1";
const IPHONE: &str = support::browser::IPHONE_SAFARI_IOS17.user_agent;
const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
const IPADOS_DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
const ANDROID: &str = support::browser::ANDROID_CHROME_PIXEL.user_agent;
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// A form to POST (path, fields) and the `code` its answer must carry.
type FormCase<'a> = (&'a str, &'a [(&'a str, &'a str)], i64);

pub(crate) struct Platform {
    pub(crate) embedded: support::EmbeddedPlatform,
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

/// The platform with the contract tests' small pages (2 builds a page, at most 3 pages).
async fn start() -> Platform {
    start_with(&[
        ("TAD_APPINHOUSE_PAGE_SIZE", "2"),
        ("TAD_APPINHOUSE_MAX_PAGE", "3"),
        ("TAD_APPINHOUSE_MIN_RESIDUE", "1"),
    ])
    .await
}

/// The platform with appinhouse's secret key [`SECRET`] and the `settings` (`TAD_APPINHOUSE_*`).
pub(crate) async fn start_with(settings: &[(&str, &str)]) -> Platform {
    let mut env = vec![("TAD_APPINHOUSE_SECRET_KEY", SECRET)];
    env.extend_from_slice(settings);
    let embedded = support::EmbeddedPlatform::start("admin-password-1", &env).await;
    Platform {
        embedded,
        http: support::http_client(),
    }
}

impl Platform {
    pub(crate) fn url(&self, path: &str) -> String {
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

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
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

/// Uploads `bytes` as the hosted build file `name` of `app` for `os` (X-SecretKey), with the
/// form `fields`.
pub(crate) async fn upload(
    platform: &Platform,
    app: &str,
    os: &str,
    name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (key, value) in fields {
        form = form.text(key.to_string(), value.to_string());
    }
    // The legacy UI names each part after its file: any field name is taken.
    let field = if name.contains(' ') { "file" } else { name };
    form = form.part(
        field.to_owned(),
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    platform
        .send(
            platform
                .http
                .post(platform.url(&format!("/api/v2/{app}/archive/{os}")))
                .header("X-SecretKey", SECRET)
                .multipart(form),
        )
        .await
}

/// Publishes build `version` of `app` for `os` at `time` (its download at
/// `http://cdn.example/{app}/{version}.{os}`, its description `build {version}`).
pub(crate) async fn desc(platform: &Platform, app: &str, os: &str, version: &str, time: &str) {
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
