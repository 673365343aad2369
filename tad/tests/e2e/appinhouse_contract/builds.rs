//! Builds: times, pages, user agents, plists and the residue of refused uploads.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_times_pages_user_agents_plists_and_residue() {
    let platform = start_with_app("rog2").await;
    for (os, version, time) in [
        ("android", "1.0.1", "2016-05-10T02:11:50+0800"),
        ("android", "1.0.2", "2016-05-11T02:11:50Z"),
        ("android", "1.0.3", "2016-05-12T02:11:50+07:00"),
        ("ios", "2.0.0", "2016-05-10T02:11:50-0700"),
        ("windows", "3.0.0", "2016-05-10T02:11:50Z"),
        // desc on an existing version updates it.
        ("android", "1.0.1", "2016-05-09T02:11:50+0800"),
    ] {
        desc(&platform, "rog2", os, version, time).await;
    }
    let gone = platform.url("/download/rog2/android/9/gone.apk");
    platform
        .post_cases(&[
            (
                "/api/v2/rog2/desc/android",
                &[
                    ("version", "9"),
                    ("time", "2016-05-10 02:11:50"),
                    ("url", "u"),
                    ("software_url", "s"),
                ],
                1006,
            ),
            // ios needs plist fields.
            (
                "/api/v2/rog2/desc/ios",
                &[
                    ("version", "9"),
                    ("time", "2016-05-10T02:11:50Z"),
                    ("url", "u"),
                    ("software_url", "s"),
                ],
                1001,
            ),
            ("/api/v2/rog2/desc/symbian", &[("version", "9")], 1001),
            // The hosted file is missing.
            (
                "/api/v2/rog2/desc/android",
                &[
                    ("version", "9"),
                    ("time", "2016-05-10T02:11:50Z"),
                    ("url", "http://ci.example/9"),
                    ("software_url", &gone),
                ],
                1004,
            ),
        ])
        .await;

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
    platform
        .post_cases(&[
            (
                "/api/v2/rog2/extenddesc/ios",
                &[
                    ("version", "2.0.0"),
                    ("software_url", "http://cdn.example/sh.ipa"),
                    ("extend_name", "上海"),
                    ("extend_key", "ShangHai"),
                ],
                0,
            ),
            (
                "/api/v2/rog2/extenddesc/ios",
                &[
                    ("version", "7.7.7"),
                    ("software_url", "x"),
                    ("extend_name", "x"),
                    ("extend_key", "x"),
                ],
                1001,
            ),
        ])
        .await;
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
        .get_text("/api/v2/rog2/plist/2.0.0.plist?extend=ShangHai")
        .await;
    assert!(extra.contains("http://cdn.example/sh.ipa"), "{extra}");
    // A version (or an extra download) without a plist: the archive does not exist (1004).
    for path in [
        "/api/v2/rog2/plist/9.9.9.plist",
        "/api/v2/rog2/plist/2.0.0.plist?extend=nowhere",
    ] {
        let (_, body) = platform.get(path).await;
        assert_eq!(code(&body), 1004, "{path}: {body}");
    }

    // Residue delete keeps the newest N ≥ min_residue.
    for (path, expected) in [
        ("/api/v2/rog2/delete/android?residue=0", 1001),
        ("/api/v2/rog2/delete/android?residue=1", 0),
    ] {
        let (_, body) = platform.delete(path).await;
        assert_eq!(code(&body), expected, "{path}: {body}");
    }
    let (_, body) = platform.get("/api/v2/rog2/list/android?page=1").await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["items"][0]["version"], "1.0.3");
    platform.embedded.stop().await;
}

/// The download page pages through the whole history (past the API's `max_page`), newest first,
/// builds of one second in publish order, by following its "Older" links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_page_pages_to_the_oldest_build() {
    let platform = start_with_app("paged").await;
    // 1.0.1 … 1.0.7 a day apart, then 1.0.9 and 1.0.10 published in the same second.
    for day in 1..=7 {
        let time = format!("2026-11-{day:02}T09:00:00Z");
        desc(&platform, "paged", "android", &format!("1.0.{day}"), &time).await;
    }
    for version in ["1.0.9", "1.0.10"] {
        desc(
            &platform,
            "paged",
            "android",
            version,
            "2026-11-08T09:00:00Z",
        )
        .await;
    }
    let mut path = "/app/paged".to_owned();
    let mut history = Vec::new();
    for _ in 0..10 {
        let html = platform.page_html(&path, ANDROID).await;
        assert!(html.contains("1.0.10"), "the newest build tops every page");
        let rows = html
            .split("<tr data-platform=\"android\" data-version=\"")
            .skip(1);
        history.extend(rows.map(|row| row.split('"').next().unwrap_or_default().to_owned()));
        let Some(next) = html
            .split("<a rel=\"next\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            break;
        };
        path = format!("/app/paged{}", next.replace("&amp;", "&"));
    }
    assert_eq!(
        history,
        [
            "1.0.9", "1.0.7", "1.0.6", "1.0.5", "1.0.4", "1.0.3", "1.0.2", "1.0.1"
        ],
        "every older build, newest first, on 4 pages of 2"
    );
    platform.embedded.stop().await;
}
