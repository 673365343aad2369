//! The process roles: `serve` (gateway and services in one process on an in-process gRPC server
//! reached through memory, so embedded mode runs the production code path without a port), `gateway`, `resource`, `artifact`, `jobs`,
//! `appinhouse serve` and `migrate`.

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use common::{
    auth::JwtKeys,
    bus::{InMemoryBus, RedisBus, SharedBus},
    cache::{InMemoryCache, RedisCache, SharedCache},
    config::Config,
    crypto::CredentialCipher,
    secrets,
};
use gateway::{
    GatewaySettings,
    clients::{ServiceAddrs, ServiceEndpoints},
};
use proto::jobs::v1::jobs_service_server::JobsServiceServer;
use proto::{
    appinhouse::v1::appinhouse_service_server::AppinhouseServiceServer,
    artifact::v1::artifact_service_server::ArtifactServiceServer,
    resource::v1::resource_service_server::ResourceServiceServer,
};
use svc_appinhouse::{AppinhouseService, grpc::AppinhouseGrpc};
use svc_artifact::{ArtifactService, grpc::ArtifactGrpc};
use svc_jobs::{
    JobsService,
    artifact::ArtifactDirectory,
    execution::{Engine, EngineSettings},
    grpc::JobsGrpc,
    resource::ResourceDirectory,
};
use svc_resource::{AdminBootstrap, ResourceService, grpc::ResourceGrpc};
use tokio::sync::oneshot;
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};

fn redis_unreachable(url: &str) -> String {
    format!(
        "cannot connect to redis at {}",
        common::db::redact_url_password(url)
    )
}

/// The shared cache: Redis when `TAD_REDIS_URL` is set, else in-process.
pub async fn shared_cache(config: &Config) -> anyhow::Result<SharedCache> {
    match &config.redis_url {
        Some(url) => {
            let cache = RedisCache::connect(url, &config.redis_prefix)
                .await
                .with_context(|| redis_unreachable(url))?;
            Ok(Arc::new(cache))
        }
        None => Ok(Arc::new(InMemoryCache::new())),
    }
}

/// The event bus: Redis pub/sub when `TAD_REDIS_URL` is set, else in-process.
pub async fn shared_bus(config: &Config) -> anyhow::Result<SharedBus> {
    match &config.redis_url {
        Some(url) => {
            let bus = RedisBus::connect(url, &config.redis_prefix)
                .await
                .with_context(|| redis_unreachable(url))?;
            Ok(Arc::new(bus))
        }
        None => Ok(Arc::new(InMemoryBus::new())),
    }
}

/// Opens (and migrates) the resource database and builds the rules over it; the rules ask the
/// jobs service behind `jobs` whether a cluster is in use before deleting it. The credential key
/// is generated into the data directory when `generate_keys` is true (embedded mode).
pub async fn resource_service(
    config: &Config,
    cache: SharedCache,
    jwt: JwtKeys,
    generate_keys: bool,
    jobs: tonic::transport::Channel,
) -> anyhow::Result<ResourceService> {
    let cipher =
        CredentialCipher::from_hex_key(&secrets::credential_key(config, generate_keys)?)
            .context("invalid credential key (TAD_CREDENTIAL_KEY / TAD_CREDENTIAL_KEY_FILE)")?;
    let blocking_config = config.clone();
    let database =
        tokio::task::spawn_blocking(move || svc_resource::open_database(&blocking_config))
            .await
            .context("database task stopped")?
            .context("cannot open the resource database")?;
    // The owner checks sessions in its own database; revocations reach the other processes on
    // the bus.
    let sessions = common::sessions::Sessions::new(
        svc_resource::service::sessions::DbSessions::shared(database.clone()),
        Some(shared_bus(config).await?),
    );
    let jwt = jwt.with_sessions(sessions);
    let jobs = svc_resource::JobsDirectory::new(jobs);
    start_audit_retention(config, "resource", &database);
    Ok(svc_resource::service(
        config,
        database,
        cache,
        jwt,
        cipher,
        std::sync::Arc::new(jobs),
    ))
}

/// Starts the hourly audit retention sweep of `service` when `TAD_AUDIT_RETENTION_DAYS` is set.
fn start_audit_retention(config: &Config, service: &'static str, database: &common::db::Database) {
    if let Some(days) = config.audit_retention_days {
        common::audit_retention::start(service, database.clone(), days);
    }
}

/// Opens (and migrates) the appinhouse database and file store and builds the rules over them.
/// `tad serve` generates the secret key into the data directory and prints it once.
pub async fn appinhouse_service(
    config: &Config,
    generate_secret: bool,
    read_generations: SharedCache,
) -> anyhow::Result<AppinhouseService> {
    let secret = secrets::appinhouse_secret_key(config, generate_secret)?;
    if secret.generated {
        println!("appinhouse X-SecretKey: {}", secret.key);
        println!(
            "(generated into {}; shown only this once; set TAD_APPINHOUSE_SECRET_KEY to choose it)",
            config.data_dir.join("appinhouse.key").display()
        );
    }
    let blocking_config = config.clone();
    let database =
        tokio::task::spawn_blocking(move || svc_appinhouse::open_database(&blocking_config))
            .await
            .context("database task stopped")?
            .context("cannot open the appinhouse database")?;
    start_audit_retention(config, "appinhouse", &database);
    // The error names the directory or the bucket (never its credentials).
    let store =
        svc_appinhouse::open_store(config).context("cannot open the appinhouse file store")?;
    // The read cache's generations: Redis across replicas, in memory in `tad serve` (shared
    // with the other services and the gateway there).
    let service = AppinhouseService::new(
        database,
        store,
        svc_appinhouse::settings(config, secret.key),
    )
    .with_shared_cache(read_generations);
    let collector = service.clone();
    let min_age = std::time::Duration::from_secs(config.storage_gc_age_secs);
    tokio::spawn(async move {
        if let Err(error) = collector.remove_leftovers(min_age).await {
            tracing::warn!(service = "appinhouse", %error, "cannot remove crash leftovers");
        }
    });
    if let Some(max_age_days) = config.appinhouse_options.max_age_days {
        service.start_retention(max_age_days);
    }
    Ok(service)
}

/// A lazily connected channel to another service; with several replicas listed
/// (comma-separated, as the configuration checked them), calls are balanced over the ones that
/// accept connections ([`crate::balanced`]).
pub(crate) fn service_channel(
    service: &'static str,
    addr: &str,
) -> anyhow::Result<tonic::transport::Channel> {
    let endpoints = addr
        .split(',')
        .map(|one| {
            let one = one.trim();
            Ok(tonic::transport::Endpoint::from_shared(one.to_owned())
                .with_context(|| format!("{service} address {one:?} is not a URL"))?
                .connect_timeout(std::time::Duration::from_secs(5)))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(match endpoints.as_slice() {
        [one] => one.connect_lazy(),
        _ => crate::balanced::balanced(service, endpoints),
    })
}

/// Opens (and migrates) the jobs database and starts its execution engine (with the sweeper of
/// runs whose owner vanished); the jobs rules ask the resource and artifact services behind the
/// given channels.
pub async fn jobs_service(
    config: &Config,
    jwt: JwtKeys,
    generate_keys: bool,
    cache: SharedCache,
    resource: tonic::transport::Channel,
    artifact: tonic::transport::Channel,
) -> anyhow::Result<JobsService> {
    // Parameter values and run snapshots are sealed with the key of the SSH credentials.
    let sealer = svc_jobs::sealed::Sealer::new(
        CredentialCipher::from_hex_key(&secrets::credential_key(config, generate_keys)?)
            .context("invalid credential key (TAD_CREDENTIAL_KEY / TAD_CREDENTIAL_KEY_FILE)")?,
    );
    let blocking_config = config.clone();
    let database = tokio::task::spawn_blocking(move || svc_jobs::open_database(&blocking_config))
        .await
        .context("database task stopped")?
        .context("cannot open the jobs database")?;
    svc_jobs::sealed::seal_plaintext_rows(&database, &sealer)
        .await
        .context("cannot seal the values of the jobs database")?;
    start_audit_retention(config, "jobs", &database);
    let resource = ResourceDirectory::new(resource);
    let artifact = ArtifactDirectory::new(artifact);
    let engine = Engine::new(
        database.clone(),
        resource.clone(),
        artifact.clone(),
        shared_bus(config).await?,
        jwt,
        // The read cache's generations; the instance lists also read svc-resource's catalog
        // generation, so `cache` is the one svc-resource bumps (Redis, or the one of `tad serve`).
        common::read_cache::ReadCache::new("jobs", cache, svc_jobs::domain::ANSWER_TTL),
        EngineSettings {
            options: config.execution.clone(),
            ssh_timeout: std::time::Duration::from_secs(config.ssh_timeout_secs),
            webhook_key: secrets::webhook_secret(config, generate_keys)?,
            when_idle: Some(std::sync::Arc::new(crate::memory::release_free_memory)),
            sealer,
        },
    )?;
    engine.start_sweeper();
    Ok(JobsService::new(database, resource, artifact, engine))
}

/// Token keys of a process that does not own sessions: each user token's session is checked
/// with the resource service at `resource_addr`.
async fn remote_checked_keys(config: &Config, resource_addr: &str) -> anyhow::Result<JwtKeys> {
    let jwt = JwtKeys::new(&secrets::jwt_secret(config, false)?);
    // Answers are cached only when revocations can reach this process (Redis); without it every
    // request asks the owner.
    let bus = match &config.redis_url {
        Some(_) => Some(shared_bus(config).await?),
        None => None,
    };
    let sessions = crate::sessions::remote(service_channel("resource", resource_addr)?, bus);
    Ok(jwt.with_sessions(sessions))
}

/// Startup check of a split service role (`role` is its subcommand, `service` its section): its
/// database URL is configured and, with Redis, the same as the other live replicas'.
async fn check_replica_database(
    config: &Config,
    role: &str,
    service: &'static str,
) -> anyhow::Result<()> {
    let section = match service {
        "resource" => &config.resource,
        "artifact" => &config.artifact,
        "jobs" => &config.jobs,
        _ => &config.appinhouse,
    };
    let key = common::config::keys::SERVICES
        .iter()
        .find(|keys| keys.name == service)
        .map(|keys| keys.database_url)
        .context("no such service section")?;
    crate::replicas::require_database_url(role, section, &key)?;
    if config.redis_url.is_some() {
        let identity = crate::replicas::DatabaseIdentity::of(section);
        crate::replicas::claim_database(shared_cache(config).await?, service, identity, &key)
            .await?;
    }
    Ok(())
}

/// `tad jobs`.
pub async fn jobs(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad-jobs", config.log_format)?;
    check_replica_database(&config, "jobs", "jobs").await?;
    let jwt = remote_checked_keys(&config, &config.resource.addr).await?;
    let service = jobs_service(
        &config,
        jwt.clone(),
        false,
        shared_cache(&config).await?,
        service_channel("resource", &config.resource.addr)?,
        service_channel("artifact", &config.artifact.addr)?,
    )
    .await?;
    let listener = listen_grpc("jobs", config.jobs.listen, service.database().describe()).await?;
    let engine = service.engine().clone();
    let drain_grace = std::time::Duration::from_secs(config.execution.drain_secs);
    let services = HostedServices {
        jobs: Some((service, jwt)),
        ..HostedServices::default()
    };
    // SIGTERM: release the runs first (held 6.1 requests then answer), then stop serving.
    serve_grpc(services, listener, async move {
        shutdown_signal().await;
        engine.drain(drain_grace).await;
    })
    .await
}

/// Opens (and migrates) the artifact database and the object store, and builds the rules; they
/// ask the resource service behind `resource` whether an upload's application exists.
pub async fn artifact_service(
    config: &Config,
    jwt: JwtKeys,
    resource: tonic::transport::Channel,
    read_generations: SharedCache,
) -> anyhow::Result<ArtifactService> {
    let blocking_config = config.clone();
    let (database, storage) = tokio::task::spawn_blocking(move || {
        let database = svc_artifact::open_database(&blocking_config)
            .context("cannot open the artifact database")?;
        let storage = svc_artifact::open_storage(&blocking_config)
            .context("cannot open the artifact object store")?;
        Ok::<_, anyhow::Error>((database, storage))
    })
    .await
    .context("database task stopped")??;
    let resource = svc_artifact::ResourceDirectory::new(resource);
    start_audit_retention(config, "artifact", &database);
    let service = svc_artifact::service(config, database, storage, jwt, resource)
        .with_read_generations(read_generations);
    // Crash leftovers go in the background: listing a large bucket must not delay serving.
    let collector = service.clone();
    let min_age = std::time::Duration::from_secs(config.storage_gc_age_secs);
    tokio::spawn(async move {
        if let Err(error) = collector.remove_leftovers(min_age).await {
            tracing::warn!(service = "artifact", %error, "cannot remove crash leftovers");
        }
    });
    Ok(service)
}

/// Creates the first admin when there is no user, and tells the operator about it once.
pub async fn bootstrap_admin(
    config: &Config,
    service: &ResourceService,
) -> anyhow::Result<AdminBootstrap> {
    let bootstrap = service
        .ensure_admin(config.admin_password.as_deref())
        .await
        .context("cannot create the first admin user")?;
    match &bootstrap {
        AdminBootstrap::Created {
            generated_password: Some(password),
        } => {
            println!("created user admin with password: {password}");
            println!("(shown only this once; set TAD_ADMIN_PASSWORD to choose it)");
        }
        AdminBootstrap::Created {
            generated_password: None,
        } => {
            println!("created user admin with the password from TAD_ADMIN_PASSWORD");
        }
        AdminBootstrap::Existing => {}
    }
    Ok(bootstrap)
}

/// The services one process hosts: all of them in `tad serve`, one in `tad <service>`.
#[derive(Default)]
pub struct HostedServices {
    pub resource: Option<ResourceService>,
    pub artifact: Option<ArtifactService>,
    pub jobs: Option<(JobsService, JwtKeys)>,
    pub appinhouse: Option<(AppinhouseService, JwtKeys)>,
}

impl HostedServices {
    /// gRPC routes of the hosted services, each reported `SERVING` in gRPC health.
    async fn routes(self) -> tonic::service::Routes {
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let mut routes = tonic::service::RoutesBuilder::default();
        routes.add_service(health_service);
        if let Some(resource) = self.resource {
            health_reporter
                .set_serving::<ResourceServiceServer<ResourceGrpc>>()
                .await;
            routes.add_service(svc_resource::grpc_service(resource));
        }
        if let Some(artifact) = self.artifact {
            health_reporter
                .set_serving::<ArtifactServiceServer<ArtifactGrpc>>()
                .await;
            routes.add_service(svc_artifact::grpc_service(artifact));
        }
        if let Some((jobs, jwt)) = self.jobs {
            health_reporter
                .set_serving::<JobsServiceServer<JobsGrpc>>()
                .await;
            routes.add_service(svc_jobs::grpc_service(jobs, jwt));
        }
        if let Some((appinhouse, jwt)) = self.appinhouse {
            health_reporter
                .set_serving::<AppinhouseServiceServer<AppinhouseGrpc>>()
                .await;
            routes.add_service(svc_appinhouse::grpc_service(appinhouse, jwt));
        }
        routes.routes()
    }
}

/// Serves the hosted services (and gRPC health) on `listener` until `shutdown` completes.
pub async fn serve_grpc(
    services: HostedServices,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Accepted sockets get TCP_NODELAY: small gRPC answers must not wait for delayed ACKs
    // (tonic sets it only on sockets it accepts itself).
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        if let Ok(stream) = &accepted
            && let Err(error) = stream.set_nodelay(true)
        {
            tracing::warn!(%error, "cannot set TCP_NODELAY on a gRPC connection");
        }
        accepted
    });
    serve_incoming(services, incoming, shutdown).await
}

/// Serves the hosted services (and gRPC health) to the in-process connections of `incoming` until
/// `shutdown` completes.
async fn serve_grpc_in_process(
    services: HostedServices,
    incoming: common::in_process::InProcessIncoming,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    serve_incoming(services, incoming, shutdown).await
}

/// Serves the hosted services (and gRPC health) on the connections of `incoming` until
/// `shutdown` completes.
async fn serve_incoming<Connections, Connection, Failure>(
    services: HostedServices,
    incoming: Connections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    Connections: futures::Stream<Item = Result<Connection, Failure>>,
    Connection: tonic::transport::server::Connected
        + tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + Unpin
        + Send
        + 'static,
    Connection::ConnectInfo: Clone + Send + Sync + 'static,
    Failure: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let read_through = svc_resource::READ_THROUGH_METHODS
        .iter()
        .chain(svc_jobs::READ_THROUGH_METHODS)
        .chain(svc_appinhouse::READ_THROUGH_METHODS)
        .chain(svc_artifact::READ_THROUGH_METHODS)
        .copied();
    tonic::transport::Server::builder()
        .trace_fn(common::telemetry::grpc_server_span)
        .layer(common::read_cache::provenance::ReadUnderLayer::new(
            read_through,
        ))
        .add_routes(services.routes().await)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
        .context("gRPC server failed")
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutdown requested");
}

fn gateway_settings(config: &Config, endpoints: ServiceEndpoints, jwt: JwtKeys) -> GatewaySettings {
    GatewaySettings {
        endpoints,
        jwt,
        timezone: config.timezone,
        max_body_bytes: config.max_body_bytes,
        max_upload_bytes: config.artifact_store.max_upload_bytes,
        workers: None,
        body_idle_timeout: std::time::Duration::from_secs(config.body_idle_timeout_secs),
        header_timeout: std::time::Duration::from_secs(config.header_timeout_secs),
        keep_alive: std::time::Duration::from_secs(config.keep_alive_secs),
        console: gateway::console::ConsoleSettings::default(),
        anonymous_refusals_per_minute: config.audit_anonymous_refusals_per_minute,
        read_generations: None,
    }
}

/// What the console's login page says after this process created the first admin.
fn first_start(admin: &AdminBootstrap) -> Option<gateway::console::FirstStart> {
    match admin {
        AdminBootstrap::Created {
            generated_password: Some(_),
        } => Some(gateway::console::FirstStart::GeneratedPassword),
        AdminBootstrap::Created {
            generated_password: None,
        } => Some(gateway::console::FirstStart::ConfiguredPassword),
        AdminBootstrap::Existing => None,
    }
}

/// A running embedded platform (gateway and services in this process).
pub struct Embedded {
    /// Base URL of the gateway, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// What the first start did about the admin user.
    pub admin: AdminBootstrap,
    gateway: actix_web::dev::ServerHandle,
    gateway_task: tokio::task::JoinHandle<std::io::Result<()>>,
    grpc_stop: oneshot::Sender<()>,
    grpc_task: tokio::task::JoinHandle<anyhow::Result<()>>,
    engine: Engine,
    drain_grace: std::time::Duration,
}

impl Embedded {
    /// Releases the runs, stops the gateway (finishing in-flight requests), then the services.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.engine.drain(self.drain_grace).await;
        self.gateway.stop(true).await;
        let _ = self.gateway_task.await;
        let _ = self.grpc_stop.send(());
        self.grpc_task.await.context("gRPC task stopped")??;
        Ok(())
    }
}

/// Starts everything of `tad serve` (embedded SQLite under the data dir, keys generated once).
pub async fn start_embedded(config: &Config) -> anyhow::Result<Embedded> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let jwt = JwtKeys::new(&secrets::jwt_secret(config, true)?);
    let cache = shared_cache(config).await?;
    let read_generations = cache.clone();
    // Every service is on one in-process gRPC server: the gateway and the services reach it
    // through memory, not loopback TCP.
    let (connector, incoming) = common::in_process::in_process();
    let resource = resource_service(config, cache.clone(), jwt, true, connector.channel()).await?;
    // Every part of this process checks sessions with the owner's check (one cache, one bus).
    let jwt = resource.jwt().clone();
    let admin = bootstrap_admin(config, &resource).await?;
    let appinhouse = appinhouse_service(config, true, cache.clone()).await?;

    // The catalog's generation is the one svc-jobs reads beside its own (template methods).
    let artifact =
        artifact_service(config, jwt.clone(), connector.channel(), cache.clone()).await?;
    let jobs = jobs_service(
        config,
        jwt.clone(),
        true,
        cache,
        connector.channel(),
        connector.channel(),
    )
    .await?;
    let engine = jobs.engine().clone();
    let (grpc_stop, grpc_stopped) = oneshot::channel::<()>();
    let services = HostedServices {
        resource: Some(resource),
        artifact: Some(artifact),
        jobs: Some((jobs, jwt.clone())),
        appinhouse: Some((appinhouse, jwt.clone())),
    };
    let grpc_task = tokio::spawn(serve_grpc_in_process(services, incoming, async move {
        let _ = grpc_stopped.await;
    }));

    let endpoints = ServiceEndpoints::in_process(&connector);
    let http_listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let url = format!("http://{}", http_listener.local_addr()?);
    let mut settings = gateway_settings(config, endpoints, jwt);
    settings.console.first_start = first_start(&admin);
    // The services' read generations are in this process's shared cache: the gateway reads
    // the very ones they write.
    settings.read_generations = Some(read_generations);
    let server = gateway::server(settings, http_listener)?;
    let gateway = server.handle();
    let gateway_task = tokio::spawn(server);
    Ok(Embedded {
        url,
        admin,
        gateway,
        gateway_task,
        grpc_stop,
        grpc_task,
        engine,
        drain_grace: std::time::Duration::from_secs(config.execution.drain_secs),
    })
}

/// `tad serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad", config.log_format)?;
    let embedded = start_embedded(&config).await?;
    println!("TAD is listening on {}", embedded.url);
    println!("data directory: {}", config.data_dir.display());
    tracing::info!(url = %embedded.url, data_dir = %config.data_dir.display(), "tad serve started");
    shutdown_signal().await;
    embedded.stop().await
}

/// `tad gateway`.
pub async fn gateway(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad-gateway", config.log_format)?;
    let jwt = remote_checked_keys(&config, &config.resource.addr).await?;
    let endpoints = ServiceEndpoints::new(&ServiceAddrs::from_config(&config))?;
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut settings = gateway_settings(&config, endpoints, jwt);
    // Only Redis holds the generations the services write; without it nothing is kept.
    if config.redis_url.is_some() {
        settings.read_generations = Some(shared_cache(&config).await?);
    }
    let server = gateway::server(settings, listener)?;
    println!("TAD gateway is listening on {url}");
    tracing::info!(%url, resource = %config.resource.addr, artifact = %config.artifact.addr, "gateway started");
    server.await.context("gateway stopped with an error")
}

/// `tad resource`.
pub async fn resource(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad-resource", config.log_format)?;
    check_replica_database(&config, "resource", "resource").await?;
    let jwt = JwtKeys::new(&secrets::jwt_secret(&config, false)?);
    let cache = shared_cache(&config).await?;
    let jobs = service_channel("jobs", &config.jobs.addr)?;
    let service = resource_service(&config, cache, jwt, false, jobs).await?;
    bootstrap_admin(&config, &service).await?;
    let database = service.database().describe();
    let services = HostedServices {
        resource: Some(service),
        ..HostedServices::default()
    };
    serve_split("resource", config.resource.listen, database, services).await
}

/// `tad appinhouse serve`.
pub async fn appinhouse(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad-appinhouse", config.log_format)?;
    check_replica_database(&config, "appinhouse serve", "appinhouse").await?;
    // Bearer tokens are checked for the audit query (admins and auditors; issue 20).
    let jwt = remote_checked_keys(&config, &config.resource.addr).await?;
    let service = appinhouse_service(&config, false, shared_cache(&config).await?).await?;
    let database = service.database().describe();
    let services = HostedServices {
        appinhouse: Some((service, jwt)),
        ..HostedServices::default()
    };
    serve_split("appinhouse", config.appinhouse.listen, database, services).await
}

/// `tad artifact`.
pub async fn artifact(config: Config) -> anyhow::Result<()> {
    let _telemetry = common::telemetry::init("tad-artifact", config.log_format)?;
    check_replica_database(&config, "artifact", "artifact").await?;
    let jwt = remote_checked_keys(&config, &config.resource.addr).await?;
    let resource = service_channel("resource", &config.resource.addr)?;
    let generations = shared_cache(&config).await?;
    let service = artifact_service(&config, jwt, resource, generations).await?;
    tracing::info!(
        resource = %config.resource.addr,
        storage = %service.storage().describe(),
        "artifact service peers"
    );
    let database = service.database().describe();
    let services = HostedServices {
        artifact: Some(service),
        ..HostedServices::default()
    };
    serve_split("artifact", config.artifact.listen, database, services).await
}

/// `tad migrate`.
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    type Opener = fn(&Config) -> Result<common::db::Database, common::db::DbError>;
    let databases: [(&str, Opener); 4] = [
        ("resource", svc_resource::open_database),
        ("appinhouse", svc_appinhouse::open_database),
        ("jobs", svc_jobs::open_database),
        ("artifact", svc_artifact::open_database),
    ];
    for (name, open) in databases {
        let blocking_config = config.clone();
        let database = tokio::task::spawn_blocking(move || open(&blocking_config))
            .await
            .context("database task stopped")?
            .with_context(|| format!("cannot migrate the {name} database"))?;
        println!("{name}: migrations applied on {}", database.describe());
    }
    Ok(())
}

/// Serves one split service until the process is asked to stop.
async fn serve_split(
    name: &str,
    listen: SocketAddr,
    database: String,
    services: HostedServices,
) -> anyhow::Result<()> {
    let listener = listen_grpc(name, listen, database).await?;
    serve_grpc(services, listener, shutdown_signal()).await
}

/// Binds the gRPC listener of the split service `name` at `listen` and says where it listens.
async fn listen_grpc(
    name: &str,
    listen: SocketAddr,
    database: String,
) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!("TAD {name} service is listening on {addr}");
    tracing::info!(%addr, %database, "{name} service started");
    Ok(listener)
}
