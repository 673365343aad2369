//! Scripts are reviewed by someone else; method packages are versioned.

use super::*;

pub(crate) async fn scripts_are_reviewed_by_someone_else(database: Database) {
    let fixture = fixture(database).await;
    let uploader = actor("olivia", "operator");
    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let error = fixture
        .service
        .upload(
            &uploader,
            UploadKind::Script,
            items(
                &[
                    ("app_id", "4"),
                    ("name", "poiulk"),
                    (
                        "file_md5",
                        r#"{"deploy.sh":"ffffffffffffffffffffffffffffffff"}"#,
                    ),
                ],
                &[("deploy.sh", script)],
            ),
        )
        .await
        .expect_err("md5");
    assert!(matches!(error, ArtifactError::Md5Mismatch { .. }));
    assert!(fixture.objects().is_empty());

    let outcome = fixture
        .service
        .upload(
            &uploader,
            UploadKind::Script,
            items(
                &[("app_id", "4"), ("name", "poiulk"), ("file_md5", &file_md5)],
                &[("deploy.sh", script)],
            ),
        )
        .await
        .expect("uploaded");
    let script_id = outcome.version_id.clone();
    let listed = fixture
        .service
        .list_scripts(&uploader, "4", "")
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, "disable");
    assert_eq!(listed[0].name, "poiulk");
    assert!(
        fixture
            .service
            .list_scripts(&uploader, "4", "zzz")
            .await
            .expect("list")
            .is_empty()
    );

    let reviewer_as_uploader = actor("olivia", "reviewer");
    let error = fixture
        .service
        .review_script(&reviewer_as_uploader, &script_id, "", "able")
        .await
        .expect_err("self review");
    assert!(matches!(error, ArtifactError::SelfReview(_)), "{error}");
    let error = fixture
        .service
        .review_script(&uploader, &script_id, "", "able")
        .await
        .expect_err("operators cannot review");
    assert!(matches!(error, ArtifactError::Forbidden(_)));
    let reviewer = actor("rita", "reviewer");
    let error = fixture
        .service
        .review_script(&reviewer, &script_id, "other", "able")
        .await
        .expect_err("method_id must match");
    assert!(error.to_string().contains("method_id"));
    let reviewed = fixture
        .service
        .review_script(&reviewer, &script_id, &script_id, "able")
        .await
        .expect("approved");
    assert_eq!(reviewed.status, "able");
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
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, content) in [
        ("method.yml", manifest.as_bytes()),
        ("run.sh", b"echo run\n".as_slice()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        builder
            .append_data(&mut header, path, content)
            .expect("append");
    }
    let package = builder.into_inner().expect("tar").finish().expect("gzip");
    let first = fixture
        .service
        .upload(
            &operator,
            UploadKind::Component,
            items(&[], &[("apache-port.tar.gz", &package)]),
        )
        .await
        .expect("uploaded");
    let second = fixture
        .service
        .upload(
            &operator,
            UploadKind::Component,
            items(&[], &[("apache-port.tar.gz", &package)]),
        )
        .await
        .expect("uploaded again");
    let method = fixture
        .service
        .method(&operator, "apa1")
        .await
        .expect("method");
    let version = method.version.expect("a version");
    assert_eq!(version.id, second.version_id, "the newest is used");
    assert_ne!(version.id, first.version_id);
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
