//! Uploads for an unknown application, or with the resource service unreachable, are refused and
//! leave nothing.

use super::*;

/// A package sync, a script upload and a configure upload for `app_id`, each well formed, with
/// what each was.
async fn upload_all_three(
    fixture: &Fixture,
    actor: &Actor,
    app_id: &str,
) -> [(&'static str, Result<UploadOutcome, ArtifactError>); 3] {
    let synced = fixture
        .sync_sample(actor, [app_id, "workflow", "1.0.3"])
        .await;
    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let scripted = fixture
        .upload(
            actor,
            UploadKind::Script,
            &[
                ("app_id", app_id),
                ("name", "deploy"),
                ("file_md5", &file_md5),
            ],
            &[("deploy.sh", script)],
        )
        .await;
    let template = b"Listen {{ port }}\n";
    let file_md5 = json!({
        "httpd.conf.j2": md5_hex(template),
        "httpd.conf.yml": md5_hex(SCHEMA.as_bytes()),
    })
    .to_string();
    let configured = fixture
        .upload(
            actor,
            UploadKind::Configure,
            &[
                ("app_id", app_id),
                ("name", "httpd"),
                ("file_md5", &file_md5),
            ],
            &[
                ("httpd.conf.j2", template),
                ("httpd.conf.yml", SCHEMA.as_bytes()),
            ],
        )
        .await;
    [
        ("package sync", synced),
        ("script", scripted),
        ("configure", configured),
    ]
}

pub(crate) async fn uploads_for_an_unknown_application_are_refused_and_leave_nothing(
    database: Database,
) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    for (upload, outcome) in upload_all_three(&fixture, &operator, "nope").await {
        let error = outcome.expect_err(upload);
        assert!(
            matches!(
                &error,
                ArtifactError::NotFound {
                    kind: RecordKind::Application,
                    id,
                } if id == "nope"
            ),
            "{upload}: {error:?}"
        );
        assert!(error.to_string().contains("\"nope\""), "{upload}: {error}");
    }
    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    assert!(fixture.spooled().is_empty(), "{:?}", fixture.spooled());
    assert!(
        fixture
            .artifact_kinds_and_names(&operator, "nope")
            .await
            .is_empty()
    );
    let everything = fixture.all_artifacts(&operator).await;
    assert!(everything.is_empty(), "{everything:?}");
    assert!(fixture.scripts(&operator, "nope", "").await.is_empty());

    // The same uploads for an application that exists are stored.
    for (upload, outcome) in upload_all_three(&fixture, &operator, "5093").await {
        outcome.unwrap_or_else(|error| panic!("{upload}: {error}"));
    }
    assert_eq!(
        fixture.artifact_kinds_and_names(&operator, "5093").await,
        [
            "configure httpd",
            "configure httpd.conf",
            "package workflow"
        ]
    );
    assert_eq!(fixture.scripts(&operator, "5093", "").await.len(), 1);
}

pub(crate) async fn uploads_fail_and_leave_nothing_when_the_resource_service_is_unreachable(
    database: Database,
) {
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let fixture = fixture_with(database, channel_to(&url), None, 1 << 20);
    let operator = actor("olivia", "operator");
    for (upload, outcome) in upload_all_three(&fixture, &operator, "5093").await {
        let error = outcome.expect_err(upload);
        assert!(
            matches!(&error, ArtifactError::Upstream(status) if status.code() == tonic::Code::Unavailable),
            "{upload}: {error:?}"
        );
    }
    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    assert!(fixture.spooled().is_empty(), "{:?}", fixture.spooled());
    let everything = fixture.all_artifacts(&operator).await;
    assert!(everything.is_empty(), "{everything:?}");
}
