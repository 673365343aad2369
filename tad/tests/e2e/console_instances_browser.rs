//! The console's instance and joint-line pages (issue 18) end to end, in headless Chromium over
//! WebDriver against a real `sshd` (support::sshd; the host's key pinned by 8.2.7 first): the
//! instance list's filters narrow it; an instance's page shows its steps with the cluster's host,
//! its parameters with the secret one masked; an admin deploys it from the page (deploy, a
//! confirmation naming the step and the host, confirm): the browser goes to the run's page, the
//! run succeeds, the method's file is on the target, written by the SSH user, and the history
//! shows the run. A joint line's graph shows its nodes at their saved positions, and after a
//! joint run started from the page, one node green (success) and its child red (failed). A
//! viewer on a phone sees none of the run controls, and the service refuses the viewer's own
//! session when it posts a deploy anyway. Screenshots: target/test-artifacts/console-instance.png
//! and console-joint-line.png.

use std::{
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    console_browser::{background, sign_in},
    support::{
        Api, EmbeddedPlatform, assert_success,
        browser::{ANDROID_CHROME_PIXEL, Browser, Chromedriver, DESKTOP_CHROME_LINUX},
        fixtures::{
            app_catalog, bind_hosts, create_joint_line, save_joint_graph, template_with_methods,
            upload_component,
        },
        sshd::{KEY_USER, TestSshd},
    },
};

const ADMIN_PASSWORD: &str = "console-admin-password";
const VIEWER_PASSWORD: &str = "console-viewer-password";
/// The secret parameter's value: never on a page.
const DB_PASSWORD: &str = "db-secret-value-7f3a";
/// The target host (one of the test sshd's addresses).
const TARGET: &str = "127.0.0.2";
/// How long a run over SSH may take in these tests.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A method `{component}1` (params `greeting` and `db_password`) whose `run.sh` is `run_sh`.
async fn method(admin: &Api, component: &str, run_sh: &str) -> String {
    let method = format!("{component}1");
    let manifest = format!(
        "component: {{id: {component}, name: {component}, remark: {component}}}\nmethod: {{id: {method}, name: install, remark: install {component}}}\nentrypoint: run.sh\nparams:\n  - key: greeting\n  - key: db_password\n"
    );
    upload_component(admin, &manifest, run_sh.as_bytes().to_vec()).await;
    method
}

/// An instance of application `app` in `env` with one step, `component`'s method, on `cluster`
/// (when given), its parameters saved; answers its id.
async fn instance(
    admin: &Api,
    (app, env): (&str, &str),
    (component, method): (&str, &str),
    cluster: Option<&str>,
    name: &str,
) -> String {
    let template =
        template_with_methods(admin, &format!("{name}-t"), app, &[(component, method)]).await;
    let id = admin
        .post_id(
            "/api/app/jobinstance/create",
            &json!({"name": name, "env_id": env, "application_id": app, "job_template_id": template}),
        )
        .await;
    if let Some(cluster) = cluster {
        let schema = admin
            .get_ok(&format!("/api/app/jobinstance/{method}/config/desc"))
            .await;
        let node = |key: &str| {
            schema
                .as_array()
                .and_then(|nodes| nodes.iter().find(|node| node["key"] == key))
                .and_then(|node| node["id"].as_str())
                .unwrap_or_else(|| panic!("node {key} in {schema}"))
                .to_owned()
        };
        admin
            .post_ok(
                &format!("/api/app/jobinstance/{id}/{method}/0/relation/alldata"),
                &json!({"cluster": {"cluster_id": cluster},
                    "config": {"config_value": {node("greeting"): "hello", node("db_password"): DB_PASSWORD}}}),
            )
            .await;
    }
    id
}

/// The catalog: product line pl1 (shop, env test) with a cluster on the sshd's [`TARGET`] (its
/// key pinned), and pl2 (cart, env prod) with an instance never configured. Answers the ids of
/// the deployable instance, the failing one (same cluster) and the unconfigured one.
async fn configure(admin: &Api, sshd: &TestSshd, marker: &Path) -> [String; 3] {
    app_catalog(admin, ("pl1", "retail"), ("app1", "shop"), ("env1", "test")).await;
    app_catalog(
        admin,
        ("pl2", "logistics"),
        ("app2", "cart"),
        ("env2", "prod"),
    )
    .await;
    let host = admin
        .post_id(
            "/api/resource/hosts/aos_create",
            &json!({"host_IP": TARGET, "host_name": "target-1", "ssh_user": KEY_USER,
                "ssh_private_key": sshd.private_key_pem, "ssh_port": sshd.port.to_string(),
                "productLine_id": "pl1", "env_id": "env1"}),
        )
        .await;
    // 8.2.7 logs in once and pins the host key.
    let (_, body) = admin
        .get(&format!(
            "/api/resource/hosts/validate/{TARGET}/{KEY_USER}/ssh"
        ))
        .await;
    assert_eq!(assert_success(&body), json!(true), "{}", sshd.log());
    let cluster = admin
        .post_id(
            "/api/resource/clusters/aos_create",
            &json!({"name": "shop-cluster", "env_id": "env1", "app_id": "app1"}),
        )
        .await;
    bind_hosts(admin, &cluster, &[host]).await;
    let writes = format!(
        "echo \"deployed $(cat params.json | wc -c) bytes of params by $(whoami)\" > '{}'\n",
        marker.display()
    );
    let sound = method(admin, "sound", &writes).await;
    let broken = method(admin, "broken", "echo broken on purpose\nexit 3\n").await;
    let deployable = instance(
        admin,
        ("app1", "env1"),
        ("sound", &sound),
        Some(&cluster),
        "shop-deploy",
    )
    .await;
    let failing = instance(
        admin,
        ("app1", "env1"),
        ("broken", &broken),
        Some(&cluster),
        "shop-broken",
    )
    .await;
    let unconfigured = instance(
        admin,
        ("app2", "env2"),
        ("sound", &sound),
        None,
        "cart-draft",
    )
    .await;
    [deployable, failing, unconfigured]
}

/// The names in the instance list.
async fn listed(browser: &Browser) -> Vec<String> {
    let mut names: Vec<String> = browser
        .cell_texts("#instances tbody tr", "td:first-child")
        .await
        .concat();
    names.sort();
    names
}

/// Sets filter `select` to `value` and applies the filters; waits for the new list.
async fn filter(browser: &Browser, select: &str, value: &str) {
    let set = "document.querySelector(arguments[0]).value = arguments[1];";
    browser
        .execute(set, vec![json!(select), json!(value)])
        .await;
    browser.follow("#apply-filters").await;
}

/// Polls `probe` (every 200 ms, up to [`RUN_LIMIT`]) until it answers something.
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + RUN_LIMIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The final status of run `id` (polling the API while it is pending or running).
async fn final_status(admin: &Api, id: &str) -> Value {
    eventually(&format!("run {id} ends"), || async {
        let tree = admin.get_ok(&format!("/api/executions/{id}")).await;
        (!matches!(tree["status"].as_str(), Some("pending" | "running"))).then_some(tree)
    })
    .await
}

/// The filters narrow the list: product line (which offers its applications), status,
/// environment, name; a filter matching nothing says so.
async fn filters_narrow_the_list(browser: &Browser, base: &str) {
    browser.goto(&format!("{base}/console/instances")).await;
    assert_eq!(
        listed(browser).await,
        ["cart-draft", "shop-broken", "shop-deploy"]
    );
    assert_eq!(
        browser
            .attribute("#filter-application", "disabled")
            .await
            .as_deref(),
        Some("true")
    );
    // A product line applies itself (its applications differ).
    let choose = "const select = document.getElementById('filter-product-line'); \
                  select.value = 'pl1'; select.dispatchEvent(new Event('change'));";
    let before = browser.url().await;
    browser.execute(choose, vec![]).await;
    browser
        .wait_until("the product line applied", || async {
            (browser.url().await != before).then_some(())
        })
        .await;
    assert!(browser.url().await.contains("product_line=pl1"));
    assert_eq!(listed(browser).await, ["shop-broken", "shop-deploy"]);
    let options = "return Array.from(document.querySelectorAll('#filter-application option'), \
                   option => option.textContent);";
    assert_eq!(
        browser.execute(options, vec![]).await,
        json!(["All", "shop"])
    );
    filter(browser, "#filter-name", "broken").await;
    assert_eq!(listed(browser).await, ["shop-broken"]);
    browser.goto(&format!("{base}/console/instances")).await;
    filter(browser, "#filter-status", "init").await;
    assert_eq!(listed(browser).await, ["cart-draft"]);
    filter(browser, "#filter-environment", "env1").await;
    assert!(browser.has("#no-instances").await);
    browser
        .goto(&format!("{base}/console/instances?environment=env2"))
        .await;
    assert_eq!(listed(browser).await, ["cart-draft"]);
    // Every filter value is capped; the refusal names the field.
    let long = "x".repeat(129);
    // (the console's failure page: the status of the failure, its code, the problem)
    browser
        .goto(&format!("{base}/console/instances?application={long}"))
        .await;
    assert_eq!(
        browser
            .attribute("#failure", "data-status")
            .await
            .as_deref(),
        Some("400")
    );
    assert_eq!(
        browser.attribute("#failure", "data-code").await.as_deref(),
        Some("invalid_field")
    );
    let info = browser.text("#failure-info").await;
    assert!(info.contains("\"application\""), "{info}");
}

/// The instance's page before any run: the step's host and parameters (the secret masked), no
/// history; then deploy, confirm, the run page; the run succeeds over SSH. Answers the run id.
async fn deploy_from_the_page(browser: &Browser, admin: &Api, base: &str, id: &str) -> String {
    browser.goto(&format!("{base}/console/instances")).await;
    browser
        .follow(&format!(
            "#instances tr[data-instance='{id}'] a.instance-link"
        ))
        .await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/console/instances/{id}"))
    );
    let step = "article.step[data-sequence='0']";
    let hosts = browser.text(&format!("{step} .step-hosts")).await;
    assert!(hosts.contains(&format!("{KEY_USER}@{TARGET}:")), "{hosts}");
    assert!(hosts.contains("host key pinned"), "{hosts}");
    assert_eq!(
        browser.text(&format!("{step} .step-cluster")).await,
        "shop-cluster"
    );
    let params = browser
        .cell_texts(&format!("{step} .step-params dl"), "dt, dd")
        .await
        .concat();
    assert_eq!(params, ["db_password", "******", "greeting", "hello"]);
    let source = browser
        .execute("return document.documentElement.outerHTML;", vec![])
        .await;
    assert!(!source.to_string().contains(DB_PASSWORD));
    assert!(browser.has("#no-history").await);

    // Deploy asks first, naming the step and the host.
    assert!(
        !browser
            .find("#confirm-deploy")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    browser.click("#deploy").await;
    assert!(
        browser
            .find("#confirm-deploy")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    let plan = browser.text("#confirm-deploy .plan").await;
    assert!(plan.contains("#0 sound / install sound"), "{plan}");
    assert_eq!(browser.text("#confirm-deploy .plan-hosts").await, TARGET);
    browser.screenshot("console-instance").await;
    let run_page = browser.follow("#confirm-deploy button.confirm-go").await;
    let run = run_page
        .split("/console/runs/")
        .nth(1)
        .unwrap_or_else(|| panic!("the run's page: {run_page}"))
        .to_owned();
    let tree = final_status(admin, &run).await;
    assert_eq!(tree["status"], "success", "{tree}");
    assert_eq!(tree["use_tad_host"], false, "over SSH: {tree}");
    assert_eq!(tree["steps"][0]["hosts"][0]["host_ip"], TARGET, "{tree}");
    run
}

/// The graph: boxes at the saved positions; after a joint run from the page, the first node
/// green and the second (its child, failing) red.
async fn joint_line_graph(browser: &Browser, admin: &Api, base: &str, nodes: (&str, &str)) {
    let line = create_joint_line(admin, "shop-release", "pl1").await;
    save_joint_graph(
        admin,
        &line,
        json!([
            {"jobi_id": nodes.0, "sequence": 0, "parent": [], "top": 40, "left": 30},
            {"jobi_id": nodes.1, "sequence": 1, "parent": [0], "top": 120, "left": 300.5},
        ]),
    )
    .await;
    browser.goto(&format!("{base}/console/jointlines")).await;
    browser
        .follow(&format!("#joint-lines tr[data-joint-line='{line}'] a"))
        .await;
    // Where each box is drawn, relative to the drawing (16 px margin around it).
    let at = "const svg = document.getElementById('joint-graph').getBoundingClientRect(); \
              const box = document.querySelector(`#joint-graph g.node[data-sequence='${arguments[0]}'] rect`).getBoundingClientRect(); \
              return [box.left - svg.left, box.top - svg.top];";
    for (sequence, left, top) in [(0, 30.0, 40.0), (1, 300.5, 120.0)] {
        let drawn = browser.execute(at, vec![json!(sequence)]).await;
        let drawn: Vec<f64> = drawn
            .as_array()
            .map(|pair| pair.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default();
        assert_eq!(drawn, [left + 16.0, top + 16.0], "node {sequence}");
    }
    assert!(
        browser
            .has("#joint-graph path.edge[data-from='0'][data-to='1']")
            .await
    );
    assert_eq!(browser.text("#run-joint-line").await, "Run");

    browser.click("#run-joint-line").await;
    let plan = browser.text("#confirm-joint-run .plan").await;
    assert!(plan.contains("#1 shop-broken · After #0"), "{plan}");
    browser.click("#confirm-joint-run button.confirm-go").await;
    let node = |sequence: u8| format!("#joint-graph g.node[data-sequence='{sequence}']");
    let status = |sequence: u8| {
        let css = node(sequence);
        async move {
            browser
                .attribute(&css, "data-status")
                .await
                .unwrap_or_default()
        }
    };
    eventually("the joint run's statuses", || async {
        let run = browser.attribute("#joint-run-status", "data-status").await;
        (run.as_deref() == Some("failed")).then_some(())
    })
    .await;
    assert_eq!(status(0).await, "success");
    assert_eq!(status(1).await, "failed");
    assert_eq!(
        browser.attribute(&node(1), "class").await.as_deref(),
        Some("node node-failed")
    );
    let stroke = "return getComputedStyle(document.querySelector(arguments[0])).stroke;";
    let red = browser
        .execute(stroke, vec![json!(format!("{} rect", node(1)))])
        .await;
    assert_eq!(red, json!("rgb(198, 40, 40)"));
    let green = browser
        .execute(stroke, vec![json!(format!("{} rect", node(0)))])
        .await;
    assert_eq!(green, json!("rgb(23, 128, 61)"));
    assert_eq!(
        background(browser, "#joint-nodes tr[data-sequence='1'] .status").await,
        "rgb(198, 40, 40)"
    );
    assert!(browser.url().await.contains("?run="));
    // The joint run did not succeed: running the joint line again continues it.
    assert_eq!(browser.text("#run-joint-line").await, "Continue");
    browser.screenshot("console-joint-line").await;
    // Reloaded, the page follows the same joint run, and the button continues it.
    browser.goto(&browser.url().await).await;
    eventually("the followed joint run", || async {
        (status(1).await == "failed").then_some(())
    })
    .await;
    assert_eq!(browser.text("#run-joint-line").await, "Continue");
}

/// A viewer on a phone: the pages without run controls, nothing wider than the screen; the
/// service refuses the viewer's deploy posted with their own session and CSRF token.
async fn a_viewer_gets_no_run_control(driver: &Chromedriver, base: &str, instance: &str) {
    let phone = driver.open(ANDROID_CHROME_PIXEL).await;
    phone.goto(&format!("{base}/console/login")).await;
    sign_in(&phone, "vera", VIEWER_PASSWORD).await;
    phone
        .goto(&format!("{base}/console/instances/{instance}"))
        .await;
    assert!(phone.has("#history tbody tr").await);
    assert!(
        !phone
            .has("#deploy, #next-step, .confirm-go, #run-actions")
            .await
    );
    assert!(phone.fits_the_width().await);
    phone.goto(&format!("{base}/console/instances")).await;
    assert_eq!(listed(&phone).await.len(), 3);
    assert!(phone.fits_the_width().await);
    phone.goto(&format!("{base}/console/jointlines")).await;
    phone.follow("#joint-lines tbody tr a").await;
    assert!(phone.has("#joint-graph").await);
    assert!(!phone.has("#run-joint-line, .confirm-go").await);
    assert!(phone.fits_the_width().await);
    let path = format!("/api/app/jobinstance/{instance}/executionall?wait=false");
    let answer = phone
        .post_from_page(&path, &json!({"use_tad_host": false}))
        .await;
    // (the legacy envelope: HTTP 200, the refusal in its code)
    assert_eq!(answer[1]["code"], "forbidden", "{answer}");
    let info = answer[1]["info"].as_str().unwrap_or_default();
    assert!(
        info.contains("\"vera\" lacks the operator role"),
        "{answer}"
    );
    phone.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_deploy_over_ssh_and_joint_lines_show_their_runs_from_the_console() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let marker_dir = tempfile::tempdir().expect("marker dir");
    // The SSH user writes the marker: the folder is open to it.
    std::fs::set_permissions(marker_dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let marker = marker_dir.path().join("deployed.txt");
    let [deployable, failing, _unconfigured] = configure(&admin, &sshd, &marker).await;
    admin
        .create_user("vera", VIEWER_PASSWORD, &["viewer"])
        .await;
    let Some(driver) = Chromedriver::start() else {
        platform.stop().await;
        return;
    };
    let base = platform.url().to_owned();
    let browser = driver.open(DESKTOP_CHROME_LINUX).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, "admin", ADMIN_PASSWORD).await;
    assert!(browser.has("#nav-instances").await && browser.has("#nav-joint-lines").await);

    filters_narrow_the_list(&browser, &base).await;
    let run = deploy_from_the_page(&browser, &admin, &base, &deployable).await;
    // The method ran on the target as the SSH user and wrote its file.
    let written = std::fs::read_to_string(&marker).expect("the method's file on the target");
    assert!(written.ends_with(&format!("by {KEY_USER}\n")), "{written}");
    let owner = std::fs::metadata(&marker).expect("marker").uid();
    assert_ne!(
        owner, 0,
        "written by {KEY_USER}, not by the TAD host's root"
    );
    // The history shows the run, linked to its page.
    browser
        .goto(&format!("{base}/console/instances/{deployable}"))
        .await;
    let row = format!("#history tr[data-execution='{run}']");
    assert_eq!(
        browser
            .attribute(&format!("{row} .status"), "data-status")
            .await
            .as_deref(),
        Some("success")
    );
    assert_eq!(
        browser
            .attribute(&format!("{row} a.run-link"), "href")
            .await
            .as_deref(),
        Some(format!("/console/runs/{run}").as_str())
    );
    assert!(!browser.has("#no-history").await);
    // Next step: its confirmation names the step it runs (the first: the last run succeeded).
    browser.click("#next-step").await;
    assert!(
        !browser
            .find("#confirm-deploy")
            .await
            .is_displayed()
            .await
            .expect("shown")
    );
    let plan = browser.text("#confirm-next-step .plan").await;
    assert!(plan.starts_with("#0 sound / install sound"), "{plan}");
    let run_page = browser.follow("#confirm-next-step button.confirm-go").await;
    let next = run_page.rsplit('/').next().unwrap_or_default().to_owned();
    assert_ne!(next, run);
    let tree = final_status(&admin, &next).await;
    assert_eq!(tree["status"], "success", "{tree}");

    joint_line_graph(&browser, &admin, &base, (&deployable, &failing)).await;
    browser.close().await;
    a_viewer_gets_no_run_control(&driver, &base, &deployable).await;
    drop(driver);
    platform.stop().await;
}
