//! A real `sshd` for SSH tests: generated host key, a free port on 127.0.0.1 to 127.0.0.4, a
//! password user (`tadexec`) and a key user (`tadkey`), stopped on drop. Needs root and
//! /usr/sbin/sshd; without them `TestSshd::start` answers `None` (and fails when `CI` is set).

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The user that logs in with [`TestSshd::password`] (or [`TestSshd::private_key_pem`]).
pub const PASSWORD_USER: &str = "tadexec";
/// The user that logs in with [`TestSshd::private_key_pem`].
pub const KEY_USER: &str = "tadkey";
/// The loopback addresses sshd listens on (same port).
pub const LISTEN_ADDRESSES: [&str; 4] = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];
/// Further loopback addresses sshd listens on, for tests that need more hosts (a rollout's
/// batches).
pub const MORE_ADDRESSES: [&str; 3] = ["127.0.0.5", "127.0.0.6", "127.0.0.7"];

/// A running sshd.
pub struct TestSshd {
    pub port: u16,
    /// The password of [`PASSWORD_USER`] (one per test process: users are machine-wide).
    pub password: String,
    /// The OpenSSH private key (PEM text) that [`KEY_USER`] (and [`PASSWORD_USER`]) log in with.
    pub private_key_pem: String,
    dir: tempfile::TempDir,
    host_key: PathBuf,
    host_keys_made: u32,
    child: Child,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

/// Runs a setup command, failing the test with its stderr.
pub fn run_setup(command: &mut Command) {
    let output = command.output().expect("run setup command");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Makes an ed25519 key pair without passphrase at `path` and `path.pub`.
pub fn keygen(path: &Path) {
    run_setup(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "tad-test", "-f"])
            .arg(path),
    );
}

/// `SHA256:...` of a public key file, as ssh-keygen prints it (and russh formats it).
pub fn fingerprint(public_key: &Path) -> String {
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

/// A port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A fresh random password.
pub fn random_password() -> String {
    format!("Pw-{}", &common::ids::new_id()[16..])
}

/// Whether sshd tests can run here; panics when `CI` is set and they cannot.
pub fn sshd_available() -> bool {
    super::component_available(
        Path::new("/usr/sbin/sshd").exists() && is_root(),
        "/usr/sbin/sshd run as root",
        "apt-get install openssh-server",
    )
}

/// Creates `user` if missing, with a home and `/bin/bash`.
pub fn ensure_user(user: &str) {
    let exists = Command::new("id")
        .arg(user)
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    if exists {
        run_setup(Command::new("usermod").args(["-s", "/bin/bash", user]));
    } else {
        run_setup(Command::new("useradd").args(["-m", "-s", "/bin/bash", user]));
    }
}

/// Sets `user`'s password with chpasswd.
pub fn set_password(user: &str, password: &str) {
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    std::io::Write::write_all(
        chpasswd.stdin.as_mut().expect("stdin"),
        format!("{user}:{password}\n").as_bytes(),
    )
    .expect("write");
    assert!(chpasswd.wait().expect("chpasswd").success());
}

/// The test users, made once per process (by the first test that needs them); answers
/// `tadexec`'s password.
pub fn users() -> &'static str {
    static PASSWORD: OnceLock<String> = OnceLock::new();
    PASSWORD.get_or_init(|| {
        ensure_user(PASSWORD_USER);
        ensure_user(KEY_USER);
        let password = random_password();
        set_password(PASSWORD_USER, &password);
        // `*` is no password at all, but unlike useradd's `!` not a locked account, which sshd
        // (without PAM) would refuse even with a valid key.
        run_setup(Command::new("usermod").args(["-p", "*", KEY_USER]));
        password
    })
}

impl TestSshd {
    /// Starts an sshd, or answers `None` when this machine cannot (see [`sshd_available`]).
    pub fn start() -> Option<TestSshd> {
        if !sshd_available() {
            return None;
        }
        let password = users().to_owned();
        // StrictModes: the authorized keys file and every directory above it must belong to
        // root or the user and not be group or world writable, which rules out /tmp (1777).
        // sshd reads the file as the user, so the directory is 0755 and the file 0644.
        let dir = tempfile::Builder::new()
            .prefix("tad-sshd-")
            .tempdir_in("/run")
            .expect("temp dir in /run");
        set_mode(dir.path(), 0o755);
        let client_key = dir.path().join("client_key");
        keygen(&client_key);
        let authorized = dir.path().join("authorized_keys");
        std::fs::create_dir(&authorized).expect("authorized keys dir");
        set_mode(&authorized, 0o755);
        for user in [KEY_USER, PASSWORD_USER] {
            let user_keys = authorized.join(user);
            std::fs::copy(client_key.with_extension("pub"), &user_keys).expect("authorized keys");
            set_mode(&user_keys, 0o644);
        }
        let private_key_pem = std::fs::read_to_string(&client_key).expect("client key");
        let port = free_port();
        let host_key = dir.path().join("host_key_1");
        keygen(&host_key);
        let child = spawn_sshd(dir.path(), port, &host_key);
        Some(TestSshd {
            port,
            password,
            private_key_pem,
            dir,
            host_key,
            host_keys_made: 1,
            child,
        })
    }

    /// `SHA256:...` of the host key sshd presents now.
    pub fn host_key_fingerprint(&self) -> String {
        fingerprint(&self.host_key.with_extension("pub"))
    }

    /// Restarts sshd on the same port with a newly generated host key.
    pub fn restart_with_new_host_key(&mut self) {
        stop(&mut self.child);
        self.host_keys_made += 1;
        self.host_key = self
            .dir
            .path()
            .join(format!("host_key_{}", self.host_keys_made));
        keygen(&self.host_key);
        self.child = spawn_sshd(self.dir.path(), self.port, &self.host_key);
    }

    /// sshd's log so far (for failing assertions).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn spawn_sshd(dir: &Path, port: u16, host_key: &Path) -> Child {
    let listen: String = LISTEN_ADDRESSES
        .iter()
        .chain(&MORE_ADDRESSES)
        .map(|address| format!("ListenAddress {address}\n"))
        .collect();
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\n{listen}HostKey {host_key}\nPidFile {pid}\nPasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\n\
             PermitRootLogin no\nAllowUsers {PASSWORD_USER} {KEY_USER}\n\
             AuthorizedKeysFile {keys}/%u\nMaxStartups 500:30:1000\nMaxSessions 100\n\
             LogLevel VERBOSE\n",
            host_key = host_key.display(),
            pid = dir.join("sshd.pid").display(),
            keys = dir.join("authorized_keys").display(),
        ),
    )
    .expect("write sshd config");
    std::fs::create_dir_all("/run/sshd").expect("privilege separation dir");
    let mut child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-f"])
        .arg(&config)
        .arg("-E")
        .arg(dir.join("sshd.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sshd");
    let deadline = Instant::now() + Duration::from_secs(15);
    for address in LISTEN_ADDRESSES.iter().chain(&MORE_ADDRESSES) {
        while TcpStream::connect((*address, port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "sshd exited ({status}): {}",
                    std::fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not listen on {address}:{port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    child
}
