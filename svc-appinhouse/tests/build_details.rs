//! What svc-appinhouse reads from uploaded builds (through the maintained `apk-info` parser for
//! apks): label, version code, minimum OS and icon, stored beside the build; install counts;
//! the page's search; protected apps. Every case runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod support;

use common::{database_test_suite, db::Database};
use support::{
    fixtures,
    harness::{BASE, Harness, harness, upload},
};
use svc_appinhouse::{
    db::MIGRATIONS,
    service::{access::Presented, metadata, page::PageRequest, platform::Platform, reads::Reader},
};

#[test]
fn an_apk_is_read_with_its_resources_and_its_densest_icon() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("demo.apk");
    std::fs::write(
        &path,
        fixtures::apk_with_resources("com.example.demo", "2.4.0", "Demo Label"),
    )
    .expect("write");
    let read = metadata::read_apk(&path).expect("apk metadata");
    assert_eq!(read.bundle_id, "com.example.demo");
    assert_eq!(read.version, "2.4.0");
    assert_eq!(
        read.title, "Demo Label",
        "the label resolved through resources.arsc"
    );
    assert_eq!(read.version_code, "42");
    assert_eq!(read.min_os, "Android API 24");
    let icon = read.icon.expect("an icon");
    assert_eq!(icon.extension, "png");
    assert_eq!(
        icon.bytes,
        fixtures::icon_png(false),
        "the xxhdpi icon, not the mdpi one"
    );
}

#[test]
fn an_ipa_icon_is_rewritten_from_cgbi_to_a_png_browsers_show() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("demo.ipa");
    std::fs::write(
        &path,
        fixtures::ipa_with_icon("com.example.demo", "3.0.0", "Demo"),
    )
    .expect("write");
    let read = metadata::read_ipa(&path).expect("ipa metadata");
    assert_eq!(
        (read.version_code.as_str(), read.min_os.as_str()),
        ("77", "iOS 15.0")
    );
    let icon = read.icon.expect("an icon");
    assert_eq!(
        icon.bytes,
        fixtures::icon_png(false),
        "the same pixels as a standard PNG"
    );
}

async fn wait_for_installs(harness: &Harness, app: &str, expected: &[(&str, &str, i64)]) {
    let wanted: Vec<(String, String, i64)> = expected
        .iter()
        .map(|(platform, version, count)| (platform.to_string(), version.to_string(), *count))
        .collect();
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = harness
            .service
            .list_installs(app, BASE)
            .await
            .expect("installs")
            .into_iter()
            .map(|count| (count.platform, count.version, count.installs))
            .collect();
        if seen == wanted {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("install counts: {seen:?}, expected {wanted:?}");
}

/// An upload stores the build's details and icon; the page shows them; plist fetches, reads of
/// the file from its first byte and counted links add installs; resumed reads and icon reads do
/// not; a residue delete removes the icon with the build.
async fn uploads_keep_details_and_icons_and_installs_are_counted(database: Database) {
    let harness = harness(database);
    let service = &harness.service;
    service
        .create_app("shown", Some("d"), None)
        .await
        .expect("create");
    let apk = fixtures::apk_with_resources("com.example.shown", "5.0.0", "Shown App");
    upload(service, "shown", "android", "shown.apk", &apk, &[]).await;
    let ipa = fixtures::ipa_with_icon("com.example.shown", "6.0.0", "Shown");
    upload(service, "shown", "ios", "shown.ipa", &ipa, &[]).await;

    let last = service.last_builds("shown", BASE).await.expect("last");
    let android = last
        .iter()
        .find(|view| view.row.platform == "android")
        .expect("android");
    assert_eq!(android.details.size_bytes, apk.len() as i64);
    assert_eq!(android.details.label, "Shown App");
    assert_eq!(android.details.version_code, "42");
    assert_eq!(android.details.min_os, "Android API 24");
    assert_eq!(android.icon_path, "/download/shown/android/5.0.0/icon.png");
    let icon_size = service
        .hosted_file_size("shown", "android", "5.0.0", "icon.png", BASE)
        .await
        .expect("icon stored");
    assert_eq!(icon_size, fixtures::icon_png(false).len() as u64);

    service
        .plist("shown", "6.0.0", None, BASE)
        .await
        .expect("plist");
    service
        .plist("shown", "6.0.0", None, BASE)
        .await
        .expect("plist again");
    let whole = service
        .read_hosted_file("shown", "android", "5.0.0", "shown.apk", 0..10, BASE)
        .await;
    assert!(whole.is_ok());
    let resumed = service
        .read_hosted_file("shown", "android", "5.0.0", "shown.apk", 10..20, BASE)
        .await;
    assert!(resumed.is_ok());
    let icon = service
        .read_hosted_file("shown", "android", "5.0.0", "icon.png", 0..10, BASE)
        .await;
    assert!(icon.is_ok());
    wait_for_installs(
        &harness,
        "shown",
        &[("android", "5.0.0", 1), ("ios", "6.0.0", 2)],
    )
    .await;
    let url = service
        .install_build("shown", "android", "5.0.0", BASE)
        .await
        .expect("counted link");
    assert!(
        url.ends_with("/download/shown/android/5.0.0/shown.apk"),
        "{url}"
    );
    wait_for_installs(
        &harness,
        "shown",
        &[("android", "5.0.0", 2), ("ios", "6.0.0", 2)],
    )
    .await;
    let missing = service
        .install_build("shown", "android", "9.9.9", BASE)
        .await;
    assert_eq!(
        missing.map_err(|error| error.code()).err(),
        Some(svc_appinhouse::service::Fault::ArchiveMissing)
    );

    // A newer upload and a residue delete keeping one build: the old build's icon goes too.
    let newer = fixtures::apk_with_resources("com.example.shown", "5.1.0", "Shown App");
    upload(
        service,
        "shown",
        "android",
        "shown.apk",
        &newer,
        &[("time", "2030-01-01T00:00:00Z")],
    )
    .await;
    service
        .delete_old_builds("shown", "android", Some("1"))
        .await
        .expect("residue");
    let gone = service
        .hosted_file_size("shown", "android", "5.0.0", "icon.png", BASE)
        .await;
    assert_eq!(
        gone.map_err(|error| error.code()).err(),
        Some(svc_appinhouse::service::Fault::ArchiveMissing)
    );
    wait_for_installs(&harness, "shown", &[("ios", "6.0.0", 2)]).await;
}

/// The page's search finds builds by version or description, case-insensitively, with `%` and
/// `_` taken literally, and pages through what it found.
async fn the_page_search_finds_versions_and_descriptions(database: Database) {
    let harness = harness(database);
    let service = &harness.service;
    service
        .create_app("found", Some("d"), None)
        .await
        .expect("create");
    for (day, version, description) in [
        (1, "1.0.0", "First BETA"),
        (2, "1.1.0", "stable"),
        (3, "2.0.0", "beta two"),
        (4, "2.0.1", "100% done"),
        (5, "3.0.0", "latest"),
    ] {
        let fields = [
            ("time", format!("2026-11-{day:02}T09:00:00Z")),
            ("description", description.to_owned()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        support::harness::desc(service, "found", "android", version, &fields).await;
    }
    let search = |query: &'static str, page: Option<&'static str>| {
        let service = service.clone();
        async move {
            let content = service
                .page(
                    "found",
                    PageRequest {
                        user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8)".to_owned(),
                        page: page.map(str::to_owned),
                        query: query.to_owned(),
                        reader: BASE.into(),
                        ..PageRequest::default()
                    },
                )
                .await
                .expect("page");
            let versions: Vec<String> = content
                .history
                .iter()
                .map(|view| view.row.version.clone())
                .collect();
            (
                versions,
                content.latest[0].row.version.clone(),
                content.page,
                content.pages,
                content.query,
            )
        }
    };
    assert_eq!(
        search("beta", None).await,
        (
            vec!["2.0.0".into(), "1.0.0".into()],
            "3.0.0".into(),
            1,
            1,
            "beta".into()
        )
    );
    assert_eq!(
        search("2.0", None).await.0,
        vec!["2.0.1".to_owned(), "2.0.0".to_owned()]
    );
    assert_eq!(search("100%", None).await.0, vec!["2.0.1".to_owned()]);
    assert_eq!(
        search("%", None).await.0,
        vec!["2.0.1".to_owned()],
        "% is literal"
    );
    assert_eq!(
        search("_", None).await.0,
        Vec::<String>::new(),
        "_ is literal"
    );
    // Found builds include the newest one, in pages of 2.
    assert_eq!(search(".0", Some("3")).await.0, vec!["1.0.0".to_owned()]);
    assert_eq!(search(".0", Some("3")).await.3, 3);
    let long = "x".repeat(500);
    let long: &'static str = Box::leak(long.into_boxed_str());
    assert_eq!(
        search(long, None).await.4.chars().count(),
        64,
        "the search is cut to 64 characters"
    );
}

/// A protected app refuses reads without a grant; its page password and signed links give one;
/// links carry it (also inside the plist, for the hosted ipa); a new password voids older grants.
async fn protected_apps_need_a_password_or_a_signed_link(database: Database) {
    let harness = harness(database);
    let service = &harness.service;
    service
        .create_app("locked", Some("d"), None)
        .await
        .expect("create");
    let ipa = fixtures::ipa_with_icon("com.example.locked", "1.0.0", "Locked");
    upload(service, "locked", "ios", "locked.ipa", &ipa, &[]).await;
    assert!(
        service.last_builds("locked", BASE).await.is_ok(),
        "open before protection"
    );

    let short = service.protect_app("locked", "short").await;
    assert!(short.is_err_and(|error| error.to_string().contains("password")));
    service
        .protect_app("locked", "open sesame")
        .await
        .expect("protect");
    let refused = service.last_builds("locked", BASE).await;
    assert!(
        matches!(refused, Err(svc_appinhouse::AppinhouseError::Protected(_))),
        "{refused:?}"
    );
    let refused = service.plist("locked", "1.0.0", None, BASE).await;
    assert!(refused.is_err(), "the plist is protected too");
    let refused = service
        .hosted_file_size("locked", "ios", "1.0.0", "locked.ipa", BASE)
        .await;
    assert!(refused.is_err(), "and the hosted file");

    let wrong = service.unlock_app("locked", "not it").await;
    assert!(wrong.is_err_and(|error| error.to_string().contains("password")));
    let grant = service
        .unlock_app("locked", "open sesame")
        .await
        .expect("unlock");
    let with = |access: &str| Reader {
        request_base_url: BASE.to_owned(),
        presented: Presented {
            secret_key: None,
            access: Some(access.to_owned()),
        },
    };
    let last = service
        .last_builds("locked", with(&grant.access))
        .await
        .expect("granted");
    assert_eq!(
        last[0].down,
        format!(
            "https://files.test/api/v2/locked/plist/1.0.0.plist?access={}",
            grant.access
        )
    );
    let plist = String::from_utf8(
        service
            .plist("locked", "1.0.0", None, with(&grant.access))
            .await
            .expect("plist"),
    )
    .expect("utf-8");
    assert!(
        plist.contains(&format!(
            "/download/locked/ios/1.0.0/locked.ipa?access={}",
            grant.access
        )),
        "the ipa URL in the plist carries the grant: {plist}"
    );
    service
        .hosted_file_size("locked", "ios", "1.0.0", "locked.ipa", with(&grant.access))
        .await
        .expect("the ipa with the grant");

    let (expires, signature) = grant.access.split_once('.').expect("EXPIRES.SIGNATURE");
    let forged = format!(
        "{}.{signature}",
        expires.parse::<i64>().expect("number") + 3600
    );
    assert!(
        service.last_builds("locked", with(&forged)).await.is_err(),
        "a longer life is forged"
    );
    let expired = service
        .last_builds("locked", with(&format!("1.{signature}")))
        .await;
    assert!(expired.is_err());

    let shared = service.share_app("locked", 2).await.expect("share");
    assert!(
        service
            .last_builds("locked", with(&shared.access))
            .await
            .is_ok()
    );
    assert!(
        service
            .share_app("locked", 0)
            .await
            .is_err_and(|error| error.to_string().contains("hours"))
    );
    let with_key = Reader {
        request_base_url: BASE.to_owned(),
        presented: Presented {
            secret_key: Some("secret-key-1".to_owned()),
            access: None,
        },
    };
    let made = service
        .last_builds("locked", with_key)
        .await
        .expect("X-SecretKey reads");
    assert!(made[0].down.contains("?access="), "{}", made[0].down);

    service
        .protect_app("locked", "another one")
        .await
        .expect("new password");
    assert!(
        service
            .last_builds("locked", with(&grant.access))
            .await
            .is_err(),
        "old grants void"
    );
    assert!(
        service
            .last_builds("locked", with(&shared.access))
            .await
            .is_err()
    );
    service.protect_app("locked", "").await.expect("lift");
    assert!(
        service.last_builds("locked", BASE).await.is_ok(),
        "open again"
    );
    assert!(
        service.share_app("locked", 2).await.is_err(),
        "nothing to share for an open app"
    );
}

/// Wrong page passwords are limited per app: past 10 in a minute even the right one is refused.
async fn wrong_page_passwords_are_limited(database: Database) {
    let harness = harness(database);
    let service = &harness.service;
    service
        .create_app("guarded", Some("d"), None)
        .await
        .expect("create");
    service
        .protect_app("guarded", "right password")
        .await
        .expect("protect");
    for _ in 0..10 {
        assert!(
            service
                .unlock_app("guarded", "wrong password")
                .await
                .is_err()
        );
    }
    let limited = service.unlock_app("guarded", "right password").await;
    assert!(
        matches!(
            limited,
            Err(svc_appinhouse::AppinhouseError::TooManyAttempts(_))
        ),
        "{limited:?}"
    );
    assert_eq!(Platform::parse("ios").expect("ios"), Platform::Ios);
}

database_test_suite!(MIGRATIONS;
    uploads_keep_details_and_icons_and_installs_are_counted,
    the_page_search_finds_versions_and_descriptions,
    protected_apps_need_a_password_or_a_signed_link,
    wrong_page_passwords_are_limited,
);
