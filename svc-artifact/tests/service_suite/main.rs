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
    storage::{ObjectStorage, StorageTarget, testing::files_under},
};
use md5::{Digest, Md5};
use serde_json::json;
use svc_artifact::{
    ArtifactService, ArtifactSettings, ResourceDirectory,
    db::{
        MIGRATIONS,
        models::{artifacts::ArtifactRow, scripts::ScriptRow},
    },
    service::{Actor, ArtifactError, RecordKind, UploadItem, UploadKind, UploadOutcome},
};
use svc_resource::{ResourceService, ResourceSettings};

mod audit_events;
mod packages;
mod scripts;
mod unknown_application;

use audit_events::*;
use packages::*;
use scripts::*;
use unknown_application::*;

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
        api_token: None,
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
    fixture_unpacking(database, 1 << 20).await
}

/// A fixture whose uploads may unpack to `max_unpacked_bytes`.
async fn fixture_unpacking(database: Database, max_unpacked_bytes: u64) -> Fixture {
    let resource = start_resource().await;
    let channel = channel_to(&resource.url);
    fixture_with(database, channel, Some(resource), max_unpacked_bytes)
}

fn fixture_with(
    database: Database,
    resource_channel: tonic::transport::Channel,
    resource: Option<ResourceServer>,
    max_unpacked_bytes: u64,
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
            max_unpacked_bytes,
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
    /// An upload of `kind` by `actor` with these text fields and files.
    async fn upload(
        &self,
        actor: &Actor,
        kind: UploadKind,
        fields: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Result<UploadOutcome, ArtifactError> {
        self.service.upload(actor, kind, items(fields, files)).await
    }

    /// A package sync of `archive` named `file`, with fields `[app_id, name, version, md5]`.
    async fn sync_package(
        &self,
        actor: &Actor,
        [app_id, name, version, md5]: [&str; 4],
        file: &str,
        archive: &[u8],
    ) -> Result<UploadOutcome, ArtifactError> {
        let fields = [
            ("app_id", app_id),
            ("name", name),
            ("version", version),
            ("md5", md5),
        ];
        self.upload(actor, UploadKind::PackageSync, &fields, &[(file, archive)])
            .await
    }

    /// A package sync of [`package_tar_gz`] as `{name}.tar.gz`, with fields
    /// `[app_id, name, version]` and the archive's md5.
    async fn sync_sample(
        &self,
        actor: &Actor,
        [app_id, name, version]: [&str; 3],
    ) -> Result<UploadOutcome, ArtifactError> {
        let archive = package_tar_gz();
        let md5 = md5_hex(&archive);
        let file = format!("{name}.tar.gz");
        self.sync_package(actor, [app_id, name, version, &md5], &file, &archive)
            .await
    }

    /// Every artifact `actor` can see, of any application and kind.
    async fn all_artifacts(&self, actor: &Actor) -> Vec<ArtifactRow> {
        self.service
            .filter_artifacts(actor, None, None)
            .await
            .expect("filter")
    }

    /// The scripts of `app_id` whose name contains `name`.
    async fn scripts(&self, actor: &Actor, app_id: &str, name: &str) -> Vec<ScriptRow> {
        self.service
            .list_scripts(actor, app_id, name)
            .await
            .expect("list")
    }

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
        files_under(&self.dir.path().join("objects"))
    }

    /// Every file left in the spool (archives to unpack, unpacked files).
    fn spooled(&self) -> Vec<std::path::PathBuf> {
        files_under(&self.dir.path().join("tmp"))
    }
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
    tar_gz(
        0o644,
        flate2::Compression::fast(),
        &[
            ("app/bin/app.jar", b"jar bytes".as_slice()),
            ("app/conf/httpd.conf.j2", b"Listen {{ port }}\n".as_slice()),
            ("app/conf/httpd.conf.yml", SCHEMA.as_bytes()),
            ("app/conf/lonely.yml", b"- key: x\n".as_slice()),
        ],
    )
}

/// A gzipped tar of `entries` (path, content), every file with `mode`.
fn tar_gz(mode: u32, compression: flate2::Compression, entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), compression));
    for (path, content) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        builder
            .append_data(&mut header, path, *content)
            .expect("append");
    }
    builder.into_inner().expect("tar").finish().expect("gzip")
}

database_test_suite!(MIGRATIONS;
    uploads_and_reviews_append_one_event_each,
    package_sync_stores_files_and_templates,
    concurrent_syncs_of_a_new_package_all_become_versions_of_it,
    refused_uploads_leave_nothing,
    an_archive_more_compressed_at_its_start_than_in_all_is_stored,
    scripts_are_reviewed_by_someone_else,
    method_packages_are_versioned,
    uploads_for_an_unknown_application_are_refused_and_leave_nothing,
    uploads_fail_and_leave_nothing_when_the_resource_service_is_unreachable,
);
