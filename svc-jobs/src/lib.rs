//! svc-jobs: job templates, job instances and their steps, joint lines (SPEC §4), and their
//! execution (SPEC §5): runs, steps and host tasks over SSH or on the TAD host, logs and events.

pub mod artifact;
pub mod db;
pub mod domain;
pub mod execution;
pub mod grpc;
pub mod resource;
pub mod sealed;
pub mod service;

use common::{auth::JwtKeys, config::Config, db::Database, doorway::Authenticated};
use proto::jobs::v1::jobs_service_server::JobsServiceServer;

pub use service::JobsService;

/// Opens the jobs database named by the config and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, common::db::DbError> {
    let database = Database::connect(&config.jobs.database_url, &config.jobs.database_schema)?;
    let applied = database.migrate(&db::MIGRATIONS)?;
    if !applied.is_empty() {
        tracing::info!(database = %database.describe(), migrations = ?applied, "jobs migrations applied");
    }
    Ok(database)
}

/// The gRPC methods whose whole answer is one read-through read of the request (see
/// [`common::read_cache::provenance`]): their answers say what they were read under.
pub const READ_THROUGH_METHODS: &[&str] = &[
    "/tad.jobs.v1.JobsService/QueryTemplates",
    "/tad.jobs.v1.JobsService/ListTemplates",
    "/tad.jobs.v1.JobsService/QueryInstances",
    "/tad.jobs.v1.JobsService/ListInstances",
    "/tad.jobs.v1.JobsService/QueryJointLines",
    "/tad.jobs.v1.JobsService/TemplateMethods",
    "/tad.jobs.v1.JobsService/InstanceDetails",
    "/tad.jobs.v1.JobsService/JointLineStructure",
    "/tad.jobs.v1.JobsService/StepArtifacts",
    "/tad.jobs.v1.JobsService/StepConfigSchema",
    "/tad.jobs.v1.JobsService/StepConfigs",
    "/tad.jobs.v1.JobsService/StepParams",
    "/tad.jobs.v1.JobsService/StepScripts",
    "/tad.jobs.v1.JobsService/ExportWorkOrder",
];

/// The tonic service to add to a server, its callers verified with `jwt` once per call.
pub fn grpc_service(
    service: JobsService,
    jwt: JwtKeys,
) -> Authenticated<JobsServiceServer<grpc::JobsGrpc>> {
    Authenticated::new(JobsServiceServer::new(grpc::JobsGrpc::new(service)), jwt)
}
