//! The read cache across replicas: two appinhouse services over one database and one shared
//! cache (Redis when `TEST_REDIS_URL` is set, else one in-memory cache), as two replicas are.
//! What one has answered is read by the other at once after a write through the first: a new
//! build, a deleted one, an app that became protected, the app list after a create, a move and
//! a delete. Every case runs on SQLite, and on
//! PostgreSQL when `TEST_DATABASE_URL` is set.

mod support;

use common::{database_test_suite, db::Database};
use support::harness::{BASE, desc, harness};
use svc_appinhouse::{
    AppinhouseService,
    db::MIGRATIONS,
    service::{platform::Platform, reads::BuildView},
};

fn versions(views: &[BuildView]) -> Vec<String> {
    views.iter().map(|view| view.row.version.clone()).collect()
}

async fn last_android(service: &AppinhouseService) -> Vec<String> {
    let views = service.last_builds("polled", BASE).await.expect("last");
    versions(
        &views
            .into_iter()
            .filter(|view| view.row.platform == "android")
            .collect::<Vec<_>>(),
    )
}

/// Reads through replica B see every write through replica A at once.
async fn a_write_through_one_replica_is_read_at_once_through_the_other(database: Database) {
    let cache = common::cache::shared_for_test()
        .await
        .expect("TEST_REDIS_URL");
    let first = harness(database.clone());
    let second = harness(database);
    let a = first.service.clone().with_shared_cache(cache.clone());
    let b = second.service.clone().with_shared_cache(cache);
    a.create_app("polled", Some("d"), None)
        .await
        .expect("create");
    desc(
        &a,
        "polled",
        "android",
        "1.0.0",
        &[("time", "2026-11-01T09:00:00Z")],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            last_android(&b).await,
            ["1.0.0"],
            "B reads and keeps the answer"
        );
    }
    let page = |service: AppinhouseService| async move {
        let (views, window) = service
            .list_builds("polled", Platform::Android, Some("1"), BASE)
            .await
            .expect("list");
        (versions(&views), window.total_page)
    };
    assert_eq!(page(b.clone()).await, (vec!["1.0.0".to_owned()], 1));

    desc(
        &a,
        "polled",
        "android",
        "1.1.0",
        &[("time", "2026-11-02T09:00:00Z")],
    )
    .await;
    assert_eq!(last_android(&b).await, ["1.1.0"], "the new build, at once");
    assert_eq!(
        page(b.clone()).await,
        (vec!["1.1.0".to_owned(), "1.0.0".to_owned()], 1)
    );

    a.delete_old_builds("polled", "android", Some("1"))
        .await
        .expect("residue");
    assert_eq!(
        page(b.clone()).await,
        (vec!["1.1.0".to_owned()], 1),
        "the deleted one gone"
    );

    a.protect_app("polled", "open sesame")
        .await
        .expect("protect");
    let refused = b.last_builds("polled", BASE).await;
    assert!(
        matches!(refused, Err(svc_appinhouse::AppinhouseError::Protected(_))),
        "a protected app is not read from what was kept while it was open: {refused:?}"
    );
    a.protect_app("polled", "").await.expect("lift");
    assert_eq!(last_android(&b).await, ["1.1.0"]);

    // The app list: kept by B, new through A at once (create, move, delete).
    let apps =
        |service: AppinhouseService| async move { service.list_apps(None).await.expect("apps").0 };
    assert_eq!(apps(b.clone()).await, ["polled"]);
    assert_eq!(apps(b.clone()).await, ["polled"], "B keeps the list");
    a.create_app("second", Some("d"), None)
        .await
        .expect("create");
    assert_eq!(
        apps(b.clone()).await,
        ["polled", "second"],
        "a new app, at once"
    );
    a.move_app("second", "top").await.expect("move");
    assert_eq!(
        apps(b.clone()).await,
        ["second", "polled"],
        "a move, at once"
    );

    a.delete_app("polled").await.expect("delete");
    let gone = b.last_builds("polled", BASE).await;
    assert!(
        gone.is_err(),
        "a deleted app is not read from the cache: {gone:?}"
    );
    assert_eq!(
        apps(b.clone()).await,
        ["second"],
        "a deleted app leaves the list at once"
    );
}

database_test_suite!(MIGRATIONS;
    a_write_through_one_replica_is_read_at_once_through_the_other,
);
