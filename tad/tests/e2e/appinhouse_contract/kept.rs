//! The download pages and the OTA plist through the gateway's kept answers: a page read twice is
//! served the second time from what the gateway kept, and a build recorded after it is shown at
//! once, on the app's page and on the build's own page, as is a rewritten description; an
//! install counted is in the counts at once.

use super::{IPHONE, WINDOWS, code, start_with_app};
use crate::read_caches::kept_answers;

/// Records build `version` of `rog2` for iOS (with its plist fields).
fn ios_build(version: &str) -> [(&'static str, String); 6] {
    [
        ("version", version.to_owned()),
        ("time", "2030-01-01T09:00:00Z".to_owned()),
        ("url", "http://ci.example/1".to_owned()),
        ("software_url", format!("http://cdn.example/{version}.ipa")),
        ("plist_bundle_identifier", "org.example.rog2".to_owned()),
        ("plist_title", "Rog".to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_kept_and_show_a_new_build_at_once() {
    let platform = start_with_app("rog2").await;
    let platform = &platform;
    let record = |version: &'static str| async move {
        let form = ios_build(version);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (_, body) = platform.post("/api/v2/rog2/desc/ios", &form).await;
        assert_eq!(code(&body), 0, "{body}");
    };
    record("1.0.0").await;
    for agent in [IPHONE, WINDOWS] {
        for _ in 0..2 {
            let page = platform.page_html("/app/rog2", agent).await;
            assert!(page.contains("1.0.0") && !page.contains("1.1.0"), "{page}");
        }
    }
    let build_page = "/app/rog2/ios/1.1.0";
    assert_ne!(platform.get_status(build_page).await, 200);
    record("1.1.0").await;
    for agent in [IPHONE, WINDOWS] {
        let page = platform.page_html("/app/rog2", agent).await;
        assert!(
            page.contains("1.1.0"),
            "{agent}: the new build at once: {page}"
        );
    }
    for _ in 0..2 {
        let page = platform.page_html(build_page, IPHONE).await;
        assert!(page.contains("1.1.0"), "{page}");
    }
    // An install counted (before its redirect is answered) is in the counts at once.
    let installs = "/api/v2/rog2/installs";
    for _ in 0..2 {
        let (_, body) = platform.get(installs).await;
        assert_eq!(code(&body), 0, "{body}");
        assert!(!body.to_string().contains("1.1.0"), "{body}");
    }
    let no_redirects = common::https::build(
        common::https::client_builder().redirect(reqwest::redirect::Policy::none()),
        "no redirects",
    )
    .expect("client");
    let install = no_redirects
        .get(platform.url("/app/rog2/ios/1.1.0/install"))
        .send()
        .await
        .expect("install");
    assert!(install.status().is_redirection(), "{}", install.status());
    let (_, body) = platform.get(installs).await;
    assert!(
        body.to_string().contains("1.1.0"),
        "counted at once: {body}"
    );
    // The app's description rewritten: on its page at once.
    for _ in 0..2 {
        let page = platform.page_html("/app/rog2", WINDOWS).await;
        assert!(!page.contains("rewritten-7f3a"), "{page}");
    }
    let (_, body) = platform
        .post("/api/v2/rog2/update", &[("description", "rewritten-7f3a")])
        .await;
    assert_eq!(code(&body), 0, "{body}");
    let page = platform.page_html("/app/rog2", WINDOWS).await;
    assert!(
        page.contains("rewritten-7f3a"),
        "the new description at once: {page}"
    );
    let url = platform.embedded.url();
    for route in [
        "/app/{app}",
        "/app/{app}/{platform}/{version}",
        "/api/v2/{app}/installs",
    ] {
        assert!(kept_answers(url, route, "served").await >= 1, "{route}");
    }
}

/// Reads `/api/v2/rog2/installs` until the count of iOS `version` is `expected` (the gateway hands
/// the installs of kept plists over every second); answers the last count seen.
async fn installs_of(platform: &super::Platform, version: &str, expected: i64) -> i64 {
    let mut seen = 0;
    for _ in 0..50 {
        let (_, body) = platform.get("/api/v2/rog2/installs").await;
        seen = body["items"]
            .as_array()
            .and_then(|items| items.iter().find(|item| item["version"] == version))
            .and_then(|item| item["installs"].as_i64())
            .unwrap_or(0);
        if seen == expected {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_plist_fetch_counts_an_install_kept_or_not() {
    let platform = start_with_app("rog2").await;
    let form = ios_build("3.0.0");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, body) = platform.post("/api/v2/rog2/desc/ios", &form).await;
    assert_eq!(code(&body), 0, "{body}");
    let plist = "/api/v2/rog2/plist/3.0.0.plist";
    let first = platform.get_text(plist).await;
    assert!(first.contains("org.example.rog2"), "{first}");
    for _ in 0..4 {
        assert_eq!(platform.get_text(plist).await, first);
    }
    let url = platform.embedded.url();
    let served = kept_answers(url, "/api/v2/{app}/plist/{version}.plist", "served").await;
    assert_eq!(
        served, 4,
        "four plists answered from the gateway's kept answers"
    );
    // One counted by svc-appinhouse, four by the gateway.
    assert_eq!(installs_of(&platform, "3.0.0", 5).await, 5);
}
