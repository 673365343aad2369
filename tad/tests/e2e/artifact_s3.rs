//! The object store on S3 against a real S3-compatible server started by the test (moto's
//! server, from PyPI: `.ci/run` installs it into /tmp/tad-moto-venv): a package sync large
//! enough for a multipart upload lands in the bucket, downloads answer the same bytes, Range
//! requests answer the exact slice. Skips with a message when moto is absent (fails under CI).

use crate::support;
use crate::support::fixtures::sync_package;
use crate::support::fixtures::{application, post_all, product_line};

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use support::{EmbeddedPlatform, assert_success, md5_hex, noise, tar_gz};

const ADMIN_PASSWORD: &str = "s3-admin-password";
const MOTO: &str = "/tmp/tad-moto-venv/bin/moto_server";
const BUCKET: &str = "tad-artifacts";

/// A moto S3 server on a free port, stopped on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Option<Moto> {
        if !support::component_available(
            Path::new(MOTO).exists(),
            MOTO,
            "python3 -m venv /tmp/tad-moto-venv && /tmp/tad-moto-venv/bin/pip install 'moto[server]'",
        ) {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(MOTO)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_are_stored_in_s3_and_served_with_ranges() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let http = support::http_client();
    let created = http
        .put(format!("{}/{BUCKET}", moto.endpoint))
        .send()
        .await
        .expect("create bucket");
    assert!(created.status().is_success(), "{}", created.status());

    let (platform, admin) = EmbeddedPlatform::start_with_admin(
        ADMIN_PASSWORD,
        &[
            ("TAD_ARTIFACT_S3_BUCKET", BUCKET),
            ("TAD_ARTIFACT_S3_ENDPOINT", moto.endpoint.as_str()),
            ("TAD_ARTIFACT_S3_REGION", "us-east-1"),
            ("TAD_ARTIFACT_S3_ACCESS_KEY_ID", "test-key-id"),
            ("TAD_ARTIFACT_S3_SECRET_ACCESS_KEY", "test-secret-key"),
            ("TAD_ARTIFACT_S3_ALLOW_HTTP", "true"),
        ],
    )
    .await;
    post_all(
        &admin,
        &[product_line("pl", "pl"), application("app", "app", "pl")],
    )
    .await;

    // 12 MiB of barely compressible bytes: more than two 5 MiB parts.
    let archive = tar_gz(&[("app.bin", noise(1, 12 * 1024 * 1024))]);
    assert!(archive.len() > 10 * 1024 * 1024);
    let md5 = md5_hex(&archive);
    let query = "app_id=app&version=1.0.0&name=app";
    let (status, body) = sync_package(&admin, query, "app.tar.gz", &archive).await;
    assert_eq!(status, 200, "{body}");
    let data = assert_success(&body);
    assert_eq!(data["md5"], md5.as_str());
    let url = data["file_path"].as_str().expect("file_path").to_owned();

    // The objects are in the bucket, not on the local disk.
    let listing = http
        .get(format!("{}/{BUCKET}?list-type=2", moto.endpoint))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("listing");
    let sizes: Vec<u64> = listing
        .split("<Size>")
        .skip(1)
        .filter_map(|rest| rest.split('<').next()?.parse().ok())
        .collect();
    assert!(
        sizes.contains(&(archive.len() as u64)),
        "the package is an object of the bucket: {listing}"
    );
    assert!(
        !platform.data_dir.path().join("objects").exists()
            || std::fs::read_dir(platform.data_dir.path().join("objects"))
                .map(|entries| entries.count() == 0)
                .unwrap_or(true),
        "nothing stored locally"
    );

    let token = admin.token.clone().expect("token");
    let full = http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("download");
    assert_eq!(full.status().as_u16(), 200);
    assert_eq!(
        full.bytes().await.expect("bytes").as_ref(),
        archive.as_slice()
    );
    let start = 5 * 1024 * 1024 - 10;
    let end = start + 99;
    let ranged = http
        .get(&url)
        .bearer_auth(&token)
        .header("range", format!("bytes={start}-{end}"))
        .send()
        .await
        .expect("range");
    assert_eq!(ranged.status().as_u16(), 206);
    assert_eq!(
        ranged.headers()["content-range"].to_str().expect("range"),
        format!("bytes {start}-{end}/{}", archive.len())
    );
    assert_eq!(
        ranged.bytes().await.expect("bytes").as_ref(),
        &archive[start..=end],
        "the exact slice across a part boundary"
    );
    platform.stop().await;
}
