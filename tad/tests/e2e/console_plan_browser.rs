//! The instance page's dry run (issue 21) in headless Chromium: "Plan" shows what deploy would do
//! now (the step's batch, the artifact-free step, the host key not pinned as a blocker) and pins
//! deploy's confirmation to the plan id; when the instance's cluster changes before the
//! confirmation, deploy is refused with `plan_changed` naming the change and nothing starts. A
//! viewer reads the plan too, without run controls.

use serde_json::json;

use crate::{
    console_browser::{deployable_instance, sign_in},
    support::{
        Api, EmbeddedPlatform,
        browser::{Browser, Chromedriver, DESKTOP_CHROME_LINUX},
        fixtures::{app_catalog, bind_cluster, cluster_with_host},
    },
};

const ADMIN_PASSWORD: &str = "plan-page-admin-password";
const USER_PASSWORD: &str = "plan-page-user-password";

async fn instance_page(driver: &Chromedriver, base: &str, user: &str, instance: &str) -> Browser {
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, user, USER_PASSWORD).await;
    browser
        .goto(&format!("{base}/console/instances/{instance}"))
        .await;
    browser.wait_for("#show-plan").await;
    browser
}

/// Clicks "Plan" and waits for the plan: answers its id.
async fn show_plan(browser: &Browser) -> String {
    browser.click("#show-plan").await;
    browser.wait_for("#dry-run:not([hidden]) .plan-step").await;
    browser
        .attribute("#dry-run", "data-plan-id")
        .await
        .expect("plan id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_instance_page_shows_the_plan_and_deploys_exactly_it() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let instance = deployable_instance(
        &admin,
        ("app1", 2),
        ("planned", "echo planned\n"),
        "shop-planned",
    )
    .await;
    admin
        .create_user("olga", USER_PASSWORD, &["operator"])
        .await;
    admin.create_user("vera", USER_PASSWORD, &["viewer"]).await;
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };

    // The operator reads the plan: one batch on the cluster's host, its key not pinned yet.
    let browser = instance_page(&driver, &base, "olga", &instance).await;
    let plan_id = show_plan(&browser).await;
    assert_eq!(plan_id.len(), 64);
    assert_eq!(browser.text(".plan-batches").await, "Batches: [127.0.0.2]");
    let blocker = browser
        .attribute(".plan-blocker", "data-kind")
        .await
        .expect("a blocker");
    assert_eq!(blocker, "unknown_host_key");
    assert!(browser.text(".plan-blocker").await.contains("127.0.0.2"));
    let body = browser
        .attribute("#confirm-deploy .confirm-go", "data-body")
        .await
        .expect("body");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body, json!({"use_tad_host": false, "plan_id": plan_id}));

    // The cluster changes before the confirmation: deploy is refused naming it, nothing starts.
    let other = cluster_with_host(
        &admin,
        &json!({"name": "app1-other", "env_id": "env1", "app_id": "app1"}),
        &json!({"host_IP": "127.0.0.9", "host_name": "h9", "ssh_user": "nobody",
            "ssh_port": "22", "ssh_passwd": "unused-ssh-password", "productLine_id": "pl1", "env_id": "env1"}),
    )
    .await;
    bind_cluster(&admin, &instance, "planned1", 0, &other).await;
    browser.click("#deploy").await;
    browser.wait_for("#confirm-deploy:not([hidden])").await;
    browser.click("#confirm-deploy .confirm-go").await;
    let said = browser
        .wait_until("the refusal shown", || async {
            let text = browser.text("#action-message").await;
            (!text.is_empty()).then_some(text)
        })
        .await;
    assert!(
        said.contains("out of date") && said.contains("step 0 cluster, hosts changed"),
        "{said}"
    );
    let (_, runs) = admin
        .get(&format!("/api/app/jobinstance/{instance}/executions"))
        .await;
    assert_eq!(runs["count"], 0, "{runs}");

    // A fresh plan shows the new host; a viewer reads it too, without run controls.
    let viewer = instance_page(&driver, &base, "vera", &instance).await;
    assert!(!viewer.has("#deploy").await);
    let fresh = show_plan(&viewer).await;
    assert_ne!(fresh, plan_id);
    assert_eq!(viewer.text(".plan-batches").await, "Batches: [127.0.0.9]");
    let api = Api::new(&base).login("vera", USER_PASSWORD).await;
    let plan = api
        .post_ok(&format!("/api/app/jobinstance/{instance}/plan"), &json!({}))
        .await;
    assert_eq!(
        plan["plan_id"],
        json!(fresh),
        "the same plan through the API"
    );

    viewer.close().await;
    browser.close().await;
    platform.stop().await;
}
