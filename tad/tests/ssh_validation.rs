//! 8.2.7 against a real `sshd` started by the test on 127.0.0.1 with generated host keys and a
//! test user: right password → true, wrong password → false, private key → true, changed host key
//! → false, closed port → false within the timeout; no SSH secret stored or answered in clear.
//! Needs root and /usr/sbin/sshd (CI installs openssh-server); elsewhere it says why it skips.

mod support;

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use support::{Api, EmbeddedPlatform, assert_failure, assert_success};

const SSH_USER: &str = "tadssh";
const ADMIN_PASSWORD: &str = "ssh-admin-password";

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.starts_with(b"0"))
        .unwrap_or(false)
}

fn run(command: &mut Command) {
    let output = command.output().expect("run setup command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn keygen(path: &Path) {
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "tad-test", "-f"])
        .arg(path));
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

struct Sshd {
    child: Child,
}

impl Sshd {
    fn start(dir: &Path, port: u16, host_key: &Path) -> Sshd {
        let config = dir.join(format!(
            "sshd_config_{}",
            host_key
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("key")
        ));
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nPasswordAuthentication yes\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\nPermitRootLogin no\n\
                 StrictModes no\nAllowUsers {SSH_USER}\nAuthorizedKeysFile {}\nLogLevel VERBOSE\n",
                host_key.display(),
                dir.join("sshd.pid").display(),
                dir.join("authorized_keys").display(),
            ),
        )
        .expect("write sshd config");
        std::fs::create_dir_all("/run/sshd").expect("privilege separation dir");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sshd did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Sshd { child }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// `SHA256:...` of a public key file, as ssh-keygen prints it.
fn fingerprint(public_key: &Path) -> String {
    let output = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(public_key)
        .output()
        .expect("ssh-keygen -l");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_owned()
}

fn random_password() -> String {
    format!("Pw-{}", &common::ids::new_id()[16..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_validation_logs_in_for_real_and_pins_the_host_key() {
    if !(Path::new("/usr/sbin/sshd").exists() && is_root()) {
        assert!(
            std::env::var("CI").is_err(),
            "CI must run the sshd test: install openssh-server and run as root"
        );
        eprintln!("skipped: needs root and /usr/sbin/sshd (apt-get install openssh-server)");
        return;
    }
    let log = CapturedLog::install();
    let password = random_password();
    let dir = tempfile::tempdir().expect("temp dir");
    if !Command::new("id")
        .arg(SSH_USER)
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false)
    {
        run(Command::new("useradd").args(["-M", "-s", "/bin/sh", SSH_USER]));
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().expect("stdin"),
        format!("{SSH_USER}:{password}\n").as_bytes(),
    )
    .expect("write");
    assert!(chpasswd.wait().expect("chpasswd").success());
    let key_a: PathBuf = dir.path().join("host_key_a");
    let key_b: PathBuf = dir.path().join("host_key_b");
    let client_key: PathBuf = dir.path().join("client_key");
    keygen(&key_a);
    keygen(&key_b);
    keygen(&client_key);
    std::fs::copy(
        client_key.with_extension("pub"),
        dir.path().join("authorized_keys"),
    )
    .expect("authorized keys");
    let port = free_port();
    let sshd = Sshd::start(dir.path(), port, &key_a);

    let platform = EmbeddedPlatform::start(ADMIN_PASSWORD, &[("TAD_SSH_TIMEOUT_SECS", "3")]).await;
    let admin = Api::new(platform.url())
        .login("admin", ADMIN_PASSWORD)
        .await;
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
    let (_, body) = admin
        .post(
            "/api/resource/hosts/aos_create",
            &host(Some(&password), port),
        )
        .await;
    let host_id = assert_success(&body)["id"].as_str().expect("id").to_owned();
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
    with_key["ssh_private_key"] = json!(std::fs::read_to_string(&client_key).expect("client key"));
    let (_, body) = admin.post(&update_path, &with_key).await;
    assert!(
        !body.to_string().contains("PRIVATE KEY"),
        "no key in answers"
    );
    let (_, body) = validate().await;
    assert_eq!(assert_success(&body), json!(true), "private key");

    admin.post(&update_path, &host(Some(&password), port)).await;
    drop(sshd);
    let sshd = Sshd::start(dir.path(), port, &key_b);
    let (_, body) = validate().await;
    assert_eq!(
        assert_success(&body),
        json!(false),
        "another host key than the pinned one"
    );
    let (pinned, presented) = (
        fingerprint(&key_a.with_extension("pub")),
        fingerprint(&key_b.with_extension("pub")),
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
