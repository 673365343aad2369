//! svc-artifact rules against real databases and a real (local) object store: every case runs
//! on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set. Uploads ask a real svc-resource
//! (gRPC on 127.0.0.1, its own SQLite database) whether their application exists.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use common::{
    auth::{Claims, JwtKeys},
    cache::InMemoryCache,
    crypto::CredentialCipher,
    database_test_suite,
    db::{Database, testing::TestDatabase},
    storage::{ObjectStorage, StorageTarget},
};
use md5::{Digest, Md5};
use serde_json::json;
use svc_artifact::{
    ArtifactService, ArtifactSettings, ResourceDirectory,
    db::MIGRATIONS,
    service::{Actor, ArtifactError, RecordKind, UploadItem},
};
use svc_resource::{ResourceService, ResourceSettings};

const JWT_SECRET: &[u8] = b"test-secret-test-secret-test-secret!";
const TEST_CREDENTIAL_KEY: &[u8] =
    b"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// Applications the resource service knows; uploads for any other id are refused.
const APPLICATIONS: [&str; 3] = ["5093", "6001", "4"];

/// svc-resource serving gRPC on 127.0.0.1 for one case; stopped when dropped.
struct ResourceServer {
    url: String,
    task: tokio::task::JoinHandle<()>,
    _database: TestDatabase,
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// This suite deletes no cluster: the jobs service it would ask is absent.
struct NoClusterDeletes;

#[async_trait::async_trait]
impl svc_resource::ClusterUsage for NoClusterDeletes {
    async fn check_unused(
        &self,
        _token: &str,
        cluster_id: &str,
    ) -> Result<(), svc_resource::service::ResourceError> {
        Err(svc_resource::service::ResourceError::Unavailable(format!(
            "no jobs service to ask about cluster {cluster_id:?}"
        )))
    }
}

/// Starts svc-resource with product line `pl` and [`APPLICATIONS`] in it.
async fn start_resource() -> ResourceServer {
    let test_database = TestDatabase::sqlite(&svc_resource::db::MIGRATIONS);
    let service = ResourceService::new(
        test_database.database.clone(),
        Arc::new(InMemoryCache::new()),
        JwtKeys::new(JWT_SECRET),
        CredentialCipher::from_hex_key(TEST_CREDENTIAL_KEY).expect("test key"),
        ResourceSettings {
            token_ttl: Duration::from_secs(600),
            login_attempts_per_minute: 10,
            ssh_timeout: Duration::from_secs(5),
        },
        Arc::new(NoClusterDeletes),
    );
    let admin = Claims {
        sub: "admin".to_owned(),
        roles: vec!["admin".to_owned()],
        iat: 0,
        exp: i64::MAX,
        sid: None,
    };
    service
        .upsert_product_line(&admin, Some("pl"), "product line")
        .await
        .expect("product line");
    for id in APPLICATIONS {
        service
            .upsert_application(&admin, Some(id), &format!("app {id}"), "pl")
            .await
            .expect("application");
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(svc_resource::grpc_service(service))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .expect("resource gRPC server");
    });
    ResourceServer {
        url,
        task,
        _database: test_database,
    }
}

fn channel_to(url: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("url")
        .connect_lazy()
}

struct Fixture {
    service: ArtifactService,
    dir: tempfile::TempDir,
    _resource: Option<ResourceServer>,
}

/// The artifact service over `database`, asking a running svc-resource.
async fn fixture(database: Database) -> Fixture {
    let resource = start_resource().await;
    let channel = channel_to(&resource.url);
    fixture_with(database, channel, Some(resource))
}

fn fixture_with(
    database: Database,
    resource_channel: tonic::transport::Channel,
    resource: Option<ResourceServer>,
) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let storage = ObjectStorage::open(&StorageTarget::Local {
        root: dir.path().join("objects"),
    })
    .expect("store");
    let service = ArtifactService::new(
        database,
        storage,
        JwtKeys::new(JWT_SECRET),
        ResourceDirectory::new(resource_channel),
        ArtifactSettings {
            spool_dir: dir.path().join("tmp"),
            max_upload_bytes: 1 << 30,
            max_unpacked_bytes: 1 << 20,
            max_entries: 100,
            max_unpack_ratio: 200,
        },
    );
    Fixture {
        service,
        dir,
        _resource: resource,
    }
}

impl Fixture {
    /// `kind name` of every artifact of `app_id`, sorted.
    async fn artifact_kinds_and_names(&self, actor: &Actor, app_id: &str) -> Vec<String> {
        let artifacts = self
            .service
            .filter_artifacts(actor, Some(vec![app_id.to_owned()]), None)
            .await
            .expect("filter");
        let mut names: Vec<_> = artifacts
            .into_iter()
            .map(|row| format!("{} {}", row.kind, row.name))
            .collect();
        names.sort();
        names
    }

    /// Every object file left in the store.
    fn objects(&self) -> Vec<std::path::PathBuf> {
        walk(&self.dir.path().join("objects"))
    }

    /// Every file left in the spool (archives to unpack, unpacked files).
    fn spooled(&self) -> Vec<std::path::PathBuf> {
        walk(&self.dir.path().join("tmp"))
    }
}

fn walk(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// A caller with a real token (the resource service verifies it).
fn actor(username: &str, role: &str) -> Actor {
    let keys = JwtKeys::new(JWT_SECRET);
    let issued = keys
        .issue(username, &[role.to_owned()], Duration::from_secs(3600))
        .expect("token");
    Actor {
        claims: keys.verify(&issued.token).expect("verify"),
        token: issued.token,
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    hex_of(&Md5::digest(bytes))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

type Items = futures::stream::Iter<std::vec::IntoIter<Result<UploadItem, ArtifactError>>>;

fn items(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Items {
    let mut parts = Vec::new();
    for (name, content) in files {
        parts.push(Ok(UploadItem::FileStart {
            name: (*name).to_owned(),
        }));
        for chunk in content.chunks(1000) {
            parts.push(Ok(UploadItem::Data(Bytes::copy_from_slice(chunk))));
        }
    }
    // Text fields after the files, as browsers may send them.
    for (name, value) in fields {
        parts.push(Ok(UploadItem::Field {
            name: (*name).to_owned(),
            value: (*value).to_owned(),
        }));
    }
    futures::stream::iter(parts)
}

const SCHEMA: &str = "- key: port\n  require: true\n  rule: '^[0-9]+$'\n  default: '80'\n";

fn package_tar_gz() -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    for (path, content) in [
        ("app/bin/app.jar", b"jar bytes".as_slice()),
        ("app/conf/httpd.conf.j2", b"Listen {{ port }}\n".as_slice()),
        ("app/conf/httpd.conf.yml", SCHEMA.as_bytes()),
        ("app/conf/lonely.yml", b"- key: x\n".as_slice()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, path, content)
            .expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

async fn package_sync_stores_files_and_templates(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let md5 = md5_hex(&archive);
    let outcome = fixture
        .service
        .package_sync(
            &operator,
            items(
                &[
                    ("app_id", "5093"),
                    ("name", "workflow"),
                    ("version", "1.0.0"),
                    ("md5", &md5),
                ],
                &[("workflow.tar.gz", &archive)],
            ),
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
        .service
        .package_sync(
            &operator,
            items(
                &[
                    ("app_id", "5093"),
                    ("name", "workflow"),
                    ("version", "1.0.1"),
                    ("md5", &md5),
                ],
                &[("workflow.tar.gz", &archive)],
            ),
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

async fn concurrent_syncs_of_a_new_package_all_become_versions_of_it(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let md5 = md5_hex(&archive);
    let versions: Vec<String> = (0..16).map(|index| format!("2.0.{index}")).collect();
    let syncs = versions.iter().map(|version| {
        fixture.service.package_sync(
            &operator,
            items(
                &[
                    ("app_id", "6001"),
                    ("name", "parallel"),
                    ("version", version),
                    ("md5", &md5),
                ],
                &[("parallel.tar.gz", &archive)],
            ),
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

async fn refused_uploads_leave_nothing(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    let archive = package_tar_gz();
    let error = fixture
        .service
        .package_sync(
            &operator,
            items(
                &[
                    ("app_id", "5093"),
                    ("name", "workflow"),
                    ("version", "1"),
                    ("md5", "0123456789abcdef0123456789abcdef"),
                ],
                &[("workflow.tar.gz", &archive)],
            ),
        )
        .await
        .expect_err("md5 mismatch");
    assert!(
        matches!(error, ArtifactError::Md5Mismatch { .. }),
        "{error}"
    );

    let mut bomb = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::best(),
    ));
    let zeros = vec![0_u8; 2 << 20];
    let mut header = tar::Header::new_gnu();
    header.set_size(zeros.len() as u64);
    header.set_mode(0o644);
    bomb.append_data(&mut header, "zeros", zeros.as_slice())
        .expect("append");
    let bomb = bomb.into_inner().expect("tar").finish().expect("gzip");
    assert!(bomb.len() < 64 * 1024, "a small archive");
    let bomb_md5 = md5_hex(&bomb);
    let error = fixture
        .service
        .package_sync(
            &operator,
            items(
                &[
                    ("app_id", "5093"),
                    ("name", "bomb"),
                    ("version", "1"),
                    ("md5", &bomb_md5),
                ],
                &[("bomb.tgz", &bomb)],
            ),
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
        .service
        .script_upload(&viewer, items(&[("app_id", "1")], &[("a.sh", b"echo")]))
        .await
        .expect_err("viewers cannot upload");
    assert!(matches!(error, ArtifactError::Forbidden(_)));

    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    let artifacts = fixture
        .service
        .filter_artifacts(&operator, None, None)
        .await
        .expect("filter");
    assert!(artifacts.is_empty());
}

async fn scripts_are_reviewed_by_someone_else(database: Database) {
    let fixture = fixture(database).await;
    let uploader = actor("olivia", "operator");
    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let error = fixture
        .service
        .script_upload(
            &uploader,
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
        .script_upload(
            &uploader,
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

async fn method_packages_are_versioned(database: Database) {
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
        .component_upload(&operator, items(&[], &[("apache-port.tar.gz", &package)]))
        .await
        .expect("uploaded");
    let second = fixture
        .service
        .component_upload(&operator, items(&[], &[("apache-port.tar.gz", &package)]))
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

/// A package sync, a script upload and a configure upload for `app_id`, each well formed.
async fn upload_all_three(
    fixture: &Fixture,
    actor: &Actor,
    app_id: &str,
) -> [Result<svc_artifact::service::UploadOutcome, ArtifactError>; 3] {
    let archive = package_tar_gz();
    let md5 = md5_hex(&archive);
    let synced = fixture
        .service
        .package_sync(
            actor,
            items(
                &[
                    ("app_id", app_id),
                    ("name", "workflow"),
                    ("version", "1.0.3"),
                    ("md5", &md5),
                ],
                &[("workflow.tar.gz", &archive)],
            ),
        )
        .await;
    let script = b"#!/bin/bash\necho hi\n";
    let file_md5 = json!({"deploy.sh": md5_hex(script)}).to_string();
    let scripted = fixture
        .service
        .script_upload(
            actor,
            items(
                &[
                    ("app_id", app_id),
                    ("name", "deploy"),
                    ("file_md5", &file_md5),
                ],
                &[("deploy.sh", script)],
            ),
        )
        .await;
    let template = b"Listen {{ port }}\n";
    let file_md5 = json!({
        "httpd.conf.j2": md5_hex(template),
        "httpd.conf.yml": md5_hex(SCHEMA.as_bytes()),
    })
    .to_string();
    let configured = fixture
        .service
        .configure_upload(
            actor,
            items(
                &[
                    ("app_id", app_id),
                    ("name", "httpd"),
                    ("file_md5", &file_md5),
                ],
                &[
                    ("httpd.conf.j2", template),
                    ("httpd.conf.yml", SCHEMA.as_bytes()),
                ],
            ),
        )
        .await;
    [synced, scripted, configured]
}

async fn uploads_for_an_unknown_application_are_refused_and_leave_nothing(database: Database) {
    let fixture = fixture(database).await;
    let operator = actor("olivia", "operator");
    for (upload, outcome) in ["package sync", "script", "configure"]
        .into_iter()
        .zip(upload_all_three(&fixture, &operator, "nope").await)
    {
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
    let everything = fixture
        .service
        .filter_artifacts(&operator, None, None)
        .await
        .expect("filter");
    assert!(everything.is_empty(), "{everything:?}");
    assert!(
        fixture
            .service
            .list_scripts(&operator, "nope", "")
            .await
            .expect("list")
            .is_empty()
    );

    // The same uploads for an application that exists are stored.
    for (upload, outcome) in ["package sync", "script", "configure"]
        .into_iter()
        .zip(upload_all_three(&fixture, &operator, "5093").await)
    {
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
    assert_eq!(
        fixture
            .service
            .list_scripts(&operator, "5093", "")
            .await
            .expect("list")
            .len(),
        1
    );
}

async fn uploads_fail_and_leave_nothing_when_the_resource_service_is_unreachable(
    database: Database,
) {
    // A port nothing listens on any more.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let fixture = fixture_with(database, channel_to(&url), None);
    let operator = actor("olivia", "operator");
    for (upload, outcome) in ["package sync", "script", "configure"]
        .into_iter()
        .zip(upload_all_three(&fixture, &operator, "5093").await)
    {
        let error = outcome.expect_err(upload);
        assert!(
            matches!(&error, ArtifactError::Upstream(status) if status.code() == tonic::Code::Unavailable),
            "{upload}: {error:?}"
        );
    }
    assert!(fixture.objects().is_empty(), "{:?}", fixture.objects());
    assert!(fixture.spooled().is_empty(), "{:?}", fixture.spooled());
    let everything = fixture
        .service
        .filter_artifacts(&operator, None, None)
        .await
        .expect("filter");
    assert!(everything.is_empty(), "{everything:?}");
}

database_test_suite!(MIGRATIONS;
    package_sync_stores_files_and_templates,
    concurrent_syncs_of_a_new_package_all_become_versions_of_it,
    refused_uploads_leave_nothing,
    scripts_are_reviewed_by_someone_else,
    method_packages_are_versioned,
    uploads_for_an_unknown_application_are_refused_and_leave_nothing,
    uploads_fail_and_leave_nothing_when_the_resource_service_is_unreachable,
);
