//! The console's run page (issue 18) in headless Chromium: a run printing numbered lines over
//! time is watched live, its SSE connection is dropped mid-way and resumed from the last event
//! id, and every line is held exactly once (the page's lines equal the raw download's, `line 1`…
//! `line N` in order); search and jump to the first error land on the right lines; an operator
//! stops a `sleep 600` step, retries a failed run and rolls back from the page, each through a
//! confirmation naming the hosts (and the rollback's target run); a viewer sees no control and
//! the services refuse the viewer's POST made with its session and CSRF token; the page fits a
//! phone's width. A run with a 1,000,000-line log opens and scrolls to its end (times measured in
//! the browser with `performance.now()`, printed, recorded in bench/README.md). The page's pure
//! log logic (byte offsets, de-duplication, search, the error rule) is checked in the browser.
//! Screenshot: target/test-artifacts/console-run.png.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    console_browser::{ADMIN_PASSWORD, VIEWER_PASSWORD, deployable_instance, sign_in, status_of},
    support::{
        Api, EmbeddedPlatform, assert_success,
        browser::{ANDROID_CHROME_PIXEL, Browser, DESKTOP_CHROME_LINUX, copy_to_docs},
        fixtures::{app_catalog, application, post_all},
    },
};

const OPERATOR_PASSWORD: &str = "console-operator-password";
/// Lines the streaming run prints, one every 25 ms.
const STREAMED_LINES: usize = 300;
/// Lines of the big log.
const BIG_LOG_LINES: usize = 1_000_000;

/// Polls `probe` until it answers something, up to `limit`; fails naming `what`.
async fn wait_long<T, Probe, Answer>(what: &str, limit: Duration, mut probe: Probe) -> T
where
    Probe: FnMut() -> Answer,
    Answer: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Starts a run of `instance` on the TAD host without waiting; answers its id.
async fn start_run(api: &Api, instance: &str) -> String {
    let (_, body) = api
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall?wait=false"),
            &json!({"use_tad_host": true}),
        )
        .await;
    assert_success(&body)["execution_id"]
        .as_str()
        .expect("run id")
        .to_owned()
}

/// Runs `instance` on the TAD host until it ends; answers the id and status.
async fn run_to_end(api: &Api, instance: &str) -> (String, String) {
    let (_, body) = api
        .post(
            &format!("/api/app/jobinstance/{instance}/executionall"),
            &json!({"use_tad_host": true}),
        )
        .await;
    let data = assert_success(&body);
    let id = data["execution_id"].as_str().expect("run id").to_owned();
    (id, data["status"].as_str().unwrap_or_default().to_owned())
}

/// The lines the page holds for the host shown (none while no host's log is shown yet: the page
/// picks one once its run tree arrives, later on a loaded machine).
async fn page_lines(browser: &Browser) -> Vec<String> {
    let lines = browser
        .execute("return window.TadRunPage.lines();", vec![])
        .await;
    if lines.is_null() {
        return Vec::new();
    }
    serde_json::from_value(lines.clone()).unwrap_or_else(|_| panic!("lines: {lines}"))
}

/// The status of the run as its page shows it.
async fn run_status(browser: &Browser) -> Option<String> {
    status_of(browser, "#run-status .status").await
}

/// Waits until the page shows the run with `status`.
async fn wait_run_status(browser: &Browser, status: &str, limit: Duration) {
    wait_long(&format!("the run {status} on its page"), limit, || async {
        (run_status(browser).await.as_deref() == Some(status)).then_some(())
    })
    .await;
}

/// Opens the confirmation `button` opens; answers its text.
async fn open_confirmation(browser: &Browser, button: &str, dialog: &str) -> String {
    browser.click(button).await;
    let open = format!("return document.querySelector('{dialog}').open;");
    browser
        .wait_until(&format!("{dialog} open"), || async {
            (browser.execute(&open, vec![]).await == json!(true)).then_some(())
        })
        .await;
    browser.text(dialog).await
}

/// The number and text of the log rows in the DOM that are shown.
async fn shown_rows(browser: &Browser) -> Vec<(String, String)> {
    let rows = browser
        .execute(
            "return Array.from(document.querySelectorAll('#log-view .log-row')).filter(r => !r.hidden)\
             .map(r => [r.getAttribute('data-line'), r.querySelector('.log-t').textContent]);",
            vec![],
        )
        .await;
    serde_json::from_value(rows.clone()).unwrap_or_else(|_| panic!("rows: {rows}"))
}

/// Fetches the raw download of the host shown, in the page (its session); answers its text.
async fn raw_download(browser: &Browser) -> (String, String) {
    let script = "const done = arguments[arguments.length - 1];\
        const link = document.getElementById('log-download');\
        fetch(link.href, {credentials: 'same-origin'}).then(r => r.text().then(t => \
        done([r.headers.get('content-disposition') || '', t])));";
    let answer = browser
        .client
        .execute_async(script, vec![])
        .await
        .expect("raw download");
    serde_json::from_value(answer.clone()).unwrap_or_else(|_| panic!("download: {answer}"))
}

/// Signs `username` in on a new browser as `device`; answers the browser.
async fn signed_in(
    driver: &crate::support::browser::Chromedriver,
    device: crate::support::browser::Device,
    base: &str,
    (username, password): (&str, &str),
) -> Browser {
    let browser = driver.open(device).await;
    browser.goto(&format!("{base}/console/login")).await;
    sign_in(&browser, username, password).await;
    browser
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_run_page_streams_every_line_once_and_an_operator_stops_retries_and_rolls_back() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    admin
        .create_user("vera", VIEWER_PASSWORD, &["viewer"])
        .await;
    let operator = admin
        .login_new_user("otto", OPERATOR_PASSWORD, &["operator"])
        .await;
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    post_all(
        &admin,
        &[
            application("app2", "cart", "pl1"),
            application("app3", "shelf", "pl1"),
        ],
    )
    .await;
    let streaming = format!(
        "i=1\nwhile [ $i -le {STREAMED_LINES} ]; do echo \"line $i\"; i=$((i+1)); sleep 0.025; done\necho 'ERROR: the disk is nearly full'\n"
    );
    let streamer =
        deployable_instance(&admin, ("app1", 11), ("stream", &streaming), "shop-stream").await;
    let sleeper = deployable_instance(
        &admin,
        ("app2", 12),
        ("sleeper", "echo started\nsleep 600\n"),
        "cart-sleep",
    )
    .await;
    let marker_dir = tempfile::tempdir().expect("marker dir");
    let marker = marker_dir.path().join("failed-once");
    let flaky_sh = format!(
        "if [ ! -e '{marker}' ]; then touch '{marker}'; echo 'first attempt failed'; exit 4; fi\necho 'deployed'\n",
        marker = marker.display()
    );
    let flaky =
        deployable_instance(&admin, ("app3", 13), ("flaky", &flaky_sh), "shelf-flaky").await;
    let Some(driver) = crate::support::browser::Chromedriver::start() else {
        platform.stop().await;
        return;
    };

    // The page's pure log logic, in the browser that runs it.
    let browser = signed_in(
        &driver,
        DESKTOP_CHROME_LINUX,
        &base,
        ("otto", OPERATOR_PASSWORD),
    )
    .await;
    let (failed_run, status) = run_to_end(&operator, &flaky).await;
    assert_eq!(status, "failed");
    browser
        .goto(&format!("{base}/console/runs/{failed_run}"))
        .await;
    check_pure_logic(&browser).await;

    // A streaming run watched live; its connection dropped once it has shown some lines.
    let run = start_run(&operator, &streamer).await;
    browser.goto(&format!("{base}/console/runs/{run}")).await;
    assert!(browser.has("#stop-button").await, "an operator may stop it");
    wait_long("lines streaming in", Duration::from_secs(60), || async {
        (page_lines(&browser).await.len() >= 40).then_some(())
    })
    .await;
    let before_drop = page_lines(&browser).await.len();
    assert!(
        before_drop < STREAMED_LINES,
        "the run was still printing when the connection dropped ({before_drop} lines)"
    );
    let last_event = browser
        .execute("const id = window.TadRunPage.lastEventId(); window.TadRunPage.dropConnection(); return id;", vec![])
        .await;
    assert!(last_event.as_u64().is_some_and(|id| id > 0), "{last_event}");
    assert_eq!(
        browser
            .attribute("#live-state", "data-state")
            .await
            .as_deref(),
        Some("reconnecting")
    );
    wait_run_status(&browser, "success", Duration::from_secs(90)).await;
    wait_long("the last line", Duration::from_secs(20), || async {
        let lines = page_lines(&browser).await;
        lines
            .iter()
            .any(|line| line.starts_with("ERROR:"))
            .then_some(())
    })
    .await;
    let resumed = browser
        .execute("return window.TadRunPage.lastEventId();", vec![])
        .await;
    assert!(
        resumed.as_u64() > last_event.as_u64(),
        "{resumed} after {last_event}"
    );
    let lines = page_lines(&browser).await;
    let numbered: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("line "))
        .collect();
    let expected: Vec<String> = (1..=STREAMED_LINES).map(|n| format!("line {n}")).collect();
    assert_eq!(
        numbered
            .iter()
            .map(|line| line.as_str())
            .collect::<Vec<_>>(),
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "every line once, in order"
    );
    // The page holds exactly the stored log: the raw download, line for line.
    let (disposition, raw) = raw_download(&browser).await;
    assert!(
        disposition.starts_with("attachment; filename=\"run-"),
        "{disposition}"
    );
    assert_eq!(
        raw.lines().collect::<Vec<_>>(),
        lines,
        "the page's lines are the stored log"
    );
    // Following: the last line is the last row shown; only the visible rows exist.
    let rows = shown_rows(&browser).await;
    assert!(rows.len() < 60, "{} rows in the DOM", rows.len());
    assert_eq!(
        rows.last().map(|row| row.1.as_str()),
        lines.last().map(String::as_str)
    );
    // Search (next and previous) and the first error line.
    browser
        .execute("const box = document.getElementById('log-search'); box.value = 'LINE 25'; box.dispatchEvent(new Event('input'));", vec![])
        .await;
    browser.click("#log-next").await;
    let first_match = lines
        .iter()
        .position(|line| line == "line 25")
        .expect("line 25")
        + 1;
    assert_eq!(browser.text("#log-match").await, first_match.to_string());
    browser.click("#log-next").await;
    assert_eq!(
        browser.text("#log-match").await,
        (first_match + 225).to_string(),
        "line 250"
    );
    browser.click("#log-prev").await;
    assert_eq!(browser.text("#log-match").await, first_match.to_string());
    assert!(
        !browser
            .find("#log-follow")
            .await
            .is_selected()
            .await
            .expect("follow box")
    );
    browser.click("#log-first-error").await;
    let error_line = lines
        .iter()
        .position(|line| line.starts_with("ERROR:"))
        .expect("error")
        + 1;
    assert_eq!(browser.text("#log-match").await, error_line.to_string());
    // The log view renders the rows it scrolled to on the next frame: wait for the error's row.
    browser
        .wait_until("the first error's row shown", || async {
            shown_rows(&browser)
                .await
                .iter()
                .any(|(number, text)| {
                    *number == error_line.to_string() && text.starts_with("ERROR:")
                })
                .then_some(())
        })
        .await;
    let screenshot = browser.screenshot("console-run").await;
    copy_to_docs(&screenshot, "console-run.png");

    // Stop a `sleep 600` step: the confirmation names the step and its host.
    let sleeping = start_run(&operator, &sleeper).await;
    browser
        .goto(&format!("{base}/console/runs/{sleeping}"))
        .await;
    wait_long(
        "the sleeping host running",
        Duration::from_secs(30),
        || async {
            (status_of(&browser, ".host .host-status .status")
                .await
                .as_deref()
                == Some("running"))
            .then_some(())
        },
    )
    .await;
    let text = open_confirmation(&browser, "#stop-button", "#stop-dialog").await;
    assert!(text.contains("127.0.0.12"), "{text}");
    assert!(text.contains("(install)"), "{text}");
    browser.click("#stop-dialog .confirm-button").await;
    wait_run_status(&browser, "stopped", Duration::from_secs(30)).await;
    wait_long("the stop button gone", Duration::from_secs(10), || async {
        (!browser.has("#stop-button").await).then_some(())
    })
    .await;
    let tree = operator
        .get_ok(&format!("/api/executions/{sleeping}"))
        .await;
    assert_eq!(tree["status"], "stopped", "{tree}");

    // Retry the failed run: the confirmation names its failed host; it then succeeds live.
    browser
        .goto(&format!("{base}/console/runs/{failed_run}"))
        .await;
    let text = open_confirmation(&browser, "#retry-button", "#retry-dialog").await;
    assert!(text.contains("127.0.0.13"), "{text}");
    browser.click("#retry-dialog .confirm-button").await;
    wait_run_status(&browser, "success", Duration::from_secs(60)).await;
    wait_long(
        "the retried attempt's output",
        Duration::from_secs(20),
        || async {
            let lines = page_lines(&browser).await;
            (lines.iter().any(|line| line == "first attempt failed")
                && lines.iter().any(|line| line == "deployed"))
            .then_some(())
        },
    )
    .await;

    // Roll back from a newer success: the confirmation names the target run (the retried one).
    let (newest, status) = run_to_end(&operator, &flaky).await;
    assert_eq!(status, "success");
    browser.goto(&format!("{base}/console/runs/{newest}")).await;
    let text = open_confirmation(&browser, "#rollback-button", "#rollback-dialog").await;
    assert!(text.contains(&failed_run), "{text}");
    assert!(text.contains("127.0.0.13"), "{text}");
    let rolled_back_page = {
        browser.click("#rollback-dialog .confirm-button").await;
        let newest_url = format!("/console/runs/{newest}");
        wait_long(
            "the rollback's run page",
            Duration::from_secs(20),
            || async {
                let url = browser.url().await;
                (!url.ends_with(&newest_url)).then_some(url)
            },
        )
        .await
    };
    let rollback_run = rolled_back_page
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    wait_run_status(&browser, "success", Duration::from_secs(60)).await;
    let tree = operator
        .get_ok(&format!("/api/executions/{rollback_run}"))
        .await;
    assert_eq!(
        (&tree["kind"], &tree["status"]),
        (&json!("rollback"), &json!("success")),
        "{tree}"
    );
    browser.close().await;

    // A viewer on a phone: no control, the page fits, and the services refuse its POST.
    let phone = signed_in(
        &driver,
        ANDROID_CHROME_PIXEL,
        &base,
        ("vera", VIEWER_PASSWORD),
    )
    .await;
    phone.goto(&format!("{base}/console/runs/{newest}")).await;
    wait_long("the log shown", Duration::from_secs(20), || async {
        (!page_lines(&phone).await.is_empty()).then_some(())
    })
    .await;
    assert!(
        !phone
            .has("#stop-button, #retry-button, #rollback-button, dialog.confirm")
            .await
    );
    assert!(phone.fits_the_width().await);
    let refused = phone
        .post_from_page(
            &format!("/api/app/jobinstance/{flaky}/rollback?wait=false"),
            &json!({}),
        )
        .await;
    assert_eq!(refused[1]["code"], "forbidden", "{refused}");
    phone.close().await;
    drop(driver);
    platform.stop().await;
}

/// The page's log logic: UTF-8 byte offsets, text added twice or overlapping is held once, a
/// hole is refused, search wraps both ways, and the error rule.
async fn check_pure_logic(browser: &Browser) {
    let script = r#"
        const p = window.TadRunPage.pure;
        const m = new p.LogModel();
        const results = [
          m.add(0, "a\nbé"), m.add(0, "a\nbé"), m.add(2, "bé\nc"), m.add(9, "x"),
          m.add(5, "\nc"), m.add(7, "\n€d\n")
        ];
        const lines = [];
        for (let i = 0; i < m.count(); i++) lines.push(m.line(i));
        return {
          results, lines, loadedTo: m.loadedTo,
          length: p.utf8Length("aé€😀"), suffix: p.utf8Suffix("aé€x", 3),
          next: p.findLine(m, "C", 0, 1), wrap: p.findLine(m, "a", 1, 1),
          prev: p.findLine(m, "€", 0, -1), none: p.findLine(m, "zz", 0, 1),
          errors: ["ERROR: x", "build failed", "exited with code 3", "exit code 0",
                   "fatal: no repo", "errorless", "0 errors"].map(p.isErrorLine)
        };"#;
    let answer = browser.execute(script, vec![]).await;
    assert_eq!(
        answer,
        json!({
            "results": ["added", "duplicate", "added", "gap", "duplicate", "added"],
            "lines": ["a", "bé", "c", "€d"],
            "loadedTo": 13,
            "length": 10,
            "suffix": "€x",
            "next": 2,
            "wrap": 0,
            "prev": 3,
            "none": -1,
            "errors": [true, true, true, false, true, false, false],
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_million_line_log_opens_and_scrolls_to_its_end() {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[]).await;
    let base = platform.url().to_owned();
    app_catalog(&admin, ("pl1", "pl"), ("app1", "shop"), ("env1", "test")).await;
    let print = format!(
        "awk 'BEGIN {{ for (i = 1; i <= {BIG_LOG_LINES}; i++) {{ if (i == 999990) print \"ERROR: near the end\"; else print \"line \" i }} }}'\n"
    );
    let instance = deployable_instance(&admin, ("app1", 21), ("big", &print), "shop-big").await;
    let stored = Instant::now();
    let (run, status) = run_to_end(&admin, &instance).await;
    assert_eq!(status, "success");
    let tree = admin.get_ok(&format!("/api/executions/{run}")).await;
    let host = &tree["steps"][0]["hosts"][0];
    let log_size = host["log_size"].as_u64().expect("log size");
    // The stored log through the raw download: the awk lines between the executor's own.
    let raw = crate::support::http_client()
        .get(format!(
            "{base}/api/executions/{run}/log/raw?host_task={}",
            host["id"].as_str().expect("host task")
        ))
        .bearer_auth(admin.token.as_deref().expect("token"))
        .send()
        .await
        .expect("raw log")
        .text()
        .await
        .expect("raw text");
    assert_eq!(raw.len() as u64, log_size);
    let raw_lines: Vec<&str> = raw.lines().collect();
    let numbered = raw_lines
        .iter()
        .filter(|line| line.starts_with("line "))
        .count();
    assert_eq!(numbered, BIG_LOG_LINES - 1);
    let error_line = raw_lines
        .iter()
        .position(|line| *line == "ERROR: near the end")
        .expect("the error line")
        + 1;
    eprintln!(
        "console run page: {BIG_LOG_LINES} lines ({log_size} bytes) run and stored in {:?}",
        stored.elapsed()
    );
    let Some(driver) = crate::support::browser::Chromedriver::start() else {
        platform.stop().await;
        return;
    };
    let browser = signed_in(
        &driver,
        DESKTOP_CHROME_LINUX,
        &base,
        ("admin", ADMIN_PASSWORD),
    )
    .await;
    browser.goto(&format!("{base}/console/runs/{run}")).await;
    // Loaded to its end: the moment (performance.now(), from the page's navigation start).
    let loaded_ms = wait_long("the whole log loaded", Duration::from_secs(300), || async {
        let loaded = browser.attribute("#log-panel", "data-loaded-ms").await;
        let bytes = browser.attribute("#log-panel", "data-loaded-bytes").await;
        (bytes.and_then(|b| b.parse::<u64>().ok()) == Some(log_size))
            .then_some(())
            .and(loaded)
    })
    .await;
    let count = browser
        .execute("return window.TadRunPage.lineCount();", vec![])
        .await;
    assert_eq!(count, json!(raw_lines.len()));
    // Following: the end is shown, with only the visible rows in the DOM.
    let last = raw_lines.last().copied().unwrap_or_default();
    wait_long("the last line shown", Duration::from_secs(10), || async {
        let rows = shown_rows(&browser).await;
        (rows.last().map(|row| row.1.as_str()) == Some(last)).then_some(())
    })
    .await;
    let rows = shown_rows(&browser).await;
    assert!(rows.len() < 80, "{} rows", rows.len());
    assert_eq!(
        rows.last().map(|row| row.0.clone()),
        Some(raw_lines.len().to_string())
    );
    // Scrolled to the top, then back to the end, each rendered in the next frames.
    let measure = r#"
        const done = arguments[arguments.length - 1];
        const view = document.getElementById('log-view');
        const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        const firstShown = () => view.querySelector('.log-row:not([hidden]) .log-t').textContent;
        const lastShown = () => Array.from(view.querySelectorAll('.log-row:not([hidden]) .log-t')).pop().textContent;
        (async () => {
          const t0 = performance.now();
          view.scrollTop = 0; await frame();
          const top = firstShown();
          const t1 = performance.now();
          view.scrollTop = view.scrollHeight; await frame();
          const end = lastShown();
          const t2 = performance.now();
          view.scrollTop = view.scrollHeight / 2; await frame();
          const t3 = performance.now();
          document.getElementById('log-first-error').click(); await frame();
          const t4 = performance.now();
          done({top, end, toTop: t1 - t0, toEnd: t2 - t1, toMiddle: t3 - t2, firstError: t4 - t3,
                match: document.getElementById('log-match').textContent});
        })();"#;
    let measured: Value = browser
        .client
        .execute_async(measure, vec![])
        .await
        .expect("measure");
    assert_eq!(measured["top"], raw_lines[0], "{measured}");
    assert_eq!(measured["end"], last, "{measured}");
    assert_eq!(measured["match"], error_line.to_string(), "{measured}");
    eprintln!(
        "console run page, {BIG_LOG_LINES}-line log: opened and loaded to its end {loaded_ms} ms after navigation start; \
         scroll to top {:.1} ms, to end {:.1} ms, to middle {:.1} ms, first error found {:.1} ms",
        measured["toTop"].as_f64().unwrap_or(-1.0),
        measured["toEnd"].as_f64().unwrap_or(-1.0),
        measured["toMiddle"].as_f64().unwrap_or(-1.0),
        measured["firstError"].as_f64().unwrap_or(-1.0),
    );
    browser.close().await;
    drop(driver);
    platform.stop().await;
}
