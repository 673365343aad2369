//! Apps: created, guarded, ordered, listed and deleted; writes take multipart forms as
//! `curl -F` sends them.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_are_created_guarded_ordered_listed_and_deleted() {
    let platform = start().await;
    for name in ["rog1", "rog2", "rog3"] {
        let (status, body) = platform
            .post(
                &format!("/api/v2/{name}/create"),
                &[("description", "d"), ("alias", "a")],
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body, json!({"code": 0, "msg": ""}));
    }
    let too_long = format!("/api/v2/{}/create", "x".repeat(51));
    platform
        .post_cases(&[
            ("/api/v2/rog1/create", &[("description", "d")], 1009),
            // description is required.
            ("/api/v2/rog4/create", &[("alias", "a")], 1001),
            (&too_long, &[("description", "d")], 1001),
        ])
        .await;

    // X-SecretKey: missing or wrong → 401 with code 1010, on every guarded write.
    for key in [None, Some("wrong-key")] {
        let mut request = platform
            .http
            .post(platform.url("/api/v2/rog9/create"))
            .form(&[("description", "d")]);
        if let Some(key) = key {
            request = request.header("X-SecretKey", key);
        }
        let (status, body) = platform.send(request).await;
        assert_eq!(status, 401);
        assert_eq!(
            body,
            json!({"code": 1010, "msg": "missing or invalid X-SecretKey"})
        );
        assert!(!body.to_string().contains(SECRET));
    }
    for (method, path) in [
        (reqwest::Method::POST, "/api/v2/rog1/update"),
        (reqwest::Method::DELETE, "/api/v2/rog1/delete"),
        (reqwest::Method::POST, "/api/v2/rog1/desc/ios"),
        (reqwest::Method::POST, "/api/v2/rog1/extenddesc/ios"),
        (reqwest::Method::DELETE, "/api/v2/rog1/delete/ios?residue=5"),
        (reqwest::Method::POST, "/api/v2/rog1/archive/ios"),
    ] {
        let (status, body) = platform
            .send(platform.http.request(method, platform.url(path)))
            .await;
        assert_eq!((status, code(&body)), (401, 1010), "{path}: {body}");
    }

    platform
        .post_cases(&[
            ("/api/v2/rog1/update", &[("description", "new")], 0),
            ("/api/v2/nope/update", &[("description", "new")], 1008),
        ])
        .await;

    // Ordering: open (no key); up on the first and down on the last are no-ops.
    for (path, expected) in [
        ("/api/v2/move/rog3/top", 0),
        ("/api/v2/move/rog3/up", 0),
        ("/api/v2/move/rog2/down", 0),
        ("/api/v2/move/rog2/down", 0),
        ("/api/v2/move/rog1/end", 0),
        ("/api/v2/move/rog1/sideways", 1001),
        ("/api/v2/move/nope/top", 1008),
    ] {
        let (status, body) = platform.send(platform.http.post(platform.url(path))).await;
        assert_eq!((status, code(&body)), (200, expected), "{path}: {body}");
    }
    let (_, body) = platform.get("/api/v2/apps").await;
    assert_eq!(
        body,
        json!({"code": 0, "msg": "", "items": ["rog3", "rog2"], "page": 1, "total_page": 2})
    );
    let (_, body) = platform.get("/api/v2/apps/?page=2&format=json").await;
    assert_eq!(body["items"], json!(["rog1"]));
    for (path, expected, why) in [
        ("/api/v2/apps?page=3", 1002, "start past the end"),
        ("/api/v2/apps?page=4", 1001, "beyond max_page"),
        ("/api/v2/apps?page=0", 1001, "page 0"),
    ] {
        let (_, body) = platform.get(path).await;
        assert_eq!(code(&body), expected, "{why}: {path}: {body}");
    }

    // Delete removes builds and hosted files; later calls answer 1008.
    desc(
        &platform,
        "rog2",
        "android",
        "1.0.0",
        "2016-05-10T02:11:50+0800",
    )
    .await;
    let (_, body) = platform.delete("/api/v2/rog2/delete").await;
    assert_eq!(code(&body), 0, "{body}");
    for path in [
        "/api/v2/rog2/last",
        "/api/v2/rog2/list/android?page=1",
        "/api/v2/rog2/mobile/last",
    ] {
        let (_, body) = platform.get(path).await;
        assert_eq!(code(&body), 1008, "{path}: {body}");
    }
    let (_, body) = platform.delete("/api/v2/rog2/delete").await;
    assert_eq!(code(&body), 1008, "{body}");
    platform.embedded.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_take_multipart_forms_as_curl_dash_f_sends_them() {
    let platform = start().await;
    for (path, fields) in [
        (
            "/api/v2/multi/create",
            vec![("description", "made by curl -F"), ("alias", "m")],
        ),
        (
            "/api/v2/multi/update",
            vec![("description", "updated by -F")],
        ),
        (
            "/api/v2/multi/desc/android",
            vec![
                ("version", "4.0"),
                ("time", "2016-05-12T02:11:50Z"),
                ("url", "http://ci.example/4"),
                ("software_url", "http://cdn.example/4.0.apk"),
                ("description", "release notes"),
            ],
        ),
        (
            "/api/v2/multi/extenddesc/android",
            vec![
                ("version", "4.0"),
                ("software_url", "http://cdn.example/4.0-sh.apk"),
                ("extend_name", "上海"),
                ("extend_key", "ShangHai"),
            ],
        ),
    ] {
        let (status, body) = platform.post_multipart(path, &fields).await;
        assert_eq!(
            (status, body),
            (200, json!({"code": 0, "msg": ""})),
            "{path}"
        );
    }
    let (_, body) = platform.post_multipart("/api/v2/multi2/create", &[]).await;
    assert_eq!(code(&body), 1001, "description is required: {body}");
    // A wrong method or an unknown path under /api/v2 answers in appinhouse's shape too.
    let (status, body) = platform.get("/api/v2/multi/create").await;
    assert_eq!((status, code(&body)), (405, 1001), "{body}");
    assert!(
        body["msg"].as_str().is_some_and(|msg| msg.contains("GET")),
        "{body}"
    );
    let (status, body) = platform.get("/api/v2/multi/nothing/here").await;
    assert_eq!((status, code(&body)), (404, 1001), "{body}");
    let (_, body) = platform.get("/api/v2/multi/list/android?page=1").await;
    let item = &body["items"][0];
    assert_eq!(
        (
            item["version"].clone(),
            item["description"].clone(),
            item["down"].clone(),
            item["extends"][0]["extend_key"].clone()
        ),
        (
            json!("4.0"),
            json!("release notes"),
            json!("http://cdn.example/4.0.apk"),
            json!("ShangHai")
        ),
        "{body}"
    );
    platform.embedded.stop().await;
}
