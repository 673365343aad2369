//! gRPC clients of the services and the caller's identity: every outgoing call carries the
//! caller's token and the W3C trace context of the current request span.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use common::auth::{AUTHORIZATION, Claims};
use futures::future::{Ready, ready};
use proto::{
    ErrorReason, appinhouse::v1::appinhouse_service_client::AppinhouseServiceClient,
    artifact::v1::artifact_service_client::ArtifactServiceClient,
    jobs::v1::jobs_service_client::JobsServiceClient,
    resource::v1::resource_service_client::ResourceServiceClient,
};
use std::time::Duration;

use tonic::{
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};
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

/// One worker's clients (channels connect lazily and reconnect by themselves).
#[derive(Clone)]
pub struct Clients {
    pub resource: ResourceServiceClient<Channel>,
    pub artifact: ArtifactServiceClient<Channel>,
    pub jobs: JobsServiceClient<Channel>,
    /// Uploads of hosted builds may be large: messages up to 16 MiB.
    pub appinhouse: AppinhouseServiceClient<Channel>,
    /// Health client of each service, with the name shown in `/readyz` and its gRPC service name.
    pub health: Vec<(&'static str, &'static str, HealthClient<Channel>)>,
}

impl Clients {
    pub fn connect_lazy(endpoints: &ServiceEndpoints) -> Clients {
        let resource_channel = endpoints.resource.connect_lazy();
        let appinhouse_channel = endpoints.appinhouse.connect_lazy();
        let jobs_channel = endpoints.jobs.connect_lazy();
        let artifact_channel = endpoints.artifact.connect_lazy();
        Clients {
            resource: ResourceServiceClient::new(resource_channel.clone()),
            artifact: ArtifactServiceClient::new(artifact_channel.clone())
                .max_decoding_message_size(ARTIFACT_MESSAGE_BYTES)
                .max_encoding_message_size(ARTIFACT_MESSAGE_BYTES),
            jobs: JobsServiceClient::new(jobs_channel.clone()),
            appinhouse: AppinhouseServiceClient::new(appinhouse_channel.clone())
                .max_decoding_message_size(16 * 1024 * 1024),
            health: vec![
                (
                    "resource",
                    proto::resource::v1::resource_service_server::SERVICE_NAME,
                    HealthClient::new(resource_channel),
                ),
                (
                    "artifact",
                    proto::artifact::v1::artifact_service_server::SERVICE_NAME,
                    HealthClient::new(artifact_channel),
                ),
                (
                    "jobs",
                    proto::jobs::v1::jobs_service_server::SERVICE_NAME,
                    HealthClient::new(jobs_channel),
                ),
                (
                    "appinhouse",
                    proto::appinhouse::v1::appinhouse_service_server::SERVICE_NAME,
                    HealthClient::new(appinhouse_channel),
                ),
            ],
        }
    }
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

/// A gRPC request carrying `message`, the caller's token (when there is one) and the trace context.
pub fn grpc_request<T>(message: T, caller: Option<&Caller>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(caller) = caller
        && let Ok(value) = MetadataValue::try_from(format!("Bearer {}", caller.token))
    {
        request.metadata_mut().insert(AUTHORIZATION, value);
    }
    common::telemetry::inject_trace_context(&tracing::Span::current(), request.metadata_mut());
    request
}
