//! Telemetry: tracing to stderr (text, or JSON with `TAD_LOG_FORMAT=json`), OpenTelemetry spans
//! exported by OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and W3C trace context carried from
//! the gateway to the services in gRPC metadata. Every request span records its `trace_id`, so
//! log lines of one request share it across processes.

use opentelemetry::{
    Context,
    propagation::{Extractor, Injector, TextMapPropagator},
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::LogFormat;

/// Keeps the tracer provider alive; flushes spans when dropped.
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs the global subscriber for a process named `service_name`.
pub fn init(service_name: &'static str, format: LogFormat) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let resource = Resource::builder().with_service_name(service_name).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    let otlp_endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|value| !value.is_empty());
    if otlp_endpoint.is_some() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    let tracer = provider.tracer(service_name);
    opentelemetry::global::set_tracer_provider(provider.clone());

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let otel_layer = tracing_opentelemetry::layer().with_tracer(tracer);
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init()?,
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .try_init()?,
    }
    if let Some(endpoint) = otlp_endpoint {
        tracing::info!(%endpoint, "exporting traces over otlp");
    }
    Ok(TelemetryGuard { provider })
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Writes the context of `span` (`traceparent`, `tracestate`) into outgoing gRPC metadata.
pub fn inject_trace_context(span: &Span, metadata: &mut tonic::metadata::MetadataMap) {
    let context = span.context();
    TraceContextPropagator::new().inject_context(&context, &mut MetadataInjector(metadata));
}

/// A channel whose every call carries one caller's token and trace context ([`CallContext`]).
pub type CallerChannel = InterceptedService<Channel, CallContext>;

/// What every call of one gRPC client carries: the caller's token as `authorization: Bearer …`
/// (when there is a caller) and the W3C trace context (`traceparent`, `tracestate`) of the span
/// current when the client was taken, so the callee checks the caller's own roles and continues
/// the trace. The gateway calls on behalf of its HTTP caller, a service on behalf of its own.
#[derive(Clone)]
pub struct CallContext {
    authorization: Option<MetadataValue<Ascii>>,
    span: Span,
    origin: Option<RequestOrigin>,
}

/// Metadata key of the id of the HTTP request a call serves (the audit trail records it).
pub const REQUEST_ID_METADATA_KEY: &str = "tad-request-id";
/// Metadata key of the IP address of the HTTP client a call serves.
pub const CLIENT_IP_METADATA_KEY: &str = "tad-client-ip";

/// The HTTP request a task serves: its id and its client's address. The gateway runs each
/// request's handler within [`RequestOrigin::scope`]; every call made from it carries both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    pub request_id: String,
    pub client_ip: String,
}

tokio::task_local! {
    static REQUEST_ORIGIN: RequestOrigin;
}

impl RequestOrigin {
    /// Runs `work` as serving this request.
    pub async fn scope<F: std::future::Future>(self, work: F) -> F::Output {
        REQUEST_ORIGIN.scope(self, work).await
    }

    /// The request the current task serves, if any.
    pub fn current() -> Option<RequestOrigin> {
        REQUEST_ORIGIN.try_with(Clone::clone).ok()
    }

    /// The request a received call serves, from its metadata (empty fields when absent).
    pub fn of_call(metadata: &tonic::metadata::MetadataMap) -> RequestOrigin {
        let text = |key: &str| {
            metadata
                .get(key)
                .and_then(|value| value.to_str().ok())
                .map(|value| value.chars().take(128).collect::<String>())
                .unwrap_or_default()
        };
        RequestOrigin {
            request_id: text(REQUEST_ID_METADATA_KEY),
            client_ip: text(CLIENT_IP_METADATA_KEY),
        }
    }

    fn insert_into(&self, metadata: &mut tonic::metadata::MetadataMap) {
        for (key, value) in [
            (REQUEST_ID_METADATA_KEY, &self.request_id),
            (CLIENT_IP_METADATA_KEY, &self.client_ip),
        ] {
            if let Ok(value) = MetadataValue::try_from(value.as_str()) {
                metadata.insert(key, value);
            }
        }
    }
}

impl CallContext {
    /// Calls made on behalf of the caller whose token is `token` (`None`: no caller), for the
    /// request the current task serves. A token that is no header value is left out.
    pub fn on_behalf_of(token: Option<&str>) -> CallContext {
        CallContext {
            authorization: token
                .and_then(|token| MetadataValue::try_from(format!("Bearer {token}")).ok()),
            span: Span::current(),
            origin: RequestOrigin::current(),
        }
    }
}

impl Interceptor for CallContext {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert(crate::auth::AUTHORIZATION, value.clone());
        }
        if let Some(origin) = &self.origin {
            origin.insert_into(request.metadata_mut());
        }
        inject_trace_context(&self.span, request.metadata_mut());
        Ok(request)
    }
}

/// Another service as one service's outbound adapter reaches it through its generated client
/// `C`: every call is made on behalf of a caller, whose token (and the current trace context) it
/// carries.
pub struct PeerService<C> {
    channel: Channel,
    client: fn(CallerChannel) -> C,
}

impl<C> Clone for PeerService<C> {
    fn clone(&self) -> Self {
        PeerService {
            channel: self.channel.clone(),
            client: self.client,
        }
    }
}

impl<C> PeerService<C> {
    /// The service behind `channel`, called through the client `client` builds on a channel
    /// (e.g. `ResourceServiceClient::new`).
    pub fn new(channel: Channel, client: fn(CallerChannel) -> C) -> PeerService<C> {
        PeerService { channel, client }
    }

    /// A client whose calls are made on behalf of the caller whose token is `token`.
    pub fn on_behalf_of(&self, token: &str) -> C {
        let context = CallContext::on_behalf_of(Some(token));
        (self.client)(InterceptedService::new(self.channel.clone(), context))
    }
}

/// The message a call answers, or its status:
/// `reply(clients.jobs(&caller).list_templates(request)).await?`.
pub async fn reply<T>(
    call: impl Future<Output = Result<tonic::Response<T>, Status>>,
) -> Result<T, Status> {
    call.await.map(tonic::Response::into_inner)
}

struct LookupExtractor<F: Fn(&str) -> Option<String>> {
    lookup: F,
    values: Vec<(&'static str, String)>,
}

impl<F: Fn(&str) -> Option<String>> LookupExtractor<F> {
    fn new(lookup: F) -> Self {
        let values = ["traceparent", "tracestate"]
            .into_iter()
            .filter_map(|key| lookup(key).map(|value| (key, value)))
            .collect();
        LookupExtractor { lookup, values }
    }
}

impl<F: Fn(&str) -> Option<String>> Extractor for LookupExtractor<F> {
    fn get(&self, key: &str) -> Option<&str> {
        let _ = &self.lookup;
        self.values
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.values.iter().map(|(name, _)| *name).collect()
    }
}

/// The remote context found by `lookup` (a header getter), empty when there is none.
pub fn extract_trace_context(lookup: impl Fn(&str) -> Option<String>) -> Context {
    TraceContextPropagator::new().extract(&LookupExtractor::new(lookup))
}

/// Makes `parent` (when it holds a valid remote span) the parent of `span`, then records the
/// span's trace id in its `trace_id` field.
pub fn adopt_parent(span: &Span, parent: Context) {
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
    if let Some(trace_id) = trace_id_of(span) {
        span.record("trace_id", trace_id.as_str());
    }
}

/// The 32-hex trace id of `span`, when tracing is installed.
pub fn trace_id_of(span: &Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// The span of one inbound gRPC call (tonic `Server::trace_fn`): continues the caller's trace.
pub fn grpc_server_span(request: &http::Request<()>) -> Span {
    let span = tracing::info_span!(
        "grpc",
        rpc = %request.uri().path(),
        trace_id = tracing::field::Empty,
    );
    let headers = request.headers();
    let parent = extract_trace_context(|key| {
        headers
            .get(key)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    });
    adopt_parent(&span, parent);
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_extracted() {
        let context = extract_trace_context(|key| {
            (key == "traceparent")
                .then(|| "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned())
        });
        let span_context = context.span().span_context().clone();
        assert!(span_context.is_valid());
        assert_eq!(
            span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(span_context.is_remote());
    }

    #[test]
    fn no_header_means_no_parent() {
        let context = extract_trace_context(|_| None);
        assert!(!context.span().span_context().is_valid());
    }

    /// The `authorization` a call made on behalf of `token` sends.
    fn authorization_sent(token: Option<&str>) -> Option<String> {
        let sent = CallContext::on_behalf_of(token)
            .call(tonic::Request::new(()))
            .expect("the interceptor lets the call through");
        sent.metadata()
            .get(crate::auth::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    #[test]
    fn a_caller_s_calls_carry_its_bearer_token() {
        let sent = authorization_sent(Some("token-1"));
        assert_eq!(sent.as_deref(), Some("Bearer token-1"));
    }

    #[test]
    fn public_calls_carry_no_token() {
        assert_eq!(authorization_sent(None), None);
    }

    #[test]
    fn a_token_that_is_no_header_value_is_left_out() {
        assert_eq!(authorization_sent(Some("bad\ntoken")), None);
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    #[tokio::test]
    async fn calls_made_while_serving_a_request_carry_its_id_and_client() {
        let origin = RequestOrigin {
            request_id: "req-7".to_owned(),
            client_ip: "192.0.2.4".to_owned(),
        };
        let mut context = origin
            .clone()
            .scope(async { CallContext::on_behalf_of(Some("t0ken")) })
            .await;
        let request = context.call(tonic::Request::new(())).expect("intercept");
        assert_eq!(RequestOrigin::of_call(request.metadata()), origin);
        // Outside a request: nothing is made up.
        let mut context = CallContext::on_behalf_of(None);
        let request = context.call(tonic::Request::new(())).expect("intercept");
        assert_eq!(
            RequestOrigin::of_call(request.metadata()),
            RequestOrigin::default()
        );
        assert_eq!(RequestOrigin::current(), None);
    }
}
