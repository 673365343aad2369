//! Hosted builds: uploaded, read back, downloaded, published and shown on the download page.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosted_builds_are_uploaded_read_downloaded_published_and_shown() {
    let platform = start().await;
    platform
        .post(
            "/api/v2/rog2/create",
            &[("description", "ROG2 <beta> builds"), ("alias", "ROG2")],
        )
        .await;

    let ipa = fixtures::ipa("org.rog2.demo", "3.1.0", "ROG2 Demo", true);
    let (status, body) = upload(
        &platform,
        "rog2",
        "ios",
        "ROG2 Demo.ipa",
        ipa.clone(),
        &[
            ("description", "hosted ipa"),
            ("time", "2016-06-01T10:00:00+08:00"),
        ],
    )
    .await;
    assert_eq!((status, code(&body)), (200, 0), "{body}");
    assert_eq!(body["item"]["version"], "3.1.0");
    assert_eq!(body["item"]["bundle_id"], "org.rog2.demo");
    assert_eq!(body["item"]["title"], "ROG2 Demo");
    let ipa_url = body["item"]["down"].as_str().expect("down").to_owned();
    assert_eq!(
        ipa_url,
        platform.url("/download/rog2/ios/3.1.0/ROG2_Demo.ipa")
    );

    let apk = fixtures::apk("org.rog2.android", "5.4.3", false);
    let (_, body) = upload(&platform, "rog2", "android", "rog2.apk", apk.clone(), &[]).await;
    assert_eq!(code(&body), 0, "{body}");
    assert_eq!(body["item"]["version"], "5.4.3");
    assert_eq!(body["item"]["bundle_id"], "org.rog2.android");
    for (app, os, name, expected) in [
        ("rog2", "ios", "wrong.apk", 1001),
        ("nope", "android", "rog2.apk", 1008),
    ] {
        let (_, body) = upload(&platform, app, os, name, apk.clone(), &[]).await;
        assert_eq!(code(&body), expected, "{app} {os} {name}: {body}");
    }

    // Recorded as desc would: the plist names the hosted ipa; the apk is the android down.
    let plist = platform.get_text("/api/v2/rog2/plist/3.1.0.plist").await;
    assert!(
        plist.contains(&ipa_url) && plist.contains("org.rog2.demo"),
        "{plist}"
    );
    let (_, body) = platform.get_as("/api/v2/rog2/mobile/last", ANDROID).await;
    assert_eq!(
        body["items"][0]["down"],
        platform.url("/download/rog2/android/5.4.3/rog2.apk")
    );

    // Downloads, whole and by range.
    let whole = platform.http.get(&ipa_url).send().await.expect("download");
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.expect("bytes").to_vec(), ipa);
    let part = platform
        .http
        .get(&ipa_url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", ipa.len())
    );
    assert_eq!(part.bytes().await.expect("bytes").to_vec(), ipa[10..20]);
    let beyond = platform
        .http
        .get(&ipa_url)
        .header("range", format!("bytes={}-", ipa.len()))
        .send()
        .await
        .expect("range");
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        platform
            .get_status("/download/rog2/ios/0.0.1/none.ipa")
            .await,
        404
    );

    // A desc naming the hosted file is accepted.
    platform
        .post_cases(&[(
            "/api/v2/rog2/desc/ios",
            &[
                ("version", "3.1.0"),
                ("time", "2016-06-01T10:00:00+08:00"),
                ("url", "http://ci/9"),
                ("software_url", &ipa_url),
                ("plist_bundle_identifier", "org.rog2.demo"),
                ("plist_title", "ROG2 Demo"),
            ],
            0,
        )])
        .await;

    // tad appinhouse publish, the built binary against this gateway.
    let apk_path = platform.embedded.data_dir.path().join("published.apk");
    std::fs::write(&apk_path, fixtures::apk("org.rog2.android", "5.5.0", true)).expect("write apk");
    let output = support::tad_command()
        .args(["appinhouse", "publish"])
        .arg(&apk_path)
        .args([
            "--app",
            "rog2",
            "--gateway",
            platform.embedded.url(),
            "--description",
            "from the cli",
        ])
        .env("TAD_APPINHOUSE_SECRET_KEY", SECRET)
        .output()
        .expect("run tad appinhouse publish");
    support::assert_exited_ok(&output, "tad appinhouse publish");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"version\":\"5.5.0\""), "{stdout}");
    let (_, body) = platform.get_as("/api/v2/rog2/mobile/last", ANDROID).await;
    assert_eq!(body["items"][0]["version"], "5.5.0");
    assert_eq!(body["items"][0]["description"], "from the cli");
    let refused = support::tad_command()
        .args(["appinhouse", "publish"])
        .arg(&apk_path)
        .args(["--app", "rog2", "--gateway", platform.embedded.url()])
        .env("TAD_APPINHOUSE_SECRET_KEY", "wrong-key-123")
        .output()
        .expect("run tad appinhouse publish");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("1010"));

    // Residue delete removes hosted files of removed builds.
    let hosted = platform
        .embedded
        .data_dir
        .path()
        .join("appinhouse-files/rog2/android");
    assert!(hosted.join("5.4.3/rog2.apk").exists());
    let (_, body) = platform
        .delete("/api/v2/rog2/delete/android?residue=1")
        .await;
    assert_eq!(code(&body), 0, "{body}");
    assert!(
        !hosted.join("5.4.3/rog2.apk").exists(),
        "hosted file of the removed build deleted"
    );
    assert!(hosted.join("5.5.0/published.apk").exists());

    // The download page's HTML for a phone (appinhouse_browser drives it in Chromium).
    // Served over http, the page says iOS needs HTTPS instead of a dead itms-services link;
    // behind an https proxy (X-Forwarded-Proto) it links the plist.
    let html = platform.page_html("/app/rog2", IPHONE).await;
    assert!(html.contains("iOS installs need HTTPS"), "{html}");
    assert!(!html.contains("itms-services://"), "{html}");
    let forwarded = [("x-forwarded-proto", "https")];
    let html = platform
        .page_html_with("/app/rog2", IPHONE, &forwarded)
        .await;
    assert!(
        html.contains("itms-services://?action=download-manifest&amp;url=https%3A%2F%2F"),
        "{html}"
    );
    assert!(!html.contains("iOS installs need HTTPS"), "{html}");
    assert!(
        html.contains("3.1.0") && !html.contains("id=\"qr\""),
        "{html}"
    );
    assert!(html.contains("ROG2 &lt;beta&gt; builds"));
    assert_eq!(platform.get_status("/app/nope").await, 404);
    platform.embedded.stop().await;
}
