//! The audit trail of uploads and reviews (issue 20): each appends exactly one event naming the
//! new record, its application and the caller, and the chain verifies; an upload whose event
//! cannot be appended leaves no row.

use common::audit_testing::{Trail, break_appends};

use super::*;

pub(crate) async fn uploads_and_reviews_append_one_event_each(database: Database) {
    let fixture = fixture(database.clone()).await;
    let operator = actor("olivia", "operator");
    let mut trail = Trail::new(&database).await;

    let conf = b"Listen 80\n";
    let file_md5 = json!({"httpd.conf": md5_hex(conf)}).to_string();
    let fields = [("app_id", "4"), ("name", "httpd"), ("file_md5", &file_md5)];
    let outcome = fixture
        .upload(
            &operator,
            UploadKind::Configure,
            &fields,
            &[("httpd.conf", conf)],
        )
        .await
        .expect("configure");
    let ids = (
        "config_file.upload",
        "config_file",
        outcome.version_id.as_str(),
    );
    let event = trail.one(ids, "olivia").await;
    assert_eq!(event.app_id.as_deref(), Some("4"));

    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let fields = [("app_id", "4"), ("name", "deploy"), ("file_md5", &file_md5)];
    let outcome = fixture
        .upload(
            &operator,
            UploadKind::Script,
            &fields,
            &[("deploy.sh", script)],
        )
        .await
        .expect("script");
    let script_id = outcome.version_id.clone();
    let ids = ("script.upload", "script", script_id.as_str());
    let event = trail.one(ids, "olivia").await;
    assert_eq!(event.app_id.as_deref(), Some("4"));

    let reviewer = actor("rita", "reviewer");
    fixture
        .service
        .review_script(&reviewer, &script_id, "", "able")
        .await
        .expect("review");
    let ids = ("script.review", "script", script_id.as_str());
    let event = trail.one(ids, "rita").await;
    assert_eq!(event.app_id.as_deref(), Some("4"));
    assert!(
        event
            .changes
            .contains(r#""before":"disable","after":"able""#),
        "{}",
        event.changes
    );

    let outcome = fixture
        .sync_sample(&operator, ["5093", "web", "1.0"])
        .await
        .expect("sync");
    let ids = ("package.sync", "package", outcome.version_id.as_str());
    let event = trail.one(ids, "olivia").await;
    assert_eq!(event.app_id.as_deref(), Some("5093"));

    let manifest =
        "component: {id: apa, name: apache}\nmethod: {id: apa1, name: port}\nentrypoint: run.sh\n";
    let package = tar_gz(
        0o755,
        flate2::Compression::fast(),
        &[
            ("method.yml", manifest.as_bytes()),
            ("run.sh", b"echo run\n".as_slice()),
        ],
    );
    fixture
        .upload(
            &operator,
            UploadKind::Component,
            &[],
            &[("apa.tar.gz", &package)],
        )
        .await
        .expect("component");
    let ids = ("component.upload", "component", "apa");
    let event = trail.one(ids, "olivia").await;
    assert_eq!(event.app_id.as_deref(), None);

    // A refused review appends nothing (the gateway records refusals).
    let error = fixture
        .service
        .review_script(&reviewer, &script_id, "", "maybe")
        .await;
    assert!(error.is_err());
    trail.none("refused review").await;
}

/// An upload whose event cannot be appended leaves no row (SQLite: a trigger refuses events).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_event_fails_leaves_no_row() {
    let test_database = TestDatabase::sqlite(&MIGRATIONS);
    let database = test_database.database.clone();
    let fixture = fixture(database.clone()).await;
    break_appends(&database).await;
    let operator = actor("olivia", "operator");
    let script = b"echo hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let fields = [("app_id", "4"), ("name", "deploy"), ("file_md5", &file_md5)];
    let refused = fixture
        .upload(
            &operator,
            UploadKind::Script,
            &fields,
            &[("deploy.sh", script)],
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(fixture.scripts(&operator, "4", "").await.is_empty());
    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    assert_eq!(Trail::new(&database).await.newest().await.0, 0);
}
