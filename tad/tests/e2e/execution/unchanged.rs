//! Unchanged artifacts are not sent again (issue 21): before pushing an artifact the engine asks
//! the host for the md5 of the file at its destination and skips equal files. Over a real sshd:
//! the first 6.1 sends the artifact to each host; a second 6.1 of the same bindings sends
//! nothing (the files on the targets keep their inode and modification time, the log says
//! `skipped`, the run tree counts it); a file changed on a host is sent again and is whole
//! afterwards.

use std::os::unix::fs::MetadataExt;

use super::*;

/// The artifact's file on the host `ip`.
fn artifact_path(deployment: &Deployment, ip: &str) -> PathBuf {
    deployment
        .root
        .join("shop-one")
        .join(ip)
        .join("artifacts/shop.tar.gz")
}

/// (inode, modification time in ns) of each host's artifact file.
fn stamps(deployment: &Deployment) -> Vec<(u64, i64)> {
    HOSTS
        .iter()
        .map(|(ip, _, _)| {
            let meta = std::fs::metadata(artifact_path(deployment, ip)).expect("artifact");
            (meta.ino(), meta.mtime() * 1_000_000_000 + meta.mtime_nsec())
        })
        .collect()
}

/// Runs 6.1 over ssh to success; answers each host task's (sent, skipped) and the run's logs.
async fn deploy(admin: &Api, deployment: &Deployment) -> (Vec<(i64, i64)>, Vec<(String, String)>) {
    let answer = execute(
        admin,
        &deployment.instance,
        "executionall",
        json!({"use_tad_host": false}),
    )
    .await;
    let run = execution_id(&answer);
    let tree = wait_for_status(admin, &run, "success", Duration::from_secs(60)).await;
    let counts = tree["steps"][0]["hosts"]
        .as_array()
        .expect("hosts")
        .iter()
        .map(|host| {
            (
                host["artifacts_sent"].as_i64().expect("sent"),
                host["artifacts_skipped"].as_i64().expect("skipped"),
            )
        })
        .collect();
    (counts, all_logs(admin, &run).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unchanged_redeploy_sends_no_artifact_bytes() {
    let Some((sshd, root, platform, admin, deployment)) = start_deployed("tad-skip", &[]).await
    else {
        return;
    };
    let expected_md5 = md5_hex(&deployment.artifact);

    // First deploy: sent to every host.
    let (counts, _) = deploy(&admin, &deployment).await;
    assert_eq!(counts, vec![(1, 0); 3]);
    let before = stamps(&deployment);

    // Unchanged: nothing sent, the files untouched, the log and the tree say so.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (counts, logs) = deploy(&admin, &deployment).await;
    assert_eq!(counts, vec![(0, 1); 3]);
    assert_eq!(stamps(&deployment), before, "no host's file was written");
    for (ip, log) in &logs {
        assert!(
            log.contains(&format!("has md5 {expected_md5} already, not sent")),
            "{ip}: {log}"
        );
        assert!(
            !log.lines()
                .any(|line| line.contains("wrote") && line.ends_with("artifacts/shop.tar.gz")),
            "{ip} was sent the artifact: {log}"
        );
    }

    // A file changed on one host is sent again, and is whole afterwards.
    let changed = artifact_path(&deployment, "127.0.0.3");
    std::fs::write(&changed, b"tampered").expect("change the file");
    let (counts, _) = deploy(&admin, &deployment).await;
    assert_eq!(counts, vec![(0, 1), (1, 0), (0, 1)]);
    assert_eq!(
        md5_hex(&std::fs::read(&changed).expect("artifact")),
        expected_md5
    );

    drop(platform);
    drop(sshd);
    let _ = std::fs::remove_dir_all(&root);
}
