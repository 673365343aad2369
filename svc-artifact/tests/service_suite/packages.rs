//! Package syncs: files and templates stored, concurrent syncs of a new package, refused uploads
//! leave nothing.

use super::*;

pub(crate) async fn package_sync_stores_files_and_templates(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let md5 = md5_hex(&archive);
    let outcome = fixture
        .sync_package(
            &operator,
            ["5093", "workflow", "1.0.0", &md5],
            "workflow.tar.gz",
            &archive,
        )
        .await
        .expect("synced");
    assert_eq!(outcome.files[0].md5, md5);
    assert_eq!(outcome.files[0].role, "archive");
    let paths: Vec<_> = outcome
        .unpacked
        .iter()
        .map(|row| row.path.as_str())
        .collect();
    assert_eq!(
        paths,
        vec!["app/bin/app.jar"],
        "yml and j2 are not package files"
    );
    assert_eq!(outcome.templates.len(), 1);
    let template_file = &outcome.templates[0];
    assert_eq!(template_file.path, "app/conf/httpd.conf.j2");

    let (row, nodes) = fixture
        .service
        .template(&operator, &template_file.id)
        .await
        .expect("template");
    assert_eq!(row.name, "httpd.conf");
    assert_eq!(nodes[0].key, "port");
    let (text, target) = fixture
        .service
        .render_template(
            &operator,
            &template_file.id,
            &json!({nodes[0].id.clone(): "8080"}),
        )
        .await
        .expect("render");
    assert_eq!(
        (text.as_str(), target.as_str()),
        ("Listen 8080\n", "httpd.conf")
    );
    let error = fixture
        .service
        .render_template(
            &operator,
            &template_file.id,
            &json!({nodes[0].id.clone(): "80a"}),
        )
        .await
        .expect_err("rule");
    assert!(error.to_string().contains("port"), "{error}");

    // A second sync is a new version; template node ids stay the same.
    let outcome_two = fixture
        .sync_package(
            &operator,
            ["5093", "workflow", "1.0.1", &md5],
            "workflow.tar.gz",
            &archive,
        )
        .await
        .expect("synced again");
    assert_ne!(outcome_two.version_id, outcome.version_id);
    let (_, nodes_two) = fixture
        .service
        .template(&operator, &outcome_two.templates[0].id)
        .await
        .expect("template");
    assert_eq!(
        nodes_two[0].id, nodes[0].id,
        "node ids are stable across versions"
    );

    assert_eq!(
        fixture.artifact_kinds_and_names(&operator, "5093").await,
        ["configure httpd.conf", "package workflow"]
    );
    let packages = fixture
        .service
        .filter_artifacts(&operator, Some(vec!["5093".into()]), Some("package".into()))
        .await
        .expect("filter");
    assert_eq!(packages.len(), 1);
}

pub(crate) async fn concurrent_syncs_of_a_new_package_all_become_versions_of_it(
    database: Database,
) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let md5 = md5_hex(&archive);
    let versions: Vec<String> = (0..16).map(|index| format!("2.0.{index}")).collect();
    let syncs = versions.iter().map(|version| {
        fixture.sync_package(
            &operator,
            ["6001", "parallel", version, &md5],
            "parallel.tar.gz",
            &archive,
        )
    });
    let outcomes = futures::future::join_all(syncs).await;
    let mut version_ids = Vec::new();
    for (version, outcome) in versions.iter().zip(outcomes) {
        let outcome = outcome.unwrap_or_else(|error| panic!("sync of {version}: {error}"));
        version_ids.push(outcome.version_id);
    }
    version_ids.sort();
    version_ids.dedup();
    assert_eq!(version_ids.len(), versions.len(), "one version per sync");
    assert_eq!(
        fixture.artifact_kinds_and_names(&operator, "6001").await,
        ["configure httpd.conf", "package parallel"],
        "one package and one template, however many syncs raced to create them"
    );
}

pub(crate) async fn refused_uploads_leave_nothing(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let error = fixture
        .sync_package(
            &operator,
            ["5093", "workflow", "1", "0123456789abcdef0123456789abcdef"],
            "workflow.tar.gz",
            &archive,
        )
        .await
        .expect_err("md5 mismatch");
    assert!(
        matches!(error, ArtifactError::Md5Mismatch { .. }),
        "{error}"
    );

    let zeros = vec![0_u8; 2 << 20];
    let bomb = tar_gz(
        0o644,
        flate2::Compression::best(),
        &[("zeros", zeros.as_slice())],
    );
    assert!(bomb.len() < 64 * 1024, "a small archive");
    let bomb_md5 = md5_hex(&bomb);
    let error = fixture
        .sync_package(
            &operator,
            ["5093", "bomb", "1", &bomb_md5],
            "bomb.tgz",
            &bomb,
        )
        .await
        .expect_err("bomb");
    assert!(
        matches!(error, ArtifactError::ArchiveRejected { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("zeros"), "{error}");

    let viewer = actor("victor", "viewer");
    let error = fixture
        .upload(
            &viewer,
            UploadKind::Script,
            &[("app_id", "1")],
            &[("a.sh", b"echo")],
        )
        .await
        .expect_err("viewers cannot upload");
    assert!(matches!(error, ArtifactError::Forbidden(_)));

    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    let artifacts = fixture.all_artifacts(&operator).await;
    assert!(artifacts.is_empty());
}
