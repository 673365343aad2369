//! Scripts are reviewed by someone else; method packages are versioned.

use super::*;

/// Whether an error is the one a case expects.
type ErrorCheck = fn(&ArtifactError) -> bool;

pub(crate) async fn scripts_are_reviewed_by_someone_else(database: Database) {
    let fixture = fixture(database).await;
    let uploader = actor("olivia", "operator");
    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let error = fixture
        .upload(
            &uploader,
            UploadKind::Script,
            &[
                ("app_id", "4"),
                ("name", "poiulk"),
                (
                    "file_md5",
                    r#"{"deploy.sh":"ffffffffffffffffffffffffffffffff"}"#,
                ),
            ],
            &[("deploy.sh", script)],
        )
        .await
        .expect_err("md5");
    assert!(matches!(error, ArtifactError::Md5Mismatch { .. }));
    assert!(fixture.objects().is_empty());

    let outcome = fixture
        .upload(
            &uploader,
            UploadKind::Script,
            &[("app_id", "4"), ("name", "poiulk"), ("file_md5", &file_md5)],
            &[("deploy.sh", script)],
        )
        .await
        .expect("uploaded");
    let script_id = outcome.version_id.clone();
    let listed = fixture.scripts(&uploader, "4", "").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "disable");
    assert_eq!(listed[0].name, "poiulk");
    assert!(fixture.scripts(&uploader, "4", "zzz").await.is_empty());

    let reviewer_as_uploader = actor("olivia", "reviewer");
    let reviewer = actor("rita", "reviewer");
    let refusals: [(&Actor, &str, &str, ErrorCheck); 3] = [
        (&reviewer_as_uploader, "", "self review", |error| {
            matches!(error, ArtifactError::SelfReview(_))
        }),
        (&uploader, "", "operators cannot review", |error| {
            matches!(error, ArtifactError::Forbidden(_))
        }),
        (&reviewer, "other", "method_id must match", |error| {
            error.to_string().contains("method_id")
        }),
    ];
    for (who, method_id, refusal, expected) in refusals {
        let error = fixture
            .service
            .review_script(who, &script_id, method_id, "able")
            .await
            .expect_err(refusal);
        assert!(expected(&error), "{refusal}: {error}");
    }
    let reviewed = fixture
        .service
        .review_script(&reviewer, &script_id, &script_id, "able")
        .await
        .expect("approved");
    assert_eq!(reviewed.status, "able");
    // The list read (and kept) before shows the review at once.
    let listed = fixture.scripts(&uploader, "4", "").await;
    assert_eq!(listed[0].status, "able", "the list after the review");
    let (file, script_row) = fixture
        .service
        .script_file(&reviewer, &outcome.files[0].id)
        .await
        .expect("script file");
    assert_eq!(file.name, "deploy.sh");
    assert_eq!(script_row.status, "able");
    let text = fixture
        .service
        .file_text(&reviewer, &outcome.files[0].id)
        .await
        .expect("text");
    assert_eq!(text.as_bytes(), script);
}

pub(crate) async fn method_packages_are_versioned(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let listed = fixture
        .service
        .list_components(&operator)
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "only the built-in component");
    assert_eq!(listed[0].component.id, "custom");
    assert_eq!(listed[0].methods[0].method.id, "cu1");
    assert!(listed[0].methods[0].method.builtin);

    let manifest = "component: {id: apa, name: apache, remark: apache组件}\nmethod: {id: apa1, name: port, remark: apache监听端口方法}\nentrypoint: run.sh\nparams:\n  - key: ports\n    type: list-map\n    children:\n      - key: port\n";
    let package = tar_gz(
        0o755,
        flate2::Compression::fast(),
        &[
            ("method.yml", manifest.as_bytes()),
            ("run.sh", b"echo run\n".as_slice()),
        ],
    );
    let mut version_ids = Vec::new();
    for upload in ["uploaded", "uploaded again"] {
        let outcome = fixture
            .upload(
                &operator,
                UploadKind::Component,
                &[],
                &[("apache-port.tar.gz", &package)],
            )
            .await
            .expect(upload);
        version_ids.push(outcome.version_id);
    }
    let (first, second) = (&version_ids[0], &version_ids[1]);
    let method = fixture
        .service
        .method(&operator, "apa1")
        .await
        .expect("method");
    let version = method.version.expect("a version");
    assert_eq!(&version.id, second, "the newest is used");
    assert_ne!(&version.id, first);
    assert_eq!(version.entrypoint, "run.sh");
    assert_eq!(version.timeout_s, 600);
    assert_eq!(method.params[0].children[0].key, "port");
    let values = fixture
        .service
        .validate_method_values(
            &operator,
            "apa1",
            &json!({method.params[0].id.clone(): [{method.params[0].children[0].id.clone(): "8087"}]}),
        )
        .await
        .expect("valid");
    assert_eq!(values, json!({"ports": [{"port": "8087"}]}));
    let listed = fixture
        .service
        .list_components(&operator)
        .await
        .expect("list");
    assert_eq!(listed.len(), 2);
}
