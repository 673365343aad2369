//! Package syncs: files and templates stored, concurrent syncs of a new package, refused uploads
//! leave nothing.

use super::*;

pub(crate) async fn package_sync_stores_files_and_templates(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let outcome = fixture
        .sync_sample(&operator, ["5093", "workflow", "1.0.0"])
        .await
        .expect("synced");
    assert_eq!(outcome.files[0].md5, md5_hex(&package_tar_gz()));
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
    // The template rendered with `port` as the value of its node `port`.
    let render_port = |port: &str| {
        let (service, operator, file_id) = (&fixture.service, &operator, &template_file.id);
        let values = json!({nodes[0].id.clone(): port});
        async move { service.render_template(operator, file_id, &values).await }
    };
    let (text, target) = render_port("8080").await.expect("render");
    assert_eq!(
        (text.as_str(), target.as_str()),
        ("Listen 8080\n", "httpd.conf")
    );
    let error = render_port("80a").await.expect_err("rule");
    assert!(error.to_string().contains("port"), "{error}");

    // A second sync is a new version; template node ids stay the same.
    let outcome_two = fixture
        .sync_sample(&operator, ["5093", "workflow", "1.0.1"])
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
    let versions: Vec<String> = (0..16).map(|index| format!("2.0.{index}")).collect();
    let syncs = versions
        .iter()
        .map(|version| fixture.sync_sample(&operator, ["6001", "parallel", version]));
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

pub(crate) async fn an_archive_more_compressed_at_its_start_than_in_all_is_stored(
    database: Database,
) {
    let fixture = fixture_unpacking(database, 64 << 20).await;
    let operator = actor("olivia", "operator");
    // 8 MiB of zeros (about 8 KiB packed) before 64 KiB that do not compress: about 110:1 in
    // all, under the 200:1 limit, but far over it while the zeros arrive (in chunks of 1000
    // bytes): the archive is unpacked as it arrives, refused by the ratio of what has arrived,
    // then unpacked again from the stored archive against its whole size.
    let zeros = vec![0_u8; 8 << 20];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..64 << 10)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let archive = tar_gz(
        0o644,
        flate2::Compression::default(),
        &[("img/zeros.img", &zeros), ("img/noise.bin", &noise)],
    );
    assert!(
        archive.len() * 200 > (8 << 20) + (64 << 10),
        "under the ratio in all"
    );
    let md5 = md5_hex(&archive);
    let outcome = fixture
        .sync_package(
            &operator,
            ["5093", "image", "1", &md5],
            "image.tar.gz",
            &archive,
        )
        .await
        .expect("stored");
    let stored: Vec<_> = outcome
        .unpacked
        .iter()
        .map(|row| (row.path.as_str(), row.size, row.md5.clone()))
        .collect();
    assert_eq!(
        stored,
        [
            ("img/zeros.img", 8 << 20, md5_hex(&zeros)),
            ("img/noise.bin", 64 << 10, md5_hex(&noise)),
        ]
    );
    // The archive and both files are objects; nothing is left in the spool.
    assert_eq!(fixture.objects().len(), 3, "{:?}", fixture.objects());
    assert!(fixture.spooled().is_empty(), "{:?}", fixture.spooled());
}

pub(crate) async fn refused_uploads_leave_nothing(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let zeros = vec![0_u8; 2 << 20];
    let bomb = tar_gz(
        0o644,
        flate2::Compression::best(),
        &[("zeros", zeros.as_slice())],
    );
    assert!(bomb.len() < 64 * 1024, "a small archive");
    let bomb_md5 = md5_hex(&bomb);
    // Fields, file name, archive, what the case is, and whether its error is the right refusal.
    type RefusedSync<'a> = (
        [&'a str; 4],
        &'a str,
        &'a [u8],
        &'a str,
        fn(&ArtifactError) -> bool,
    );
    let cases: [RefusedSync<'_>; 2] = [
        (
            ["5093", "workflow", "1", "0123456789abcdef0123456789abcdef"],
            "workflow.tar.gz",
            &archive,
            "md5 mismatch",
            |error| matches!(error, ArtifactError::Md5Mismatch { .. }),
        ),
        (
            ["5093", "bomb", "1", &bomb_md5],
            "bomb.tgz",
            &bomb,
            "bomb",
            // Named by its entry.
            |error| {
                matches!(error, ArtifactError::ArchiveRejected { .. })
                    && error.to_string().contains("zeros")
            },
        ),
    ];
    for (fields, file, archive, case, refused) in cases {
        let error = fixture
            .sync_package(&operator, fields, file, archive)
            .await
            .expect_err(case);
        assert!(refused(&error), "{case}: {error}");
    }

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
