//! Real-browser tests over WebDriver: Debian's `chromedriver` on a free port (killed with the
//! Chromium processes it started when dropped) and headless Chromium sessions driven by the
//! `fantoccini` client, each with its own temporary profile, user agent and window size. Helpers
//! for what a test does on a page (go, find, read, click, wait, run a script, take screenshots into
//! `target/test-artifacts/`) and for decoding a QR code from a screenshot with `zbarimg`. Missing
//! tools skip the test with a note, except under `CI`, where they fail it.

use std::{
    future::Future,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};

use super::TadProcess;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ZBARIMG: &str = "/usr/bin/zbarimg";

/// The time zone the browsers run in.
pub const VIEWER_TIME_ZONE: &str = "Asia/Shanghai";
/// How long a wait polls before it fails the test.
pub const WAIT_LIMIT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(50);

/// A visitor's browser: what its user agent says and the size of its window.
#[derive(Clone, Copy, Debug)]
pub struct Device {
    pub name: &'static str,
    pub user_agent: &'static str,
    pub width: u32,
    pub height: u32,
    /// A phone: a touch screen whose page honours `<meta name="viewport">`.
    pub phone: bool,
}

/// Chrome on a Linux desktop, 1280x900.
pub const DESKTOP_CHROME_LINUX: Device = Device {
    name: "desktop Chrome on Linux",
    user_agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    width: 1280,
    height: 900,
    phone: false,
};

/// Safari on an iPhone with iOS 17, 390x844.
pub const IPHONE_SAFARI_IOS17: Device = Device {
    name: "iPhone Safari on iOS 17",
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    width: 390,
    height: 844,
    phone: true,
};

/// Chrome on an Android Pixel 8, 390x844.
pub const ANDROID_CHROME_PIXEL: Device = Device {
    name: "Android Chrome on a Pixel 8",
    user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
    width: 390,
    height: 844,
    phone: true,
};

/// Whether `path` (from Debian's `package`) is installed; see [`super::component_available`].
pub fn tool_available(path: &str, package: &str) -> bool {
    super::component_available(
        Path::new(path).exists(),
        path,
        &format!("apt-get install {package}"),
    )
}

/// The folder of the files tests leave to look at (`target/test-artifacts`), created.
pub fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// The text of the QR code in the PNG at `png` (`zbarimg --raw`), `None` when zbarimg is not
/// installed here (see [`tool_available`]).
pub fn decode_qr(png: &Path) -> Option<String> {
    if !tool_available(ZBARIMG, "zbar-tools") {
        return None;
    }
    let output = Command::new(ZBARIMG)
        .args(["--raw", "-q"])
        .arg(png)
        .output()
        .expect("run zbarimg");
    super::assert_exited_ok(&output, &format!("zbarimg {}", png.display()));
    Some(
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .to_owned(),
    )
}

/// A chromedriver on a free loopback port, in a process group of its own: dropping it kills the
/// group, so no Chromium outlives the test, whatever state its sessions are in, then removes the
/// scratch folder that holds the sessions' profiles and every temporary file of chromedriver
/// and Chromium (their `TMPDIR`).
pub struct Chromedriver {
    process: TadProcess,
    url: String,
    scratch: tempfile::TempDir,
}

impl Chromedriver {
    /// Starts chromedriver, or answers `None` (skip) when Chromium or chromedriver is absent
    /// outside CI.
    pub fn start() -> Option<Chromedriver> {
        if !(tool_available(CHROMIUM, "chromium")
            && tool_available(CHROMEDRIVER, "chromium-driver"))
        {
            return None;
        }
        let scratch = tempfile::tempdir().expect("chromedriver scratch dir");
        let mut command = Command::new(CHROMEDRIVER);
        command.args(["--port=0", "--log-level=WARNING"]);
        command.env("TMPDIR", scratch.path());
        // Chromium runs in a zone that is not the machine's UTC, so pages that show times in the
        // viewer's zone are seen doing it.
        command.env("TZ", VIEWER_TIME_ZONE);
        command.process_group(0);
        let (process, rest) =
            TadProcess::start(command, "ChromeDriver was started successfully on port ");
        let port: u16 = rest
            .trim_end_matches('.')
            .parse()
            .unwrap_or_else(|_| panic!("chromedriver's port in {rest:?}"));
        Some(Chromedriver {
            process,
            url: format!("http://127.0.0.1:{port}"),
            scratch,
        })
    }

    /// A new headless Chromium session as `device`, with a profile of its own.
    pub async fn open(&self, device: Device) -> Browser {
        let profile = tempfile::tempdir_in(self.scratch.path()).expect("profile dir");
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
                format!("--user-agent={}", device.user_agent),
                format!("--window-size={},{}", device.width, device.height),
            ],
        });
        // The viewport is exactly the device's size (a headless window of that size would
        // keep some of it for the browser's own bars); a phone also gets a touch screen, a
        // mobile viewport and a denser display.
        options["mobileEmulation"] = json!({
            "deviceMetrics": {
                "width": device.width,
                "height": device.height,
                "pixelRatio": if device.phone { 2.0 } else { 1.0 },
                "mobile": device.phone,
                "touch": device.phone,
            },
            "userAgent": device.user_agent,
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("a Chromium session as {}: {error}", device.name));
        Browser {
            client,
            device,
            _profile: profile,
        }
    }

    /// chromedriver's log so far (for a failure message).
    pub fn log(&self) -> String {
        self.process.stderr_text()
    }
}

impl Drop for Chromedriver {
    /// Kills chromedriver's process group and waits (up to [`WAIT_LIMIT`]) until no process of
    /// it runs, so that nothing writes into the scratch folder removed next.
    fn drop(&mut self) {
        let group = self.process.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
        let _ = self.process.child.wait();
        let deadline = Instant::now() + WAIT_LIMIT;
        while Instant::now() < deadline && group_is_running(group) {
            std::thread::sleep(POLL_EVERY);
        }
    }
}

/// Whether a process of process group `group` runs (zombies do not: they wait for their
/// reaper, init once chromedriver is gone, and write nothing).
fn group_is_running(group: u32) -> bool {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return false;
    };
    processes.flatten().any(|process| {
        let stat = std::fs::read_to_string(process.path().join("stat")).unwrap_or_default();
        // `pid (command) state ppid pgrp ...`; the command may hold spaces and parentheses.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        matches!(fields.as_slice(), [state, _, pgrp, ..]
            if *state != "Z" && *state != "X" && pgrp.parse() == Ok(group))
    })
}

/// One browser session; [`Browser::close`] ends it (else chromedriver's drop does). Its profile
/// folder goes with chromedriver's scratch folder.
pub struct Browser {
    pub client: Client,
    pub device: Device,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("{}: open {url}: {error}", self.device.name));
    }

    /// The URL of the page shown.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current url")
            .to_string()
    }

    /// The element `css` selects (the first one); fails the test when there is none.
    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element,
            Err(error) => panic!(
                "{}: no {css} on {}: {error}",
                self.device.name,
                self.url().await
            ),
        }
    }

    /// Every element `css` selects, in document order.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("{}: find {css}: {error}", self.device.name))
    }

    /// Whether `css` selects anything now.
    pub async fn has(&self, css: &str) -> bool {
        !self.find_all(css).await.is_empty()
    }

    /// The rendered text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    /// The attribute `name` of the element `css` selects.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.expect("attribute")
    }

    /// For each element `css` selects, the text content of each of its `cell_css` children,
    /// trimmed (a table's rows and cells, in one round trip).
    pub async fn cell_texts(&self, css: &str, cell_css: &str) -> Vec<Vec<String>> {
        let script = "return Array.from(document.querySelectorAll(arguments[0])).map(row => \
                      Array.from(row.querySelectorAll(arguments[1])).map(cell => cell.textContent.trim()));";
        let rows = self
            .execute(script, vec![json!(css), json!(cell_css)])
            .await;
        serde_json::from_value(rows.clone()).unwrap_or_else(|_| panic!("rows of {css}: {rows}"))
    }

    /// Clicks the element `css` selects.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|error| panic!("{}: click {css}: {error}", self.device.name));
    }

    /// Clicks the link `css` selects and waits until the browser shows another, loaded page;
    /// answers its URL.
    pub async fn follow(&self, css: &str) -> String {
        let before = self.url().await;
        self.click(css).await;
        let loaded = "return document.readyState === 'complete' ? location.href : null;";
        let (browser, left) = (self, before.as_str());
        let what = format!("a page after following {css} from {before}");
        self.wait_until(&what, move || async move {
            let href = browser.execute(loaded, vec![]).await;
            href.as_str()
                .filter(|href| *href != left)
                .map(str::to_owned)
        })
        .await
    }

    /// Waits (polling, up to [`WAIT_LIMIT`]) until `css` selects an element; answers it.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT_LIMIT)
            .every(POLL_EVERY)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "{}: no {css} within {WAIT_LIMIT:?}: {error}",
                    self.device.name
                )
            })
    }

    /// Polls `probe` until it answers something, up to [`WAIT_LIMIT`]; fails the test naming
    /// `what` when it never does.
    pub async fn wait_until<T, Probe, Answer>(&self, what: &str, mut probe: Probe) -> T
    where
        Probe: FnMut() -> Answer,
        Answer: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + WAIT_LIMIT;
        loop {
            if let Some(found) = probe().await {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no {what} within {WAIT_LIMIT:?}",
                self.device.name
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Runs `script` in the page (its `arguments` are `args`); answers what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|error| {
                panic!("{}: script failed: {error}\n{script}", self.device.name)
            })
    }

    /// Whether the page is no wider than the window (nothing to scroll sideways).
    pub async fn fits_the_width(&self) -> bool {
        let overflow = "return document.documentElement.scrollWidth - window.innerWidth;";
        let extra = self.execute(overflow, vec![]).await;
        extra.as_i64().is_some_and(|extra| extra <= 0)
    }

    /// POSTs `body` as JSON to `path` from the page, as the console's own buttons do (its
    /// session cookie and CSRF token); answers `[HTTP status, the envelope]`.
    pub async fn post_from_page(&self, path: &str, body: &Value) -> Value {
        let post = "return fetch(arguments[0], {method: 'POST', credentials: 'same-origin', \
                    headers: {'X-CSRF-Token': document.querySelector('meta[name=\"tad-csrf\"]').content, \
                    'Content-Type': 'application/json'}, body: arguments[1]}) \
                    .then(r => r.json().then(b => [r.status, b]));";
        self.execute(post, vec![Value::from(path), Value::from(body.to_string())])
            .await
    }

    /// A PNG of the window saved as `target/test-artifacts/NAME.png`; answers its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        save_png(name, &png)
    }

    /// A PNG of the element `css` selects saved as `target/test-artifacts/NAME.png` (scrolled
    /// into the window first: the part outside it would be cut off).
    pub async fn element_screenshot(&self, css: &str, name: &str) -> PathBuf {
        let element = self.find(css).await;
        let argument = serde_json::to_value(&element).expect("element as an argument");
        self.execute(
            "arguments[0].scrollIntoView({block: 'center'});",
            vec![argument],
        )
        .await;
        let png = element
            .screenshot()
            .await
            .unwrap_or_else(|error| panic!("{}: screenshot of {css}: {error}", self.device.name));
        save_png(name, &png)
    }

    /// Ends the session (Chromium exits).
    pub async fn close(self) {
        self.client.close().await.expect("close the session");
    }
}

/// Copies a screenshot to `docs/NAME` (the README shows it) when `TAD_UPDATE_SCREENSHOTS=1`,
/// so that a test run leaves the tracked files alone.
pub fn copy_to_docs(screenshot: &Path, name: &str) {
    if std::env::var("TAD_UPDATE_SCREENSHOTS").as_deref() != Ok("1") {
        return;
    }
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs");
    std::fs::create_dir_all(&docs).expect("docs dir");
    std::fs::copy(screenshot, docs.join(name)).expect("copy the screenshot to docs");
}

fn save_png(name: &str, png: &[u8]) -> PathBuf {
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let path = artifacts_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    path
}
