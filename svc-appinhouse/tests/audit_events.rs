//! The audit trail of the appinhouse writes (issue 20), on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: each write appends exactly one event (the sweep one per build)
//! naming the app or build and who wrote it (the key holder, anyone for the public forms, the
//! system for the sweep), the page password only as whether it is set, and the chain verifies;
//! a write whose event cannot be appended leaves no change.

mod support;

use common::{
    audit::{self, MASKED},
    audit_testing::{Trail, break_appends},
    database_test_suite,
    db::{Database, testing::TestDatabase},
};
use support::{
    fixtures,
    harness::{Harness, desc, fields, harness, upload},
};
use svc_appinhouse::db::MIGRATIONS;

const KEY: &str = audit::KEY_HOLDER;

async fn every_write_appends_one_event(database: Database) {
    let Harness { service, dir: _dir } = harness(database.clone());
    let mut trail = Trail::new(&database).await;

    service
        .create_app("demo", Some("first"), None)
        .await
        .expect("create");
    trail.one(("app.create", "app", "demo"), KEY).await;
    service
        .update_app("demo", Some("second"), Some("D"))
        .await
        .expect("update");
    let event = trail.one(("app.update", "app", "demo"), KEY).await;
    assert!(
        event
            .changes
            .contains(r#""before":"first","after":"second""#),
        "{}",
        event.changes
    );
    service.move_app("demo", "top").await.expect("move");
    trail
        .one(("app.move", "app", "demo"), audit::ANONYMOUS)
        .await;

    desc(
        &service,
        "demo",
        "ios",
        "1.0.0",
        &[("time", "2016-01-01T00:00:00Z")],
    )
    .await;
    let build = ("build.save", "build", "demo/ios/1.0.0");
    trail.one(build, KEY).await;
    let extend = fields(&[
        ("version", "1.0.0"),
        ("software_url", "http://cdn/beta.ipa"),
        ("extend_name", "beta"),
        ("extend_key", "beta"),
    ]);
    service
        .save_extend("demo", "ios", &extend)
        .await
        .expect("extend");
    let build = ("build.save_extend", "build", "demo/ios/1.0.0");
    trail.one(build, KEY).await;
    let apk = fixtures::apk("org.demo", "2.0.0", false);
    upload(
        &service,
        "demo",
        "android",
        "demo.apk",
        &apk,
        &[("time", "2016-01-01T00:00:00Z")],
    )
    .await;
    let build = ("build.upload", "build", "demo/android/2.0.0");
    trail.one(build, KEY).await;
    let apk = fixtures::apk("org.demo", "2.0.1", false);
    upload(&service, "demo", "android", "demo2.apk", &apk, &[]).await;
    trail.catch_up().await;
    service
        .delete_old_builds("demo", "android", Some("1"))
        .await
        .expect("residue");
    let event = trail.one(("build.delete_old", "app", "demo"), KEY).await;
    assert!(
        event.changes.contains(r#""after":"1""#),
        "{}",
        event.changes
    );

    service
        .protect_app("demo", "page-password")
        .await
        .expect("protect");
    let event = trail.one(("app.protect", "app", "demo"), KEY).await;
    assert!(event.changes.contains(MASKED) && !event.changes.contains("page-password"));
    service.share_app("demo", 2).await.expect("share");
    trail.one(("app.share", "app", "demo"), KEY).await;
    assert!(service.unlock_app("demo", "wrong-password").await.is_err());
    trail.none("a wrong password").await;
    service
        .unlock_app("demo", "page-password")
        .await
        .expect("unlock");
    trail
        .one(("app.unlock", "app", "demo"), audit::ANONYMOUS)
        .await;

    // The sweep: one event per build it removes (the newest of each platform stays).
    desc(
        &service,
        "demo",
        "ios",
        "1.0.1",
        &[("time", "2016-02-01T00:00:00Z")],
    )
    .await;
    trail.catch_up().await;
    let swept = service
        .remove_builds_built_before(chrono::Utc::now().naive_utc())
        .await
        .expect("sweep");
    assert_eq!(swept.builds, 1);
    let build = ("build.expire", "build", "demo/ios/1.0.0");
    trail.one(build, "system").await;

    service.delete_app("demo").await.expect("delete");
    trail.one(("app.delete", "app", "demo"), KEY).await;
}

database_test_suite!(MIGRATIONS; every_write_appends_one_event);

/// A write whose event cannot be appended fails whole (SQLite: a trigger refuses events).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_whose_event_fails_leaves_no_change() {
    let test_database = TestDatabase::sqlite(&MIGRATIONS);
    let database = test_database.database.clone();
    let Harness { service, dir: _dir } = harness(database.clone());
    break_appends(&database).await;
    let refused = service.create_app("demo", Some("d"), None).await;
    assert!(refused.is_err(), "{refused:?}");
    let (apps, _) = service.list_apps(None).await.expect("list");
    assert!(apps.is_empty(), "{apps:?}");
    assert_eq!(Trail::new(&database).await.newest().await.0, 0);
}
