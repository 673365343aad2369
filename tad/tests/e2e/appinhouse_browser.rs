//! The appinhouse download page `GET /app/{app}` in headless Chromium over WebDriver
//! (support::browser), as three visitors: a Linux desktop, an iPhone and an Android phone. Each
//! sees the newest builds of its platform (the desktop: of every platform, and a QR code that
//! decodes to the page's URL), follows the "Older" links to the oldest build, and sees builds
//! published in one second in publish order. Builds are published through the real API.

use std::collections::BTreeSet;

use crate::{
    appinhouse_contract::{self, Platform, desc},
    support::browser::{
        self, ANDROID_CHROME_PIXEL, Browser, Chromedriver, DESKTOP_CHROME_LINUX, Device,
        IPHONE_SAFARI_IOS17,
    },
};

const APP: &str = "rog2";
/// The public URL links to this server are made with (https: the page offers iOS installs).
const PUBLIC_URL: &str = "https://apps.example.test";
const PAGE_SIZE: usize = 10;
/// The history pages of [`series`] at [`PAGE_SIZE`]: 22 builds after the newest one.
const HISTORY_PAGES: usize = 3;

/// A visitor of the page: its browser, the platforms whose builds it is offered, and the name of
/// the screenshot of its first page in target/test-artifacts.
struct Visitor {
    device: Device,
    platforms: &'static [&'static str],
    screenshot: &'static str,
}

const VISITORS: [Visitor; 3] = [
    Visitor {
        device: DESKTOP_CHROME_LINUX,
        platforms: &["android", "ios", "windows"],
        screenshot: "appinhouse-page",
    },
    Visitor {
        device: IPHONE_SAFARI_IOS17,
        platforms: &["ios"],
        screenshot: "appinhouse-page-iphone",
    },
    Visitor {
        device: ANDROID_CHROME_PIXEL,
        platforms: &["android"],
        screenshot: "appinhouse-page-android",
    },
];

/// The builds published for `platform`, in publish order, as (version, time). Android and iOS
/// have 23 (majors 1 and 2): `M.0.1` … `M.0.21` a day apart, except that `M.0.9` … `M.0.13` share
/// one second (text order would put `M.0.9` first), then `M.1.9` and `M.1.10` in one second, the
/// newest. Windows has two.
fn series(platform: &str) -> Vec<(String, String)> {
    let major = match platform {
        "android" => 1,
        "ios" => 2,
        _ => {
            return vec![
                ("3.0.1".to_owned(), "2026-10-01T09:00:00Z".to_owned()),
                ("3.0.2".to_owned(), "2026-10-02T09:00:00Z".to_owned()),
            ];
        }
    };
    let mut builds: Vec<(String, String)> = (1..=21)
        .map(|patch| {
            let day = if (9..=13).contains(&patch) { 9 } else { patch };
            (
                format!("{major}.0.{patch}"),
                format!("2026-10-{day:02}T09:00:00Z"),
            )
        })
        .collect();
    for patch in [9, 10] {
        builds.push((
            format!("{major}.1.{patch}"),
            "2026-10-30T09:00:00Z".to_owned(),
        ));
    }
    builds
}

/// What the page must show for `platform`: its versions newest first (publish order within a
/// second).
fn newest_first(platform: &str) -> Vec<String> {
    series(platform)
        .into_iter()
        .rev()
        .map(|(version, _)| version)
        .collect()
}

/// The (platform, version) an install link of the page points at: an `itms-services` link to
/// the build's plist for ios, else the page's counted download link of the build.
fn build_of_install_link(href: &str) -> (String, String) {
    if href.starts_with("itms-services://") {
        let link = url::Url::parse(href).unwrap_or_else(|error| panic!("{href}: {error}"));
        assert_eq!(
            link.query_pairs()
                .next()
                .map(|(key, value)| (key.into_owned(), value.into_owned())),
            Some(("action".to_owned(), "download-manifest".to_owned())),
            "{href}"
        );
        let manifest = link
            .query_pairs()
            .find(|(key, _)| key == "url")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no manifest url in {href}"));
        let prefix = format!("/api/v2/{APP}/plist/");
        let version = manifest
            .split_once(&prefix)
            .and_then(|(_, file)| file.strip_suffix(".plist"))
            .unwrap_or_else(|| panic!("not a plist of {APP}: {manifest}"));
        return ("ios".to_owned(), version.to_owned());
    }
    let (platform, version) = href
        .strip_prefix(&format!("/app/{APP}/"))
        .and_then(|rest| rest.strip_suffix("/install"))
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or_else(|| panic!("not a counted download link: {href}"));
    (platform.to_owned(), version.to_owned())
}

/// The platform with app [`APP`] and every build of [`series`], published through the API.
async fn publish_builds() -> Platform {
    let page_size = PAGE_SIZE.to_string();
    // iOS installs only from an https public URL (the page says so on an http one).
    let platform = appinhouse_contract::start_with(&[
        ("TAD_APPINHOUSE_PAGE_SIZE", page_size.as_str()),
        ("TAD_PUBLIC_URL", PUBLIC_URL),
    ])
    .await;
    let (status, body) = platform
        .post(
            &format!("/api/v2/{APP}/create"),
            &[("description", "ROG2 builds"), ("alias", "ROG2")],
        )
        .await;
    assert_eq!(
        (status, &body["code"]),
        (200, &serde_json::json!(0)),
        "{body}"
    );
    for os in ["android", "ios", "windows"] {
        for (version, time) in series(os) {
            desc(&platform, APP, os, &version, &time).await;
        }
    }
    platform
}

/// Asserts the cards of the page shown: the newest build of each of the visitor's platforms,
/// with its install link.
async fn assert_newest_builds(browser: &Browser, visitor: &Visitor) {
    let mut shown = BTreeSet::new();
    for card in browser.find_all("section.card.build").await {
        let install = card
            .find(fantoccini::Locator::Css("a.install"))
            .await
            .expect("an install link in each build card");
        let href = install
            .attr("href")
            .await
            .expect("href")
            .unwrap_or_default();
        shown.insert(build_of_install_link(&href));
    }
    let expected: BTreeSet<(String, String)> = visitor
        .platforms
        .iter()
        .map(|platform| ((*platform).to_owned(), newest_first(platform)[0].clone()))
        .collect();
    assert_eq!(
        shown,
        expected,
        "{}: the newest build of each of its platforms on {}",
        visitor.device.name,
        browser.url().await
    );
}

/// Follows the "Older" links from the page shown to the last one; answers the versions of the
/// history rows of every page, in order, and how many pages there were. Every page shows the
/// newest builds on top; only later pages link to newer ones.
async fn page_through_history(browser: &Browser, visitor: &Visitor) -> (Vec<String>, usize) {
    let published: BTreeSet<String> = ["android", "ios", "windows"]
        .iter()
        .flat_map(|platform| newest_first(platform))
        .collect();
    let mut versions = Vec::new();
    for page in 1..=HISTORY_PAGES + 1 {
        assert_newest_builds(browser, visitor).await;
        let url = browser.url().await;
        assert_eq!(
            browser.has("a[rel=prev]").await,
            page > 1,
            "{}: a link to newer builds on {url}",
            visitor.device.name
        );
        for row in browser.cell_texts("table tbody tr", "td").await {
            let version = row
                .iter()
                .find(|cell| published.contains(*cell))
                .unwrap_or_else(|| panic!("no published version in history row {row:?} on {url}"));
            versions.push(version.clone());
        }
        if !browser.has("a[rel=next]").await {
            return (versions, page);
        }
        browser.follow("a[rel=next]").await;
    }
    panic!(
        "{}: more than {HISTORY_PAGES} history pages",
        visitor.device.name
    );
}

/// The desktop page's QR code, read from a screenshot of `#qr` with zbarimg, is the page's URL.
async fn assert_qr_code_is(browser: &Browser, page_url: &str) {
    let png = browser.element_screenshot("#qr", "appinhouse-qr").await;
    if let Some(text) = browser::decode_qr(&png) {
        assert_eq!(text, page_url, "the QR code of {}", png.display());
    }
}

/// Opens the page as `visitor` and checks what it shows, down to the oldest build.
async fn visit(chromedriver: &Chromedriver, visitor: &Visitor, page_url: &str) {
    let browser = chromedriver.open(visitor.device).await;
    browser.goto(page_url).await;
    browser.wait_for("#app").await;
    // A phone lays the page out at its own width only when the page asks for it (`viewport`).
    let viewport = browser
        .execute("return [innerWidth, innerHeight];", vec![])
        .await;
    assert_eq!(
        viewport,
        serde_json::json!([visitor.device.width, visitor.device.height]),
        "{}: the page laid out at the device's size",
        visitor.device.name
    );
    assert_eq!(browser.text("#app").await, "ROG2 (rog2)");
    let desktop = visitor.platforms.len() > 1;
    assert_eq!(
        browser.has("#qr").await,
        desktop,
        "{}: a QR code for desktop visitors only",
        visitor.device.name
    );
    if desktop {
        assert_qr_code_is(&browser, page_url).await;
    }
    let screenshot = browser.screenshot(visitor.screenshot).await;
    eprintln!("{}: {}", visitor.device.name, screenshot.display());

    let (history, pages) = page_through_history(&browser, visitor).await;
    assert_eq!(
        pages, HISTORY_PAGES,
        "{}: pages of history",
        visitor.device.name
    );
    let mut rows_of_its_platforms = 0;
    for platform in visitor.platforms {
        let expected = &newest_first(platform)[1..];
        let shown: Vec<&String> = history
            .iter()
            .filter(|version| expected.contains(version))
            .collect();
        assert_eq!(
            shown,
            expected.iter().collect::<Vec<_>>(),
            "{}: every older {platform} build once, newest first, builds of one second in \
             publish order (never text order)",
            visitor.device.name
        );
        rows_of_its_platforms += expected.len();
    }
    assert_eq!(
        history.len(),
        rows_of_its_platforms,
        "{}: builds of its platforms only: {history:?}",
        visitor.device.name
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_download_page_in_chromium_for_a_desktop_an_iphone_and_an_android_phone() {
    let Some(chromedriver) = Chromedriver::start() else {
        return;
    };
    let platform = publish_builds().await;
    let page_url = platform.url(&format!("/app/{APP}"));
    for visitor in &VISITORS {
        visit(&chromedriver, visitor, &page_url).await;
    }
    platform.embedded.stop().await;
}
