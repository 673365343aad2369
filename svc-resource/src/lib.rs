//! svc-resource: users and roles, product lines → applications → modules, environments and
//! cluster types (SPEC §2). `open` prepares the database and the first admin; `grpc_service`
//! wraps the rules for a tonic server.

pub mod db;
pub mod grpc;
pub mod jobs;
pub mod service;

use std::{sync::Arc, time::Duration};

use common::{
    auth::JwtKeys, cache::SharedCache, config::Config, crypto::CredentialCipher, db::Database,
    doorway::Authenticated,
};
use proto::resource::v1::resource_service_server::ResourceServiceServer;

pub use jobs::JobsDirectory;
pub use service::{AdminBootstrap, ClusterUsage, ResourceService, ResourceSettings};

/// Opens the resource database named by the config and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, common::db::DbError> {
    let database = Database::connect(
        &config.resource.database_url,
        &config.resource.database_schema,
    )?;
    let applied = database.migrate(&db::MIGRATIONS)?;
    if !applied.is_empty() {
        tracing::info!(database = %database.describe(), migrations = ?applied, "resource migrations applied");
    }
    Ok(database)
}

/// The resource rules over an open database; `cluster_usage` answers whether a job step is bound
/// to a cluster (the jobs service, see [`JobsDirectory`]).
pub fn service(
    config: &Config,
    database: Database,
    cache: SharedCache,
    jwt: JwtKeys,
    cipher: CredentialCipher,
    cluster_usage: Arc<dyn ClusterUsage>,
) -> ResourceService {
    ResourceService::new(
        database,
        cache,
        jwt,
        cipher,
        ResourceSettings {
            token_ttl: Duration::from_secs(config.token_ttl_secs),
            login_attempts_per_minute: config.login_attempts_per_minute,
            ssh_timeout: Duration::from_secs(config.ssh_timeout_secs),
        },
        cluster_usage,
    )
}

/// The gRPC methods whose whole answer is one read-through read of the request (see
/// [`common::read_cache::provenance`]): their answers say what they were read under.
pub const READ_THROUGH_METHODS: &[&str] = &[
    "/tad.resource.v1.ResourceService/ListProductLines",
    "/tad.resource.v1.ResourceService/ListApplications",
    "/tad.resource.v1.ResourceService/ListEnvs",
    "/tad.resource.v1.ResourceService/ListModules",
    "/tad.resource.v1.ResourceService/ListClusterTypes",
    "/tad.resource.v1.ResourceService/QueryClusters",
    "/tad.resource.v1.ResourceService/QueryHosts",
    "/tad.resource.v1.ResourceService/ListClusters",
    "/tad.resource.v1.ResourceService/GetClusters",
    "/tad.resource.v1.ResourceService/ClusterHostCandidates",
    "/tad.resource.v1.ResourceService/ClusterHosts",
    "/tad.resource.v1.ResourceService/ListHosts",
];

/// The tonic service to add to a server, its callers verified once per call.
pub fn grpc_service(
    service: ResourceService,
) -> Authenticated<ResourceServiceServer<grpc::ResourceGrpc>> {
    let jwt = service.jwt().clone();
    Authenticated::new(
        ResourceServiceServer::new(grpc::ResourceGrpc::new(service)),
        jwt,
    )
}
