//! Slow clients cannot hold the gateway: request bodies that stall (JSON, urlencoded, multipart
//! package sync and hosted-build uploads, chunked streams) are cut with 408 and their connection
//! closed once no byte arrived for `TAD_BODY_IDLE_TIMEOUT_SECS`; headers that never end and idle
//! keep-alive connections are closed too; normal requests are served meanwhile, and a slow but
//! steady body is not cut.

use crate::support;
use crate::support::fixtures::{application, post_all, product_line};

use std::time::{Duration, Instant};

use serde_json::Value;
use support::{Api, EmbeddedPlatform, assert_success};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const ADMIN_PASSWORD: &str = "admin-password-1";
const SECRET: &str = "appinhouse-secret-1";
const BOUNDARY: &str = "stall-boundary-7MA4YWxkTrZu0gW";
/// Stalled connections opened at once.
const STALLED: usize = 200;

/// The platform, cutting bodies idle for `body_idle_secs` and headers unfinished after
/// `header_secs`.
async fn start(body_idle_secs: &str, header_secs: &str) -> (EmbeddedPlatform, Api) {
    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[
            ("TAD_BODY_IDLE_TIMEOUT_SECS", body_idle_secs),
            ("TAD_HEADER_TIMEOUT_SECS", header_secs),
            ("TAD_KEEP_ALIVE_SECS", "2"),
            ("TAD_APPINHOUSE_SECRET_KEY", SECRET),
        ],
    )
    .await;
    post_all(
        &admin,
        &[product_line("750", "pl"), application("5093", "bus", "750")],
    )
    .await;
    let created = support::http_client()
        .post(format!("{}/api/v2/stall/create", platform.url()))
        .header("x-secretkey", SECRET)
        .form(&[("description", "stalled uploads")])
        .send()
        .await
        .expect("create app");
    let created: Value = created.json().await.expect("create answer");
    assert_eq!(created["code"], 0, "{created}");
    (platform, admin)
}

fn address(url: &str) -> String {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

fn multipart_start(file_name: &str) -> String {
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{}",
        "x".repeat(100)
    )
}

/// A request whose headers and the start of whose body are sent, then nothing: (what it is,
/// the bytes sent).
fn stalled_request(index: usize, token: &str) -> (&'static str, String) {
    let head = |line: &str, headers: &str, declared: usize, body: &str| {
        format!("{line} HTTP/1.1\r\nHost: tad\r\n{headers}Content-Length: {declared}\r\n\r\n{body}")
    };
    let multipart = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n");
    match index % 6 {
        0 => (
            "json",
            head(
                "POST /api/auth/login",
                "Content-Type: application/json\r\n",
                200,
                "{\"username\":\"adm",
            ),
        ),
        1 => (
            "urlencoded",
            head(
                "POST /api/v2/stall/update",
                &format!(
                    "X-SecretKey: {SECRET}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                ),
                200,
                "description=still",
            ),
        ),
        2 => (
            "package sync",
            head(
                "POST /api/artifact/version/aos?app_id=5093&version=1&name=stall",
                &format!("Authorization: Bearer {token}\r\n{multipart}"),
                100_000,
                &multipart_start("stall.tar.gz"),
            ),
        ),
        3 => (
            "hosted build",
            head(
                "POST /api/v2/stall/archive/android",
                &format!("X-SecretKey: {SECRET}\r\n{multipart}"),
                100_000,
                &multipart_start("stall.apk"),
            ),
        ),
        4 => {
            let field = |name: &str, value: &str| {
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
            };
            // With the md5 of the bytes sent: a service that took the cut body for the whole
            // file would store it.
            let md5 = support::md5_hex("x".repeat(100).as_bytes());
            let chunk = format!(
                "{}{}{}{}",
                field("app_id", "5093"),
                field("name", "cut-script"),
                field("file_md5", &format!("{{\"script.sh\":\"{md5}\"}}")),
                multipart_start("script.sh")
            );
            (
                "chunked stream",
                format!(
                    "POST /api/artifact/script/aos_upload?app_id=5093&name=s HTTP/1.1\r\nHost: tad\r\n\
                     Authorization: Bearer {token}\r\n{multipart}Transfer-Encoding: chunked\r\n\r\n\
                     {:x}\r\n{chunk}\r\n",
                    chunk.len()
                ),
            )
        }
        _ => (
            "headers",
            "GET /healthz HTTP/1.1\r\nHost: tad\r\nX-Slow: ".to_owned(),
        ),
    }
}

/// Reads until the server closes the connection (or resets it); the bytes it answered.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return answer,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stalled_bodies_headers_and_idle_connections_are_cut_while_others_are_served() {
    // The first cut comes after 3 s: room for the normal requests below on a loaded machine.
    let (platform, admin) = start("3", "4").await;
    let address = address(platform.url());
    let token = admin.token.clone().expect("token");

    let mut connections = Vec::with_capacity(STALLED);
    for index in 0..STALLED {
        let (kind, request) = stalled_request(index, &token);
        let mut stream = TcpStream::connect(&address).await.expect("connect");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("send the start of the request");
        connections.push((kind, stream));
    }
    let opened = Instant::now();

    // The gateway still serves everyone else while 200 connections stall.
    let (status, health) = admin.get("/healthz").await;
    assert_eq!(status, 200, "{health}");
    let (_, users) = admin.get("/api/admin/users").await;
    assert_success(&users);
    assert!(
        opened.elapsed() < Duration::from_secs(3),
        "normal requests were served before any stalled one was cut ({:?})",
        opened.elapsed()
    );

    let waits = connections
        .into_iter()
        .map(|(kind, mut stream)| async move {
            let answer =
                tokio::time::timeout(Duration::from_secs(20), read_until_closed(&mut stream)).await;
            (
                kind,
                answer.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            )
        });
    let closed = futures::future::join_all(waits).await;
    let elapsed = opened.elapsed();
    let mut still_open = Vec::new();
    for (kind, answer) in &closed {
        match answer {
            Err(_) => still_open.push(*kind),
            Ok(text) if *kind == "headers" => assert!(
                text.is_empty() || text.starts_with("HTTP/1.1 408"),
                "{kind}: {text}"
            ),
            Ok(text) => {
                assert!(text.starts_with("HTTP/1.1 408"), "{kind} answered: {text}");
                let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
                assert!(body.contains("request body stalled"), "{kind}: {text}");
                if *kind == "urlencoded" || *kind == "hosted build" {
                    assert!(body.contains("\"code\":1001"), "appinhouse shape: {text}");
                } else {
                    assert!(
                        body.contains("\"code\":\"request_timeout\"")
                            && body.contains("\"success\":false"),
                        "envelope: {text}"
                    );
                }
                assert!(
                    text.to_ascii_lowercase().contains("connection: close"),
                    "{kind}: {text}"
                );
            }
        }
    }
    assert!(
        still_open.is_empty(),
        "{} of {STALLED} stalled connections were still open after 20 s: {:?}",
        still_open.len(),
        &still_open[..still_open.len().min(10)]
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "stalled connections were closed only after {elapsed:?}"
    );

    // A cut upload is not a shorter upload: the cut script was not stored.
    let (_, scripts) = admin
        .get("/api/script/index/aos_list?application_id=5093")
        .await;
    assert_success(&scripts);
    assert!(
        !scripts.to_string().contains("cut-script"),
        "a cut script upload was stored: {scripts}"
    );

    platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_slow_but_steady_body_is_not_cut_and_idle_keep_alive_ends() {
    let (platform, _admin) = start("1", "2").await;
    let address = address(platform.url());

    // One byte every 200 ms: 3.2 s in all, more than three times the idle timeout.
    let body = br#"{"username":"x"}"#;
    let mut stream = TcpStream::connect(&address).await.expect("connect");
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: tad\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("headers");
    let started = Instant::now();
    for byte in body {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stream.write_all(&[*byte]).await.expect("a byte");
    }
    assert!(started.elapsed() >= Duration::from_secs(3));
    let mut answer = Vec::new();
    let mut buffer = [0_u8; 4096];
    let text = loop {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(read > 0, "closed without an answer");
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        if text.contains("\r\n\r\n") && text.ends_with('}') {
            break text;
        }
    };
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"code\":\"missing_field\""), "{text}");
    assert!(text.contains("password"), "{text}");

    // The connection stays for another request, and is closed once idle for the keep-alive time.
    let idle_since = Instant::now();
    let rest = tokio::time::timeout(Duration::from_secs(10), read_until_closed(&mut stream))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
    let idle = idle_since.elapsed();
    assert!(
        idle >= Duration::from_millis(1500) && idle < Duration::from_secs(6),
        "closed after {idle:?} idle"
    );

    platform.stop().await;
}
