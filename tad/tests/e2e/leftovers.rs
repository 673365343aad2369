//! Crash leftovers, end to end with the built binary: `tad serve` is killed with SIGKILL while a
//! package sync is still uploading and while another is storing its unpacked files; a restart
//! with the default age keeps the (young) leftovers; a restart with `TAD_STORAGE_GC_AGE_SECS=0`
//! removes every spool file and every object no row references, logs what it removed, and
//! keeps every referenced object (the earlier package still downloads byte for byte). The
//! appinhouse service does the same for its spool directory and its file store.

use crate::support;
use crate::support::fixtures::sync_package_field;
use crate::support::fixtures::{application, post_all, product_line};

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use futures::StreamExt;
use serde_json::Value;
use support::{Api, TadProcess, files_under, md5_hex, noise};

const ADMIN_PASSWORD: &str = "leftovers-admin-pw";

/// `tad serve` over `data_dir` with JSON logs and the environment variables `env`.
fn start_serve(data_dir: &Path, env: &[(String, String)]) -> (TadProcess, String) {
    let json_log = [("TAD_LOG_FORMAT".to_owned(), "json".to_owned())];
    support::start_serve(
        data_dir,
        json_log
            .iter()
            .chain(env)
            .map(|(name, value)| (name, value)),
    )
}

fn file_set(root: &Path) -> BTreeSet<PathBuf> {
    files_under(root).into_iter().collect()
}

fn kill(mut process: TadProcess) {
    process.child.kill().expect("SIGKILL");
    process.child.wait().expect("wait");
}

fn sync_url(url: &str, name: &str, md5: &str) -> String {
    format!(
        "{url}/api/artifact/version/aos?app_id=5093&version=1&username=aos&name={name}&md5={md5}"
    )
}

/// The log line `crash leftovers removed` of `service`, waited for.
fn wait_for_removal(process: &TadProcess, service: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = process
            .stderr
            .lock()
            .expect("lines")
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| {
                line["fields"]["message"] == "crash leftovers removed"
                    && line["fields"]["service"] == service
            });
        if let Some(line) = found {
            return line["fields"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "no removal line of {service}; stderr:\n{}",
            process.stderr_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_removes_what_killed_uploads_left_and_keeps_referenced_objects() {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (env, postgres) = support::platform_env(ADMIN_PASSWORD, &[]);
    let mut env: Vec<(String, String)> = env.into_iter().collect();
    let objects_dir = data_dir.path().join("objects");
    let spool_dir = data_dir.path().join("tmp");

    let (process, url) = start_serve(data_dir.path(), &env);
    let admin = Api::new(&url).login("admin", ADMIN_PASSWORD).await;
    post_all(
        &admin,
        &[product_line("750", "pl"), application("5093", "app", "750")],
    )
    .await;
    // A package stored whole: its objects are referenced and must survive every collection.
    let kept = support::tar_gz(&[
        ("bin/app.bin", noise(1, 300_000)),
        ("conf/a.txt", b"hello".to_vec()),
    ]);
    let kept_md5 = md5_hex(&kept);
    let query = "app_id=5093&version=1&username=aos&name=kept";
    let kept_path = sync_package_field(&admin, query, "kept.tar.gz", &kept, "file_path").await;
    let referenced = file_set(&objects_dir);
    assert_eq!(referenced.len(), 3, "archive and two files: {referenced:?}");

    // 1. Killed while the body is still arriving: the first 24 MiB of a 40 MiB archive are sent
    // (unpacked into a scratch directory of the spool as they arrive), the rest never comes.
    let parts: Vec<(String, Vec<u8>)> = (0..40_u64)
        .map(|index| (format!("stalled/part{index:02}.bin"), noise(index, 1 << 20)))
        .collect();
    let stalled = support::tar_gz(
        &parts
            .iter()
            .map(|(name, content)| (name.as_str(), content.clone()))
            .collect::<Vec<_>>(),
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = stalled[..24 << 20]
        .chunks(1 << 20)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    let body =
        reqwest::Body::wrap_stream(futures::stream::iter(chunks).chain(futures::stream::pending()));
    let form = reqwest::multipart::Form::new().part(
        "stalled.tar.gz",
        reqwest::multipart::Part::stream(body).file_name("stalled.tar.gz"),
    );
    let request = support::http_client()
        .post(sync_url(
            &url,
            "stalled",
            "0123456789abcdef0123456789abcdef",
        ))
        .bearer_auth(admin.token.as_deref().expect("token"))
        .multipart(form)
        .send();
    let upload = tokio::spawn(request);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let spooled: u64 = files_under(&spool_dir)
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|metadata| metadata.len())
            .sum();
        if spooled >= 16 << 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upload never reached the spool"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(process);
    assert!(upload.await.expect("task").is_err(), "the upload was cut");
    assert!(!files_under(&spool_dir).is_empty(), "a spool file is left");

    // 2. Killed while the unpacked files are being stored: 40 files of 1 MiB.
    let (process, url) = start_serve(data_dir.path(), &env);
    let files: Vec<(String, Vec<u8>)> = (0..40_u64)
        .map(|index| {
            (
                format!("lib/part{index:02}.bin"),
                noise(100 + index, 1 << 20),
            )
        })
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, content)| (name.as_str(), content.clone()))
        .collect();
    let big = support::tar_gz(&refs);
    let big_md5 = md5_hex(&big);
    let admin = admin.with_base(&url);
    let form = reqwest::multipart::Form::new().part(
        "big.tar.gz",
        reqwest::multipart::Part::bytes(big).file_name("big.tar.gz"),
    );
    let request = support::http_client()
        .post(sync_url(&url, "big", &big_md5))
        .bearer_auth(admin.token.as_deref().expect("token"))
        .multipart(form)
        .send();
    let upload = tokio::spawn(request);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stored_new = file_set(&objects_dir)
            .difference(&referenced)
            .filter(|path| !path.to_string_lossy().contains('#'))
            .count();
        // The archive and at least two unpacked files are in the store, the rest is not.
        if stored_new >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the store never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    kill(process);
    assert!(
        upload.await.expect("task").is_err(),
        "the sync was cut before it answered"
    );
    let leftover_objects: Vec<PathBuf> = file_set(&objects_dir)
        .difference(&referenced)
        .cloned()
        .collect();
    assert!(leftover_objects.len() >= 3, "{leftover_objects:?}");

    // Leftovers of appinhouse: a spool file of an upload that never finished, a stored file no
    // build refers to (a crash between store and record) and a half-written one.
    let incoming = data_dir.path().join("appinhouse-files-incoming");
    std::fs::create_dir_all(&incoming).expect("incoming");
    std::fs::write(incoming.join("upload-abc123"), noise(7, 4096)).expect("spool file");
    let hosted = data_dir.path().join("appinhouse-files/rog2/android/1.0.0");
    std::fs::create_dir_all(&hosted).expect("hosted dir");
    std::fs::write(hosted.join("rog2.apk"), noise(8, 5000)).expect("orphan");
    std::fs::write(hosted.join("rog2.apk#1"), noise(9, 3000)).expect("staged");

    // 3. A restart with the default age (1 h) keeps them: they are young.
    let (process, _) = start_serve(data_dir.path(), &env);
    let removed = wait_for_removal(&process, "artifact");
    assert_eq!(removed["objects"], 0, "{removed}");
    assert_eq!(removed["spool_files"], 0, "{removed}");
    assert_eq!(wait_for_removal(&process, "appinhouse")["objects"], 0);
    assert!(file_set(&objects_dir).len() > referenced.len());
    kill(process);

    // 4. A restart with age 0 removes them all and logs it.
    env.push(("TAD_STORAGE_GC_AGE_SECS".to_owned(), "0".to_owned()));
    let spool_before = files_under(&spool_dir).len() as u64;
    let (process, url) = start_serve(data_dir.path(), &env);
    let removed = wait_for_removal(&process, "artifact");
    assert!(
        removed["objects"].as_u64().expect("objects") >= 3,
        "{removed}"
    );
    assert!(
        removed["object_bytes"].as_u64().expect("bytes") >= 3 << 20,
        "{removed}"
    );
    assert_eq!(
        removed["spool_files"].as_u64(),
        Some(spool_before),
        "{removed}"
    );
    assert!(
        removed["spool_bytes"].as_u64().expect("bytes") >= 16 << 20,
        "{removed}"
    );
    assert!(
        files_under(&spool_dir).is_empty(),
        "{:?}",
        files_under(&spool_dir)
    );
    assert_eq!(
        file_set(&objects_dir),
        referenced,
        "only referenced objects remain"
    );

    let removed = wait_for_removal(&process, "appinhouse");
    assert_eq!(removed["spool_files"], 1, "{removed}");
    assert_eq!(removed["objects"], 2, "{removed}");
    assert_eq!(removed["object_bytes"], 8000, "{removed}");
    assert!(files_under(&incoming).is_empty());
    assert!(files_under(&data_dir.path().join("appinhouse-files")).is_empty());

    // The referenced package still downloads, byte for byte.
    let admin = admin.with_base(&url);
    let kept_path = kept_path.replacen(kept_path.split("/api/").next().expect("base"), &url, 1);
    let bytes = admin
        .http
        .get(&kept_path)
        .bearer_auth(admin.token.as_deref().expect("token"))
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(md5_hex(&bytes), kept_md5);
    kill(process);
    support::drop_platform_schemas(&postgres);
}
