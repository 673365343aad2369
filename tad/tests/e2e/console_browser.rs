//! The web console (issue 18, first slice) end to end: in headless Chromium over WebDriver
//! (support::browser) a visitor of `/` gets the login page, a wrong password shows the form
//! again with its problem, the right one leads to the dashboard with an HttpOnly session cookie
//! that page script cannot read; the dashboard shows runs started through the API (a failed one
//! red, a successful one green) with the retry control for an admin; the language switches to
//! zh-CN; logout ends the session (its token answers 401) and the dashboard then leads to login;
//! a viewer on a phone sees the runs without any write control. Over plain HTTP: the cookie
//! session authenticates the JSON routes, a cookie write without the session's CSRF token is
//! refused with 403 and passes with it, bearer clients are unchanged, and the services refuse a
//! viewer's write even with the token. Screenshots: target/test-artifacts/console-login.png and
//! console-dashboard.png (copied to docs/ for the README).

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::support::{
    Api, EmbeddedPlatform, assert_success,
    browser::{ANDROID_CHROME_PIXEL, Browser, Chromedriver, DESKTOP_CHROME_LINUX},
    drop_platform_schemas,
    fixtures::{
        app_catalog, application, cluster_with_host, post_all, template_with_methods,
        upload_component,
    },
    platform_env, start_serve,
};

pub(crate) const ADMIN_PASSWORD: &str = "console-admin-password";
pub(crate) const VIEWER_PASSWORD: &str = "console-viewer-password";
/// The instances the runs are of: one fails, one succeeds.
const FAILING_INSTANCE: &str = "shop-deploy";
const PASSING_INSTANCE: &str = "cart-deploy";

/// A deployable instance of application `app` (of pl1, in env1): a cluster with one host
/// (`127.0.0.{host}`, never reached: runs go on the TAD host) and a one-step template whose
/// method `{component}1` runs `run_sh`; answers the instance id.
pub(crate) async fn deployable_instance(
    admin: &Api,
    (app, host): (&str, u8),
    (component, run_sh): (&str, &str),
    instance_name: &str,
) -> String {
    let cluster = cluster_with_host(
        admin,
        &json!({"name": format!("{app}-c"), "env_id": "env1", "app_id": app}),
        &json!({"host_IP": format!("127.0.0.{host}"), "host_name": format!("h{host}"), "ssh_user": "nobody",
            "ssh_port": "22", "ssh_passwd": "unused-ssh-password", "productLine_id": "pl1", "env_id": "env1"}),
    )
    .await;
    let method = format!("{component}1");
    let manifest = format!(
        "component: {{id: {component}, name: {component}, remark: {component}}}\nmethod: {{id: {method}, name: install, remark: install}}\nentrypoint: run.sh\n"
    );
    upload_component(admin, &manifest, run_sh.as_bytes().to_vec()).await;
    let template = template_with_methods(
        admin,
        &format!("{component}-install"),
        app,
        &[(component, &method)],
    )
    .await;
    let instance = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": instance_name, "env_id": "env1", "application_id": app, "job_template_id": template}),
        )
        .await;
    admin
        .post_ok(
            &format!("/api/app/jobinstance/{instance}/{method}/0/{cluster}/relation/cluster"),
            &json!({}),
        )
        .await;
    instance
}

/// Runs one deployment of each kind on the TAD host through the API: `shop` fails (its method
/// exits 3), `cart` succeeds; answers the failed run's id.
async fn run_deployments(admin: &Api) -> String {
    app_catalog(admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    post_all(admin, &[application("app2", "cart", "pl1")]).await;
    let mut failed_run = String::new();
    for (app, host, component, instance_name, exit) in [
        ("app1", 2, "broken", FAILING_INSTANCE, 3),
        ("app2", 3, "sound", PASSING_INSTANCE, 0),
    ] {
        let run_sh = format!("echo deploying {component}\nexit {exit}\n");
        let instance =
            deployable_instance(admin, (app, host), (component, &run_sh), instance_name).await;
        let (_, body) = admin
            .post(
                &format!("/api/app/jobinstance/{instance}/executionall"),
                &json!({"use_tad_host": true}),
            )
            .await;
        let data = &body["data"];
        let expected = if exit == 0 { "success" } else { "failed" };
        assert_eq!(data["status"], expected, "{body}");
        if exit != 0 {
            failed_run = data["execution_id"].as_str().expect("run id").to_owned();
        }
    }
    failed_run
}

/// Types `username` and `password` into the login form.
pub(crate) async fn fill_login(browser: &Browser, username: &str, password: &str) {
    let form = "document.getElementById('username').value = arguments[0];\
                document.getElementById('password').value = arguments[1];";
    browser
        .execute(form, vec![json!(username), json!(password)])
        .await;
}

/// Signs in with the login form; waits for the next page and answers its URL.
pub(crate) async fn sign_in(browser: &Browser, username: &str, password: &str) -> String {
    fill_login(browser, username, password).await;
    browser.follow("#sign-in").await
}

/// The computed background colour of the element `css` selects.
pub(crate) async fn background(browser: &Browser, css: &str) -> String {
    let script = "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;";
    let colour = browser.execute(script, vec![json!(css)]).await;
    colour.as_str().expect("colour").to_owned()
}

/// The instance and status of each latest run (and its message, if any).
async fn latest_statuses(browser: &Browser) -> Vec<(String, String)> {
    browser
        .cell_texts("#latest-runs tbody tr", "td:nth-child(3), .status")
        .await
        .into_iter()
        .map(|cells| (cells[0].clone(), cells[1].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_browser_signs_in_sees_the_runs_switches_language_and_signs_out() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let failed_run = run_deployments(&admin).await;
    admin
        .create_user("vera", VIEWER_PASSWORD, &["viewer"])
        .await;
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    let base = platform.url().to_owned();

    // `/` without a session: the login page (the first start's note names TAD_ADMIN_PASSWORD).
    browser.goto(&format!("{base}/")).await;
    assert!(
        browser.url().await.ends_with("/console/login"),
        "{}",
        browser.url().await
    );
    assert!(
        browser
            .text("#first-start")
            .await
            .contains("TAD_ADMIN_PASSWORD")
    );
    // A wrong password: the form again, with its problem and the name kept.
    fill_login(&browser, "admin", "not-the-password").await;
    browser.click("#sign-in").await;
    browser.wait_for("#login-problem").await;
    assert!(browser.url().await.ends_with("/console/login"));
    assert_eq!(
        browser.text("#login-problem").await,
        "Wrong user name or password."
    );
    assert_eq!(
        browser.attribute("#username", "value").await.as_deref(),
        Some("admin")
    );
    browser.screenshot("console-login").await;

    let dashboard = sign_in(&browser, "admin", ADMIN_PASSWORD).await;
    assert!(dashboard.ends_with("/console/dashboard"), "{dashboard}");
    // The session cookie exists, but page script cannot read it.
    let visible = browser.execute("return document.cookie;", vec![]).await;
    assert!(
        !visible.as_str().unwrap_or_default().contains("tad_session"),
        "{visible}"
    );
    let session = browser
        .client
        .get_named_cookie("tad_session")
        .await
        .expect("the session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    assert_eq!(browser.text("#user-name").await, "admin");
    assert_eq!(browser.text("#user-roles").await, "admin");

    // The runs started through the API: the failed one red with its retry control, the other green.
    let mut statuses = latest_statuses(&browser).await;
    statuses.sort();
    assert_eq!(
        statuses,
        [
            (PASSING_INSTANCE.to_owned(), "success".to_owned()),
            (FAILING_INSTANCE.to_owned(), "failed".to_owned()),
        ]
    );
    let failed_row = format!("#latest-runs tr[data-execution='{failed_run}']");
    let failed_badge = format!("{failed_row} .status");
    assert_eq!(
        browser.attribute(&failed_badge, "class").await.as_deref(),
        Some("status status-failed")
    );
    assert_eq!(
        background(&browser, &failed_badge).await,
        "rgb(198, 40, 40)"
    );
    assert_eq!(
        background(&browser, "#latest-runs .status-success").await,
        "rgb(23, 128, 61)"
    );
    assert!(browser.has(&format!("{failed_row} button.retry")).await);
    let message = browser.text(&format!("{failed_row} .run-message")).await;
    assert!(message.contains("exited with code 3"), "{message}");
    assert!(browser.has("#no-runs-in-progress").await);
    let screenshot = browser.screenshot("console-dashboard").await;
    crate::support::browser::copy_to_docs(&screenshot, "console-dashboard.png");

    // The language switch: zh-CN, kept for the next page.
    browser
        .execute(
            "const select = document.getElementById('lang-select'); select.value = 'zh-CN'; select.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await;
    let lang = "return document.documentElement.lang;";
    browser
        .wait_until("the page in zh-CN", || async {
            (browser.execute(lang, vec![]).await == json!("zh-CN")).then_some(())
        })
        .await;
    assert_eq!(browser.text("nav a.current").await, "仪表盘");
    assert_eq!(browser.text(&failed_badge).await, "失败");

    // Logout ends the session: its token answers 401, and the dashboard leads to login.
    let login = browser.follow("#logout").await;
    assert!(login.ends_with("/console/login"), "{login}");
    let (status, _) = Api::new(&base)
        .with_token(session.value())
        .get("/api/auth/me")
        .await;
    assert_eq!(status, 401);
    browser.goto(&format!("{base}/console/dashboard")).await;
    assert!(browser.url().await.ends_with("/console/login"));
    assert_eq!(browser.text("#sign-in").await, "登录");
    browser.close().await;

    // A viewer on a phone: the same runs, no write control, nothing wider than the screen.
    let phone = driver.open(ANDROID_CHROME_PIXEL).await;
    phone.goto(&format!("{base}/console/login")).await;
    let dashboard = sign_in(&phone, "vera", VIEWER_PASSWORD).await;
    assert!(dashboard.ends_with("/console/dashboard"), "{dashboard}");
    assert_eq!(latest_statuses(&phone).await.len(), 2);
    assert!(!phone.has("button.retry, button.resume").await);
    let overflow = phone
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await;
    assert!(
        overflow.as_i64().is_some_and(|extra| extra <= 0),
        "{overflow}"
    );
    phone.close().await;
    drop(driver);
    platform.stop().await;
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    common::https::client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// The `name=value` of cookie `name` among the answer's `Set-Cookie` headers, and the header.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(|value| {
            let pair = value.split(';').next().unwrap_or_default().to_owned();
            (pair, value.to_owned())
        })
}

/// The `content` (or `value`) after `marker` in an HTML page.
fn html_value(page: &str, marker: &str) -> String {
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {page}"))
        + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The login page's form token: its cookie pair (`tad_login_csrf=…`) and the form field's value.
async fn login_form_token(http: &reqwest::Client, base: &str) -> (String, String) {
    let page = http
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("login page");
    let (form_cookie, _) = set_cookie(&page, "tad_login_csrf").expect("form cookie");
    let form_token = html_value(&page.text().await.expect("page"), "name=\"csrf\" value=\"");
    (form_cookie, form_token)
}

/// Signs in through the console's form; answers the session cookie pair (`tad_session=…`) and
/// the session's CSRF token from the dashboard page.
async fn form_login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> (String, String) {
    let (form_cookie, form_token) = login_form_token(http, base).await;
    let answer = http
        .post(format!("{base}/console/login"))
        .header(header::COOKIE, &form_cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf", &form_token),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(answer.headers()[header::LOCATION], "/console/dashboard");
    let (session, full) = set_cookie(&answer, "tad_session").expect("session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(full.contains(part), "{full}");
    }
    assert!(!full.contains("Secure"), "plain http: {full}");
    let dashboard = http
        .get(format!("{base}/console/dashboard"))
        .header(header::COOKIE, &session)
        .send()
        .await
        .expect("dashboard");
    assert_eq!(dashboard.status(), StatusCode::OK);
    let csrf = html_value(
        &dashboard.text().await.expect("page"),
        "name=\"tad-csrf\" content=\"",
    );
    (session, csrf)
}

async fn envelope(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cookie_session_writes_only_with_its_csrf_token() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    admin
        .create_user("vera", VIEWER_PASSWORD, &["viewer"])
        .await;
    let base = platform.url().to_owned();
    let http = no_redirects();

    // Without a session: `/` leads a browser to the login page; the JSON routes answer 401.
    let home = http.get(format!("{base}/")).send().await.expect("home");
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()[header::LOCATION], "/console/login");
    let (status, body) = envelope(
        http.get(format!("{base}/api/auth/me"))
            .send()
            .await
            .expect("me"),
    )
    .await;
    assert_eq!(
        (status, &body["code"]),
        (401, &json!("unauthorized")),
        "{body}"
    );
    // A login form without its token is refused before the password is checked.
    let forged = http
        .post(format!("{base}/console/login"))
        .form(&[
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("csrf", "guess"),
        ])
        .send()
        .await
        .expect("forged login");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&forged, "tad_session").is_none());
    // The form's body is capped as the JSON login's (8 KiB).
    let oversized = http
        .post(format!("{base}/console/login"))
        .form(&[
            ("username", "admin".to_owned()),
            ("password", "p".repeat(9000)),
        ])
        .send()
        .await
        .expect("oversized login");
    assert_eq!(oversized.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let (session, csrf) = form_login(&http, &base, "admin", ADMIN_PASSWORD).await;
    let with_cookie = |request: reqwest::RequestBuilder| request.header(header::COOKIE, &session);
    let home = with_cookie(http.get(format!("{base}/")))
        .send()
        .await
        .expect("home");
    assert_eq!(home.headers()[header::LOCATION], "/console/dashboard");
    let (status, body) = envelope(
        with_cookie(http.get(format!("{base}/api/auth/me")))
            .send()
            .await
            .expect("me"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["username"], "admin");

    // A write with the cookie alone (what a cross-site form would send) or a wrong token: 403.
    let product_line = |id: &str| json!({"id": id, "name": format!("line {id}")});
    let path = format!("{base}/api/admin/productlines");
    for token in [
        None,
        Some("0".repeat(64)),
        Some(admin.token.clone().expect("token")),
    ] {
        let mut request = with_cookie(http.post(&path)).json(&product_line("p1"));
        if let Some(token) = &token {
            request = request.header("X-CSRF-Token", token);
        }
        let (status, body) = envelope(request.send().await.expect("post")).await;
        assert_eq!(
            (status, &body["code"]),
            (403, &json!("forbidden")),
            "{token:?}: {body}"
        );
        assert!(
            body["info"]
                .as_str()
                .unwrap_or_default()
                .contains("X-CSRF-Token"),
            "{body}"
        );
    }
    assert_eq!(admin.get_ok("/api/admin/productlines").await, json!([]));
    // With the session's token it passes; a bearer client needs none.
    let request = with_cookie(http.post(&path))
        .header("X-CSRF-Token", &csrf)
        .json(&product_line("p1"));
    let (status, body) = envelope(request.send().await.expect("post")).await;
    assert_eq!(status, 200, "{body}");
    assert_success(&body);
    admin
        .post_ok("/api/admin/productlines", &product_line("p2"))
        .await;

    // The viewer's session holds a valid token, and the services refuse the viewer anyway.
    let (viewer, viewer_csrf) = form_login(&http, &base, "vera", VIEWER_PASSWORD).await;
    let (status, body) = envelope(
        http.post(format!(
            "{base}/api/executions/no-such-run/retry?wait=false"
        ))
        .header(header::COOKIE, &viewer)
        .header("X-CSRF-Token", &viewer_csrf)
        .send()
        .await
        .expect("retry"),
    )
    .await;
    assert_eq!(body["code"], "forbidden", "{status}: {body}");
    // One session's token is not another's.
    let (status, _) = envelope(
        with_cookie(http.post(&path))
            .header("X-CSRF-Token", &viewer_csrf)
            .json(&product_line("p3"))
            .send()
            .await
            .expect("post"),
    )
    .await;
    assert_eq!(status, 403);

    // The login rate limit holds for the form as for the JSON login (10 a minute by default).
    let (form_cookie, form_token) = login_form_token(&http, &base).await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let answer = http
            .post(format!("{base}/console/login"))
            .header(header::COOKIE, &form_cookie)
            .form(&[
                ("username", "vera"),
                ("password", "wrong-password"),
                ("csrf", &form_token),
            ])
            .send()
            .await
            .expect("login");
        statuses.push(answer.status().as_u16());
        let text = answer.text().await.expect("page");
        assert!(text.contains("id=\"login-problem\""), "{text}");
    }
    assert_eq!(statuses, [[401; 10].as_slice(), &[429]].concat());

    // Logout needs the form's token too; then the cookie is cleared and the session is over.
    let logout = format!("{base}/console/logout");
    let refused = with_cookie(http.post(&logout))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .expect("logout");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let done = with_cookie(http.post(&logout))
        .form(&[("csrf", &csrf)])
        .send()
        .await
        .expect("logout");
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/console/login");
    let (cleared, full) = set_cookie(&done, "tad_session").expect("cleared cookie");
    assert_eq!(cleared, "tad_session=");
    assert!(full.contains("Max-Age=0"), "{full}");
    let (status, _) = envelope(
        with_cookie(http.get(format!("{base}/api/auth/me")))
            .send()
            .await
            .expect("me"),
    )
    .await;
    assert_eq!(status, 401);
    let dashboard = with_cookie(http.get(format!("{base}/console/dashboard")))
        .send()
        .await
        .expect("dashboard");
    assert_eq!(dashboard.status(), StatusCode::SEE_OTHER);
    assert_eq!(dashboard.headers()[header::LOCATION], "/console/login");
    platform.stop().await;
}

/// The `data-status` of the status badge `css` selects, if there is one.
pub(crate) async fn status_of(browser: &Browser, css: &str) -> Option<String> {
    let script = "const badge = document.querySelector(arguments[0]); \
                  return badge ? badge.getAttribute('data-status') : null;";
    let status = browser.execute(script, vec![json!(css)]).await;
    status.as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_run_stands_out_and_an_operator_resumes_it_from_the_dashboard() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let marker_dir = tempfile::tempdir().expect("marker dir");
    let marker = marker_dir.path().join("started");
    let (env, postgres) = platform_env(ADMIN_PASSWORD, &[("TAD_EXECUTION_DRAIN_SECS", "1")]);
    let (process, url) = start_serve(data_dir.path(), &env);
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    admin
        .create_user("vera", VIEWER_PASSWORD, &["viewer"])
        .await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    // The first run sleeps (and is cut by the shutdown); the resumed one finishes at once.
    let run_sh = format!(
        "if [ ! -e '{marker}' ]; then touch '{marker}'; sleep 60; fi\necho resumed\n",
        marker = marker.display()
    );
    let instance = deployable_instance(&admin, ("app1", 2), ("slow", &run_sh), "shop-slow").await;
    let (_, body) = admin
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall?wait=false"),
            &json!({"use_tad_host": true}),
        )
        .await;
    let run = assert_success(&body)["execution_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !marker.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the step never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A shutdown during the step leaves the run interrupted.
    let status = process.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    let (restarted, url) = start_serve(data_dir.path(), &env);
    let tree = Api::new(&url)
        .login("admin", ADMIN_PASSWORD)
        .await
        .get_ok(&format!("/api/executions/{run}"))
        .await;
    assert_eq!(tree["status"], "interrupted", "{tree}");
    let Some(driver) = Chromedriver::start() else {
        restarted.terminate();
        drop_platform_schemas(&postgres);
        return;
    };
    let row = format!("#in-progress tr[data-execution='{run}']");

    // A viewer sees the interrupted run stand out, without the resume button.
    let viewer = driver.open(DESKTOP_CHROME_LINUX).await;
    viewer.goto(&format!("{url}/console/login")).await;
    sign_in(&viewer, "vera", VIEWER_PASSWORD).await;
    assert_eq!(
        viewer
            .attribute(&format!("{row} .status"), "class")
            .await
            .as_deref(),
        Some("status status-interrupted")
    );
    assert!(viewer.has(&format!("{row} .hint")).await);
    // Its one step is not done, its one host task not done either (nor failed).
    let counts = viewer.cell_texts(&row, "td.counts").await.concat();
    assert_eq!(counts, ["0/1 done", "0/1 done"]);
    assert!(!viewer.has("button.resume, button.retry").await);
    viewer.close().await;

    // An admin resumes it (6.1 through the JSON route, with the CSRF header): it succeeds.
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{url}/console/login")).await;
    sign_in(&browser, "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        status_of(&browser, &format!("{row} .status"))
            .await
            .as_deref(),
        Some("interrupted")
    );
    browser.click(&format!("{row} button.resume")).await;
    let latest = format!("#latest-runs tr[data-execution='{run}'] .status");
    browser
        .wait_until("the resumed run's success", || async {
            (status_of(&browser, &latest).await.as_deref() == Some("success")).then_some(())
        })
        .await;
    assert_eq!(browser.text("#action-message").await, "Started");
    assert!(!browser.has(&row).await, "no longer in progress");
    browser.close().await;
    drop(driver);
    restarted.terminate();
    drop_platform_schemas(&postgres);
}
