//! The console's approvals pages (issue 20) in headless Chromium: a deploy asked on a protected
//! environment is listed as pending; an approver opens it, reads the frozen plan (the hosts, the
//! masked parameters), is told a reject needs a comment, then approves it through the
//! confirmation dialog, and the page shows the run it started (which succeeds). The requester,
//! though an approver too, sees a note instead of the controls; a viewer sees none, and the
//! service refuses the viewer's POST made with its session and CSRF token. A second request is
//! rejected from the page with a comment.

use serde_json::json;

use crate::{
    console_browser::{deployable_instance, sign_in},
    support::{
        Api, EmbeddedPlatform,
        browser::{Browser, Chromedriver, DESKTOP_CHROME_LINUX},
        fixtures::app_catalog,
    },
};

const ADMIN_PASSWORD: &str = "approvals-page-admin-pw";
const USER_PASSWORD: &str = "approvals-page-user-pw";

/// 6.1 on the TAD host as `api`: answers the deployment request it made.
async fn ask(api: &Api, instance: &str) -> String {
    let (_, body) = api
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall"),
            &json!({"use_tad_host": true}),
        )
        .await;
    assert_eq!(body["code"], "approval_required", "{body}");
    body["data"]["request_id"]
        .as_str()
        .expect("request id")
        .to_owned()
}

/// A browser signed in as `username`, on the approvals list.
async fn approvals_list(driver: &Chromedriver, base: &str, username: &str) -> Browser {
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, username, USER_PASSWORD).await;
    browser.follow("#nav-approvals").await;
    browser.wait_for("#approvals").await;
    browser
}

/// Opens request `id`'s page from the list.
async fn open_request(browser: &Browser, id: &str) {
    browser
        .follow(&format!("tr[data-request='{id}'] .approval-link"))
        .await;
    browser.wait_for("#approval-plan").await;
}

async fn request_status(browser: &Browser) -> String {
    // Null-safe: the page may be reloading after a decision.
    let script = "const badge = document.querySelector('#approval h1 .status'); \
                  return badge ? badge.getAttribute('data-status') : '';";
    browser
        .execute(script, vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approver_reads_the_frozen_plan_and_approves_or_rejects_from_the_page() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "prod")).await;
    let instance = deployable_instance(
        &admin,
        ("app1", 2),
        ("approved", "echo approved deploy\n"),
        "shop-prod",
    )
    .await;
    admin
        .post_ok(
            "/api/admin/envs/env1/governance",
            &json!({"protected": true}),
        )
        .await;
    let ana = admin
        .login_new_user("ana", USER_PASSWORD, &["operator", "approver"])
        .await;
    admin.create_user("abe", USER_PASSWORD, &["approver"]).await;
    admin.create_user("vera", USER_PASSWORD, &["viewer"]).await;
    let first = ask(&ana, &instance).await;
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };

    // Abe sees it pending, opens it and reads the plan it froze.
    let browser = approvals_list(&driver, &base, "abe").await;
    let rows = browser
        .cell_texts(
            "#approval-requests tbody tr",
            ".approval-link, .approval-requester, .status",
        )
        .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0], first);
    assert_eq!(rows[0][1], "ana");
    open_request(&browser, &first).await;
    assert_eq!(request_status(&browser).await, "pending");
    assert_eq!(browser.text(".frozen-hosts").await, "127.0.0.2");
    assert_eq!(browser.text("#approval-requester").await, "ana");

    // A reject needs a comment: the page says so and posts nothing.
    browser.click("#reject").await;
    let said = browser
        .wait_until("the comment asked for", || async {
            let text = browser.text("#action-message").await;
            (!text.is_empty()).then_some(text)
        })
        .await;
    assert!(said.contains("why"), "{said}");
    assert_eq!(
        ana.get_ok(&format!("/api/approvals/{first}")).await["request"]["status"],
        "pending"
    );

    // Approved through the confirmation: the page shows the run, which succeeds.
    browser
        .execute(
            "document.getElementById('decision-comment').value = arguments[0];",
            vec![json!("release 1")],
        )
        .await;
    browser.click("#approve").await;
    browser.wait_for("#confirm-dialog[open]").await;
    browser.click("#confirm-ok").await;
    browser.wait_for("#approval-run").await;
    assert_eq!(request_status(&browser).await, "started");
    assert_eq!(browser.text("#approval-comment").await, "release 1");
    assert!(!browser.has("#decision").await, "decided: no controls");
    let run = browser.text("#approval-run").await;
    let finished = browser
        .wait_until("the approved run finishes", || async {
            let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
            (tree["status"] != "running").then_some(tree)
        })
        .await;
    assert_eq!(finished["status"], "success", "{finished}");
    assert_eq!(finished["started_by"], "ana");

    // The requester is an approver too, but sees a note instead of the controls.
    let second = ask(&ana, &instance).await;
    let own = approvals_list(&driver, &base, "ana").await;
    open_request(&own, &second).await;
    assert!(own.has("#own-request").await);
    assert!(!own.has("#decision").await);

    // A viewer sees no control; the service refuses the viewer's POST anyway.
    let viewer = approvals_list(&driver, &base, "vera").await;
    open_request(&viewer, &second).await;
    assert!(!viewer.has("#decision").await && !viewer.has("#own-request").await);
    let refused = viewer
        .post_from_page(&format!("/api/approvals/{second}/approve"), &json!({}))
        .await;
    assert_eq!(refused[1]["code"], "forbidden", "{refused}");

    // Abe rejects the second one from the page, with a comment.
    browser
        .goto(&format!("{base}/console/approvals?status=pending"))
        .await;
    browser.wait_for("#approval-requests").await;
    open_request(&browser, &second).await;
    browser
        .execute(
            "document.getElementById('decision-comment').value = arguments[0];",
            vec![json!("not before the freeze")],
        )
        .await;
    browser.click("#reject").await;
    browser.wait_for("#confirm-dialog[open]").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_until("the request rejected", || async {
            (request_status(&browser).await == "rejected").then_some(())
        })
        .await;
    assert_eq!(
        browser.text("#approval-comment").await,
        "not before the freeze"
    );
    let answer = ana.get_ok(&format!("/api/approvals/{second}")).await;
    assert_eq!(answer["request"]["status"], "rejected");
    assert_eq!(answer["request"]["decided_by"], "abe");

    viewer.close().await;
    own.close().await;
    browser.close().await;
    platform.stop().await;
}
