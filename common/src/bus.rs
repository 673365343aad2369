//! The event-bus port and its two adapters: in-process broadcast (embedded `tad serve`) and
//! Redis pub/sub (replicas). Used for cache invalidation and live log fan-out.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use futures::{StreamExt, stream::BoxStream};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use crate::cache::redis_failed;

/// Failures of the event bus.
pub type BusError = crate::cache::RedisFailure;

/// Publish/subscribe of byte messages on named topics. Delivery is at most once, to subscribers
/// present when the message is published.
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), BusError>;
    /// Messages published on `topic` from now on.
    async fn subscribe(&self, topic: &str) -> Result<BoxStream<'static, Vec<u8>>, BusError>;
}

/// Shared handle to an event-bus adapter.
pub type SharedBus = Arc<dyn EventBus>;

/// In-process bus: one broadcast channel per topic.
#[derive(Debug, Default)]
pub struct InMemoryBus {
    topics: Mutex<HashMap<String, broadcast::Sender<Vec<u8>>>>,
}

impl InMemoryBus {
    pub fn new() -> InMemoryBus {
        InMemoryBus::default()
    }

    fn sender(&self, topic: &str) -> broadcast::Sender<Vec<u8>> {
        let mut topics = self
            .topics
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        topics.retain(|_, sender| sender.receiver_count() > 0);
        topics
            .entry(topic.to_owned())
            .or_insert_with(|| broadcast::channel(1024).0)
            .clone()
    }
}

#[async_trait]
impl EventBus for InMemoryBus {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), BusError> {
        // No subscriber is not an error: nobody was listening.
        let _ = self.sender(topic).send(payload.to_vec());
        Ok(())
    }

    async fn subscribe(&self, topic: &str) -> Result<BoxStream<'static, Vec<u8>>, BusError> {
        let receiver = self.sender(topic).subscribe();
        Ok(BroadcastStream::new(receiver)
            .filter_map(|message| async move { message.ok() })
            .boxed())
    }
}

/// Redis pub/sub bus; channels are put under `prefix`.
#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    publisher: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisBus {
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisBus, BusError> {
        let (client, publisher) = crate::cache::open_managed(url).await?;
        Ok(RedisBus {
            client,
            publisher,
            prefix: prefix.to_owned(),
        })
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, topic: &str, payload: &[u8]) -> Result<(), BusError> {
        let mut connection = self.publisher.clone();
        redis::cmd("PUBLISH")
            .arg(format!("{}{}", self.prefix, topic))
            .arg(payload)
            .query_async::<i64>(&mut connection)
            .await
            .map(|_| ())
            .map_err(redis_failed("PUBLISH"))
    }

    async fn subscribe(&self, topic: &str) -> Result<BoxStream<'static, Vec<u8>>, BusError> {
        let mut pubsub = self
            .client
            .get_async_pubsub()
            .await
            .map_err(redis_failed("connect"))?;
        pubsub
            .subscribe(format!("{}{}", self.prefix, topic))
            .await
            .map_err(redis_failed("SUBSCRIBE"))?;
        Ok(pubsub
            .into_on_message()
            .map(|message| message.get_payload_bytes().to_vec())
            .boxed())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn exercise(bus: &dyn EventBus) {
        let mut first = bus.subscribe("runs").await.expect("subscribe");
        let mut second = bus.subscribe("runs").await.expect("subscribe");
        let mut other = bus.subscribe("other").await.expect("subscribe");
        bus.publish("runs", b"run-1 finished")
            .await
            .expect("publish");
        let wait = Duration::from_secs(5);
        assert_eq!(
            tokio::time::timeout(wait, first.next())
                .await
                .expect("in time"),
            Some(b"run-1 finished".to_vec())
        );
        assert_eq!(
            tokio::time::timeout(wait, second.next())
                .await
                .expect("in time"),
            Some(b"run-1 finished".to_vec())
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(200), other.next())
                .await
                .is_err(),
            "other topics see nothing"
        );
    }

    #[tokio::test]
    async fn in_memory_bus_fans_out() {
        exercise(&InMemoryBus::new()).await;
    }

    #[tokio::test]
    async fn redis_bus_fans_out() {
        let Some((url, prefix)) = crate::cache::redis_for_test() else {
            return;
        };
        let bus = RedisBus::connect(&url, &prefix)
            .await
            .expect("connect to TEST_REDIS_URL");
        exercise(&bus).await;
    }
}
