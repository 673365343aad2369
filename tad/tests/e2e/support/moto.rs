//! A real S3-compatible server for the tests of the S3 stores: moto's server (from PyPI;
//! `.ci/run` installs it into /tmp/tad-moto-venv) on a free port, stopped on drop. Without it a
//! test skips with a message, and fails when `CI` is set.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const MOTO: &str = "/tmp/tad-moto-venv/bin/moto_server";

/// A moto S3 server on a free port, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts moto and waits until it listens; `None` (after saying why) when it is not
    /// installed outside CI.
    pub fn start() -> Option<Moto> {
        if !super::component_available(
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

    /// Creates `bucket`.
    pub async fn create_bucket(&self, bucket: &str) {
        let created = super::http_client()
            .put(format!("{}/{bucket}", self.endpoint))
            .send()
            .await
            .expect("create bucket");
        assert!(created.status().is_success(), "{}", created.status());
    }

    /// The objects of `bucket` as (key, size), read from a ListObjectsV2 answer.
    pub async fn objects(&self, bucket: &str) -> Vec<(String, u64)> {
        let listing = super::http_client()
            .get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("listing");
        let between = |text: &str, tag: &str| -> Option<String> {
            let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
            let end = text[start..].find(&format!("</{tag}>"))? + start;
            Some(text[start..end].to_owned())
        };
        listing
            .split("<Contents>")
            .skip(1)
            .map(|object| {
                let key = between(object, "Key").unwrap_or_else(|| panic!("no key: {listing}"));
                let size = between(object, "Size")
                    .and_then(|size| size.parse().ok())
                    .unwrap_or_else(|| panic!("no size: {listing}"));
                (key, size)
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
