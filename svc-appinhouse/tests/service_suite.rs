//! svc-appinhouse rules against real databases and a real file store: every case runs on SQLite,
//! and on PostgreSQL when `TEST_DATABASE_URL` is set.

mod support;

use common::{database_test_suite, db::Database};
use proto::appinhouse::AppinhouseCode;
use support::fixtures;
use svc_appinhouse::{
    AppinhouseService,
    db::MIGRATIONS,
    service::{
        hosted::UploadHeader,
        page::PageRequest,
        platform::Platform,
        retention::{Swept, retention_cutoff},
    },
};

use support::harness::{BASE, Harness, fields, harness, upload};

fn code<T: std::fmt::Debug>(result: Result<T, svc_appinhouse::AppinhouseError>) -> i32 {
    AppinhouseCode::from(result.expect_err("a failure").code()).number()
}

async fn desc(service: &AppinhouseService, app: &str, platform: &str, version: &str, time: &str) {
    support::harness::desc(service, app, platform, version, &[("time", time)]).await;
}

async fn apps_are_created_ordered_listed_and_deleted(database: Database) {
    let Harness { service, dir: _dir } = harness(database);
    for name in ["a1", "a2", "a3"] {
        service
            .create_app(name, Some("d"), None)
            .await
            .expect("create");
    }
    assert_eq!(code(service.create_app("a1", Some("d"), None).await), 1009);
    assert_eq!(code(service.create_app("a4", None, None).await), 1001);
    assert_eq!(
        code(service.create_app("bad name", Some("d"), None).await),
        1001
    );
    assert_eq!(
        code(service.create_app(&"x".repeat(51), Some("d"), None).await),
        1001
    );
    service
        .create_app(&"x".repeat(50), Some("d"), None)
        .await
        .expect("50 bytes");
    service.move_app("a3", "top").await.expect("top");
    service.move_app("a1", "down").await.expect("down");
    service
        .move_app("a3", "up")
        .await
        .expect("up on the first is a no-op");
    let (names, window) = service.list_apps(Some("1")).await.expect("list");
    assert_eq!(names, ["a3", "a2"]);
    assert_eq!((window.page, window.total_page), (1, 2));
    let (names, _) = service.list_apps(Some("2")).await.expect("page 2");
    assert_eq!(names, ["a1", "x".repeat(50).as_str()]);
    assert_eq!(code(service.list_apps(Some("4")).await), 1001);
    assert_eq!(code(service.move_app("a1", "sideways").await), 1001);
    assert_eq!(code(service.move_app("zz", "top").await), 1008);
    service
        .update_app("a1", Some("new"), Some("alias"))
        .await
        .expect("update");
    service.delete_app("a1").await.expect("delete");
    assert_eq!(code(service.delete_app("a1").await), 1008);
    assert_eq!(code(service.update_app("a1", Some("x"), None).await), 1008);
}

async fn concurrent_creates_of_one_app_make_one_and_refuse_the_rest_as_existing(
    database: Database,
) {
    let Harness { service, dir: _dir } = harness(database);
    // Warm the pool first, so the creates below meet on open connections at once.
    // (An empty list answers 1002; only the connections matter here.)
    let warm_up = (0..12).map(|_| service.list_apps(Some("1")));
    drop(futures::future::join_all(warm_up).await);
    let creates = (0..12).map(|_| service.create_app("same", Some("d"), None));
    let outcomes = futures::future::join_all(creates).await;
    let created = outcomes.iter().filter(|outcome| outcome.is_ok()).count();
    assert_eq!(created, 1, "{outcomes:?}");
    for outcome in outcomes.into_iter().filter(Result::is_err) {
        assert_eq!(code(outcome), 1009, "the others are told it exists");
    }
}

async fn concurrent_descs_of_one_new_version_all_succeed_on_one_build(database: Database) {
    let Harness { service, dir: _dir } = harness(database);
    service
        .create_app("race", Some("d"), None)
        .await
        .expect("create");
    // Warm the pool first, so the descs below meet on open connections at once.
    let warm_up = (0..12).map(|_| service.list_builds("race", Platform::Android, Some("1"), BASE));
    for listed in futures::future::join_all(warm_up).await {
        listed.expect("list");
    }
    let descriptions: Vec<String> = (0..12).map(|index| format!("build {index}")).collect();
    let saves = descriptions.iter().map(|description| {
        let fields = fields(&[
            ("version", "3.0.0"),
            ("time", "2016-05-10T02:11:50Z"),
            ("url", "http://ci/3"),
            ("software_url", "http://cdn/3.0.0.bin"),
            ("description", description),
        ]);
        let service = &service;
        async move { service.save_build("race", "android", &fields, BASE).await }
    });
    for (description, saved) in descriptions
        .iter()
        .zip(futures::future::join_all(saves).await)
    {
        saved.unwrap_or_else(|error| panic!("desc {description}: {error}"));
    }
    let (listed, _) = service
        .list_builds("race", Platform::Android, Some("1"), BASE)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "one build of 3.0.0");
    assert!(descriptions.contains(&listed[0].row.description));
}

async fn builds_are_listed_newest_first_with_limits(database: Database) {
    let Harness { service, dir: _dir } = harness(database);
    service
        .create_app("rog2", Some("d"), None)
        .await
        .expect("create");
    desc(
        &service,
        "rog2",
        "android",
        "1.0.1",
        "2016-05-10T02:11:50+0800",
    )
    .await;
    desc(&service, "rog2", "android", "1.0.3", "2016-05-12T02:11:50Z").await;
    desc(
        &service,
        "rog2",
        "android",
        "1.0.2",
        "2016-05-11T02:11:50+08:00",
    )
    .await;
    desc(&service, "rog2", "ios", "2.0.0", "2016-05-11T02:11:50Z").await;
    let (first, window) = service
        .list_builds("rog2", Platform::Android, Some("1"), BASE)
        .await
        .expect("list");
    let versions: Vec<&str> = first.iter().map(|view| view.row.version.as_str()).collect();
    assert_eq!(versions, ["1.0.3", "1.0.2"]);
    assert_eq!(window.total_page, 2);
    let (second, _) = service
        .list_builds("rog2", Platform::Android, Some("2"), BASE)
        .await
        .expect("page 2");
    assert_eq!(second[0].row.version, "1.0.1");
    assert_eq!(
        code(
            service
                .list_builds("rog2", Platform::Android, Some("3"), BASE)
                .await
        ),
        1002
    );
    assert_eq!(
        code(
            service
                .list_builds("rog2", Platform::Android, Some("0"), BASE)
                .await
        ),
        1001
    );
    let last = service.last_builds("rog2", BASE).await.expect("last");
    let pairs: Vec<(&str, &str)> = last
        .iter()
        .map(|view| (view.row.platform.as_str(), view.row.version.as_str()))
        .collect();
    assert_eq!(pairs, [("android", "1.0.3"), ("ios", "2.0.0")]);
    assert_eq!(
        last[1].down,
        "https://files.test/api/v2/rog2/plist/2.0.0.plist"
    );
    let error = service
        .save_build(
            "rog2",
            "android",
            &fields(&[
                ("version", "1"),
                ("time", "yesterday"),
                ("url", "u"),
                ("software_url", "s"),
            ]),
            BASE,
        )
        .await;
    assert_eq!(code(error), 1006);
    let plist = service
        .plist("rog2", "2.0.0", None, BASE)
        .await
        .expect("plist");
    assert!(
        String::from_utf8(plist)
            .expect("utf-8")
            .contains("http://cdn/2.0.0.bin")
    );

    // The residue delete keeps the newest ones.
    assert_eq!(
        service
            .delete_old_builds("rog2", "android", Some("1"))
            .await
            .expect("residue"),
        2
    );
    assert_eq!(
        code(
            service
                .delete_old_builds("rog2", "android", Some("0"))
                .await
        ),
        1001
    );
    let (left, _) = service
        .list_builds("rog2", Platform::Android, Some("1"), BASE)
        .await
        .expect("list");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].row.version, "1.0.3");
}

async fn uploads_read_metadata_store_files_and_residue_deletes_them(database: Database) {
    let Harness { service, dir } = harness(database);
    service
        .create_app("rog2", Some("d"), None)
        .await
        .expect("create");
    let mut paths = Vec::new();
    for (platform, name, bytes) in [
        (
            "ios",
            "Demo.ipa",
            fixtures::ipa("org.rog2.demo", "3.1.0", "Demo 测试", true),
        ),
        (
            "ios",
            "Demo2.ipa",
            fixtures::ipa("org.rog2.demo", "3.2.0", "Demo XML", false),
        ),
        (
            "android",
            "demo.apk",
            fixtures::apk("org.rog2.android", "5.4.3", false),
        ),
        (
            "android",
            "demo8.apk",
            fixtures::apk("org.rog2.android8", "5.4.4", true),
        ),
    ] {
        let uploaded = upload(&service, "rog2", platform, name, &bytes, &[]).await;
        paths.push((uploaded, bytes.len() as u64));
    }
    let (ipa, ipa_size) = &paths[0];
    assert_eq!(ipa.version, "3.1.0");
    assert_eq!(ipa.metadata.bundle_id, "org.rog2.demo");
    assert_eq!(ipa.metadata.title, "Demo 测试");
    assert_eq!(
        ipa.software_url,
        "http://files.test/download/rog2/ios/3.1.0/Demo.ipa"
    );
    assert_eq!(
        service
            .hosted_file_size("rog2", "ios", "3.1.0", "Demo.ipa", BASE)
            .await
            .expect("size"),
        *ipa_size
    );
    assert_eq!(paths[1].0.metadata.title, "Demo XML");
    assert_eq!(paths[2].0.metadata.bundle_id, "org.rog2.android");
    assert_eq!(paths[2].0.version, "5.4.3");
    assert_eq!(paths[3].0.metadata.bundle_id, "org.rog2.android8");
    assert_eq!(paths[3].0.version, "5.4.4");
    let plist = String::from_utf8(
        service
            .plist("rog2", "3.1.0", None, BASE)
            .await
            .expect("plist"),
    )
    .expect("utf-8");
    assert!(plist.contains("<string>org.rog2.demo</string>"), "{plist}");

    // A wrong extension, an unknown app, a desc pointing at a missing hosted file.
    let error = service
        .begin_upload(UploadHeader {
            app: "rog2".to_owned(),
            platform: "ios".to_owned(),
            file_name: "x.apk".to_owned(),
            request_base_url: BASE.to_owned(),
        })
        .await;
    assert_eq!(code(error.map(|_| ())), 1001);
    let error = service
        .begin_upload(UploadHeader {
            app: "nope".to_owned(),
            platform: "ios".to_owned(),
            file_name: "x.ipa".to_owned(),
            request_base_url: BASE.to_owned(),
        })
        .await;
    assert_eq!(code(error.map(|_| ())), 1008);
    let missing = service
        .save_build(
            "rog2",
            "android",
            &fields(&[
                ("version", "9.9.9"),
                ("time", "2016-05-10T02:11:50Z"),
                ("url", "http://ci.test/9"),
                (
                    "software_url",
                    "http://files.test/download/rog2/android/9.9.9/gone.apk",
                ),
            ]),
            BASE,
        )
        .await;
    assert_eq!(code(missing), 1004);

    // The residue delete removes the older ipa's file; the newer stays.
    let stored = dir.path().join("files/rog2/ios");
    assert!(stored.join("3.1.0/Demo.ipa").exists());
    service
        .delete_old_builds("rog2", "ios", Some("1"))
        .await
        .expect("residue");
    let newest_ios = service.last_builds("rog2", BASE).await.expect("last");
    let kept: Vec<&str> = newest_ios
        .iter()
        .filter(|view| view.row.platform == "ios")
        .map(|view| view.row.version.as_str())
        .collect();
    assert_eq!(kept.len(), 1);
    let gone = if kept[0] == "3.1.0" {
        "3.2.0/Demo2.ipa"
    } else {
        "3.1.0/Demo.ipa"
    };
    assert!(!stored.join(gone).exists(), "{gone} deleted with its build");
    service.delete_app("rog2").await.expect("delete app");
    assert!(
        !dir.path()
            .join("files/rog2/android/5.4.3/demo.apk")
            .exists()
    );
    assert_eq!(AppinhouseCode::AppNotFound.number(), 1008);
}

/// Builds of one build time (to the second) come newest-published first, not by version text
/// ("1.1.9" sorts after "1.1.10" as text); publishing one again makes it the newest.
async fn builds_of_one_build_time_come_in_publish_order(database: Database) {
    let Harness { service, dir: _dir } = harness(database);
    service
        .create_app("same", Some("d"), None)
        .await
        .expect("create");
    let time = "2026-12-05T09:00:00Z";
    for version in ["1.1.8", "1.1.9", "1.1.10"] {
        desc(&service, "same", "android", version, time).await;
    }
    let newest = |service: AppinhouseService| async move {
        let (first, _) = service
            .list_builds("same", Platform::Android, Some("1"), BASE)
            .await
            .expect("list");
        first
            .iter()
            .map(|view| view.row.version.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(newest(service.clone()).await, ["1.1.10", "1.1.9"]);
    desc(&service, "same", "android", "1.1.8", time).await;
    assert_eq!(newest(service.clone()).await, ["1.1.8", "1.1.10"]);
}

/// The download page shows the newest build and one page of the rest, newest first; every page
/// is reachable (no `max_page` cap), a page past the end shows the last, anything else the first.
async fn the_download_page_pages_through_the_whole_history(database: Database) {
    let Harness { service, dir: _dir } = harness(database);
    service
        .create_app("paged", Some("d"), None)
        .await
        .expect("create");
    for day in 1..=9 {
        let time = format!("2026-11-{day:02}T09:00:00Z");
        desc(&service, "paged", "android", &format!("1.0.{day}"), &time).await;
    }
    let android = "Mozilla/5.0 (Linux; Android 14; Pixel 8)";
    let page = |page: Option<&'static str>| {
        let service = service.clone();
        async move {
            let content = service
                .page(
                    "paged",
                    PageRequest {
                        user_agent: android.to_owned(),
                        page: page.map(str::to_owned),
                        reader: BASE.into(),
                        ..PageRequest::default()
                    },
                )
                .await
                .expect("page");
            let versions = |views: &[svc_appinhouse::service::reads::BuildView]| {
                views
                    .iter()
                    .map(|view| view.row.version.clone())
                    .collect::<Vec<_>>()
            };
            (
                versions(&content.latest),
                versions(&content.history),
                content.page,
                content.pages,
            )
        }
    };
    // 9 builds: the newest, then 8 in pages of 2 (page_size) — 4 pages, past max_page (3).
    assert_eq!(
        page(None).await,
        (
            vec!["1.0.9".into()],
            vec!["1.0.8".into(), "1.0.7".into()],
            1,
            4
        )
    );
    assert_eq!(
        page(Some("4")).await,
        (
            vec!["1.0.9".into()],
            vec!["1.0.2".into(), "1.0.1".into()],
            4,
            4
        )
    );
    assert_eq!(page(Some("99")).await.2, 4, "past the end: the last page");
    for odd in ["0", "-1", "x", "99999999999999999999"] {
        assert_eq!(page(Some(odd)).await.2, 1, "{odd:?}: the first page");
    }
}

/// The age sweep deletes old builds with their extra downloads and hosted files, keeps the
/// newest `min_residue` (1 here) of each app and platform however old, and young builds however
/// many; two sweeps at once (two replicas) delete each build once, and a later one nothing.
async fn the_age_sweep_deletes_old_builds_and_files_but_the_newest_and_young_ones(
    database: Database,
) {
    let Harness { service, dir } = harness(database);
    for app in ["aged", "lone"] {
        service
            .create_app(app, Some("d"), None)
            .await
            .expect("create");
    }
    for (version, time) in [
        ("1.0.1", "2016-01-01T00:00:00Z"),
        ("1.0.2", "2016-02-01T00:00:00Z"),
        ("1.0.3", "2016-03-01T00:00:00Z"),
    ] {
        let apk = fixtures::apk("org.aged", version, false);
        let name = format!("aged-{version}.apk");
        upload(&service, "aged", "android", &name, &apk, &[("time", time)]).await;
    }
    let young = |days: i64| {
        (chrono::Utc::now() - chrono::TimeDelta::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    desc(&service, "aged", "ios", "2.0.0", "2016-01-01T00:00:00Z").await;
    desc(&service, "aged", "ios", "2.0.1", &young(1)).await;
    desc(&service, "aged", "ios", "2.0.2", &young(2)).await;
    desc(&service, "lone", "android", "0.1.0", "2015-01-01T00:00:00Z").await;
    let extend = fields(&[
        ("version", "2.0.0"),
        ("software_url", "http://cdn/2.0.0-beta.ipa"),
        ("extend_name", "beta"),
        ("extend_key", "beta"),
    ]);
    service
        .save_extend("aged", "ios", &extend)
        .await
        .expect("extend");
    service
        .plist("aged", "2.0.0", Some("beta"), BASE)
        .await
        .expect("the extend's plist before the sweep");
    let stored = |version: &str| {
        dir.path()
            .join(format!("files/aged/android/{version}/aged-{version}.apk"))
            .exists()
    };
    assert!(stored("1.0.1") && stored("1.0.2") && stored("1.0.3"));

    let cutoff = retention_cutoff(common::time::now_utc(), 30).expect("cutoff");
    let (first, second) = futures::future::join(
        service.remove_builds_built_before(cutoff),
        service.remove_builds_built_before(cutoff),
    )
    .await;
    let (first, second) = (first.expect("sweep"), second.expect("sweep at once"));
    assert_eq!(
        (first.builds + second.builds, first.files + second.files),
        (3, 2),
        "1.0.1, 1.0.2 (hosted) and 2.0.0, each once: {first:?} {second:?}"
    );
    let versions = |app: &'static str, platform: Platform| {
        let service = service.clone();
        async move {
            let (views, _) = service
                .list_builds(app, platform, Some("1"), BASE)
                .await
                .expect("list");
            views
                .into_iter()
                .map(|view| view.row.version)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(versions("aged", Platform::Android).await, ["1.0.3"]);
    assert_eq!(versions("aged", Platform::Ios).await, ["2.0.1", "2.0.2"]);
    assert_eq!(
        code(
            service
                .list_builds("aged", Platform::Ios, Some("2"), BASE)
                .await
        ),
        1002,
        "no third ios build"
    );
    assert_eq!(versions("lone", Platform::Android).await, ["0.1.0"]);
    assert!(!stored("1.0.1") && !stored("1.0.2"), "old files deleted");
    assert!(stored("1.0.3"), "the newest build keeps its file");
    assert_eq!(
        code(service.plist("aged", "2.0.0", Some("beta"), BASE).await),
        1004,
        "the extend went with its build"
    );
    assert_eq!(
        service
            .remove_builds_built_before(cutoff)
            .await
            .expect("again"),
        Swept::default()
    );
}

database_test_suite!(MIGRATIONS;
    the_age_sweep_deletes_old_builds_and_files_but_the_newest_and_young_ones,
    the_download_page_pages_through_the_whole_history,
    builds_of_one_build_time_come_in_publish_order,
    concurrent_creates_of_one_app_make_one_and_refuse_the_rest_as_existing,
    concurrent_descs_of_one_new_version_all_succeed_on_one_build,
    apps_are_created_ordered_listed_and_deleted,
    builds_are_listed_newest_first_with_limits,
    uploads_read_metadata_store_files_and_residue_deletes_them,
);
