//! Calls to the replicas of one service: each call goes to the next replica in turn (round
//! robin over lazily connected channels), a replica that refused a connection is set aside for a
//! while, and a failed call is made again on another replica when that cannot do twice what the
//! caller asked once: always when the request never reached a replica (a connect error), and for
//! read-only methods or requests carrying an `idempotency-key` also after a lost answer, and for
//! any method when a replica refused it before doing anything (it is shutting down). A transport
//! failure becomes `Unavailable` naming the service ([`UNAVAILABLE_SERVICE`]).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use tonic::{
    Code, Status,
    body::Body,
    codegen::{BoxFuture, Service, StdError, http},
    metadata::MetadataValue,
    transport::{Channel, Endpoint},
};

use proto::error::REFUSED_UNSTARTED_METADATA_KEY;

/// gRPC metadata carrying a client's idempotency key (from the `Idempotency-Key` header).
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Metadata of a status made here: the name of the service none of whose replicas answered.
pub const UNAVAILABLE_SERVICE: &str = "x-tad-unavailable-service";

/// How long a replica that refused a connection is tried only after the others.
const SET_ASIDE_FOR: Duration = Duration::from_secs(2);

/// Largest request kept to be sent again (unary requests; the gateway's bodies are smaller).
const MAX_REPLAYED_BYTES: usize = 32 * 1024 * 1024;

/// Methods whose request is a stream: sent once, to one replica, never buffered.
const STREAMED_REQUESTS: &[&str] = &["Upload", "UploadBuild"];

/// Methods that change nothing: a call whose answer was lost is made again on another replica.
const READ_ONLY: &[&str] = &[
    // grpc.health.v1
    "Check",
    // resource
    "ListUsers",
    "ListProductLines",
    "ListApplications",
    "ListModules",
    "ListEnvs",
    "ListClusterTypes",
    "QueryClusters",
    "ListClusters",
    "GetClusters",
    "ClusterHostCandidates",
    "ClusterHosts",
    "QueryHosts",
    "ListHosts",
    "GetHostConnections",
    "LookupNames",
    "CheckSession",
    "ListApiTokens",
    // only touches last_used
    "ResolveApiToken",
    // artifact
    "Download",
    "GetFile",
    "FileOrigin",
    "ListScripts",
    "MayReview",
    "ScriptFileText",
    "ScriptFile",
    "FilterArtifacts",
    "ListComponents",
    "TemplateSchema",
    "MethodSchema",
    "ValidateValues",
    "RenderTemplate",
    "TemplateVersions",
    // jobs
    "QueryTemplates",
    "ListTemplates",
    "TemplateMethods",
    "QueryInstances",
    "ListInstances",
    "InstanceDetails",
    "InstanceClusterChoices",
    "CheckClusterUnused",
    "StepParams",
    "StepScripts",
    "StepArtifacts",
    "StepConfigs",
    "StepConfigSchema",
    "QueryJointLines",
    "JointLineStructure",
    "ExportWorkOrder",
    "GetExecution",
    "ExecutionLog",
    "WatchExecution",
    "ExecutionHistory",
    "ListWebhooks",
    // appinhouse
    "ListApps",
    "LastBuilds",
    "MobileLast",
    "ListBuilds",
    "GetPlist",
    "AppPage",
    "StatHostedFile",
    "ReadHostedFile",
];

/// The method name of a gRPC path (`/tad.jobs.v1.JobsService/GetExecution` → `GetExecution`).
fn method_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a call of `path` may be made again after its answer was lost.
pub fn repeatable(path: &str, has_idempotency_key: bool) -> bool {
    has_idempotency_key || READ_ONLY.contains(&method_of(path))
}

/// Whether `error` proves the request never reached a replica: no connection was made, or the
/// connection closed before the request was handed to it (hyper's "canceled").
pub fn never_reached(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tonic::ConnectError>() {
            return true;
        }
        if error
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_canceled)
        {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// One replica: its channel, and until when it is tried last.
struct Replica {
    channel: Channel,
    set_aside_until: Mutex<Option<Instant>>,
}

struct Shared {
    service: &'static str,
    replicas: Vec<Replica>,
    next: AtomicUsize,
}

/// The replicas of one service, as one tonic transport (wrapped by the generated clients).
#[derive(Clone)]
pub struct Replicas {
    shared: Arc<Shared>,
}

impl Replicas {
    /// Lazily connected channels to every endpoint of `service` (at least one).
    pub fn connect_lazy(service: &'static str, endpoints: &[Endpoint]) -> Replicas {
        Replicas::from_channels(
            service,
            endpoints.iter().map(Endpoint::connect_lazy).collect(),
        )
    }

    /// The replicas of `service` behind `channels` (at least one), one channel each.
    pub fn from_channels(service: &'static str, channels: Vec<Channel>) -> Replicas {
        Replicas {
            shared: Arc::new(Shared {
                service,
                replicas: channels
                    .into_iter()
                    .map(|channel| Replica {
                        channel,
                        set_aside_until: Mutex::new(None),
                    })
                    .collect(),
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// The service's name, as errors show it.
    pub fn service(&self) -> &'static str {
        self.shared.service
    }
}

impl Shared {
    /// The replicas in the order to try them: round robin, the ones set aside last.
    fn order(&self) -> Vec<usize> {
        let count = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let (mut ready, aside): (Vec<usize>, Vec<usize>) = (0..count)
            .map(|offset| (start + offset) % count)
            .partition(|&index| !self.is_set_aside(index, now));
        ready.extend(aside);
        ready
    }

    fn is_set_aside(&self, index: usize, now: Instant) -> bool {
        self.replicas[index]
            .set_aside_until
            .lock()
            .map(|until| until.is_some_and(|until| until > now))
            .unwrap_or(false)
    }

    fn set_aside(&self, index: usize, aside: bool) {
        if let Ok(mut until) = self.replicas[index].set_aside_until.lock() {
            *until = aside.then(|| Instant::now() + SET_ASIDE_FOR);
        }
    }

    async fn attempt(
        &self,
        index: usize,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>, StdError> {
        let mut channel = self.replicas[index].channel.clone();
        std::future::poll_fn(|context| channel.poll_ready(context))
            .await
            .map_err(StdError::from)?;
        channel.call(request).await.map_err(StdError::from)
    }

    /// The status answered when no replica could take the call.
    fn unavailable(&self, error: &StdError) -> StdError {
        tracing::warn!(service = self.service, error = %error_chain(error.as_ref()), "service call failed in transport");
        let mut status = Status::new(
            Code::Unavailable,
            format!("the {} service is unavailable", self.service),
        );
        status.metadata_mut().insert(
            UNAVAILABLE_SERVICE,
            MetadataValue::from_static(self.service),
        );
        Box::new(status)
    }

    /// Answers whose body fails in transport fail as `Unavailable` naming the service.
    fn answer(&self, response: http::Response<Body>) -> http::Response<Body> {
        let service = self.service;
        response.map(|body| {
            Body::new(body.map_err(move |error: Status| {
                if error.code() == Code::Unavailable
                    && error.metadata().get(UNAVAILABLE_SERVICE).is_some()
                {
                    return error;
                }
                tracing::warn!(service, error = %error, "answer cut in transport");
                let mut status = Status::new(
                    Code::Unavailable,
                    format!("the {service} service is unavailable"),
                );
                status
                    .metadata_mut()
                    .insert(UNAVAILABLE_SERVICE, MetadataValue::from_static(service));
                status
            }))
        })
    }

    async fn call(
        self: Arc<Self>,
        request: http::Request<Body>,
    ) -> Result<http::Response<Body>, StdError> {
        let order = self.order();
        let method = method_of(request.uri().path()).to_owned();
        let first = order.first().copied().unwrap_or(0);
        if order.len() < 2 || STREAMED_REQUESTS.contains(&method.as_str()) {
            return match self.attempt(first, request).await {
                Ok(response) => Ok(self.answer(response)),
                Err(error) => {
                    self.set_aside(first, never_reached(error.as_ref()));
                    Err(self.unavailable(&error))
                }
            };
        }
        let repeatable = repeatable(&method, request.headers().contains_key(IDEMPOTENCY_KEY));
        let (parts, body) = request.into_parts();
        let bytes: Bytes = Limited::new(body, MAX_REPLAYED_BYTES)
            .collect()
            .await
            .map_err(|error| {
                Box::new(Status::resource_exhausted(format!(
                    "request to the {} service could not be read: {error}",
                    self.service
                ))) as StdError
            })?
            .to_bytes();
        let mut last_error = None;
        let replicas = order.len();
        for (position, index) in order.into_iter().enumerate() {
            let request =
                http::Request::from_parts(parts.clone(), Body::new(Full::new(bytes.clone())));
            match self.attempt(index, request).await {
                Ok(response) if refused_unstarted(&response) && position + 1 < replicas => {
                    tracing::info!(service = self.service, method = %method, replica = index, "replica refused the call before starting it (shutting down); trying another");
                    self.set_aside(index, true);
                }
                Ok(response) => {
                    self.set_aside(index, false);
                    return Ok(self.answer(response));
                }
                Err(error) => {
                    let unsent = never_reached(error.as_ref());
                    self.set_aside(index, unsent);
                    tracing::info!(service = self.service, method = %method, replica = index, unsent, error = %error_chain(error.as_ref()), "replica failed a call");
                    if !unsent && !repeatable {
                        return Err(self.unavailable(&error));
                    }
                    last_error = Some(error);
                }
            }
        }
        let error = last_error.unwrap_or_else(|| "no replica configured".into());
        Err(self.unavailable(&error))
    }
}

/// Whether a replica's answer is a refusal made before it did anything (a trailers-only
/// `Unavailable` marked [`REFUSED_UNSTARTED_METADATA_KEY`]: it is shutting down).
fn refused_unstarted(response: &http::Response<Body>) -> bool {
    let headers = response.headers();
    headers
        .get("grpc-status")
        .is_some_and(|code| code.as_bytes() == b"14")
        && headers.contains_key(REFUSED_UNSTARTED_METADATA_KEY)
}

/// An error and its sources, as one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(source) = current {
        text.push_str(": ");
        text.push_str(&source.to_string());
        current = source.source();
    }
    text
}

impl Service<http::Request<Body>> for Replicas {
    type Response = http::Response<Body>;
    type Error = StdError;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move {
            let answer = shared.call(request).await;
            crate::call_records::note_answer(answer.as_ref().ok().map(http::Response::headers));
            answer
        })
    }
}

#[cfg(test)]
#[path = "failover/tests.rs"]
mod tests;
