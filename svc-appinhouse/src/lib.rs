//! svc-appinhouse: in-house app distribution (SPEC §6): apps, builds per platform, OTA plists,
//! hosted build files (a local directory or an S3 bucket), retention by age. `open_database`
//! prepares its database, `open_store` its file store, `service` builds the rules and
//! `grpc_service` wraps them for a tonic server.

pub mod db;
pub mod grpc;
pub mod service;
pub mod store;

use common::{config::Config, db::Database};
use proto::appinhouse::v1::appinhouse_service_server::AppinhouseServiceServer;

pub use service::{AppinhouseError, AppinhouseService, AppinhouseSettings};
pub use store::{BuildStore, StoreError};

/// Opens the appinhouse database named by the config and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, common::db::DbError> {
    let database = Database::connect(
        &config.appinhouse.database_url,
        &config.appinhouse.database_schema,
    )?;
    let applied = database.migrate(&db::MIGRATIONS)?;
    if !applied.is_empty() {
        tracing::info!(database = %database.describe(), migrations = ?applied, "appinhouse migrations applied");
    }
    Ok(database)
}

/// Opens the store of hosted files: the directory `appinhouse.files_dir`, or the S3 bucket of
/// `appinhouse.s3_*`.
pub fn open_store(config: &Config) -> Result<BuildStore, StoreError> {
    BuildStore::open(&config.appinhouse_options.store)
}

/// The settings of the rules from the config and the secret key.
pub fn settings(config: &Config, secret_key: String) -> AppinhouseSettings {
    let options = &config.appinhouse_options;
    AppinhouseSettings {
        secret_key,
        page_size: i64::from(options.page_size),
        max_page: i64::from(options.max_page),
        min_residue: i64::from(options.min_residue),
        public_url: config.public_url.clone(),
        incoming_dir: options.incoming_dir.clone(),
    }
}

/// The gRPC methods whose whole answer is one read-through read of the request (see
/// [`common::read_cache::provenance`]): their answers say what they were read under.
pub const READ_THROUGH_METHODS: &[&str] = &[
    "/tad.appinhouse.v1.AppinhouseService/ListApps",
    "/tad.appinhouse.v1.AppinhouseService/LastBuilds",
    "/tad.appinhouse.v1.AppinhouseService/MobileLast",
    "/tad.appinhouse.v1.AppinhouseService/ListBuilds",
    "/tad.appinhouse.v1.AppinhouseService/AppPage",
    "/tad.appinhouse.v1.AppinhouseService/BuildPage",
    "/tad.appinhouse.v1.AppinhouseService/ListInstalls",
    "/tad.appinhouse.v1.AppinhouseService/GetPlist",
];

/// The tonic service to add to a server.
pub fn grpc_service(
    service: AppinhouseService,
    jwt: common::auth::JwtKeys,
) -> common::doorway::Authenticated<AppinhouseServiceServer<grpc::AppinhouseGrpc>> {
    common::doorway::Authenticated::new(
        AppinhouseServiceServer::new(grpc::AppinhouseGrpc::new(service))
            .max_decoding_message_size(16 * 1024 * 1024),
        jwt,
    )
}
