//! gRPC inside one process (`tad serve`): the gateway and the services reach the services through
//! in-memory pipes instead of loopback TCP. Each connection a client opens is a
//! `tokio::io::duplex` pair: the client keeps one end, the server's incoming stream gets the
//! other. Same tonic services, same HTTP/2 framing and metadata; no socket, no port.

use std::{
    pin::Pin,
    task::{Context, Poll},
};

use futures::Stream;
use hyper_util::rt::TokioIo;
use tokio::{io::DuplexStream, sync::mpsc};
use tonic::transport::{Channel, Endpoint};

/// Bytes buffered in each direction of one in-memory connection.
const PIPE_BYTES: usize = 256 * 1024;

/// Opens in-memory connections to the server whose [`InProcessIncoming`] was made with it.
#[derive(Clone, Debug)]
pub struct InProcessConnector {
    connections: mpsc::UnboundedSender<DuplexStream>,
}

/// The server side: every connection a connector opened, for `serve_with_incoming`.
#[derive(Debug)]
pub struct InProcessIncoming {
    connections: mpsc::UnboundedReceiver<DuplexStream>,
}

/// A connector and the server side it connects to.
pub fn in_process() -> (InProcessConnector, InProcessIncoming) {
    let (connections, incoming) = mpsc::unbounded_channel();
    (
        InProcessConnector { connections },
        InProcessIncoming {
            connections: incoming,
        },
    )
}

impl InProcessConnector {
    /// A lazily connected channel to the in-process server (connections are opened, and opened
    /// again after a failure, when calls need them). Call it on the runtime that will use it.
    pub fn channel(&self) -> Channel {
        let connections = self.connections.clone();
        Endpoint::from_static("http://in-process.invalid").connect_with_connector_lazy(
            tower::service_fn(move |_| {
                let connections = connections.clone();
                async move {
                    let (client, server) = tokio::io::duplex(PIPE_BYTES);
                    connections.send(server).map_err(|_| {
                        std::io::Error::new(
                            std::io::ErrorKind::ConnectionRefused,
                            "the in-process gRPC server has stopped",
                        )
                    })?;
                    Ok::<_, std::io::Error>(TokioIo::new(client))
                }
            }),
        )
    }
}

impl Stream for InProcessIncoming {
    type Item = Result<DuplexStream, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.connections.poll_recv(context).map(|next| next.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    #[tokio::test]
    async fn calls_reach_the_server_through_memory_and_fail_once_it_stopped() {
        let (connector, incoming) = in_process();
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("demo", tonic_health::ServingStatus::Serving)
            .await;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(health)
                .serve_with_incoming_shutdown(incoming, async move {
                    let _ = stopped.await;
                }),
        );
        let mut client = HealthClient::new(connector.channel());
        for _ in 0..3 {
            let answer = client
                .check(HealthCheckRequest {
                    service: "demo".to_owned(),
                })
                .await
                .expect("health over memory")
                .into_inner();
            assert_eq!(answer.status, 1, "SERVING");
        }
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
        let mut fresh = HealthClient::new(connector.channel());
        let refused = fresh
            .check(HealthCheckRequest {
                service: "demo".to_owned(),
            })
            .await;
        assert!(refused.is_err(), "no server, no answer");
    }
}
