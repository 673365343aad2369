//! Channels from one service to another with several replicas (`TAD_<SERVICE>_ADDR` listing
//! them): tonic's balanced channel, fed by a probe that takes out a replica refusing TCP
//! connections and puts it back once it accepts them again. tonic's balance alone keeps sending
//! calls to a refused replica (a lazily connected endpoint counts as ready), so about half the
//! calls fail while one of two replicas is down; the probe is what takes it out. The set is never
//! emptied: with every replica down, calls fail at once instead of waiting.

use std::time::Duration;

use tokio::net::TcpStream;
use tonic::transport::{Channel, Endpoint, channel::Change};

/// How often each replica is probed.
const PROBE_EVERY: Duration = Duration::from_millis(500);

/// Longest wait for a probe's connection.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the replica at `endpoint` accepts a TCP connection.
async fn accepts(endpoint: &Endpoint) -> bool {
    let uri = endpoint.uri();
    let Some(host) = uri.host() else {
        return false;
    };
    let port = uri
        .port_u16()
        .unwrap_or(if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        });
    let host = host.trim_start_matches('[').trim_end_matches(']');
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect((host, port))).await,
        Ok(Ok(_))
    )
}

/// A channel balanced over `endpoints` (more than one), each probed every [`PROBE_EVERY`] while
/// the channel lives.
pub fn balanced(service: &'static str, endpoints: Vec<Endpoint>) -> Channel {
    let (channel, changes) = Channel::balance_channel(endpoints.len().max(1));
    tokio::spawn(async move {
        let mut present = vec![false; endpoints.len()];
        for (index, endpoint) in endpoints.iter().enumerate() {
            if changes
                .send(Change::Insert(index, endpoint.clone()))
                .await
                .is_err()
            {
                return;
            }
            present[index] = true;
        }
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            if changes.is_closed() {
                return;
            }
            let mut up = Vec::with_capacity(endpoints.len());
            for endpoint in &endpoints {
                up.push(accepts(endpoint).await);
            }
            // With none up, every replica stays in: calls fail fast instead of waiting.
            let none_up = !up.iter().any(|up| *up);
            for (index, endpoint) in endpoints.iter().enumerate() {
                let wanted = up[index] || none_up;
                if wanted == present[index] {
                    continue;
                }
                let change = if wanted {
                    tracing::info!(service, replica = %endpoint.uri(), "replica accepts connections again");
                    Change::Insert(index, endpoint.clone())
                } else {
                    tracing::warn!(service, replica = %endpoint.uri(), "replica refuses connections; taken out");
                    Change::Remove(index)
                };
                if changes.send(change).await.is_err() {
                    return;
                }
                present[index] = wanted;
            }
        }
    });
    channel
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_health::{
        ServingStatus,
        pb::{HealthCheckRequest, health_client::HealthClient},
    };

    #[tokio::test]
    async fn a_refused_replica_is_taken_out() {
        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            format!("http://{}", listener.local_addr().expect("address"))
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let live = format!("http://{}", listener.local_addr().expect("address"));
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
        let channel = balanced(
            "resource",
            [dead, live]
                .into_iter()
                .map(|addr| Endpoint::from_shared(addr).expect("url"))
                .collect(),
        );
        // After one probe the refused replica is out: no call fails.
        tokio::time::sleep(PROBE_EVERY * 3).await;
        let mut client = HealthClient::new(channel);
        for call in 0..20 {
            client
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .unwrap_or_else(|status| panic!("call {call} failed: {status:?}"));
        }
    }
}
