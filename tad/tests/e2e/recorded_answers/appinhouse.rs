//! The appinhouse contract (SPEC §6): apps created, refused, ordered, listed, updated and deleted
//! under the `X-SecretKey`; builds described, extended, listed by page, time offset and user
//! agent; plists; hosted ipa/apk uploads and their downloads (whole, by range, missing); residue
//! deletes; the download page for a phone, a desktop and an unknown app.

// The build fixtures of svc-appinhouse's tests; appinhouse_contract loads them too, privately.
#[allow(clippy::duplicate_mod)]
#[path = "../../../../svc-appinhouse/tests/support/fixtures.rs"]
mod fixtures;

use super::{Payload, Recorder};

const KEY: &str = "appinhouse-key";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36";
const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

pub(crate) fn form(fields: &[(&'static str, &str)]) -> Payload {
    Payload::Form(
        fields
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect(),
    )
}

pub async fn play(recorder: &mut Recorder) {
    apps(recorder).await;
    builds(recorder).await;
    hosted(recorder).await;
    pages_and_protection(recorder).await;
    deletes(recorder).await;
}

async fn apps(recorder: &mut Recorder) {
    for name in ["rog1", "rog2", "rog3"] {
        recorder
            .call(
                KEY,
                "POST",
                &format!("/api/v2/{name}/create"),
                form(&[("description", "ROG <beta> builds"), ("alias", "a")]),
            )
            .await;
    }
    let long = format!("/api/v2/{}/create", "x".repeat(51));
    for (role, path, fields) in [
        (KEY, "/api/v2/rog1/create", vec![("description", "d")]),
        (KEY, "/api/v2/rog4/create", vec![("alias", "a")]),
        (KEY, long.as_str(), vec![("description", "d")]),
        (
            "wrong-key",
            "/api/v2/rog9/create",
            vec![("description", "d")],
        ),
        (
            "anonymous",
            "/api/v2/rog9/create",
            vec![("description", "d")],
        ),
        (KEY, "/api/v2/rog1/update", vec![("description", "new")]),
        (KEY, "/api/v2/nope/update", vec![("description", "new")]),
        (
            "wrong-key",
            "/api/v2/rog1/update",
            vec![("description", "new")],
        ),
    ] {
        recorder.call(role, "POST", path, form(&fields)).await;
    }
    recorder
        .call(
            KEY,
            "POST",
            "/api/v2/multi/create",
            Payload::Multipart {
                files: vec![("notes.txt".to_owned(), b"not a field".to_vec())],
                fields: vec![("description", "made by curl -F".to_owned())],
            },
        )
        .await;
    for path in [
        "/api/v2/move/rog3/top",
        "/api/v2/move/rog3/up",
        "/api/v2/move/rog2/down",
        "/api/v2/move/rog1/end",
        "/api/v2/move/rog1/sideways",
        "/api/v2/move/nope/top",
    ] {
        recorder
            .call("anonymous", "POST", path, Payload::None)
            .await;
    }
    recorder
        .get_each(
            "anonymous",
            &[
                "/api/v2/apps",
                "/api/v2/apps/?page=2&format=json",
                "/api/v2/apps?page=0",
                "/api/v2/apps?page=x",
                "/api/v2/multi/create",
                "/api/v2/multi/nothing/here",
            ],
        )
        .await;
}

async fn desc(recorder: &mut Recorder, os: &str, version: &str, time: &str) {
    let software_url = format!("http://cdn.example/rog2/{version}.{os}");
    recorder
        .call(
            KEY,
            "POST",
            &format!("/api/v2/rog2/desc/{os}"),
            form(&[
                ("version", version),
                ("time", time),
                ("url", "http://ci.example/1"),
                ("description", "build notes"),
                ("software_url", &software_url),
                ("plist_bundle_identifier", "org.rog2.dev"),
                ("plist_title", "ROG2"),
            ]),
        )
        .await;
}

async fn builds(recorder: &mut Recorder) {
    desc(recorder, "android", "1.0.0", "2016-05-12T02:11:50Z").await;
    desc(recorder, "android", "1.0.1", "2016-05-13 10:00:00").await;
    desc(recorder, "android", "1.0.2", "2016-05-14T10:00:00+08:00").await;
    desc(recorder, "ios", "2.0.0", "2016-06-01T10:00:00+08:00").await;
    for (path, fields) in [
        ("/api/v2/rog2/desc/symbian", vec![("version", "9")]),
        (
            "/api/v2/rog2/desc/android",
            vec![("time", "2016-05-12T02:11:50Z")],
        ),
        (
            "/api/v2/nope/desc/android",
            vec![("version", "1"), ("software_url", "http://x/1.apk")],
        ),
        (
            "/api/v2/rog2/extenddesc/ios",
            vec![
                ("version", "2.0.0"),
                ("software_url", "http://cdn.example/sh.ipa"),
                ("extend_name", "上海"),
                ("extend_key", "ShangHai"),
            ],
        ),
        (
            "/api/v2/rog2/extenddesc/ios",
            vec![
                ("version", "9.9.9"),
                ("software_url", "http://cdn.example/x.ipa"),
                ("extend_name", "x"),
                ("extend_key", "X"),
            ],
        ),
        (
            "/api/v2/rog2/extenddesc/android",
            vec![("version", "1.0.0")],
        ),
    ] {
        recorder.call(KEY, "POST", path, form(&fields)).await;
    }
    for (path, agent) in [
        ("/api/v2/rog2/last", WINDOWS),
        ("/api/v2/rog2/last?time_offset=480", WINDOWS),
        ("/api/v2/rog2/last?time_offset=abc", WINDOWS),
        ("/api/v2/nope/last", WINDOWS),
        ("/api/v2/rog2/mobile/last", IPHONE),
        ("/api/v2/rog2/mobile/last", ANDROID),
        ("/api/v2/rog2/mobile/last", WINDOWS),
        ("/api/v2/rog2/list/android?page=1", WINDOWS),
        ("/api/v2/rog2/list/android?page=2&time_offset=0", WINDOWS),
        ("/api/v2/rog2/list/android?page=9", WINDOWS),
        ("/api/v2/rog2/list/android", WINDOWS),
        ("/api/v2/rog2/list/blackberry?page=1", WINDOWS),
        ("/api/v2/rog2/mobile/list?page=1", ANDROID),
        ("/api/v2/rog2/mobile/list?page=1", IPHONE),
        ("/api/v2/rog2/mobile/list", WINDOWS),
        ("/api/v2/rog2/plist/2.0.0.plist", IPHONE),
        ("/api/v2/rog2/plist/2.0.0.plist?extend=ShangHai", IPHONE),
        ("/api/v2/rog2/plist/9.9.9.plist", IPHONE),
    ] {
        recorder
            .call_with(
                "anonymous",
                "GET",
                path,
                Payload::None,
                &[("user-agent", agent)],
            )
            .await;
    }
}

async fn upload(
    recorder: &mut Recorder,
    role: &str,
    app: &str,
    os: &str,
    name: &str,
    bytes: Vec<u8>,
) {
    recorder
        .call(
            role,
            "POST",
            &format!("/api/v2/{app}/archive/{os}"),
            Payload::Multipart {
                files: vec![(name.to_owned(), bytes)],
                fields: vec![
                    ("description", "hosted build".to_owned()),
                    ("time", "2016-07-01T10:00:00+08:00".to_owned()),
                ],
            },
        )
        .await;
}

async fn hosted(recorder: &mut Recorder) {
    let ipa = fixtures::ipa("org.rog2.demo", "3.1.0", "ROG2 Demo", true);
    let apk = fixtures::apk("org.rog2.android", "5.4.3", false);
    upload(recorder, KEY, "rog2", "ios", "ROG2_Demo.ipa", ipa.clone()).await;
    upload(recorder, KEY, "rog2", "android", "rog2.apk", apk.clone()).await;
    upload(recorder, KEY, "rog2", "ios", "wrong.apk", apk.clone()).await;
    upload(recorder, KEY, "nope", "android", "rog2.apk", apk.clone()).await;
    upload(recorder, "anonymous", "rog2", "android", "rog2.apk", apk).await;
    upload(
        recorder,
        KEY,
        "rog2",
        "android",
        "broken.apk",
        b"not a zip".to_vec(),
    )
    .await;
    let download = "/download/rog2/ios/3.1.0/ROG2_Demo.ipa";
    let end = format!("bytes={}-", ipa.len());
    for range in [None, Some("bytes=10-19"), Some(end.as_str())] {
        let headers: Vec<(&str, &str)> = range.map(|range| ("range", range)).into_iter().collect();
        recorder
            .call_with("anonymous", "GET", download, Payload::None, &headers)
            .await;
    }
    recorder
        .get_each(
            "anonymous",
            &[
                "/download/rog2/ios/0.0.1/none.ipa",
                "/download/rog2/android/5.4.3/rog2.apk",
                "/api/v2/rog2/plist/3.1.0.plist",
            ],
        )
        .await;
    // Downloads and plists count their install after the answer (a spawned write): give those
    // counts time to land before the pages show them. (Polling /installs would change the
    // recorded /metrics by the number of polls.)
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    // The QR code encodes the page's URL as requested: a fixed Host keeps it stable.
    for agent in [IPHONE, ANDROID, WINDOWS] {
        let headers = [("user-agent", agent), ("host", "tad.test")];
        recorder
            .call_with("anonymous", "GET", "/app/rog2", Payload::None, &headers)
            .await;
    }
    recorder.get("anonymous", "/app/nope").await;
}

/// Beyond the contract: a build's permalink page, its counted link, install counts, and a
/// protected app refusing reads, showing its password form, and opening again.
async fn pages_and_protection(recorder: &mut Recorder) {
    for (agent, path) in [
        (WINDOWS, "/app/rog2/android/5.4.3"),
        (IPHONE, "/app/rog2/ios/3.1.0"),
        (ANDROID, "/app/rog2/android/9.9.9"),
        (ANDROID, "/app/rog2/android/5.4.3/install"),
        (ANDROID, "/app/rog2/android/9.9.9/install"),
        (ANDROID, "/app/rog2?q=5.4"),
    ] {
        let headers = [("user-agent", agent), ("host", "tad.test")];
        recorder
            .call_with("anonymous", "GET", path, Payload::None, &headers)
            .await;
    }
    recorder.get("anonymous", "/api/v2/rog2/installs").await;
    for (role, path, password) in [
        ("anonymous", "/api/v2/rog1/protect", "open sesame"),
        (KEY, "/api/v2/rog1/protect", "short"),
        (KEY, "/api/v2/rog1/protect", "open sesame"),
    ] {
        recorder
            .call(role, "POST", path, form(&[("password", password)]))
            .await;
    }
    recorder
        .get_each(
            "anonymous",
            &["/api/v2/rog1/last", "/app/rog1", "/api/v2/rog1/installs"],
        )
        .await;
    // The form's CSRF token must equal the page's cookie: refused, wrong password, opened.
    let cookie = [("cookie", "tad_csrf=0123456789abcdef")];
    for (password, csrf) in [
        ("open sesame", "not the cookie's"),
        ("not it at all", "0123456789abcdef"),
        ("open sesame", "0123456789abcdef"),
    ] {
        let fields = form(&[("password", password), ("csrf", csrf)]);
        recorder
            .call_with("anonymous", "POST", "/app/rog1/unlock", fields, &cookie)
            .await;
    }
    for (role, path, hours) in [
        ("anonymous", "/api/v2/rog1/share", "2"),
        (KEY, "/api/v2/rog1/share", "0"),
        (KEY, "/api/v2/rog2/share", "2"),
    ] {
        recorder
            .call(role, "POST", path, form(&[("hours", hours)]))
            .await;
    }
    recorder
        .call(
            KEY,
            "POST",
            "/api/v2/rog1/protect",
            form(&[("password", "")]),
        )
        .await;
    recorder.get("anonymous", "/api/v2/rog1/last").await;
}

async fn deletes(recorder: &mut Recorder) {
    for (role, path) in [
        ("wrong-key", "/api/v2/rog2/delete/android?residue=1"),
        (KEY, "/api/v2/rog2/delete/android?residue=0"),
        (KEY, "/api/v2/rog2/delete/android?residue=x"),
        (KEY, "/api/v2/rog2/delete/android?residue=2"),
        (KEY, "/api/v2/rog2/delete/android?residue=2"),
        (KEY, "/api/v2/nope/delete/android?residue=1"),
        ("anonymous", "/api/v2/rog3/delete"),
        (KEY, "/api/v2/rog3/delete"),
        (KEY, "/api/v2/rog3/delete"),
    ] {
        recorder.delete(role, path).await;
    }
    recorder
        .get_each(
            "anonymous",
            &[
                "/api/v2/rog2/list/android?page=1",
                "/api/v2/apps",
                "/api/v2/rog3/last",
            ],
        )
        .await;
}
