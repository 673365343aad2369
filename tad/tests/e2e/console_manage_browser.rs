//! The console's management pages (issue 18) in headless Chromium: script review four-eyes (the
//! uploader sees the diff against the previous version but no approve button, and the service
//! refuses their approval even from the page's session; another reviewer approves through the
//! confirmation dialog; a viewer gets no control and a refusal), clusters and hosts with the SSH
//! check against a real sshd (works, pins the host key; a wrong password fails; a viewer has no
//! button), and app distribution (apps with their newest builds, an app's builds per platform,
//! links to the public pages, a protected app says so). Screenshot:
//! target/test-artifacts/console-review.png, console-hosts.png.

use serde_json::json;

use crate::{
    appinhouse_contract::{self, desc},
    console_browser::sign_in,
    support::{
        Api,
        browser::{ANDROID_CHROME_PIXEL, Browser, Chromedriver, DESKTOP_CHROME_LINUX},
        fixtures::{app_catalog, bind_hosts, upload_script},
        sshd::{PASSWORD_USER as SSH_USER, TestSshd},
    },
};

const ADMIN_PASSWORD: &str = "admin-password-1";
const USER_PASSWORD: &str = "console-user-password";

/// A browser signed in as `username` on `base`.
async fn signed_in(driver: &Chromedriver, base: &str, username: &str, password: &str) -> Browser {
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, username, password).await;
    browser
}

/// The texts of the diff lines of `kind` (`add`, `del`) in the file section of `path`.
async fn diff_lines(browser: &Browser, path: &str, kind: &str) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('.file-diff')).filter(s => s.dataset.path === arguments[0])\
                  .flatMap(s => Array.from(s.querySelectorAll('.diff-' + arguments[1]))).map(l => l.textContent);";
    let lines = browser
        .execute(script, vec![json!(path), json!(kind)])
        .await;
    serde_json::from_value(lines).expect("lines")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scripts_are_reviewed_four_eyes_with_their_diff_and_hosts_are_checked_over_ssh() {
    let platform = appinhouse_contract::start_with(&[("TAD_SSH_TIMEOUT_SECS", "5")]).await;
    let base = platform.embedded.url().to_owned();
    let admin = Api::new(&base).login("admin", ADMIN_PASSWORD).await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    // Olga uploads and reviews (two roles); Rita reviews; Vera only reads.
    admin
        .create_user("olga", USER_PASSWORD, &["operator", "reviewer"])
        .await;
    admin
        .create_user("rita", USER_PASSWORD, &["reviewer"])
        .await;
    admin.create_user("vera", USER_PASSWORD, &["viewer"]).await;
    let olga = Api::new(&base).login("olga", USER_PASSWORD).await;
    upload_script(
        &olga,
        "app1",
        "deploy-v1",
        "deploy.sh",
        b"echo one\necho same\n",
    )
    .await;
    let second = upload_script(
        &olga,
        "app1",
        "deploy-v2",
        "deploy.sh",
        b"echo two\necho same\n",
    )
    .await;
    let second_id = second[0]["version_id"]
        .as_str()
        .expect("script id")
        .to_owned();
    let Some(driver) = Chromedriver::start() else {
        platform.embedded.stop().await;
        return;
    };

    // The uploader: both versions wait for review; v2's diff against v1; no approve button.
    let uploader = signed_in(&driver, &base, "olga", USER_PASSWORD).await;
    uploader.goto(&format!("{base}/console/scripts")).await;
    let names = uploader
        .cell_texts("#script-list tr.script", "td:first-child")
        .await
        .concat();
    assert_eq!(names, ["deploy-v2", "deploy-v1"]);
    uploader
        .follow("#script-list tr.script:first-child a")
        .await;
    let version = uploader
        .attribute("#script", "data-script")
        .await
        .expect("id");
    assert_eq!(version, second_id, "the newest version is listed first");
    assert!(
        uploader
            .text("#compared-with")
            .await
            .starts_with("deploy-v1")
    );
    assert_eq!(
        diff_lines(&uploader, "deploy.sh", "del").await,
        ["-echo one"]
    );
    assert_eq!(
        diff_lines(&uploader, "deploy.sh", "add").await,
        ["+echo two"]
    );
    assert!(!uploader.has("#approve, #reject").await);
    assert!(uploader.has("#own-upload").await);
    // The service refuses her approval from the page's session and token all the same.
    let examine = format!("/api/script/index/examine/{version}");
    let answer = uploader
        .post_from_page(&examine, &json!({"status": "able"}))
        .await;
    let envelope = &answer[1];
    assert_eq!(envelope["success"], false, "{envelope}");
    assert_eq!(envelope["code"], "self_review", "{envelope}");
    uploader.close().await;

    // Another reviewer approves through the confirmation dialog.
    let reviewer = signed_in(&driver, &base, "rita", USER_PASSWORD).await;
    reviewer
        .goto(&format!("{base}/console/scripts/{version}"))
        .await;
    assert_eq!(reviewer.text("#review-state").await, "waiting for review");
    reviewer.click("#approve").await;
    reviewer.wait_for("#confirm-dialog[open]").await;
    assert!(
        reviewer
            .text("#confirm-text")
            .await
            .starts_with("Approve this script version?")
    );
    reviewer.click("#confirm-ok").await;
    reviewer
        .wait_until("the approved state", || async {
            // The page reloads itself after the review: read without failing mid-reload.
            let state = reviewer
                .execute(
                    "var state = document.getElementById('review-state'); return state ? state.textContent : '';",
                    vec![],
                )
                .await;
            (state == "approved").then_some(())
        })
        .await;
    assert_eq!(reviewer.text("#script-reviewer").await, "rita");
    reviewer.screenshot("console-review").await;
    // The pending list no longer has it; the list of all versions shows it approved.
    reviewer.goto(&format!("{base}/console/scripts")).await;
    let pending = reviewer
        .cell_texts("#script-list tr.script", "td:first-child")
        .await
        .concat();
    assert_eq!(pending, ["deploy-v1"]);
    reviewer.close().await;

    // A viewer: no control, and the service refuses the page's post.
    let viewer = signed_in(&driver, &base, "vera", USER_PASSWORD).await;
    viewer
        .goto(&format!("{base}/console/scripts/{version}"))
        .await;
    assert_eq!(viewer.text("#review-state").await, "approved");
    assert!(!viewer.has("#approve, #reject, #own-upload").await);
    let answer = viewer
        .post_from_page(&examine, &json!({"status": "disable"}))
        .await;
    assert_eq!(answer[1]["code"], "forbidden", "{answer}");

    // An unknown version: the console's failure page, 404, in the frame, naming it.
    viewer
        .goto(&format!("{base}/console/scripts/no-such-version"))
        .await;
    assert_eq!(
        viewer.attribute("#failure", "data-status").await.as_deref(),
        Some("404")
    );
    assert!(
        viewer
            .text("#failure-info")
            .await
            .contains("no-such-version")
    );
    assert_eq!(viewer.text("#user-name").await, "vera");

    check_hosts_over_ssh(&driver, &admin, &base, &viewer).await;
    viewer.close().await;
    drop(driver);
    platform.embedded.stop().await;
}

/// Hosts against a real sshd: the operator's SSH check works and pins the host key, a wrong
/// password fails with the reason, the viewer has no button (skipped without sshd).
async fn check_hosts_over_ssh(driver: &Chromedriver, admin: &Api, base: &str, viewer: &Browser) {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let host = |ip: &str, name: &str, password: &str| {
        json!({"host_IP": ip, "host_name": name, "ssh_user": SSH_USER, "ssh_port": sshd.port,
               "ssh_passwd": password, "productLine_id": "pl1", "env_id": "env1"})
    };
    let good = admin
        .post_id(
            "/api/resource/hosts/aos_create",
            &host("127.0.0.1", "good-host", &sshd.password),
        )
        .await;
    let bad = admin
        .post_id(
            "/api/resource/hosts/aos_create",
            &host("127.0.0.2", "bad-host", "not-the-password"),
        )
        .await;
    let cluster = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": "shop-web", "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    bind_hosts(admin, &cluster, std::slice::from_ref(&good)).await;
    let operator = signed_in(driver, base, "olga", USER_PASSWORD).await;
    // The cluster list leads to the cluster's one bound host.
    operator.goto(&format!("{base}/console/clusters")).await;
    operator
        .follow(&format!("#cluster-list tr[data-cluster='{cluster}'] a"))
        .await;
    assert_eq!(operator.text("#cluster-name").await, "shop-web");
    let bound: Vec<String> = operator
        .cell_texts("#host-list tr.host", "td:nth-child(2)")
        .await
        .concat();
    assert_eq!(bound, ["good-host"]);
    operator.goto(&format!("{base}/console/hosts")).await;
    assert_eq!(operator.text("#host-count").await, "2");
    let row = |id: &str| format!("#host-list tr[data-host='{id}']");
    assert_eq!(
        operator.text(&format!("{} .host-key", row(&good))).await,
        "not pinned yet"
    );
    for (id, expected) in [(&good, "SSH login works"), (&bad, "SSH login failed")] {
        operator
            .click(&format!("{} button.ssh-check", row(id)))
            .await;
        let result = format!("{} .ssh-result", row(id));
        let text = operator
            .wait_until("the SSH check's answer", || async {
                let text = operator.text(&result).await;
                (!text.is_empty() && !text.contains('…')).then_some(text)
            })
            .await;
        assert_eq!(text, expected, "{id}");
    }
    operator.screenshot("console-hosts").await;
    operator
        .goto(&format!("{base}/console/hosts?name=good"))
        .await;
    assert_eq!(operator.text("#host-count").await, "1");
    assert_eq!(
        operator.text(&format!("{} .host-key", row(&good))).await,
        "pinned"
    );
    operator.close().await;
    viewer.goto(&format!("{base}/console/hosts")).await;
    assert!(viewer.has(&row(&good)).await);
    assert!(!viewer.has("button.ssh-check").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apps_are_listed_with_their_newest_builds_and_links_to_the_download_pages() {
    let platform = appinhouse_contract::start_with(&[("TAD_APPINHOUSE_PAGE_SIZE", "2")]).await;
    let base = platform.embedded.url().to_owned();
    for app in ["ship", "vault"] {
        let (status, body) = platform
            .post(&format!("/api/v2/{app}/create"), &[("description", "d")])
            .await;
        assert_eq!(status, 200, "{body}");
    }
    for (version, time) in [
        ("1.0.0", "2026-10-01T09:00:00Z"),
        ("1.1.0", "2026-10-02T09:00:00Z"),
        ("1.2.0", "2026-10-03T09:00:00Z"),
    ] {
        desc(&platform, "ship", "android", version, time).await;
    }
    desc(&platform, "ship", "ios", "2.0.0", "2026-10-01T10:00:00Z").await;
    desc(
        &platform,
        "vault",
        "android",
        "9.0.0",
        "2026-10-01T10:00:00Z",
    )
    .await;
    let (status, body) = platform
        .post("/api/v2/vault/protect", &[("password", "vault-password-1")])
        .await;
    assert_eq!(status, 200, "{body}");
    let admin = Api::new(&base).login("admin", ADMIN_PASSWORD).await;
    admin.create_user("vera", USER_PASSWORD, &["viewer"]).await;
    let Some(driver) = Chromedriver::start() else {
        platform.embedded.stop().await;
        return;
    };
    let browser = signed_in(&driver, &base, "vera", USER_PASSWORD).await;
    browser.goto(&format!("{base}/console/apps")).await;
    let newest = browser
        .cell_texts("#app-list tr[data-app='ship'] li.build", "a")
        .await
        .concat();
    let mut newest_sorted = newest.clone();
    newest_sorted.sort();
    assert_eq!(newest_sorted, ["1.2.0", "2.0.0"], "{newest:?}");
    // The protected app says why its builds are not shown.
    let problem = browser
        .text("#app-list tr[data-app='vault'] .app-problem")
        .await;
    assert!(problem.to_lowercase().contains("password"), "{problem}");
    assert_eq!(
        browser
            .attribute("#app-list tr[data-app='ship'] a.public-page", "href")
            .await
            .as_deref(),
        Some("/app/ship")
    );

    // The app's android builds, two a page, newest first, each with its permalink.
    browser
        .follow("#app-list tr[data-app='ship'] td:first-child a")
        .await;
    browser.click("nav.tabs a[data-platform='android']").await;
    browser
        .wait_for("#build-list tr[data-version='1.2.0']")
        .await;
    let versions = browser
        .cell_texts("#build-list tr.build", "td:first-child")
        .await
        .concat();
    assert_eq!(versions, ["1.2.0", "1.1.0"]);
    browser.follow("#page-next").await;
    let versions = browser
        .cell_texts("#build-list tr.build", "td:first-child")
        .await
        .concat();
    assert_eq!(versions, ["1.0.0"]);
    // The permalink opens the public page of that build.
    let page = browser
        .follow("#build-list tr[data-version='1.0.0'] a.permalink")
        .await;
    assert!(page.ends_with("/app/ship/android/1.0.0"), "{page}");
    let source = browser.client.source().await.expect("page source");
    assert!(
        source.contains("build 1.0.0"),
        "the build's description on its page"
    );
    browser.close().await;

    // On a phone every page fits the width (wide tables scroll inside their card).
    let phone = driver.open(ANDROID_CHROME_PIXEL).await;
    phone.goto(&format!("{base}/console/login")).await;
    sign_in(&phone, "vera", USER_PASSWORD).await;
    for path in [
        "/console/apps",
        "/console/apps/ship?platform=android",
        "/console/scripts?state=all",
        "/console/clusters",
        "/console/hosts",
    ] {
        phone.goto(&format!("{base}{path}")).await;
        assert!(
            phone.fits_the_width().await,
            "{path} is wider than the phone"
        );
    }
    phone.close().await;
    drop(driver);
    platform.embedded.stop().await;
}
