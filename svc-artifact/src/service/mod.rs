//! The rules of svc-artifact: who may do what, how uploads become files, versions, templates,
//! scripts and method packages, and consistent writes (a refused upload leaves no row and no
//! object). No proto or HTTP types here; the gRPC adapter translates.

pub mod archive;
pub mod components;
pub mod files;
pub mod ingest;
pub mod leftovers;
pub mod packages;
pub mod records;
pub mod schema;
pub mod scripts;
mod streamed;
pub mod templates;

use std::{path::PathBuf, sync::Arc, time::Duration};

use chrono::NaiveDateTime;
use common::{
    auth::JwtKeys,
    cache::{InMemoryCache, SharedCache},
    db::Database,
    read_cache::ReadCache,
    roles::{require_reader, require_reviewer, require_uploader},
    storage::ObjectStorage,
};
use futures::Stream;

pub use crate::domain::{ArtifactError, ArtifactResult, RecordKind};
pub use ingest::UploadItem;

use crate::{db::models::files::FileRow, resource::ResourceDirectory};

/// The caller: what its token says, and the token itself (forwarded to the resource service).
pub use common::auth::Actor;

/// Limits and scratch space of uploads.
#[derive(Debug, Clone)]
pub struct ArtifactSettings {
    /// Where uploads are unpacked before they are stored.
    pub spool_dir: PathBuf,
    pub max_upload_bytes: u64,
    pub max_unpacked_bytes: u64,
    pub max_entries: u64,
    /// Largest unpacked/packed size ratio of an archive (200 for 200:1).
    pub max_unpack_ratio: u64,
}

/// The scope of svc-artifact's scripts (5.11.1): bumped by every script upload and review.
pub const SCRIPTS_SCOPE: &str = common::read_cache::ARTIFACT_SCRIPTS;
/// The scope of stored files: they are never changed nor deleted once recorded (a file id names
/// the same bytes for good), so nothing bumps it; an answer read from one file alone depends on
/// it only.
pub const FILES_SCOPE: &str = "artifact:generation:files";
/// Most file texts (5.11.4) kept, and the largest kept: at most 2 MiB of them per process.
const KEPT_TEXTS: usize = 64;
const MAX_KEPT_TEXT_BYTES: usize = 32 * 1024;
/// How long a read answer is served from memory at most (writes through any replica are read
/// at once: the generations).
pub const ANSWER_TTL: Duration = Duration::from_secs(5);

/// The artifact service: its database, the object store, the token keys, the resource service
/// it asks whether an application exists, and the answers kept for repeated reads (the
/// component catalog, script lists).
#[derive(Clone)]
pub struct ArtifactService {
    database: Database,
    storage: ObjectStorage,
    jwt: JwtKeys,
    resource: ResourceDirectory,
    settings: ArtifactSettings,
    reads: Arc<ReadCache>,
    /// File texts (5.11.4): a few small ones, so the cache stays small beside the uploads.
    texts: Arc<ReadCache>,
}

/// What an upload stored.
#[derive(Debug, Clone, Default)]
pub struct UploadOutcome {
    /// Package sync: the archive; scripts and configs: each file; component: the package.
    pub files: Vec<FileRow>,
    pub version_id: String,
    /// Package sync: the files unpacked (not the templates).
    pub unpacked: Vec<FileRow>,
    /// The `.j2` files that became app-config template versions.
    pub templates: Vec<FileRow>,
}

impl ArtifactService {
    pub fn new(
        database: Database,
        storage: ObjectStorage,
        jwt: JwtKeys,
        resource: ResourceDirectory,
        settings: ArtifactSettings,
    ) -> ArtifactService {
        let reads = ReadCache::new("artifact", Arc::new(InMemoryCache::new()), ANSWER_TTL);
        ArtifactService {
            database,
            storage,
            jwt,
            resource,
            settings,
            texts: reads.sibling("artifact texts", KEPT_TEXTS),
            reads,
        }
    }

    /// Keeps the read cache's generations in `generations`, shared by every replica and by the
    /// services whose answers show the catalog (Redis, or the one cache of `tad serve`); without
    /// it they live in this process only.
    pub fn with_read_generations(mut self, generations: SharedCache) -> ArtifactService {
        self.reads = ReadCache::new("artifact", generations, ANSWER_TTL);
        self.texts = self.reads.sibling("artifact texts", KEPT_TEXTS);
        self
    }

    /// The database (readiness checks).
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The object store.
    pub fn storage(&self) -> &ObjectStorage {
        &self.storage
    }

    /// The token keys (the gRPC adapter verifies callers with them).
    pub fn jwt(&self) -> &JwtKeys {
        &self.jwt
    }

    pub fn settings(&self) -> &ArtifactSettings {
        &self.settings
    }

    /// Fails with the application not found unless `app_id` names an application of the
    /// resource service (asked with the caller's token). Uploads call it once the whole stream
    /// is in (`app_id` may come after the files) and before they write a row.
    async fn require_application(&self, actor: &Actor, app_id: &str) -> ArtifactResult<()> {
        if self
            .resource
            .application_exists(&actor.token, app_id)
            .await?
        {
            Ok(())
        } else {
            Err(ArtifactError::not_found(RecordKind::Application, app_id))
        }
    }

    /// Stores an upload of `kind` from its multipart `stream` once the caller may upload. The
    /// stream is read whole first (fields may come after the files); a refused upload leaves no
    /// row and no object behind.
    pub async fn upload<S>(
        &self,
        actor: &Actor,
        kind: UploadKind,
        stream: S,
    ) -> ArtifactResult<UploadOutcome>
    where
        S: Stream<Item = ArtifactResult<UploadItem>> + Unpin,
    {
        require_uploader(actor)?;
        let options = ingest::IngestOptions {
            storage: &self.storage,
            spool_dir: &self.settings.spool_dir,
            unpack: matches!(kind, UploadKind::PackageSync | UploadKind::Component)
                .then(|| self.unpack_limits()),
            max_bytes: self.settings.max_upload_bytes,
        };
        let ingested = ingest::ingest(options, stream).await?;
        let mut written = ingested.keys();
        let outcome = match kind {
            UploadKind::PackageSync => {
                self.package_sync_stored(actor, &ingested, &mut written)
                    .await
            }
            UploadKind::Script => self.script_stored(actor, &ingested).await,
            UploadKind::Configure => self.configure_stored(actor, &ingested).await,
            UploadKind::Component => self.component_stored(actor, &ingested).await,
        };
        if outcome.is_err() {
            self.storage.delete_all(&written).await;
        }
        outcome
    }
}

/// What an upload carries, which decides how it is checked and stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// Package sync (9): one archive, checked against `md5`, unpacked; every regular file but
    /// `*.yml`/`*.yaml`/`*.j2` becomes a file of a new version of package `name` of `app_id`;
    /// each `X.j2` with a sibling `X.yml` a new version of app-config template `X`.
    PackageSync,
    /// Script upload (5.11.1): files + `file_md5` + `name` + `app_id`.
    Script,
    /// App-config upload (5.11.1): files checked against `file_md5`, stored as a new version of
    /// configure artifact `name` of `app_id`; each `X.j2` becomes a template (schema of `X.yml`
    /// if sent).
    Configure,
    /// A method package (`POST /api/component/upload`).
    Component,
}

/// A file row for a stored object.
#[allow(clippy::too_many_arguments)]
fn file_row(
    id: &str,
    name: &str,
    path: &str,
    object_key: &str,
    digest: &common::storage::StoredDigest,
    version_id: &str,
    role: &str,
    creator: &str,
    now: NaiveDateTime,
) -> FileRow {
    FileRow {
        id: id.to_owned(),
        name: name.to_owned(),
        path: path.to_owned(),
        size: i64::try_from(digest.size).unwrap_or(i64::MAX),
        md5: digest.md5.clone(),
        sha256: digest.sha256.clone(),
        object_key: object_key.to_owned(),
        version_id: version_id.to_owned(),
        role: role.to_owned(),
        creator: creator.to_owned(),
        create_time: now,
    }
}
