//! The console's API tokens page (issue 20) in headless Chromium: a user creates a token with the
//! form, its secret is shown once (gone after a reload, never in the list), the token works from
//! an HTTP client, is revoked with the page's button after a confirmation, and then answers 401.
//! A viewer is offered the viewer role only, and the route refuses them any other anyway.

use serde_json::json;

use crate::{
    console_browser::sign_in,
    support::{
        Api, EmbeddedPlatform, assert_failure,
        browser::{Browser, Chromedriver, DESKTOP_CHROME_LINUX},
    },
};

const ADMIN_PASSWORD: &str = "tokens-page-admin-pw";
const USER_PASSWORD: &str = "tokens-page-user-pw";

/// A browser signed in as `username` on `base`, on the tokens page.
async fn tokens_page(driver: &Chromedriver, base: &str, username: &str) -> Browser {
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, username, USER_PASSWORD).await;
    browser.follow("#nav-tokens").await;
    browser.wait_for("#tokens-page").await;
    browser
}

/// The role checkboxes the form offers.
async fn offered_roles(browser: &Browser) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('#token-roles input[name=roles]')).map(box => box.value);";
    serde_json::from_value(browser.execute(script, vec![]).await).expect("roles")
}

/// Fills the form (name, days, roles) and submits it.
async fn create_with_form(browser: &Browser, name: &str, days: u32, roles: &[&str]) {
    let fill = "document.getElementById('token-name').value = arguments[0];\
                document.getElementById('token-days').value = arguments[1];\
                document.querySelectorAll('#token-roles input[name=roles]').forEach(box => { box.checked = arguments[2].includes(box.value); });";
    browser
        .execute(
            fill,
            vec![json!(name), json!(days.to_string()), json!(roles)],
        )
        .await;
    browser.click("#create-token").await;
}

/// The secret the page shows once it is created (waits for it).
async fn shown_secret(browser: &Browser) -> String {
    let script = "const block = document.getElementById('new-token'); \
                  return block && !block.hidden ? document.getElementById('new-token-value').textContent : null;";
    browser
        .wait_until("the new token shown", || async {
            browser
                .execute(script, vec![])
                .await
                .as_str()
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_is_created_shown_once_used_and_revoked_from_the_page() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    admin
        .create_user("olga", USER_PASSWORD, &["operator", "viewer"])
        .await;
    admin.create_user("vera", USER_PASSWORD, &["viewer"]).await;
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };

    // Olga creates a viewer token; the page shows its secret once.
    let browser = tokens_page(&driver, &base, "olga").await;
    assert_eq!(offered_roles(&browser).await, ["operator", "viewer"]);
    assert!(browser.has("#no-tokens").await);
    create_with_form(&browser, "ci reader", 7, &["viewer"]).await;
    let secret = shown_secret(&browser).await;
    assert!(secret.starts_with("tad_") && secret.len() == 47, "{secret}");
    let rows = browser
        .wait_until("the token listed", || async {
            let rows = browser
                .cell_texts("#tokens tbody tr", ".token-name, .token-roles")
                .await;
            (!rows.is_empty()).then_some(rows)
        })
        .await;
    assert_eq!(rows, [["ci reader", "viewer"]]);
    let page_text = browser.text("#token-list").await;
    assert!(
        !page_text.contains(&secret),
        "the list never shows a secret"
    );

    // Shown once: a reload shows it no more (and the server never rendered it).
    browser.goto(&format!("{base}/console/tokens")).await;
    browser.wait_for("#tokens").await;
    assert_eq!(browser.text("#new-token-value").await, "");
    let source = browser
        .execute("return document.documentElement.outerHTML;", vec![])
        .await;
    assert!(!source.as_str().expect("html").contains(&secret));

    // The token works from an HTTP client, within its roles.
    let token = Api::new(&base).with_token(&secret);
    let me = token.get_ok("/api/auth/me").await;
    assert_eq!(me["username"], "olga");
    assert_eq!(me["roles"], json!(["viewer"]));
    token.get_ok("/api/app/productline/select").await;

    // Revoked with the page's button, after a confirmation; then it answers 401.
    browser.click("#tokens tbody tr .revoke-token").await;
    browser.wait_for("#confirm-dialog[open]").await;
    browser.click("#confirm-ok").await;
    browser.wait_for("#no-tokens").await;
    let (status, body) = token.get("/api/app/productline/select").await;
    assert_eq!(status, 401, "{body}");
    assert!(assert_failure(&body, "unauthorized").contains("revoked"));

    // A viewer is offered the viewer role only; the route refuses any other from the page too.
    let viewer = tokens_page(&driver, &base, "vera").await;
    assert_eq!(offered_roles(&viewer).await, ["viewer"]);
    let refused = viewer
        .post_from_page(
            "/api/auth/tokens",
            &json!({"name": "more", "roles": ["operator"]}),
        )
        .await;
    assert_eq!(refused[1]["success"], false, "{refused}");
    assert!(
        refused[1]["info"]
            .as_str()
            .is_some_and(|info| info.contains("operator"))
    );
    create_with_form(&viewer, "mine", 30, &["viewer"]).await;
    let vera_secret = shown_secret(&viewer).await;
    let vera_token = Api::new(&base).with_token(&vera_secret);
    assert_eq!(
        vera_token.get_ok("/api/auth/me").await["roles"],
        json!(["viewer"])
    );
    // Her token sees the page, without the form (only a password session makes tokens).
    let page = vera_token
        .http
        .get(format!("{base}/console/tokens"))
        .bearer_auth(&vera_secret)
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.expect("html");
    assert!(
        page.contains("token-by-token") && !page.contains("token-form"),
        "{page}"
    );

    viewer.close().await;
    browser.close().await;
    platform.stop().await;
}
