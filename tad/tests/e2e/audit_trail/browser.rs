//! The console's audit page (issue 20) in headless Chromium: an auditor finds the link, reads the
//! events newest first (a refused write with its reason, the login events), filters them, and
//! the export link carries the same filter and downloads CSV through the session; a viewer has
//! no link and the page refuses them (403 failure page); on a phone the page fits the width.

use serde_json::json;

use crate::{
    console_browser::sign_in,
    support::{
        EmbeddedPlatform,
        browser::{Chromedriver, DESKTOP_CHROME_LINUX, IPHONE_SAFARI_IOS17},
    },
};

const ADMIN_PASSWORD: &str = "audit-page-admin-pw";
const USER_PASSWORD: &str = "audit-page-user-pw";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_auditor_reads_filters_and_exports_the_trail_and_a_viewer_cannot() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    admin
        .create_user("audrey", USER_PASSWORD, &["auditor"])
        .await;
    let viewer = admin
        .login_new_user("vera", USER_PASSWORD, &["viewer"])
        .await;
    // A refused write by the viewer.
    let (_, body) = viewer
        .post("/api/admin/productlines", &json!({"name": "<b>pl</b>"}))
        .await;
    assert_eq!(body["success"], false, "{body}");
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };

    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, "audrey", USER_PASSWORD).await;
    browser.follow("#nav-audit").await;
    browser.wait_for("#audit-events").await;
    let actions: Vec<String> = serde_json::from_value(
        browser
            .execute(
                "return Array.from(document.querySelectorAll('#audit-events .audit-event')).map(row => row.dataset.action);",
                vec![],
            )
            .await,
    )
    .expect("actions");
    assert!(
        actions.contains(&"product_line.save".to_owned()),
        "{actions:?}"
    );

    // Filter by the action: one row, refused, with the viewer and the reason.
    browser
        .execute(
            "document.getElementById('filter-action').value = 'product_line.save';",
            vec![],
        )
        .await;
    browser.follow("#filter-submit").await;
    browser.wait_for("#audit-events").await;
    let rows = browser.cell_texts("#audit-events tbody tr", "td").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0][1].contains("vera"), "{rows:?}");
    assert!(rows[0][4].contains("forbidden"), "{rows:?}");
    assert_eq!(browser.text("#audit-count").await, "1");
    let export = browser
        .attribute("#audit-export", "href")
        .await
        .expect("export link");
    assert!(
        export.ends_with("/api/audit/export.csv?action=product_line.save"),
        "{export}"
    );
    // The link downloads through the session cookie.
    let csv = browser
        .execute(
            "return fetch(arguments[0]).then(answer => answer.text());",
            vec![json!(export)],
        )
        .await;
    let csv = csv.as_str().expect("csv text");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains(",vera,viewer,product_line.save,"), "{csv}");
    browser.close().await;

    // A viewer: no link, and the page itself refused.
    let browser = driver.open(IPHONE_SAFARI_IOS17).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, "vera", USER_PASSWORD).await;
    assert!(!browser.has("#nav-audit").await);
    browser.goto(&format!("{base}/console/audit")).await;
    let title = browser.text("h1").await;
    assert!(!browser.has("#audit-events").await, "{title}");
    assert!(browser.fits_the_width().await);
    browser.close().await;

    // The auditor on a phone: the table scrolls inside its card, the page fits.
    let browser = driver.open(IPHONE_SAFARI_IOS17).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, "audrey", USER_PASSWORD).await;
    browser.goto(&format!("{base}/console/audit")).await;
    browser.wait_for("#audit-events").await;
    assert!(browser.fits_the_width().await);
    browser.close().await;
    platform.stop().await;
}
