//! gRPC clients of the services and the caller's identity: every outgoing call carries the
//! caller's token and the W3C trace context of the current request span (a tonic interceptor).

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
pub use common::telemetry::reply;
use common::{
    auth::Claims,
    telemetry::{CallContext, CallerChannel},
};
use futures::future::{Ready, ready};
use proto::{
    ErrorReason,
    appinhouse::v1::{
        appinhouse_service_client::AppinhouseServiceClient, appinhouse_service_server,
    },
    artifact::v1::{artifact_service_client::ArtifactServiceClient, artifact_service_server},
    jobs::v1::{jobs_service_client::JobsServiceClient, jobs_service_server},
    resource::v1::{resource_service_client::ResourceServiceClient, resource_service_server},
};
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_client::HealthClient;

use crate::error::ApiError;

/// Where the gateway finds each service (`TAD_<SERVICE>_ADDR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAddrs {
    pub resource: String,
    pub artifact: String,
    pub jobs: String,
    pub appinhouse: String,
}

impl ServiceAddrs {
    /// The addresses configured for each service.
    pub fn from_config(config: &common::config::Config) -> ServiceAddrs {
        ServiceAddrs {
            resource: config.resource.addr.clone(),
            artifact: config.artifact.addr.clone(),
            jobs: config.jobs.addr.clone(),
            appinhouse: config.appinhouse.addr.clone(),
        }
    }

    /// Every service at one address (the embedded mode's loopback server).
    pub fn all_at(url: &str) -> ServiceAddrs {
        ServiceAddrs {
            resource: url.to_owned(),
            artifact: url.to_owned(),
            jobs: url.to_owned(),
            appinhouse: url.to_owned(),
        }
    }
}

/// The service addresses, checked once at startup.
#[derive(Debug, Clone)]
pub struct ServiceEndpoints {
    resource: Endpoint,
    artifact: Endpoint,
    jobs: Endpoint,
    appinhouse: Endpoint,
}

/// Largest gRPC message to and from svc-artifact (upload and download chunks stay under it).
const ARTIFACT_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Largest gRPC message from svc-appinhouse.
const APPINHOUSE_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// A service address that is not a URL.
#[derive(Debug, thiserror::Error)]
#[error("address of the {service} service {addr:?} is not a valid URL: {message}")]
pub struct InvalidAddress {
    pub service: &'static str,
    pub addr: String,
    pub message: String,
}

fn endpoint(service: &'static str, addr: &str) -> Result<Endpoint, InvalidAddress> {
    Endpoint::from_shared(addr.to_owned())
        .map(|endpoint| endpoint.connect_timeout(Duration::from_secs(5)))
        .map_err(|error| InvalidAddress {
            service,
            addr: addr.to_owned(),
            message: error.to_string(),
        })
}

impl ServiceEndpoints {
    pub fn new(addrs: &ServiceAddrs) -> Result<ServiceEndpoints, InvalidAddress> {
        Ok(ServiceEndpoints {
            resource: endpoint("resource", &addrs.resource)?,
            artifact: endpoint("artifact", &addrs.artifact)?,
            jobs: endpoint("jobs", &addrs.jobs)?,
            appinhouse: endpoint("appinhouse", &addrs.appinhouse)?,
        })
    }
}

/// One worker's channels to the services (they connect lazily and reconnect by themselves); a
/// handler takes a client for its caller with [`Clients::jobs`] and its siblings.
#[derive(Clone)]
pub struct Clients {
    resource: Channel,
    artifact: Channel,
    jobs: Channel,
    appinhouse: Channel,
    /// Health client of each service, with the name shown in `/readyz` and its gRPC service name.
    pub health: Vec<(&'static str, &'static str, HealthClient<Channel>)>,
}

impl Clients {
    pub fn connect_lazy(endpoints: &ServiceEndpoints) -> Clients {
        let resource = endpoints.resource.connect_lazy();
        let artifact = endpoints.artifact.connect_lazy();
        let jobs = endpoints.jobs.connect_lazy();
        let appinhouse = endpoints.appinhouse.connect_lazy();
        let health = [
            ("resource", resource_service_server::SERVICE_NAME, &resource),
            ("artifact", artifact_service_server::SERVICE_NAME, &artifact),
            ("jobs", jobs_service_server::SERVICE_NAME, &jobs),
            (
                "appinhouse",
                appinhouse_service_server::SERVICE_NAME,
                &appinhouse,
            ),
        ]
        .into_iter()
        .map(|(name, service, channel)| (name, service, HealthClient::new(channel.clone())))
        .collect();
        Clients {
            resource,
            artifact,
            jobs,
            appinhouse,
            health,
        }
    }

    /// The resource service, called on behalf of `caller` (`None` on public routes such as login).
    pub fn resource<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> ResourceServiceClient<CallerChannel> {
        ResourceServiceClient::with_interceptor(self.resource.clone(), call_context(caller))
    }

    /// The artifact service, called on behalf of `caller`.
    pub fn artifact<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> ArtifactServiceClient<CallerChannel> {
        ArtifactServiceClient::with_interceptor(self.artifact.clone(), call_context(caller))
            .max_decoding_message_size(ARTIFACT_MESSAGE_BYTES)
            .max_encoding_message_size(ARTIFACT_MESSAGE_BYTES)
    }

    /// The jobs service, called on behalf of `caller`.
    pub fn jobs<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> JobsServiceClient<CallerChannel> {
        JobsServiceClient::with_interceptor(self.jobs.clone(), call_context(caller))
    }

    /// The appinhouse service, whose routes are public (some checked by a secret key instead).
    /// Uploads of hosted builds may be large: messages up to 16 MiB.
    pub fn appinhouse(&self) -> AppinhouseServiceClient<CallerChannel> {
        AppinhouseServiceClient::with_interceptor(self.appinhouse.clone(), call_context(None))
            .max_decoding_message_size(APPINHOUSE_MESSAGE_BYTES)
    }
}

/// Calls made on behalf of `caller`, or of no one.
fn call_context<'a>(caller: impl Into<Option<&'a Caller>>) -> CallContext {
    CallContext::on_behalf_of(caller.into().map(|caller| caller.token.as_str()))
}

/// The authenticated caller of a request: the token to forward and what it says.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub claims: Claims,
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(
            request
                .extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(|| {
                    ApiError::new(ErrorReason::Unauthorized, "authorization token is missing")
                }),
        )
    }
}
