//! 8.2.7 against a real `sshd` (the `support::sshd` fixture: 127.0.0.1, generated host keys, a
//! test user): right password → true, wrong password → false, private key → true, changed host key
//! → false, closed port → false within the timeout; no SSH secret stored or answered in clear.
//! Needs root and /usr/sbin/sshd (CI installs openssh-server); elsewhere it says why it skips.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{
    EmbeddedPlatform, assert_failure, assert_success,
    sshd::{PASSWORD_USER as SSH_USER, TestSshd, free_port, random_password},
};

const ADMIN_PASSWORD: &str = "ssh-admin-password";

/// Log lines of this test process, to check what the service logs.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLog {
    fn install() -> CapturedLog {
        let log = CapturedLog::default();
        let writer = log.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        log
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_validation_logs_in_for_real_and_pins_the_host_key() {
    let Some(mut sshd) = TestSshd::start() else {
        return;
    };
    let log = CapturedLog::install();
    let password = sshd.password.clone();
    let port = sshd.port;

    let (platform, admin) =
        EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, &[("TAD_SSH_TIMEOUT_SECS", "3")]).await;
    admin
        .post("/api/admin/productlines", &json!({"id": "4", "name": "pl"}))
        .await;
    admin
        .post("/api/admin/envs", &json!({"id": "e1", "name": "env"}))
        .await;
    let host = |password: Option<&str>, port: u16| {
        let mut body = json!({"host_IP": "127.0.0.1", "host_name": "local", "ssh_user": SSH_USER, "ssh_port": port,
                              "productLine_id": "4", "env_id": "e1"});
        if let Some(password) = password {
            body["ssh_passwd"] = json!(password);
        }
        body
    };
    let host_id = admin
        .post_id(
            "/api/resource/hosts/aos_create",
            &host(Some(&password), port),
        )
        .await;
    let validate_path = format!("/api/resource/hosts/validate/127.0.0.1/{SSH_USER}/ssh");
    let validate = || async { admin.get(&validate_path).await };

    let (_, body) = validate().await;
    assert_eq!(assert_success(&body), json!(true), "right password");

    let wrong = random_password();
    let update_path = format!("/api/resource/hosts/{host_id}/update");
    admin.post(&update_path, &host(Some(&wrong), port)).await;
    let (_, body) = validate().await;
    assert_eq!(assert_success(&body), json!(false), "wrong password");

    let mut with_key = host(None, port);
    with_key["ssh_private_key"] = json!(sshd.private_key_pem);
    let (_, body) = admin.post(&update_path, &with_key).await;
    assert!(
        !body.to_string().contains("PRIVATE KEY"),
        "no key in answers"
    );
    let (_, body) = validate().await;
    assert_eq!(assert_success(&body), json!(true), "private key");

    admin.post(&update_path, &host(Some(&password), port)).await;
    let pinned = sshd.host_key_fingerprint();
    sshd.restart_with_new_host_key();
    let presented = sshd.host_key_fingerprint();
    let (_, body) = validate().await;
    assert_eq!(
        assert_success(&body),
        json!(false),
        "another host key than the pinned one"
    );
    let changed = log
        .text()
        .lines()
        .find(|line| line.contains("ssh host key changed"))
        .map(str::to_owned)
        .expect("logged");
    assert!(
        changed.contains(&pinned) && changed.contains(&presented),
        "both fingerprints named: {changed}"
    );
    drop(sshd);

    let closed = free_port();
    admin.post(&update_path, &host(None, closed)).await;
    let started = Instant::now();
    let (_, body) = validate().await;
    assert_eq!(assert_success(&body), json!(false), "closed port");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the timeout: {:?}",
        started.elapsed()
    );

    let (_, body) = admin
        .get("/api/resource/hosts/validate/10.9.9.9/nobody/ssh")
        .await;
    assert!(assert_failure(&body, "host_not_found").contains("10.9.9.9"));

    let stored = platform.stored_bytes();
    for secret in [password.as_str(), wrong.as_str()] {
        assert!(
            !stored
                .windows(secret.len())
                .any(|window| window == secret.as_bytes()),
            "password stored in clear"
        );
    }
    assert!(
        !stored.windows(11).any(|window| window == b"PRIVATE KEY"),
        "private key stored in clear"
    );
    assert!(!log.text().contains(&password), "no password in the log");
    platform.stop().await;
}
