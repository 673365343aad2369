//! Unit tests of the replica transport: a refused replica is skipped, calls spread over the live
//! ones, and every replica down answers `Unavailable` naming the service.

use super::*;
use tonic_health::{
    ServingStatus,
    pb::{HealthCheckRequest, health_client::HealthClient},
};

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// A gRPC health server on a free port, answering SERVING for "" (its address).
async fn live_replica() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("", ServingStatus::Serving)
        .await;
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    format!("http://127.0.0.1:{port}")
}

/// One health check of the service "" through `client`: the status it answers.
async fn check(client: &mut HealthClient<Replicas>) -> Result<i32, tonic::Status> {
    let request = HealthCheckRequest {
        service: String::new(),
    };
    Ok(client.check(request).await?.into_inner().status)
}

/// `calls` health checks through `client`, each answered SERVING.
async fn all_served(client: &mut HealthClient<Replicas>, calls: usize) {
    for call in 0..calls {
        let status = check(client)
            .await
            .unwrap_or_else(|status| panic!("call {call} failed: {status:?}"));
        assert_eq!(status, 1, "SERVING");
    }
}

fn replicas(addrs: &[String]) -> Replicas {
    let endpoints: Vec<Endpoint> = addrs
        .iter()
        .map(|addr| Endpoint::from_shared(addr.clone()).expect("url"))
        .collect();
    Replicas::connect_lazy("jobs", &endpoints)
}

#[test]
fn read_only_methods_and_keyed_calls_are_repeatable() {
    assert!(repeatable("/tad.jobs.v1.JobsService/GetExecution", false));
    assert!(repeatable("/grpc.health.v1.Health/Check", false));
    assert!(!repeatable("/tad.jobs.v1.JobsService/Execute", false));
    assert!(repeatable("/tad.jobs.v1.JobsService/Execute", true));
    assert!(!repeatable(
        "/tad.resource.v1.ResourceService/DeleteCluster",
        false
    ));
}

#[tokio::test]
async fn a_refused_replica_is_skipped_and_set_aside() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let live = live_replica().await;
    let transport = replicas(&[dead.clone(), live, dead]);
    let mut client = HealthClient::new(transport.clone());
    all_served(&mut client, 12).await;
    let now = Instant::now();
    assert!(
        transport.shared.is_set_aside(0, now),
        "the refused replica is set aside"
    );
    assert!(
        !transport.shared.is_set_aside(1, now),
        "the live one is not"
    );
    assert_eq!(
        transport.shared.order()[0],
        1,
        "the live replica is tried first"
    );
}

#[tokio::test]
async fn a_start_call_goes_to_another_replica_only_when_unsent() {
    let dead = format!("http://127.0.0.1:{}", closed_port());
    let error = {
        let mut channel = Endpoint::from_shared(dead).expect("url").connect_lazy();
        std::future::poll_fn(|context| channel.poll_ready(context))
            .await
            .expect("lazy channels are ready");
        let request = http::Request::builder()
            .uri("http://127.0.0.1/tad.jobs.v1.JobsService/Execute")
            .body(Body::empty())
            .expect("request");
        channel.call(request).await.expect_err("refused")
    };
    assert!(
        never_reached(&error),
        "a refused connection proves the request unsent: {error:?}"
    );
    let other: StdError = "connection reset".into();
    assert!(!never_reached(other.as_ref()));
}

#[tokio::test]
async fn every_replica_down_is_unavailable_naming_the_service() {
    let dead = [
        format!("http://127.0.0.1:{}", closed_port()),
        format!("http://127.0.0.1:{}", closed_port()),
    ];
    let mut client = HealthClient::new(replicas(&dead));
    let status = check(&mut client).await.expect_err("nothing answers");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(status.message(), "the jobs service is unavailable");
    assert_eq!(
        status
            .metadata()
            .get(UNAVAILABLE_SERVICE)
            .and_then(|value| value.to_str().ok()),
        Some("jobs")
    );
}

/// A health server that refuses every check as a jobs replica shutting down refuses a start.
struct ShuttingDown;

#[tonic::async_trait]
impl tonic_health::pb::health_server::Health for ShuttingDown {
    type WatchStream = tokio_stream::Empty<Result<tonic_health::pb::HealthCheckResponse, Status>>;

    async fn check(
        &self,
        _request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<tonic_health::pb::HealthCheckResponse>, Status> {
        let mut status = proto::error::ErrorReason::ServiceUnavailable
            .status("this jobs service is shutting down; try again");
        status.metadata_mut().insert(
            REFUSED_UNSTARTED_METADATA_KEY,
            MetadataValue::from_static("1"),
        );
        Err(status)
    }

    async fn watch(
        &self,
        _request: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch"))
    }
}

async fn shutting_down_replica() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(tonic_health::pb::health_server::HealthServer::new(
                ShuttingDown,
            ))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn a_replica_shutting_down_passes_the_call_to_another() {
    let leaving = shutting_down_replica().await;
    let live = live_replica().await;
    let mut client = HealthClient::new(replicas(&[leaving.clone(), live]));
    all_served(&mut client, 8).await;
    // Alone, its refusal reaches the caller as it was made.
    let mut alone = HealthClient::new(replicas(&[leaving]));
    let status = check(&mut alone).await.expect_err("refused");
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("shutting down"), "{status:?}");
}
