//! Two SSH users' tasks preparing their work directories at once on one target both succeed:
//! the shared base directory is made 1755 by `mkdir -m 1777` and only then chmodded, and the
//! other user's task that looks in between must wait for it rather than fail (seen once in CI
//! as a host failing "prepare the work directory"). strace widens that window to 300 ms.

use super::*;
use std::process::{Command, Stdio};
use support::sshd::{KEY_USER, sshd_available, users};
use svc_jobs::execution::shell::prepare_work_dir;

/// Runs `command` with `sh -c` as `user`.
fn as_user(user: &str, command: &str) -> Command {
    let mut runuser = Command::new("runuser");
    runuser.args(["-u", user, "--", "sh", "-c", command]);
    runuser
}

#[test]
fn two_users_preparing_work_directories_at_once_both_succeed() {
    if !sshd_available()
        || !support::component_available(
            Path::new("/usr/bin/strace").exists(),
            "strace",
            "apt-get install strace",
        )
    {
        return;
    }
    users();
    let root = tempfile::Builder::new()
        .prefix("tad-work-race-")
        .tempdir_in("/tmp")
        .expect("temp dir");
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod 1777");
    let base = root.path().join("work");
    let base_text = base.to_str().expect("path");
    let work_of = |user: &str| base.join(format!("ssh-{user}")).join("run").join("0");
    let first_work = work_of(KEY_USER);
    let second_work = work_of(PASSWORD_USER);
    // The first user's chmod calls are each held for 300 ms, so its base stays 1755 that long.
    let mut first = Command::new("strace");
    first
        .args(["-f", "-qq", "-o", "/dev/null", "-e", "trace=/chmod"])
        .args(["-e", "inject=/chmod:delay_enter=300000", "runuser", "-u"])
        .args([KEY_USER, "--", "sh", "-c"])
        .arg(prepare_work_dir(base_text, first_work.to_str().expect("path")).as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let first = first.spawn().expect("strace");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !base.exists() {
        assert!(
            Instant::now() < deadline,
            "the first task never made {base:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let mode = std::fs::metadata(&base).expect("base").permissions().mode() & 0o7777;
    assert_ne!(
        mode, 0o1777,
        "the window to test is gone: base is already 1777"
    );
    let second = as_user(
        PASSWORD_USER,
        prepare_work_dir(base_text, second_work.to_str().expect("path")).as_str(),
    )
    .output()
    .expect("runuser");
    support::assert_exited_ok(&second, "the second user's prepare");
    support::assert_exited_ok(
        &first.wait_with_output().expect("strace"),
        "the first user's prepare",
    );
    let mode_of =
        |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777;
    assert_eq!(mode_of(&base), 0o1777, "the shared base");
    assert_eq!(mode_of(&first_work), 0o700, "{first_work:?}");
    assert_eq!(mode_of(&second_work), 0o700, "{second_work:?}");
}
