//! Archives that cannot be unpacked safely, through the gateway against the embedded services
//! (real database, real local object store): entries that collide (`a` then `a/b`, `a/b` then
//! `a`, duplicates) or whose path component or path is too long are refused with the entry named
//! and a stable code, in tar.gz, tar and zip, by package sync (9) and method package upload (4.4);
//! a decompression bomb is refused by the unpacked/packed ratio with the default limits while a
//! normal archive passes. A refusal leaves no row, no object and no spool file.

use crate::support;
use crate::support::fixtures::post_component;
use crate::support::fixtures::{application, post_all, product_line};

use std::io::{Read, Write};

use serde_json::json;
use support::{Api, assert_failure, assert_success, md5_hex, post_multipart};

const ADMIN_PASSWORD: &str = "admin-password-1";

/// The embedded platform (default limits plus `env`) with application `5093`, and an admin.
async fn start(env: &[(&str, &str)]) -> (support::EmbeddedPlatform, Api) {
    let (embedded, admin) = support::EmbeddedPlatform::start_with_admin(ADMIN_PASSWORD, env).await;
    post_all(
        &admin,
        &[
            product_line("750", "服务整合平台"),
            application("5093", "消息总线", "750"),
        ],
    )
    .await;
    (embedded, admin)
}

/// Entries of an archive: a path and its content, or a directory when the content is `None`.
type Entries = Vec<(String, Option<Vec<u8>>)>;

fn file(path: &str, content: &[u8]) -> (String, Option<Vec<u8>>) {
    (path.to_owned(), Some(content.to_vec()))
}

fn directory(path: &str) -> (String, Option<Vec<u8>>) {
    (path.to_owned(), None)
}

fn tar_of(entries: &Entries) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in entries {
        let mut header = tar::Header::new_gnu();
        match content {
            Some(content) => {
                header.set_size(content.len() as u64);
                header.set_mode(0o644);
                header.set_entry_type(tar::EntryType::Regular);
                builder
                    .append_data(&mut header, path, content.as_slice())
                    .expect("append file");
            }
            None => {
                header.set_size(0);
                header.set_mode(0o755);
                header.set_entry_type(tar::EntryType::Directory);
                builder
                    .append_data(&mut header, path, std::io::empty())
                    .expect("append directory");
            }
        }
    }
    builder.into_inner().expect("tar")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn zip_of(entries: &Entries) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, content) in entries {
        match content {
            Some(content) => {
                writer
                    .start_file(path.as_str(), zip::write::SimpleFileOptions::default())
                    .expect("start file");
                writer.write_all(content).expect("write");
            }
            None => writer
                .add_directory(path.as_str(), zip::write::SimpleFileOptions::default())
                .expect("directory"),
        }
    }
    writer.finish().expect("zip").into_inner()
}

/// A zip with `dup/x` twice: written as `dup/x` and `dup/y`, then renamed in place (the zip
/// writer refuses duplicates; the names have the same length, so the offsets stay right).
fn zip_with_duplicate() -> Vec<u8> {
    let bytes = zip_of(&vec![file("dup/x", b"one"), file("dup/y", b"two")]);
    let mut renamed = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index..].starts_with(b"dup/y") {
            renamed.extend_from_slice(b"dup/x");
            index += 5;
        } else {
            renamed.push(bytes[index]);
            index += 1;
        }
    }
    renamed
}

fn sync_path(name: &str, md5: &str) -> String {
    format!("/api/artifact/version/aos?app_id=5093&version=1&username=aos&name={name}&md5={md5}")
}

/// Package sync of `archive` as `archive_name`; asserts an `archive_rejected` warning naming the
/// archive and containing each of `expected`.
async fn assert_sync_refused(admin: &Api, archive_name: &str, archive: Vec<u8>, expected: &[&str]) {
    let md5 = md5_hex(&archive);
    let (status, body) = post_multipart(
        admin,
        &sync_path("evil", &md5),
        &[(archive_name, archive)],
        &[],
    )
    .await;
    assert_eq!(status, 200, "{archive_name}: {body}");
    let info = assert_failure(&body, "archive_rejected");
    assert_eq!(body["level"], "warning", "{archive_name}: {body}");
    assert!(info.contains(archive_name), "{archive_name}: {info}");
    for expected in expected {
        assert!(
            info.contains(expected),
            "{archive_name}: {expected:?} in {info}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_and_overlong_entries_are_refused_naming_the_entry_with_nothing_stored() {
    let (platform, admin) = start(&[]).await;
    let long_component = "c".repeat(300);
    let long_path = vec!["p".repeat(200); 6].join("/");
    let cases: Vec<(&str, Entries, Vec<&str>)> = vec![
        (
            "file-then-below",
            vec![file("a", b"x"), file("a/b", b"y")],
            vec!["\"a/b\"", "needs \"a\" to be a directory"],
        ),
        (
            "below-then-file",
            vec![file("a/b", b"y"), file("a", b"x")],
            vec!["\"a\" is a file, but the archive has a directory"],
        ),
        (
            "directory-then-file",
            vec![directory("conf/"), file("conf", b"x")],
            vec!["\"conf\" is a file, but the archive has a directory"],
        ),
        (
            "file-then-directory",
            vec![file("conf", b"x"), directory("conf/sub/")],
            vec!["needs \"conf\" to be a directory"],
        ),
        (
            "duplicate",
            vec![file("bin/app.jar", b"1"), file("bin/app.jar", b"2")],
            vec!["\"bin/app.jar\" appears twice"],
        ),
        (
            "long-component",
            vec![file(&format!("dir/{long_component}"), b"x")],
            vec!["path component of 300 bytes (the limit is 255)"],
        ),
        (
            "long-path",
            vec![file(&long_path, b"x")],
            vec!["path of 1205 bytes (the limit is 1024)"],
        ),
    ];
    for (case, entries, expected) in &cases {
        assert_sync_refused(
            &admin,
            &format!("{case}.tar.gz"),
            gzip(&tar_of(entries)),
            expected,
        )
        .await;
        assert_sync_refused(&admin, &format!("{case}.tar"), tar_of(entries), expected).await;
        if *case != "duplicate" {
            assert_sync_refused(&admin, &format!("{case}.zip"), zip_of(entries), expected).await;
        }
    }
    assert_sync_refused(
        &admin,
        "duplicate.zip",
        zip_with_duplicate(),
        &["entry names appear twice in its zip directory"],
    )
    .await;

    // A method package unpacks its archive with the same checks.
    let manifest =
        "component: {id: apa, name: apache}\nmethod: {id: apa1, name: port}\nentrypoint: run.sh\n";
    let package = gzip(&tar_of(&vec![
        file("method.yml", manifest.as_bytes()),
        file("run.sh", b"echo\n"),
        file("run.sh/x", b"y"),
    ]));
    let (status, body) = post_component(&admin, package).await;
    assert_eq!(status, 200, "{body}");
    let info = assert_failure(&body, "archive_rejected");
    assert!(
        info.contains("\"run.sh/x\" needs \"run.sh\" to be a directory"),
        "{info}"
    );

    platform.assert_nothing_stored();
    assert_eq!(
        admin.get_ok("/api/artifact/filter/name/aos").await,
        json!([])
    );
    let components = admin.get_ok("/api/component/select").await;
    assert!(
        !components.to_string().contains("apa1"),
        "no method stored: {components}"
    );
    platform.stop().await;
}

/// A .tar.gz of one file of `size` zeros, built streaming (the zeros never sit in memory).
fn zeros_tar_gz(size: u64) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    builder
        .append_data(&mut header, "bomb/zeros.bin", std::io::repeat(0).take(size))
        .expect("append");
    builder.into_inner().expect("tar").finish().expect("gzip")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decompression_bomb_is_refused_by_the_ratio_with_the_default_limits() {
    // Default limits: 8 GiB upload, 32 GiB unpacked, ratio 200:1.
    let (platform, admin) = start(&[]).await;
    let bomb = zeros_tar_gz(256 << 20);
    assert!(bomb.len() < 512 * 1024, "a small archive: {}", bomb.len());
    let started = std::time::Instant::now();
    assert_sync_refused(
        &admin,
        "bomb.tar.gz",
        bomb.clone(),
        &["unpacked/packed ratio limit of 200:1", "\"bomb/zeros.bin\""],
    )
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "stopped early: {:?}",
        started.elapsed()
    );
    platform.assert_nothing_stored();
    assert_eq!(
        admin.get_ok("/api/artifact/filter/name/aos").await,
        json!([])
    );

    // A normal archive (text, about 5:1, 4 MiB unpacked) and a tiny one far over the ratio
    // but under the 1 MiB floor are stored.
    let text: Vec<u8> = (0..100_000_u32)
        .flat_map(|line| {
            format!("{line:08} INFO request {} served\n", line * 7919 % 10007).into_bytes()
        })
        .collect();
    assert!(text.len() > 2 << 20);
    let normal = gzip(&tar_of(&vec![file("logs/app.log", &text)]));
    assert!(
        (text.len() / normal.len()) < 200,
        "under the ratio: {} / {}",
        text.len(),
        normal.len()
    );
    let tiny = zeros_tar_gz(512 << 10);
    for (name, archive) in [("normal.tar.gz", normal), ("tiny.tar.gz", tiny)] {
        let md5 = md5_hex(&archive);
        let (status, body) =
            post_multipart(&admin, &sync_path("fine", &md5), &[(name, archive)], &[]).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_success(&body);
    }
    platform.stop().await;

    // The ratio is configurable: 2:1 refuses the normal archive.
    let (platform, admin) = start(&[("TAD_ARTIFACT_MAX_UNPACK_RATIO", "2")]).await;
    let normal = gzip(&tar_of(&vec![file("logs/app.log", &text)]));
    assert_sync_refused(
        &admin,
        "normal.tar.gz",
        normal,
        &["ratio limit of 2:1", "\"logs/app.log\""],
    )
    .await;
    platform.assert_nothing_stored();
    platform.stop().await;
}
