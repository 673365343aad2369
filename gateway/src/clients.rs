//! gRPC clients of the services and the caller's identity: every outgoing call carries the
//! caller's token and the W3C trace context of the current request span (a tonic interceptor),
//! and goes to one of the service's replicas ([`crate::failover`]).

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
pub use common::telemetry::reply;
use common::{
    auth::Claims, in_process::InProcessConnector, telemetry::CallContext, time::TimeRenderer,
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

use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};
use tonic_health::pb::health_client::HealthClient;

pub use crate::idempotency::IdempotencyKey;
use crate::{
    error::{ApiError, excerpt},
    failover::{self, Replicas},
};

/// Where the gateway finds each service (`TAD_<SERVICE>_ADDR`): the URLs of its replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAddrs {
    pub resource: Vec<String>,
    pub artifact: Vec<String>,
    pub jobs: Vec<String>,
    pub appinhouse: Vec<String>,
}

impl ServiceAddrs {
    /// The addresses configured for each service.
    pub fn from_config(config: &common::config::Config) -> ServiceAddrs {
        ServiceAddrs {
            resource: config.resource.addrs.clone(),
            artifact: config.artifact.addrs.clone(),
            jobs: config.jobs.addrs.clone(),
            appinhouse: config.appinhouse.addrs.clone(),
        }
    }

    /// Every service at one address (the embedded mode's loopback server).
    pub fn all_at(url: &str) -> ServiceAddrs {
        ServiceAddrs {
            resource: vec![url.to_owned()],
            artifact: vec![url.to_owned()],
            jobs: vec![url.to_owned()],
            appinhouse: vec![url.to_owned()],
        }
    }
}

/// Where one replica of a service is: a gRPC address, or this process (`tad serve`).
#[derive(Debug, Clone)]
pub enum ServiceTarget {
    Remote(Box<Endpoint>),
    InProcess(InProcessConnector),
}

impl ServiceTarget {
    /// A lazily connected channel to the replica, for the runtime this is called on.
    fn channel(&self) -> Channel {
        match self {
            ServiceTarget::Remote(endpoint) => endpoint.connect_lazy(),
            ServiceTarget::InProcess(connector) => connector.channel(),
        }
    }
}

/// The service addresses, checked once at startup: one target per replica.
#[derive(Debug, Clone)]
pub struct ServiceEndpoints {
    resource: Vec<ServiceTarget>,
    artifact: Vec<ServiceTarget>,
    jobs: Vec<ServiceTarget>,
    appinhouse: Vec<ServiceTarget>,
}

/// Largest gRPC message to and from svc-artifact (upload and download chunks stay under it).
const ARTIFACT_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Largest gRPC message from svc-appinhouse.
const APPINHOUSE_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// A service address that is not a URL, or a service without an address.
#[derive(Debug, thiserror::Error)]
#[error("{key}: address of the {service} service {addr:?} is not a valid URL: {message}")]
pub struct InvalidAddress {
    pub key: String,
    pub service: &'static str,
    pub addr: String,
    pub message: String,
}

/// The endpoints of one service's replicas, each address checked.
fn endpoints(
    service: &'static str,
    addrs: &[String],
) -> Result<Vec<ServiceTarget>, InvalidAddress> {
    let key = format!("TAD_{}_ADDR", service.to_ascii_uppercase());
    if addrs.is_empty() {
        return Err(InvalidAddress {
            key,
            service,
            addr: String::new(),
            message: "no address is given".to_owned(),
        });
    }
    addrs
        .iter()
        .map(|addr| {
            Endpoint::from_shared(addr.clone())
                .map(|endpoint| {
                    ServiceTarget::Remote(Box::new(
                        endpoint.connect_timeout(Duration::from_secs(5)),
                    ))
                })
                .map_err(|error| InvalidAddress {
                    key: key.clone(),
                    service,
                    addr: excerpt(addr).into_owned(),
                    message: error.to_string(),
                })
        })
        .collect()
}

impl ServiceEndpoints {
    pub fn new(addrs: &ServiceAddrs) -> Result<ServiceEndpoints, InvalidAddress> {
        Ok(ServiceEndpoints {
            resource: endpoints("resource", &addrs.resource)?,
            artifact: endpoints("artifact", &addrs.artifact)?,
            jobs: endpoints("jobs", &addrs.jobs)?,
            appinhouse: endpoints("appinhouse", &addrs.appinhouse)?,
        })
    }

    /// Every service in this process, reached through memory (`tad serve`).
    pub fn in_process(connector: &InProcessConnector) -> ServiceEndpoints {
        let here = || vec![ServiceTarget::InProcess(connector.clone())];
        ServiceEndpoints {
            resource: here(),
            artifact: here(),
            jobs: here(),
            appinhouse: here(),
        }
    }

    /// How many replicas of the jobs service are configured.
    pub fn jobs_replicas(&self) -> usize {
        self.jobs.len()
    }
}

/// A gRPC client's transport: the service's replicas, with the caller's metadata on every call.
pub type ServiceChannel = InterceptedService<Replicas, CallMetadata>;

/// What a call carries: the caller's token and trace context ([`CallContext`]) and, on the routes
/// that start work, the client's idempotency key.
#[derive(Clone)]
pub struct CallMetadata {
    context: CallContext,
    idempotency_key: Option<MetadataValue<Ascii>>,
}

impl Interceptor for CallMetadata {
    fn call(&mut self, request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let mut request = self.context.call(request)?;
        if let Some(key) = &self.idempotency_key {
            request
                .metadata_mut()
                .insert(failover::IDEMPOTENCY_KEY, key.clone());
        }
        Ok(request)
    }
}

/// One worker's channels to the services' replicas (they connect lazily and reconnect by
/// themselves; see [`Replicas`]); a handler takes a client for its caller with [`Clients::jobs`]
/// and its siblings.
#[derive(Clone)]
pub struct Clients {
    resource: Replicas,
    artifact: Replicas,
    jobs: Replicas,
    appinhouse: Replicas,
    /// Health client of each service, with the name shown in `/readyz` and its gRPC service name.
    pub health: Vec<(&'static str, &'static str, HealthClient<Replicas>)>,
}

impl Clients {
    pub fn connect_lazy(endpoints: &ServiceEndpoints) -> Clients {
        let replicas = |service, targets: &[ServiceTarget]| {
            Replicas::from_channels(
                service,
                targets.iter().map(ServiceTarget::channel).collect(),
            )
        };
        let resource = replicas("resource", &endpoints.resource);
        let artifact = replicas("artifact", &endpoints.artifact);
        let jobs = replicas("jobs", &endpoints.jobs);
        let appinhouse = replicas("appinhouse", &endpoints.appinhouse);
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
    ) -> ResourceServiceClient<ServiceChannel> {
        ResourceServiceClient::with_interceptor(self.resource.clone(), call_context(caller))
    }

    /// The artifact service, called on behalf of `caller`.
    pub fn artifact<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> ArtifactServiceClient<ServiceChannel> {
        ArtifactServiceClient::with_interceptor(self.artifact.clone(), call_context(caller))
            .max_decoding_message_size(ARTIFACT_MESSAGE_BYTES)
            .max_encoding_message_size(ARTIFACT_MESSAGE_BYTES)
    }

    /// The jobs service, called on behalf of `caller`.
    pub fn jobs<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> JobsServiceClient<ServiceChannel> {
        self.jobs_keyed(caller, None)
    }

    /// The jobs service, called on behalf of `caller` with the client's idempotency key (the
    /// routes that start work): such a call is repeated on another replica after a lost answer.
    pub fn jobs_keyed<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
        idempotency_key: Option<&IdempotencyKey>,
    ) -> JobsServiceClient<ServiceChannel> {
        let mut metadata = call_context(caller);
        metadata.idempotency_key = idempotency_key.map(|key| key.0.clone());
        JobsServiceClient::with_interceptor(self.jobs.clone(), metadata)
    }

    /// The appinhouse service, whose routes are public (some checked by a secret key instead).
    /// Uploads of hosted builds may be large: messages up to 16 MiB.
    pub fn appinhouse(&self) -> AppinhouseServiceClient<ServiceChannel> {
        self.appinhouse_for(None)
    }

    /// The appinhouse service, called on behalf of `caller` (its audit trail).
    pub fn appinhouse_for<'a>(
        &self,
        caller: impl Into<Option<&'a Caller>>,
    ) -> AppinhouseServiceClient<ServiceChannel> {
        AppinhouseServiceClient::with_interceptor(self.appinhouse.clone(), call_context(caller))
            .max_decoding_message_size(APPINHOUSE_MESSAGE_BYTES)
    }
}

/// Calls made on behalf of `caller`, or of no one.
fn call_context<'a>(caller: impl Into<Option<&'a Caller>>) -> CallMetadata {
    CallMetadata {
        context: CallContext::on_behalf_of(caller.into().map(|caller| caller.token.as_str())),
        idempotency_key: None,
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

/// What a handler needs to call the services for its caller: the caller, this worker's
/// [`Clients`] and the renderer of the answers' times, taken from the request as one extractor
/// (in that order, so a missing token is the first failure, as before).
pub struct Call {
    pub caller: Caller,
    pub clients: web::Data<Clients>,
    pub times: web::Data<TimeRenderer>,
}

impl Call {
    /// The resource service, on behalf of the caller.
    pub fn resource(&self) -> ResourceServiceClient<ServiceChannel> {
        self.clients.resource(&self.caller)
    }

    /// The artifact service, on behalf of the caller.
    pub fn artifact(&self) -> ArtifactServiceClient<ServiceChannel> {
        self.clients.artifact(&self.caller)
    }

    /// The jobs service, on behalf of the caller.
    pub fn jobs(&self) -> JobsServiceClient<ServiceChannel> {
        self.clients.jobs(&self.caller)
    }

    /// The jobs service, on behalf of the caller, with the client's idempotency key.
    pub fn jobs_keyed(
        &self,
        key: &crate::idempotency::OptionalIdempotencyKey,
    ) -> JobsServiceClient<ServiceChannel> {
        self.clients.jobs_keyed(&self.caller, key.0.as_ref())
    }
}

impl FromRequest for Call {
    type Error = actix_web::Error;
    type Future = Ready<Result<Call, actix_web::Error>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        ready(Call::extract_now(request, payload))
    }
}

impl Call {
    fn extract_now(request: &HttpRequest, payload: &mut Payload) -> Result<Call, actix_web::Error> {
        Ok(Call {
            caller: Caller::from_request(request, payload).into_inner()?,
            clients: web::Data::<Clients>::extract(request).into_inner()?,
            times: web::Data::<TimeRenderer>::extract(request).into_inner()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(jobs: &[&str]) -> ServiceAddrs {
        ServiceAddrs {
            jobs: jobs.iter().map(|addr| (*addr).to_owned()).collect(),
            ..ServiceAddrs::all_at("http://127.0.0.1:50051")
        }
    }

    #[test]
    fn every_replica_of_a_service_gets_an_endpoint() {
        let endpoints = ServiceEndpoints::new(&addrs(&[
            "http://jobs-1:50053",
            "http://jobs-2:50053",
            "https://jobs-3:443",
        ]))
        .expect("valid");
        assert_eq!(endpoints.jobs_replicas(), 3);
        let uris: Vec<String> = endpoints
            .jobs
            .iter()
            .map(|target| match target {
                ServiceTarget::Remote(endpoint) => endpoint.uri().to_string(),
                ServiceTarget::InProcess(_) => "in process".to_owned(),
            })
            .collect();
        assert_eq!(
            uris,
            [
                "http://jobs-1:50053/",
                "http://jobs-2:50053/",
                "https://jobs-3:443/"
            ]
        );
    }

    #[test]
    fn a_bad_address_names_its_key() {
        for jobs in [vec!["http://jobs-1:50053", "http://bad host:1"], vec![]] {
            let error = ServiceEndpoints::new(&addrs(&jobs)).expect_err("refused");
            let text = error.to_string();
            assert!(text.starts_with("TAD_JOBS_ADDR: "), "{text}");
            assert!(text.contains("jobs service"), "{text}");
        }
    }
}
