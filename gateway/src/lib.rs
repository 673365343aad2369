//! The TAD gateway: the only HTTP surface. It serves the legacy JSON API (the route table in
//! `routes.rs`, one declaration per route), checks tokens, and forwards each call to the owning service over gRPC with the
//! caller's token and trace context.

pub mod answer_cache;
pub mod assets;
pub mod audit;
pub mod body;
pub mod call_records;
pub mod clients;
pub mod console;
pub mod convert;
pub mod cookies;
pub mod envelope;
pub mod error;
pub mod failover;
pub mod idempotency;
pub mod idle;
pub mod install_tally;
pub mod legacy;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod refusal_limit;
pub mod routes;
pub mod routing;

use std::time::Duration;

use actix_web::{
    App, HttpServer,
    dev::Server,
    middleware::{NormalizePath, TrailingSlash, from_fn},
    web,
};
use common::{auth::JwtKeys, time::TimeRenderer};

use crate::{
    body::BodyLimit,
    clients::{Clients, ServiceEndpoints},
    idle::BodyIdleTimeout,
    metrics::Metrics,
};

/// Everything the gateway needs to serve.
#[derive(Clone)]
pub struct GatewaySettings {
    pub endpoints: ServiceEndpoints,
    pub jwt: JwtKeys,
    pub timezone: TimeRenderer,
    pub max_body_bytes: usize,
    /// Largest multipart upload forwarded to svc-artifact (its own limit, not the JSON one).
    pub max_upload_bytes: u64,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Longest wait for the next byte of a request body; the request is cut with 408 after it.
    pub body_idle_timeout: Duration,
    /// Time a client has to send a request's headers.
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection stays open.
    pub keep_alive: Duration,
    /// What the console's login page says about the first admin.
    pub console: console::ConsoleSettings,
    /// Refused writes without credentials recorded per client address and minute.
    pub anonymous_refusals_per_minute: u32,
    /// The shared cache that holds the services' read generations, when the gateway can read the
    /// very ones the services write (Redis, or the memory of `tad serve`): answers of kept read
    /// routes are then kept ([`answer_cache`]). `None` keeps nothing.
    pub read_generations: Option<common::cache::SharedCache>,
}

/// Builds the HTTP server on an already bound listener. The returned server is a future to run;
/// its handle stops it gracefully (in-flight requests finish).
pub fn server(
    settings: GatewaySettings,
    listener: std::net::TcpListener,
) -> anyhow::Result<Server> {
    let metrics = web::Data::new(Metrics::new()?);
    let jwt = web::Data::new(settings.jwt.clone());
    let times = web::Data::new(settings.timezone);
    let body_limit = web::Data::new(BodyLimit(settings.max_body_bytes));
    let body_idle_timeout = web::Data::new(BodyIdleTimeout(settings.body_idle_timeout));
    let upload_limit = web::Data::new(legacy::artifact::UploadLimit(settings.max_upload_bytes));
    let endpoints = settings.endpoints.clone();
    let console = web::Data::new(settings.console);
    let refusal_limiter = web::Data::new(refusal_limit::RefusalLimiter::new(
        settings.anonymous_refusals_per_minute,
    ));
    let kept_answers = web::Data::new(
        settings
            .read_generations
            .map(answer_cache::AnswerCache::new),
    );
    // Kept plists count their installs here (svc-appinhouse does not see them).
    let install_tally = web::Data::new(
        kept_answers
            .is_some()
            .then(|| install_tally::InstallTally::start(&endpoints)),
    );
    let mut server = HttpServer::new(move || {
        // One set of clients per worker, as tonic channels are built per worker.
        let clients = web::Data::new(Clients::connect_lazy(&endpoints));
        App::new()
            .app_data(clients)
            .app_data(metrics.clone())
            .app_data(jwt.clone())
            .app_data(times.clone())
            .app_data(body_limit.clone())
            .app_data(upload_limit.clone())
            .app_data(body_idle_timeout.clone())
            .app_data(console.clone())
            .app_data(refusal_limiter.clone())
            .app_data(body::query_config())
            .app_data(body::path_config())
            .app_data(kept_answers.clone())
            .app_data(install_tally.clone())
            .wrap(from_fn(answer_cache::serve_kept))
            .wrap(from_fn(middleware::require_token))
            .wrap(from_fn(middleware::record_refusals))
            .wrap(from_fn(idle::cut_stalled_bodies))
            .wrap(from_fn(middleware::security_headers))
            .wrap(from_fn(middleware::observe))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .configure(routes::configure)
            .default_service(web::to(legacy::ops::not_found))
    })
    .shutdown_timeout(30)
    // A client that sends its headers slowly, or keeps an idle connection open, is cut off.
    .client_request_timeout(settings.header_timeout)
    .client_disconnect_timeout(Duration::from_secs(1))
    .keep_alive(settings.keep_alive);
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    Ok(server.listen(listener)?.run())
}
