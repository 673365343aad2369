//! svc-artifact: stored files (object store), packages and versions, package sync, scripts and
//! their review, app-config templates, components and their method packages (SPEC §3).
//! `open_database` prepares the database; `service` builds the rules over it, the object store
//! and the resource service (asked whether an upload's application exists); `grpc_service`
//! wraps them for a tonic server.

pub mod db;
pub mod domain;
pub mod grpc;
pub mod resource;
pub mod service;

use common::{
    auth::JwtKeys,
    config::Config,
    db::Database,
    doorway::Authenticated,
    storage::{ObjectStorage, StorageError},
};
use proto::artifact::v1::artifact_service_server::ArtifactServiceServer;

pub use resource::ResourceDirectory;
pub use service::{ArtifactService, ArtifactSettings};

/// Largest gRPC message: an upload chunk or a download chunk stays well under it.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Opens the artifact database named by the config and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, common::db::DbError> {
    let database = Database::connect(
        &config.artifact.database_url,
        &config.artifact.database_schema,
    )?;
    let applied = database.migrate(&db::MIGRATIONS)?;
    if !applied.is_empty() {
        tracing::info!(database = %database.describe(), migrations = ?applied, "artifact migrations applied");
    }
    Ok(database)
}

/// Opens the object store named by the config.
pub fn open_storage(config: &Config) -> Result<ObjectStorage, StorageError> {
    ObjectStorage::open(&config.artifact_store.target)
}

/// The artifact rules over an open database and object store; applications are looked up in
/// the resource service behind `resource`.
/// The gRPC methods whose whole answer is one read-through read of the request (see
/// [`common::read_cache::provenance`]): their answers say what they were read under.
pub const READ_THROUGH_METHODS: &[&str] = &[
    "/tad.artifact.v1.ArtifactService/ListComponents",
    "/tad.artifact.v1.ArtifactService/ListScripts",
    "/tad.artifact.v1.ArtifactService/MethodSchema",
    "/tad.artifact.v1.ArtifactService/MayReview",
    "/tad.artifact.v1.ArtifactService/FilterArtifacts",
    "/tad.artifact.v1.ArtifactService/TemplateVersions",
    "/tad.artifact.v1.ArtifactService/ScriptFileText",
];

pub fn service(
    config: &Config,
    database: Database,
    storage: ObjectStorage,
    jwt: JwtKeys,
    resource: ResourceDirectory,
) -> ArtifactService {
    let store = &config.artifact_store;
    ArtifactService::new(
        database,
        storage,
        jwt,
        resource,
        ArtifactSettings {
            spool_dir: store.spool_dir.clone(),
            max_upload_bytes: store.max_upload_bytes,
            max_unpacked_bytes: store.max_unpacked_bytes,
            max_entries: store.max_entries,
            max_unpack_ratio: store.max_unpack_ratio,
        },
    )
}

/// The tonic service to add to a server, its callers verified once per call.
pub fn grpc_service(
    service: ArtifactService,
) -> Authenticated<ArtifactServiceServer<grpc::ArtifactGrpc>> {
    let jwt = service.jwt().clone();
    Authenticated::new(
        ArtifactServiceServer::new(grpc::ArtifactGrpc::new(service))
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES),
        jwt,
    )
}
