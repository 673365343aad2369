//! The executor's transports against real targets: the SSH adapter against a real sshd (password
//! and key logins, several loopback addresses, pinned host key) and the local adapter; for both,
//! streamed uploads, separate stdout/stderr, exit codes, timeouts and kills that leave no process.

use crate::support;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use common::ssh::{SshAuth, SshTarget};
use support::sshd::{KEY_USER, PASSWORD_USER, TestSshd};
use svc_jobs::execution::transport::{
    LocalTransport, OutputChunk, OutputKind, Reaped, RunOutcome, SshTransport, Transport,
    TransportError,
};
use tokio::sync::mpsc;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A key unique to this test run (`[a-z0-9-]`).
fn unique_key() -> String {
    format!("t-{}", common::ids::new_id())
}

/// A sleep duration nothing else on the machine uses, to find its processes with `pgrep -f`.
fn unique_seconds() -> u64 {
    let id = common::ids::new_id();
    1_000_000 + u64::from_str_radix(&id[id.len() - 6..], 16).expect("hex") % 1_000_000
}

/// Pids of the processes whose command line contains `pattern`.
fn processes_matching(pattern: &str) -> String {
    let output = std::process::Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Asserts that no process matching `pattern` is left (reaping may take a moment).
fn assert_no_process(pattern: &str) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = processes_matching(pattern);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes left matching {pattern:?}: {left}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `command` and answers its outcome, stdout and stderr.
async fn run(
    transport: &dyn Transport,
    command: &str,
    key: &str,
    timeout: Duration,
) -> (Result<RunOutcome, TransportError>, String, String) {
    let (sender, receiver) = mpsc::channel(16);
    let (outcome, (stdout, stderr)) = tokio::join!(
        transport.run(command, key, timeout, sender),
        collect(receiver)
    );
    (outcome, stdout, stderr)
}

async fn collect(mut receiver: mpsc::Receiver<OutputChunk>) -> (String, String) {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(chunk) = receiver.recv().await {
        match chunk.kind {
            OutputKind::Stdout => stdout.extend_from_slice(&chunk.bytes),
            OutputKind::Stderr => stderr.extend_from_slice(&chunk.bytes),
        }
    }
    (
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Runs `command`, which must succeed, and answers its stdout.
async fn stdout_of(transport: &dyn Transport, command: &str) -> String {
    let (outcome, stdout, stderr) =
        run(transport, command, &unique_key(), Duration::from_secs(30)).await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0), "{stderr}");
    stdout
}

/// Deterministic bytes that do not repeat in short periods.
fn content(length: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

fn byte_stream(content: &[u8], chunk: usize) -> svc_jobs::execution::transport::ByteStream {
    let chunks: Vec<Result<Bytes, std::io::Error>> = content
        .chunks(chunk)
        .map(|piece| Ok(Bytes::copy_from_slice(piece)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

async fn check_upload(transport: &dyn Transport, dir: &str) {
    let path = format!("{dir}/nested/deeper/artifact.bin");
    let bytes = content(3 * 1024 * 1024 + 12_345);
    let written = transport
        .upload(&path, byte_stream(&bytes, 64 * 1024))
        .await
        .expect("upload");
    assert_eq!(written, bytes.len() as u64);
    let md5 = stdout_of(transport, &format!("md5sum {path}")).await;
    assert_eq!(
        md5.split_whitespace().next(),
        Some(support::md5_hex(&bytes).as_str()),
        "{md5}"
    );

    let replacement = b"second version\n".to_vec();
    transport
        .upload(&path, byte_stream(&replacement, 4))
        .await
        .expect("upload again");
    assert_eq!(
        stdout_of(transport, &format!("cat {path}; ls -a {dir}/nested/deeper")).await,
        "second version\n.\n..\nartifact.bin\n",
        "replaced, no part file left"
    );

    let failing: svc_jobs::execution::transport::ByteStream =
        Box::pin(futures::stream::iter(vec![
            Ok(Bytes::from_static(b"half")),
            Err(std::io::Error::other("artifact store went away")),
        ]));
    let error = transport
        .upload(&path, failing)
        .await
        .expect_err("a broken stream fails the upload");
    assert!(
        matches!(error, TransportError::Upload { .. }) && error.to_string().contains("went away"),
        "{error}"
    );
    assert_eq!(
        stdout_of(transport, &format!("cat {path}; ls -a {dir}/nested/deeper")).await,
        "second version\n.\n..\nartifact.bin\n",
        "a failed upload leaves the file as it was"
    );
    stdout_of(transport, &format!("rm -rf {dir}")).await;
}

async fn check_streams_and_exit_codes(transport: &dyn Transport) {
    let (outcome, stdout, stderr) = run(
        transport,
        "echo out-1; echo err-1 >&2; sleep 0.2; echo out-2; echo \"it's $((6 * 7))\" >&2; exit 3",
        &unique_key(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(3));
    assert_eq!(stdout, "out-1\nout-2\n");
    assert_eq!(stderr, "err-1\nit's 42\n");

    let (outcome, stdout, _) = run(
        transport,
        "true && echo fine",
        &unique_key(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0));
    assert_eq!(stdout, "fine\n");

    let error = transport
        .run(
            "true",
            "Not/A-Key",
            Duration::from_secs(5),
            mpsc::channel(1).0,
        )
        .await
        .expect_err("a key outside [a-z0-9-] is refused");
    assert!(error.to_string().contains("Not/A-Key"), "{error}");
}

async fn check_timeout(transport: &dyn Transport) {
    let seconds = unique_seconds();
    let started = Instant::now();
    let (outcome, stdout, stderr) = run(
        transport,
        &format!("echo waiting; sleep {seconds}1 & sleep {seconds}2; wait"),
        &unique_key(),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(outcome.expect("run"), RunOutcome::TimedOut);
    assert_eq!((stdout.as_str(), stderr.as_str()), ("waiting\n", ""));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_no_process(&format!("sleep {seconds}"));
}

async fn check_kill(transport: Arc<dyn Transport>) {
    let seconds = unique_seconds();
    let key = unique_key();
    let (sender, mut receiver) = mpsc::channel(16);
    let running = {
        let transport = transport.clone();
        let key = key.clone();
        tokio::spawn(async move {
            transport
                .run(
                    &format!("echo started; sleep {seconds}1 & sleep {seconds}2; wait"),
                    &key,
                    Duration::from_secs(600),
                    sender,
                )
                .await
        })
    };
    let first = tokio::time::timeout(Duration::from_secs(10), receiver.recv())
        .await
        .expect("output within 10 s")
        .expect("a chunk");
    assert_eq!(first.bytes, Bytes::from_static(b"started\n"));
    assert!(!processes_matching(&format!("sleep {seconds}1")).is_empty());

    let killed_at = Instant::now();
    transport.kill(&key).await.expect("kill");
    let outcome = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the run ends within 5 s of the kill")
        .expect("join")
        .expect("run");
    assert_eq!(outcome, RunOutcome::Signalled("KILL".to_owned()));
    assert!(killed_at.elapsed() < Duration::from_secs(5));
    assert_eq!(
        collect(receiver).await,
        (String::new(), String::new()),
        "no output after the kill, not even bash's notice"
    );
    assert_no_process(&format!("sleep {seconds}"));

    transport
        .kill(&unique_key())
        .await
        .expect("killing what does not run is a no-op");
}

/// A command under a final key (`…-final`) leaves its exit status on the target, for a resume
/// after the service's death: the kill finds no live group but the mark and answers it, as often
/// as asked, until the service removes the mark (once the outcome is recorded). Other keys leave
/// none.
async fn check_final_mark(transport: &dyn Transport) {
    let key = format!("{}-final", unique_key());
    let (outcome, _, _) = run(
        transport,
        "echo done; exit 3",
        &key,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(3));
    assert_eq!(
        transport.kill(&key).await.expect("kill"),
        Reaped::Finished(3)
    );
    assert_eq!(
        transport.kill(&key).await.expect("kill"),
        Reaped::Finished(3),
        "reading the mark leaves it for a resume that dies before recording it"
    );
    let unmark = format!("rm -f -- \"/tmp/tad-$(id -u)/{key}.pid.exit\"");
    let (outcome, _, _) = run(transport, &unmark, &unique_key(), Duration::from_secs(30)).await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0));
    assert_eq!(
        transport.kill(&key).await.expect("kill"),
        Reaped::Nothing,
        "a removed mark is gone"
    );
    let plain = unique_key();
    let (outcome, _, _) = run(transport, "true", &plain, Duration::from_secs(30)).await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0));
    assert_eq!(transport.kill(&plain).await.expect("kill"), Reaped::Nothing);
}

/// A pid file whose pid now belongs to another process (reused, or the leader just exited and is
/// a zombie whose environment reads empty) kills nothing, but the exit status mark the final
/// command left is still answered (a zombie leader wrote it before it exited).
async fn check_foreign_pid(transport: &dyn Transport) {
    let seconds = unique_seconds();
    let key = format!("{}-final", unique_key());
    let setup = format!(
        "dir=/tmp/tad-$UID; sleep 7.{seconds} > /dev/null 2>&1 < /dev/null & echo $! > \"$dir/{key}.pid\"; echo 0 > \"$dir/{key}.pid.exit\""
    );
    let (outcome, _, _) = run(transport, &setup, &unique_key(), Duration::from_secs(30)).await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0));
    assert_eq!(
        transport.probe(&key).await.expect("probe"),
        Reaped::Finished(0)
    );
    assert_eq!(
        transport.kill(&key).await.expect("kill"),
        Reaped::Finished(0)
    );
    assert!(
        !processes_matching(&format!("sleep 7.{seconds}")).is_empty(),
        "the other process lives on"
    );
    let _ = std::process::Command::new("pkill")
        .args(["-f", &format!("sleep 7.{seconds}")])
        .status();
    let clean = format!("rm -f -- \"/tmp/tad-$UID/{key}.pid\" \"/tmp/tad-$UID/{key}.pid.exit\"");
    let (outcome, _, _) = run(transport, &clean, &unique_key(), Duration::from_secs(30)).await;
    assert_eq!(outcome.expect("run"), RunOutcome::Exited(0));
}

/// A probe says whether a command still runs under a key without touching it: `Running` while it
/// runs (and it runs on to its own end: 3 s, long enough for three probes on a loaded machine),
/// then the exit status its final command left.
async fn check_probe(transport: Arc<dyn Transport>) {
    let seconds = unique_seconds();
    let key = format!("{}-final", unique_key());
    let (sender, _receiver) = mpsc::channel(16);
    let running = {
        let transport = transport.clone();
        let key = key.clone();
        tokio::spawn(async move {
            transport
                .run(
                    &format!("sleep 3.{seconds}; exit 4"),
                    &key,
                    Duration::from_secs(60),
                    sender,
                )
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_matching(&format!("sleep 3.{seconds}")).is_empty() {
        assert!(Instant::now() < deadline, "the command never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..3 {
        assert_eq!(transport.probe(&key).await.expect("probe"), Reaped::Running);
    }
    let outcome = running.await.expect("join").expect("run");
    assert_eq!(outcome, RunOutcome::Exited(4), "the probe killed nothing");
    assert_eq!(
        transport.probe(&key).await.expect("probe"),
        Reaped::Finished(4)
    );
    assert_eq!(
        transport.probe(&unique_key()).await.expect("probe"),
        Reaped::Nothing
    );
}

fn target(host: &str, port: u16, user: &str) -> SshTarget {
    SshTarget {
        host: host.to_owned(),
        port,
        user: user.to_owned(),
    }
}

async fn connect_password(sshd: &TestSshd, host: &str) -> SshTransport {
    let (transport, fingerprint) = SshTransport::connect(
        target(host, sshd.port, PASSWORD_USER),
        SshAuth::Password(sshd.password.clone()),
        Some(&sshd.host_key_fingerprint()),
        CONNECT_TIMEOUT,
    )
    .await
    .expect("password login");
    assert_eq!(fingerprint, sshd.host_key_fingerprint());
    transport
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_logs_in_by_password_or_key_on_every_loopback_address() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let by_password = connect_password(&sshd, "127.0.0.1").await;
    assert_eq!(
        by_password.describe(),
        format!("{PASSWORD_USER}@127.0.0.1:{}", sshd.port)
    );
    assert_eq!(
        stdout_of(&by_password, "id -un").await,
        format!("{PASSWORD_USER}\n")
    );
    by_password.close().await;

    let (by_key, fingerprint) = SshTransport::connect(
        target("127.0.0.3", sshd.port, KEY_USER),
        SshAuth::PrivateKey(sshd.private_key_pem.clone()),
        None,
        CONNECT_TIMEOUT,
    )
    .await
    .expect("key login on 127.0.0.3");
    assert_eq!(
        fingerprint,
        sshd.host_key_fingerprint(),
        "trust on first use"
    );
    assert_eq!(stdout_of(&by_key, "id -un").await, format!("{KEY_USER}\n"));
    let connection = stdout_of(&by_key, "echo $SSH_CONNECTION").await;
    assert!(
        connection.contains(&format!("127.0.0.3 {}", sshd.port)),
        "{connection}"
    );
    by_key.close().await;

    let wrong = SshTransport::connect(
        target("127.0.0.2", sshd.port, PASSWORD_USER),
        SshAuth::Password("not-the-password".to_owned()),
        None,
        CONNECT_TIMEOUT,
    )
    .await;
    let Err(error) = wrong else {
        panic!("a wrong password logs in");
    };
    assert!(
        matches!(&error, TransportError::Authentication { user, .. } if user == PASSWORD_USER),
        "{error}"
    );
    assert!(!error.to_string().contains("not-the-password"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_refuses_a_host_key_other_than_the_pinned_one() {
    let Some(mut sshd) = TestSshd::start() else {
        return;
    };
    let pinned = sshd.host_key_fingerprint();
    connect_password(&sshd, "127.0.0.4").await.close().await;
    sshd.restart_with_new_host_key();
    let presented = sshd.host_key_fingerprint();
    assert_ne!(pinned, presented);
    let refused = SshTransport::connect(
        target("127.0.0.4", sshd.port, PASSWORD_USER),
        SshAuth::Password(sshd.password.clone()),
        Some(&pinned),
        CONNECT_TIMEOUT,
    )
    .await;
    let Err(error) = refused else {
        panic!("connected despite a changed host key");
    };
    let TransportError::HostKeyMismatch {
        pinned: said_pinned,
        presented: said_presented,
        ..
    } = &error
    else {
        panic!("not a host key mismatch: {error}");
    };
    assert_eq!((said_pinned, said_presented), (&pinned, &presented));
    assert!(
        error.to_string().contains(&pinned) && error.to_string().contains(&presented),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_uploads_runs_times_out_and_kills() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let transport: Arc<dyn Transport> = Arc::new(connect_password(&sshd, "127.0.0.2").await);
    check_upload(
        transport.as_ref(),
        &format!("/tmp/tad-upload-{}", common::ids::new_id()),
    )
    .await;
    check_streams_and_exit_codes(transport.as_ref()).await;
    check_timeout(transport.as_ref()).await;
    check_kill(transport.clone()).await;
    check_final_mark(transport.as_ref()).await;
    check_probe(transport.clone()).await;
    check_foreign_pid(transport.as_ref()).await;
    transport.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_uploads_relative_to_home() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let transport = connect_password(&sshd, "127.0.0.1").await;
    let dir = format!("tad-upload-{}", common::ids::new_id());
    transport
        .upload(&format!("{dir}/file.txt"), byte_stream(b"home\n", 2))
        .await
        .expect("upload");
    assert_eq!(
        stdout_of(
            &transport,
            &format!("cat ~/{dir}/file.txt && rm -r ~/{dir}")
        )
        .await,
        "home\n"
    );
    transport.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_uploads_runs_times_out_and_kills() {
    let transport: Arc<dyn Transport> = Arc::new(LocalTransport::new());
    assert_eq!(transport.describe(), "local");
    let dir = tempfile::tempdir().expect("temp dir");
    check_upload(transport.as_ref(), &dir.path().join("up").to_string_lossy()).await;
    check_streams_and_exit_codes(transport.as_ref()).await;
    check_timeout(transport.as_ref()).await;
    check_kill(transport.clone()).await;
    check_final_mark(transport.as_ref()).await;
    check_probe(transport.clone()).await;
    check_foreign_pid(transport.as_ref()).await;
    transport.close().await;
}

/// sshd's count of `pattern` in its log, once it stops changing (it writes asynchronously).
async fn settled_count(sshd: &TestSshd, pattern: &str) -> usize {
    let mut last = usize::MAX;
    for _ in 0..50 {
        let count = sshd.log().matches(pattern).count();
        if count == last {
            return count;
        }
        last = count;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_large_uploads_go_over_a_short_lived_connection_of_their_own() {
    let Some(sshd) = TestSshd::start() else {
        return;
    };
    let transport = connect_password(&sshd, "127.0.0.3").await;
    let dir = format!("/tmp/tad-own-connection-{}", common::ids::new_id());
    assert_eq!(settled_count(&sshd, "Accepted password").await, 1);

    // A small file (params, configs, scripts) goes over the main connection.
    transport
        .upload(&format!("{dir}/params.json"), byte_stream(b"{}\n", 3))
        .await
        .expect("small upload");
    assert_eq!(settled_count(&sshd, "Accepted password").await, 1);

    // A large one gets a connection of its own, closed when the file is written.
    let bytes = content(1024 * 1024 + 7);
    let written = transport
        .upload(&format!("{dir}/big.bin"), byte_stream(&bytes, 256 * 1024))
        .await
        .expect("large upload");
    assert_eq!(written, bytes.len() as u64);
    assert_eq!(settled_count(&sshd, "Accepted password").await, 2);
    assert_eq!(
        settled_count(&sshd, "Received disconnect").await,
        1,
        "{}",
        sshd.log()
    );
    let md5 = stdout_of(&transport, &format!("md5sum {dir}/big.bin")).await;
    assert_eq!(
        md5.split_whitespace().next(),
        Some(support::md5_hex(&bytes).as_str())
    );

    // A large upload whose source fails half-way leaves the file as it was, no part file, and
    // its connection closed.
    let failing: svc_jobs::execution::transport::ByteStream =
        Box::pin(futures::stream::iter(vec![
            Ok(Bytes::from(vec![7_u8; 256 * 1024])),
            Err(std::io::Error::other("artifact store went away")),
        ]));
    let error = transport
        .upload(&format!("{dir}/big.bin"), failing)
        .await
        .expect_err("a broken stream fails the upload");
    assert!(error.to_string().contains("went away"), "{error}");
    assert_eq!(
        stdout_of(&transport, &format!("md5sum {dir}/big.bin; ls -a {dir}")).await,
        format!(
            "{}  {dir}/big.bin\n.\n..\nbig.bin\nparams.json\n",
            support::md5_hex(&bytes)
        ),
    );
    assert_eq!(settled_count(&sshd, "Accepted password").await, 3);
    assert_eq!(settled_count(&sshd, "Received disconnect").await, 2);
    stdout_of(&transport, &format!("rm -rf {dir}")).await;
    transport.close().await;
}
