//! The appinhouse pages beyond the list, in headless Chromium over WebDriver (support::browser),
//! with hosted builds uploaded through the real API: each build's details and icon (the apk's
//! through its resources, the ipa's rewritten from CgBI), times in the viewer's zone, a build's
//! permalink page whose QR code decodes to its URL, install counts that go up after an install
//! (Android's counted link, iOS's plist fetch), and a protected app: refused without its
//! password or a signed link, opened with either, its plist and ipa fetched without cookies
//! through the URLs the page gives iOS.

use serde_json::json;

use crate::{
    appinhouse_contract::{self, Platform, SECRET, fixtures, upload},
    support::{
        self,
        browser::{
            self, ANDROID_CHROME_PIXEL, Browser, Chromedriver, DESKTOP_CHROME_LINUX,
            IPHONE_SAFARI_IOS17, VIEWER_TIME_ZONE,
        },
    },
};

const APP: &str = "vault";
/// The public URL links are made with: https, so the page offers iOS installs. The test maps it
/// back to the local gateway to fetch what iOS would.
const PUBLIC_URL: &str = "https://apps.example.test";
const PASSWORD: &str = "open sesame 42";

/// `url` (a link the page made on the public URL) as a URL of the local gateway.
fn local(platform: &Platform, url: &str) -> String {
    match url.strip_prefix(PUBLIC_URL) {
        Some(path) => platform.url(path),
        None => url.to_owned(),
    }
}

/// The plist URL of the first iOS install link on the page.
async fn plist_url_of_page(browser: &Browser) -> String {
    let href = browser
        .attribute("section.card.build[data-platform=ios] a.install", "href")
        .await
        .expect("an install link");
    let link = url::Url::parse(&href).unwrap_or_else(|error| panic!("{href}: {error}"));
    assert_eq!(link.scheme(), "itms-services", "{href}");
    link.query_pairs()
        .find(|(key, _)| key == "url")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no manifest url in {href}"))
}

/// The install count a card of the page shows.
async fn installs_shown(browser: &Browser, platform: &str) -> String {
    let css = format!("section.card.build[data-platform={platform}] dd[data-detail=installs]");
    browser.text(&css).await
}

/// Reloads `page_url` until the card of `platform` shows `count` installs.
async fn wait_for_installs(browser: &Browser, page_url: &str, platform: &str, count: &str) {
    let what = format!("{count} installs of {platform} on {page_url}");
    browser
        .wait_until(&what, || async {
            browser.goto(page_url).await;
            (installs_shown(browser, platform).await == count).then_some(())
        })
        .await;
}

/// Whether the icon of the card of `platform` loaded as a 4×4 image (under the page's CSP).
async fn icon_loaded(browser: &Browser, platform: &str) -> bool {
    let script = "const icon = document.querySelector(arguments[0]); \
                  return icon !== null && icon.complete && icon.naturalWidth === 4 && icon.naturalHeight === 4;";
    let css = format!("section.card.build[data-platform={platform}] img.icon");
    browser.execute(script, vec![json!(css)]).await == json!(true)
}

async fn publish(platform: &Platform) -> (Vec<u8>, Vec<u8>) {
    let (_, body) = platform
        .post(
            &format!("/api/v2/{APP}/create"),
            &[("description", "Vault")],
        )
        .await;
    assert_eq!(body["code"], 0, "{body}");
    let ipa = fixtures::ipa_with_icon("com.example.vault", "1.0.0", "Vault");
    let apk = fixtures::apk_with_resources("com.example.vault", "2.0.0", "Vault App");
    let time = [("time", "2026-11-20T01:30:00Z")];
    for (os, name, bytes) in [("ios", "vault.ipa", &ipa), ("android", "vault.apk", &apk)] {
        let (status, body) = upload(platform, APP, os, name, bytes.clone(), &time).await;
        assert_eq!((status, &body["code"]), (200, &json!(0)), "{body}");
    }
    (ipa, apk)
}

/// Details, icons, the viewer's zone, the permalink page and its QR code; install counts.
async fn open_app(chromedriver: &Chromedriver, platform: &Platform) {
    let page_url = platform.url(&format!("/app/{APP}"));
    let android = chromedriver.open(ANDROID_CHROME_PIXEL).await;
    android.goto(&page_url).await;
    let card = "section.card.build[data-platform=android]";
    assert_eq!(android.text(&format!("{card} .label")).await, "Vault App");
    let detail = |name: &'static str| format!("{card} dd[data-detail={name}]");
    assert_eq!(android.text(&detail("requires")).await, "Android API 24");
    assert_eq!(android.text(&detail("build")).await, "42");
    assert_eq!(android.text(&detail("package")).await, "com.example.vault");
    assert!(
        icon_loaded(&android, "android").await,
        "the apk's icon shows"
    );
    assert_eq!(
        android.text(&format!("{card} time")).await,
        format!("2026-11-20 09:30:00 {VIEWER_TIME_ZONE}"),
        "01:30 UTC in the viewer's zone, named"
    );
    assert_eq!(installs_shown(&android, "android").await, "0");
    // The counted link redirects to the file on the public URL (unreachable here): the count is
    // taken before the redirect.
    android.click(&format!("{card} a.install")).await;
    wait_for_installs(&android, &page_url, "android", "1").await;
    let permalink = android.follow(&format!("{card} a.permalink")).await;
    assert!(
        permalink.ends_with(&format!("/app/{APP}/android/2.0.0")),
        "{permalink}"
    );
    assert_eq!(android.find_all("section.card.build").await.len(), 1);
    android.close().await;

    let desktop = chromedriver.open(DESKTOP_CHROME_LINUX).await;
    let ios_page = platform.url(&format!("/app/{APP}/ios/1.0.0"));
    desktop.goto(&ios_page).await;
    assert!(
        icon_loaded(&desktop, "ios").await,
        "the ipa's CgBI icon shows as a PNG"
    );
    let qr = desktop
        .element_screenshot("#qr", "appinhouse-permalink-qr")
        .await;
    if let Some(text) = browser::decode_qr(&qr) {
        assert_eq!(text, ios_page, "the permalink page's QR code");
    }
    desktop.screenshot("appinhouse-permalink").await;
    desktop.close().await;

    let iphone = chromedriver.open(IPHONE_SAFARI_IOS17).await;
    iphone.goto(&page_url).await;
    assert_eq!(installs_shown(&iphone, "ios").await, "0");
    let plist = local(platform, &plist_url_of_page(&iphone).await);
    let fetched = reqwest::get(&plist).await.expect("plist");
    assert_eq!(fetched.status(), 200, "{plist}");
    wait_for_installs(&iphone, &page_url, "ios", "1").await;
    iphone.close().await;
}

/// Types `password` into the password form shown and submits it.
async fn submit_password(browser: &Browser, password: &str) {
    let field = browser.wait_for("form input[name=password]").await;
    field.send_keys(password).await.expect("type the password");
    browser.click("form button[type=submit]").await;
}

/// A protected app: refused without a grant, opened by its password or a signed link; iOS's
/// plist and ipa URLs work without cookies.
async fn protected_app(chromedriver: &Chromedriver, platform: &Platform, ipa: &[u8]) {
    let http = support::http_client();
    let protect = http
        .post(platform.url(&format!("/api/v2/{APP}/protect")))
        .header("X-SecretKey", SECRET)
        .form(&[("password", PASSWORD)])
        .send()
        .await
        .expect("protect");
    assert_eq!(protect.status(), 200);
    let refused = http
        .get(platform.url(&format!("/api/v2/{APP}/last")))
        .send()
        .await
        .expect("last");
    assert_eq!(
        refused.status(),
        401,
        "reads of a protected app need a grant"
    );

    let page_url = platform.url(&format!("/app/{APP}"));
    let iphone = chromedriver.open(IPHONE_SAFARI_IOS17).await;
    iphone.goto(&page_url).await;
    assert!(
        !iphone.has("section.card.build").await,
        "no build without the password"
    );
    submit_password(&iphone, "not the password").await;
    iphone.wait_for(".problem").await;
    assert!(!iphone.has("section.card.build").await);
    submit_password(&iphone, PASSWORD).await;
    iphone
        .wait_for("section.card.build[data-platform=ios]")
        .await;
    iphone.screenshot("appinhouse-protected-iphone").await;
    let cookies = iphone.execute("return document.cookie;", vec![]).await;
    assert!(
        !cookies.as_str().unwrap_or_default().contains("tad_access_"),
        "the grant's cookie is HttpOnly: {cookies}"
    );

    // What iOS does after a tap: fetch the plist, then the ipa it names, without cookies.
    let plist_url = plist_url_of_page(&iphone).await;
    assert!(plist_url.contains("access="), "{plist_url}");
    let plist = http
        .get(local(platform, &plist_url))
        .send()
        .await
        .expect("plist");
    assert_eq!(plist.status(), 200, "{plist_url}");
    let plist = plist.text().await.expect("plist text");
    let ipa_url = plist
        .split("<string>")
        .filter_map(|part| part.split("</string>").next())
        .find(|value| value.contains("/download/vault/ios/1.0.0/"))
        .unwrap_or_else(|| panic!("no ipa URL in {plist}"))
        .replace("&amp;", "&");
    assert!(
        ipa_url.contains("access="),
        "the ipa URL carries the grant: {ipa_url}"
    );
    let downloaded = http
        .get(local(platform, &ipa_url))
        .send()
        .await
        .expect("ipa");
    assert_eq!(downloaded.status(), 200, "{ipa_url}");
    assert_eq!(downloaded.bytes().await.expect("ipa bytes").as_ref(), ipa);
    let bare = local(platform, ipa_url.split('?').next().unwrap_or_default());
    let refused = http.get(&bare).send().await.expect("ipa without the grant");
    assert_eq!(refused.status(), 401, "{bare}");
    iphone.close().await;

    // A signed link opens the page in a browser that never saw the password; a forged one not.
    let shared = http
        .post(platform.url(&format!("/api/v2/{APP}/share")))
        .header("X-SecretKey", SECRET)
        .form(&[("hours", "1")])
        .send()
        .await
        .expect("share");
    let shared: serde_json::Value = shared.json().await.expect("share answer");
    let link = shared["url"].as_str().unwrap_or_default().to_owned();
    assert!(link.contains("?access="), "{shared}");
    let desktop = chromedriver.open(DESKTOP_CHROME_LINUX).await;
    desktop.goto(&link).await;
    desktop
        .wait_for("section.card.build[data-platform=android]")
        .await;
    assert!(
        icon_loaded(&desktop, "android").await,
        "the icon's URL carries the grant"
    );
    let flipped = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{flipped}", &link[..link.len() - 1]);
    desktop.goto(&forged).await;
    desktop.wait_for("form input[name=password]").await;
    assert!(!desktop.has("section.card.build").await);
    desktop.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_show_details_permalinks_install_counts_and_protected_apps_open_with_a_grant() {
    let Some(chromedriver) = Chromedriver::start() else {
        return;
    };
    let platform = appinhouse_contract::start_with(&[("TAD_PUBLIC_URL", PUBLIC_URL)]).await;
    let (ipa, _apk) = publish(&platform).await;
    open_app(&chromedriver, &platform).await;
    protected_app(&chromedriver, &platform, &ipa).await;
    platform.embedded.stop().await;
}
