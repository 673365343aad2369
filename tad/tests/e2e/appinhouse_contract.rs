//! The appinhouse contract end to end through the gateway against the embedded services: every
//! route of contract/appinhouse-api.md with its `{code,msg,...}` answers and codes 1001, 1002,
//! 1004, 1006, 1008, 1009 and 1010 (HTTP 401), pagination edges, the user-agent table, plists,
//! hosted ipa/apk uploads with their metadata, downloads with Range, the `tad appinhouse publish`
//! command, and the download page rendered in headless Chromium.

use crate::support;

#[path = "../../../svc-appinhouse/tests/support/fixtures.rs"]
mod fixtures;

use std::{path::PathBuf, process::Command};

use serde_json::{Value, json};

const SECRET: &str = "appinhouse-secret-1";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
const IPADOS_DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

struct Platform {
    embedded: support::EmbeddedPlatform,
    http: reqwest::Client,
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
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("not JSON (status {status}): {text}"));
        (status, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(self.url(path))).await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_are_created_guarded_ordered_listed_and_deleted() {
    let platform = start().await;
    for name in ["rog1", "rog2", "rog3"] {
        let (status, body) = platform
            .post(
                &format!("/api/v2/{name}/create"),
                &[("description", "d"), ("alias", "a")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"code": 0, "msg": ""}));
    }
    let (_, body) = platform
        .post("/api/v2/rog1/create", &[("description", "d")])
        .await;
    assert_eq!(code(&body), 1009, "{body}");
    let (_, body) = platform
        .post("/api/v2/rog4/create", &[("alias", "a")])
        .await;
    assert_eq!(code(&body), 1001, "description is required: {body}");
    let (_, body) = platform
        .post(
            &format!("/api/v2/{}/create", "x".repeat(51)),
            &[("description", "d")],
        )
        .await;
    assert_eq!(code(&body), 1001, "{body}");

    // X-SecretKey: missing or wrong → 401 with code 1010, on every guarded write.
    for key in [None, Some("wrong-key")] {
        let mut request = platform
            .http
            .post(platform.url("/api/v2/rog9/create"))
            .form(&[("description", "d")]);
        if let Some(key) = key {
            request = request.header("X-SecretKey", key);
        }
        let (status, body) = platform.send(request).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"code": 1010, "msg": "missing or invalid X-SecretKey"})
        );
        assert!(!body.to_string().contains(SECRET));
    }
    for (method, path) in [
        (reqwest::Method::POST, "/api/v2/rog1/update"),
        (reqwest::Method::DELETE, "/api/v2/rog1/delete"),
        (reqwest::Method::POST, "/api/v2/rog1/desc/ios"),
        (reqwest::Method::POST, "/api/v2/rog1/extenddesc/ios"),
        (reqwest::Method::DELETE, "/api/v2/rog1/delete/ios?residue=5"),
        (reqwest::Method::POST, "/api/v2/rog1/archive/ios"),
    ] {
        let (status, body) = platform
            .send(platform.http.request(method, platform.url(path)))
            .await;
        assert_eq!((status, code(&body)), (401, 1010), "{path}: {body}");
    }

    let (_, body) = platform
        .post("/api/v2/rog1/update", &[("description", "new")])
        .await;
    assert_eq!(code(&body), 0, "{body}");
    let (_, body) = platform
        .post("/api/v2/nope/update", &[("description", "new")])
        .await;
    assert_eq!(code(&body), 1008, "{body}");

    // Ordering: open (no key); up on the first and down on the last are no-ops.
    for (path, expected) in [
        ("/api/v2/move/rog3/top", 0),
        ("/api/v2/move/rog3/up", 0),
        ("/api/v2/move/rog2/down", 0),
        ("/api/v2/move/rog2/down", 0),
        ("/api/v2/move/rog1/end", 0),
        ("/api/v2/move/rog1/sideways", 1001),
        ("/api/v2/move/nope/top", 1008),
    ] {
        let (status, body) = platform.send(platform.http.post(platform.url(path))).await;
        assert_eq!((status, code(&body)), (200, expected), "{path}: {body}");
    }
    let (_, body) = platform.get("/api/v2/apps").await;
    assert_eq!(
        body,
        json!({"code": 0, "msg": "", "items": ["rog3", "rog2"], "page": 1, "total_page": 2})
    );
    let (_, body) = platform.get("/api/v2/apps/?page=2&format=json").await;
    assert_eq!(body["items"], json!(["rog1"]));
    let (_, body) = platform.get("/api/v2/apps?page=3").await;
    assert_eq!(code(&body), 1002, "start past the end: {body}");
    let (_, body) = platform.get("/api/v2/apps?page=4").await;
    assert_eq!(code(&body), 1001, "beyond max_page: {body}");
    let (_, body) = platform.get("/api/v2/apps?page=0").await;
    assert_eq!(code(&body), 1001, "{body}");

    // Delete removes builds and hosted files; later calls answer 1008.
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.0",
        "2016-05-10T02:11:50+0800",
    )
    .await;
    let (_, body) = platform
        .form(reqwest::Method::DELETE, "/api/v2/rog2/delete", &[])
        .await;
    assert_eq!(code(&body), 0, "{body}");
    for path in [
        "/api/v2/rog2/last",
        "/api/v2/rog2/list/android?page=1",
        "/api/v2/rog2/mobile/last",
    ] {
        let (_, body) = platform.get(path).await;
        assert_eq!(code(&body), 1008, "{path}: {body}");
    }
    let (_, body) = platform
        .form(reqwest::Method::DELETE, "/api/v2/rog2/delete", &[])
        .await;
    assert_eq!(code(&body), 1008, "{body}");
    platform.embedded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_take_multipart_forms_as_curl_dash_f_sends_them() {
    let platform = start().await;
    for (path, fields) in [
        (
            "/api/v2/multi/create",
            vec![("description", "made by curl -F"), ("alias", "m")],
        ),
        (
            "/api/v2/multi/update",
            vec![("description", "updated by -F")],
        ),
        (
            "/api/v2/multi/desc/android",
            vec![
                ("version", "4.0"),
                ("time", "2016-05-12T02:11:50Z"),
                ("url", "http://ci.example/4"),
                ("software_url", "http://cdn.example/4.0.apk"),
                ("description", "release notes"),
            ],
        ),
        (
            "/api/v2/multi/extenddesc/android",
            vec![
                ("version", "4.0"),
                ("software_url", "http://cdn.example/4.0-sh.apk"),
                ("extend_name", "上海"),
                ("extend_key", "ShangHai"),
            ],
        ),
    ] {
        let (status, body) = platform.post_multipart(path, &fields).await;
        assert_eq!(
            (status, body),
            (200, json!({"code": 0, "msg": ""})),
            "{path}"
        );
    }
    let (_, body) = platform.post_multipart("/api/v2/multi2/create", &[]).await;
    assert_eq!(code(&body), 1001, "description is required: {body}");
    // A wrong method or an unknown path under /api/v2 answers in appinhouse's shape too.
    let (status, body) = platform.get("/api/v2/multi/create").await;
    assert_eq!((status, code(&body)), (405, 1001), "{body}");
    assert!(
        body["msg"].as_str().is_some_and(|msg| msg.contains("GET")),
        "{body}"
    );
    let (status, body) = platform.get("/api/v2/multi/nothing/here").await;
    assert_eq!((status, code(&body)), (404, 1001), "{body}");
    let (_, body) = platform.get("/api/v2/multi/list/android?page=1").await;
    let item = &body["items"][0];
    assert_eq!(
        (
            item["version"].clone(),
            item["description"].clone(),
            item["down"].clone(),
            item["extends"][0]["extend_key"].clone()
        ),
        (
            json!("4.0"),
            json!("release notes"),
            json!("http://cdn.example/4.0.apk"),
            json!("ShangHai")
        ),
        "{body}"
    );
    platform.embedded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_times_pages_user_agents_plists_and_residue() {
    let platform = start().await;
    platform
        .post("/api/v2/rog2/create", &[("description", "d")])
        .await;
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.1",
        "2016-05-10T02:11:50+0800",
    )
    .await;
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.2",
        "2016-05-11T02:11:50Z",
    )
    .await;
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.3",
        "2016-05-12T02:11:50+07:00",
    )
    .await;
    desc(
        &platform,
        "rog2",
        "ios",
        "2.0.0",
        "2016-05-10T02:11:50-0700",
    )
    .await;
    desc(
        &platform,
        "rog2",
        "windows",
        "3.0.0",
        "2016-05-10T02:11:50Z",
    )
    .await;
    // desc on an existing version updates it.
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.1",
        "2016-05-09T02:11:50+0800",
    )
    .await;
    let (_, body) = platform
        .post(
            "/api/v2/rog2/desc/android",
            &[
                ("version", "9"),
                ("time", "2016-05-10 02:11:50"),
                ("url", "u"),
                ("software_url", "s"),
            ],
        )
        .await;
    assert_eq!(code(&body), 1006, "{body}");
    let (_, body) = platform
        .post(
            "/api/v2/rog2/desc/ios",
            &[
                ("version", "9"),
                ("time", "2016-05-10T02:11:50Z"),
                ("url", "u"),
                ("software_url", "s"),
            ],
        )
        .await;
    assert_eq!(code(&body), 1001, "ios needs plist fields: {body}");
    let (_, body) = platform
        .post("/api/v2/rog2/desc/symbian", &[("version", "9")])
        .await;
    assert_eq!(code(&body), 1001, "{body}");
    let (_, body) = platform
        .post(
            "/api/v2/rog2/desc/android",
            &[
                ("version", "9"),
                ("time", "2016-05-10T02:11:50Z"),
                ("url", "http://ci.example/9"),
                (
                    "software_url",
                    &platform.url("/download/rog2/android/9/gone.apk"),
                ),
            ],
        )
        .await;
    assert_eq!(code(&body), 1004, "hosted file missing: {body}");

    let (_, body) = platform.get("/api/v2/rog2/last").await;
    let host = platform.embedded.url().trim_start_matches("http://");
    assert_eq!(
        body,
        json!({"code": 0, "msg": "", "items": [
            {"platform": "android", "version": "1.0.3", "time": "2016-05-12 02:11:50", "description": "build 1.0.3",
             "url": "http://ci.example/1", "down": "http://cdn.example/rog2/1.0.3.android", "extends": []},
            {"platform": "ios", "version": "2.0.0", "time": "2016-05-10 02:11:50", "description": "build 2.0.0",
             "url": "http://ci.example/1", "down": format!("https://{host}/api/v2/rog2/plist/2.0.0.plist"), "extends": []},
            {"platform": "windows", "version": "3.0.0", "time": "2016-05-10 02:11:50", "description": "build 3.0.0",
             "url": "http://ci.example/1", "down": "http://cdn.example/rog2/3.0.0.windows", "extends": []},
        ]})
    );
    let (_, body) = platform.get("/api/v2/rog2/last?time_offset=480").await;
    assert_eq!(body["items"][0]["time"], "2016-05-12 03:11:50");
    assert_eq!(body["items"][1]["time"], "2016-05-10 17:11:50");
    let (_, body) = platform.get("/api/v2/rog2/last?time_offset=abc").await;
    assert_eq!(code(&body), 1001, "{body}");

    // User agents.
    for (agent, touch, expected) in [
        (IPHONE, false, Some("ios")),
        (IPAD, false, Some("ios")),
        (IPADOS_DESKTOP, true, Some("ios")),
        (IPADOS_DESKTOP, false, Some("windows")),
        (ANDROID, false, Some("android")),
        (WINDOWS, false, Some("windows")),
        ("", false, Some("windows")),
    ] {
        let path = if touch {
            "/api/v2/rog2/mobile/last?touch=1"
        } else {
            "/api/v2/rog2/mobile/last"
        };
        let (_, body) = platform.get_as(path, agent).await;
        assert_eq!(code(&body), 0, "{body}");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{agent}: {body}");
        assert_eq!(
            items[0]["platform"].as_str(),
            expected,
            "{agent:?} touch={touch}"
        );
    }
    let request = platform
        .http
        .get(platform.url("/api/v2/rog2/mobile/last"))
        .header("user-agent", IPADOS_DESKTOP)
        .header("cookie", "touch=1");
    let (_, body) = platform.send(request).await;
    assert_eq!(body["items"][0]["platform"], "ios", "touch cookie: {body}");

    // Pagination: page_size 2, max_page 3.
    let (_, body) = platform.get("/api/v2/rog2/list/android?page=1").await;
    let versions: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["version"].as_str().expect("v"))
        .collect();
    assert_eq!(versions, ["1.0.3", "1.0.2"]);
    assert_eq!(
        (body["page"].as_i64(), body["total_page"].as_i64()),
        (Some(1), Some(2))
    );
    let (_, body) = platform
        .get("/api/v2/rog2/list/android?page=2&time_offset=0")
        .await;
    assert_eq!(body["items"][0]["version"], "1.0.1");
    assert_eq!(body["items"][0]["time"], "2016-05-08 18:11:50");
    for (path, expected) in [
        ("/api/v2/rog2/list/android?page=3", 1002),
        ("/api/v2/rog2/list/android?page=4", 1001),
        ("/api/v2/rog2/list/android?page=0", 1001),
        ("/api/v2/rog2/list/android", 1001),
        ("/api/v2/rog2/list/android?page=x", 1001),
        ("/api/v2/rog2/list/blackberry?page=1", 1001),
    ] {
        let (status, body) = platform.get(path).await;
        assert_eq!((status, code(&body)), (200, expected), "{path}: {body}");
    }
    let (_, body) = platform
        .get_as("/api/v2/rog2/mobile/list?page=1", ANDROID)
        .await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["total_page"], 2);
    let (_, body) = platform
        .get_as("/api/v2/rog2/mobile/list?page=2", IPHONE)
        .await;
    assert_eq!(code(&body), 1002, "{body}");

    // extenddesc, listed on the item; ios extras get their own plist.
    let (_, body) = platform
        .post(
            "/api/v2/rog2/extenddesc/ios",
            &[
                ("version", "2.0.0"),
                ("software_url", "http://cdn.example/sh.ipa"),
                ("extend_name", "上海"),
                ("extend_key", "ShangHai"),
            ],
        )
        .await;
    assert_eq!(code(&body), 0, "{body}");
    let (_, body) = platform
        .post(
            "/api/v2/rog2/extenddesc/ios",
            &[
                ("version", "7.7.7"),
                ("software_url", "x"),
                ("extend_name", "x"),
                ("extend_key", "x"),
            ],
        )
        .await;
    assert_eq!(code(&body), 1001, "{body}");
    let (_, body) = platform.get_as("/api/v2/rog2/mobile/last", IPHONE).await;
    assert_eq!(
        body["items"][0]["extends"],
        json!([{"extend_key": "ShangHai", "extend_name": "上海", "down": format!("https://{host}/api/v2/rog2/plist/2.0.0.plist?extend=ShangHai")}])
    );

    // Plists.
    let response = platform
        .http
        .get(platform.url("/api/v2/rog2/plist/2.0.0.plist"))
        .send()
        .await
        .expect("plist");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-plist");
    let bytes = response.bytes().await.expect("bytes");
    let value = plist::Value::from_reader_xml(&bytes[..]).expect("a plist");
    let item = &value.as_dictionary().expect("dict")["items"]
        .as_array()
        .expect("items")[0];
    let metadata = item.as_dictionary().expect("item")["metadata"]
        .as_dictionary()
        .expect("metadata");
    assert_eq!(
        metadata["bundle-identifier"].as_string(),
        Some("org.rog2.dev")
    );
    assert_eq!(metadata["bundle-version"].as_string(), Some("2.0.0"));
    let extra = platform
        .http
        .get(platform.url("/api/v2/rog2/plist/2.0.0.plist?extend=ShangHai"))
        .send()
        .await
        .expect("plist")
        .text()
        .await
        .expect("text");
    assert!(extra.contains("http://cdn.example/sh.ipa"), "{extra}");
    let (_, body) = platform.get("/api/v2/rog2/plist/9.9.9.plist").await;
    assert_eq!(code(&body), 1001, "{body}");

    // Residue delete keeps the newest N ≥ min_residue.
    let (_, body) = platform
        .form(
            reqwest::Method::DELETE,
            "/api/v2/rog2/delete/android?residue=0",
            &[],
        )
        .await;
    assert_eq!(code(&body), 1001, "{body}");
    let (_, body) = platform
        .form(
            reqwest::Method::DELETE,
            "/api/v2/rog2/delete/android?residue=1",
            &[],
        )
        .await;
    assert_eq!(code(&body), 0, "{body}");
    let (_, body) = platform.get("/api/v2/rog2/list/android?page=1").await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["items"][0]["version"], "1.0.3");
    platform.embedded.stop().await;
}

async fn upload(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosted_builds_are_uploaded_read_downloaded_published_and_shown() {
    let platform = start().await;
    platform
        .post(
            "/api/v2/rog2/create",
            &[("description", "ROG2 <beta> builds"), ("alias", "ROG2")],
        )
        .await;

    let ipa = fixtures::ipa("org.rog2.demo", "3.1.0", "ROG2 Demo", true);
    let (status, body) = upload(
        &platform,
        "rog2",
        "ios",
        "ROG2 Demo.ipa",
        ipa.clone(),
        &[
            ("description", "hosted ipa"),
            ("time", "2016-06-01T10:00:00+08:00"),
        ],
    )
    .await;
    assert_eq!((status, code(&body)), (200, 0), "{body}");
    assert_eq!(body["item"]["version"], "3.1.0");
    assert_eq!(body["item"]["bundle_id"], "org.rog2.demo");
    assert_eq!(body["item"]["title"], "ROG2 Demo");
    let ipa_url = body["item"]["down"].as_str().expect("down").to_owned();
    assert_eq!(
        ipa_url,
        platform.url("/download/rog2/ios/3.1.0/ROG2_Demo.ipa")
    );

    let apk = fixtures::apk("org.rog2.android", "5.4.3", false);
    let (_, body) = upload(&platform, "rog2", "android", "rog2.apk", apk.clone(), &[]).await;
    assert_eq!(code(&body), 0, "{body}");
    assert_eq!(body["item"]["version"], "5.4.3");
    assert_eq!(body["item"]["bundle_id"], "org.rog2.android");
    let (_, body) = upload(&platform, "rog2", "ios", "wrong.apk", apk.clone(), &[]).await;
    assert_eq!(code(&body), 1001, "{body}");
    let (_, body) = upload(&platform, "nope", "android", "rog2.apk", apk.clone(), &[]).await;
    assert_eq!(code(&body), 1008, "{body}");

    // Recorded as desc would: the plist names the hosted ipa; the apk is the android down.
    let plist = platform
        .http
        .get(platform.url("/api/v2/rog2/plist/3.1.0.plist"))
        .send()
        .await
        .expect("plist")
        .text()
        .await
        .expect("text");
    assert!(
        plist.contains(&ipa_url) && plist.contains("org.rog2.demo"),
        "{plist}"
    );
    let (_, body) = platform.get_as("/api/v2/rog2/mobile/last", ANDROID).await;
    assert_eq!(
        body["items"][0]["down"],
        platform.url("/download/rog2/android/5.4.3/rog2.apk")
    );

    // Downloads, whole and by range.
    let whole = platform.http.get(&ipa_url).send().await.expect("download");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.expect("bytes").to_vec(), ipa);
    let part = platform
        .http
        .get(&ipa_url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", ipa.len())
    );
    assert_eq!(part.bytes().await.expect("bytes").to_vec(), ipa[10..20]);
    let beyond = platform
        .http
        .get(&ipa_url)
        .header("range", format!("bytes={}-", ipa.len()))
        .send()
        .await
        .expect("range");
    assert_eq!(beyond.status(), 416);
    let missing = platform
        .http
        .get(platform.url("/download/rog2/ios/0.0.1/none.ipa"))
        .send()
        .await
        .expect("missing");
    assert_eq!(missing.status(), 404);

    // A desc naming the hosted file is accepted.
    let (_, body) = platform
        .post(
            "/api/v2/rog2/desc/ios",
            &[
                ("version", "3.1.0"),
                ("time", "2016-06-01T10:00:00+08:00"),
                ("url", "http://ci/9"),
                ("software_url", &ipa_url),
                ("plist_bundle_identifier", "org.rog2.demo"),
                ("plist_title", "ROG2 Demo"),
            ],
        )
        .await;
    assert_eq!(code(&body), 0, "{body}");

    // tad appinhouse publish, the built binary against this gateway.
    let apk_path = platform.embedded.data_dir.path().join("published.apk");
    std::fs::write(&apk_path, fixtures::apk("org.rog2.android", "5.5.0", true)).expect("write apk");
    let output = support::tad_command()
        .args(["appinhouse", "publish"])
        .arg(&apk_path)
        .args([
            "--app",
            "rog2",
            "--gateway",
            platform.embedded.url(),
            "--description",
            "from the cli",
        ])
        .env("TAD_APPINHOUSE_SECRET_KEY", SECRET)
        .output()
        .expect("run tad appinhouse publish");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"version\":\"5.5.0\""), "{stdout}");
    let (_, body) = platform.get_as("/api/v2/rog2/mobile/last", ANDROID).await;
    assert_eq!(body["items"][0]["version"], "5.5.0");
    assert_eq!(body["items"][0]["description"], "from the cli");
    let refused = support::tad_command()
        .args(["appinhouse", "publish"])
        .arg(&apk_path)
        .args(["--app", "rog2", "--gateway", platform.embedded.url()])
        .env("TAD_APPINHOUSE_SECRET_KEY", "wrong-key-123")
        .output()
        .expect("run tad appinhouse publish");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("1010"));

    // Residue delete removes hosted files of removed builds.
    let hosted = platform
        .embedded
        .data_dir
        .path()
        .join("appinhouse-files/rog2/android");
    assert!(hosted.join("5.4.3/rog2.apk").exists());
    let (_, body) = platform
        .form(
            reqwest::Method::DELETE,
            "/api/v2/rog2/delete/android?residue=1",
            &[],
        )
        .await;
    assert_eq!(code(&body), 0, "{body}");
    assert!(
        !hosted.join("5.4.3/rog2.apk").exists(),
        "hosted file of the removed build deleted"
    );
    assert!(hosted.join("5.5.0/published.apk").exists());

    // The download page: HTML for a phone, and headless Chromium for a desktop.
    let html = platform
        .http
        .get(platform.url("/app/rog2"))
        .header("user-agent", IPHONE)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("itms-services://?action=download-manifest&amp;url=https%3A%2F%2F"),
        "{html}"
    );
    assert!(
        html.contains("3.1.0") && !html.contains("id=\"qr\""),
        "{html}"
    );
    assert!(html.contains("ROG2 &lt;beta&gt; builds"));
    let missing = platform
        .http
        .get(platform.url("/app/nope"))
        .send()
        .await
        .expect("page");
    assert_eq!(missing.status(), 404);
    render_in_chromium(&platform.url("/app/rog2")).await;
    platform.embedded.stop().await;
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
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
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
    assert!(
        shot_status.status.success(),
        "{}",
        String::from_utf8_lossy(&shot_status.stderr)
    );
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    eprintln!("download page screenshot: {}", screenshot.display());
}
