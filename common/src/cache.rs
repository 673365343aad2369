//! The shared cache port and its two adapters: in-process (embedded `tad serve`) and Redis
//! (several replicas). Used for login rate limits and cached lookups.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use redis::AsyncCommands;

/// A failed Redis operation of the shared cache or the event bus, naming the operation.
#[derive(Debug, thiserror::Error)]
#[error("redis {operation} failed: {source}")]
pub struct RedisFailure {
    pub operation: &'static str,
    pub source: redis::RedisError,
}

/// Failures of the cache.
pub type CacheError = RedisFailure;

/// The mapping of a failed redis `operation` to its error.
pub(crate) fn redis_failed(
    operation: &'static str,
) -> impl FnOnce(redis::RedisError) -> RedisFailure {
    move |source| RedisFailure { operation, source }
}

/// A client of `url` and its first managed connection (made now, so a wrong URL fails at
/// startup).
pub(crate) async fn open_managed(
    url: &str,
) -> Result<(redis::Client, redis::aio::ConnectionManager), RedisFailure> {
    let client = redis::Client::open(url).map_err(redis_failed("open"))?;
    let connection = connect_manager(&client)
        .await
        .map_err(redis_failed("connect"))?;
    Ok((client, connection))
}

/// How long the first connection to Redis may take, answering PING: an unreachable Redis is
/// reported at startup at once, not after the reconnection backoff of the connection manager.
const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection manager (it reconnects by itself later) to a Redis that answered PING now.
pub(crate) async fn connect_manager(
    client: &redis::Client,
) -> Result<redis::aio::ConnectionManager, redis::RedisError> {
    let first = async {
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
    };
    tokio::time::timeout(FIRST_CONNECT_TIMEOUT, first)
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "no answer to PING within {} s",
                    FIRST_CONNECT_TIMEOUT.as_secs()
                ),
            ))
        })??;
    client.get_connection_manager().await
}

/// A key-value cache with expiry shared by the replicas of a service.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// The value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// The values of `keys`, in order (one round trip where the adapter allows).
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(self.get(key).await?);
        }
        Ok(values)
    }
    /// Stores `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Adds one to the counter `key` and answers the new value; a new counter lives for `ttl`.
    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, CacheError>;
}

/// Shared handle to a cache adapter.
pub type SharedCache = Arc<dyn Cache>;

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires_at: Instant,
}

/// Most keys the in-process cache holds (it also counts failed logins per username, which anyone
/// can name): when full, the entries closest to expiry make room.
pub const IN_MEMORY_CAPACITY: usize = 100_000;

/// In-process cache for the embedded single-process mode, bounded to a fixed number of keys.
#[derive(Debug)]
pub struct InMemoryCache {
    entries: Mutex<HashMap<String, Entry>>,
    capacity: usize,
}

impl Default for InMemoryCache {
    fn default() -> InMemoryCache {
        InMemoryCache::with_capacity(IN_MEMORY_CAPACITY)
    }
}

/// Drops the `count` entries whose `instant` comes first.
pub(crate) fn drop_earliest<Value>(
    entries: &mut HashMap<String, Value>,
    instant: impl Fn(&Value) -> Instant,
    count: usize,
) {
    let mut order: Vec<(Instant, String)> = entries
        .iter()
        .map(|(key, value)| (instant(value), key.clone()))
        .collect();
    order.sort();
    for (_, key) in order.into_iter().take(count) {
        entries.remove(&key);
    }
}

/// Makes room for one new key: drops the tenth of the entries closest to expiry.
fn make_room(entries: &mut HashMap<String, Entry>, capacity: usize, key: &str) {
    if entries.len() < capacity || entries.contains_key(key) {
        return;
    }
    let excess = entries.len() + 1 - capacity;
    drop_earliest(entries, |entry| entry.expires_at, excess.max(capacity / 10));
}

impl InMemoryCache {
    pub fn new() -> InMemoryCache {
        InMemoryCache::default()
    }

    /// A cache holding at most `capacity` keys (at least one).
    pub fn with_capacity(capacity: usize) -> InMemoryCache {
        InMemoryCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// Number of keys held (expired ones included until the next access).
    pub fn len(&self) -> usize {
        self.with_entries(|entries| entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with_entries<T>(&self, work: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        entries.retain(|_, entry| entry.expires_at > now);
        work(&mut entries)
    }
}

#[async_trait]
impl Cache for InMemoryCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.with_entries(|entries| entries.get(key).map(|entry| entry.value.clone())))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let capacity = self.capacity;
        self.with_entries(|entries| {
            make_room(entries, capacity, key);
            entries.insert(
                key.to_owned(),
                Entry {
                    value: value.to_vec(),
                    expires_at: Instant::now() + ttl,
                },
            );
        });
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.with_entries(|entries| entries.remove(key));
        Ok(())
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let capacity = self.capacity;
        Ok(self.with_entries(|entries| {
            make_room(entries, capacity, key);
            let entry = entries.entry(key.to_owned()).or_insert_with(|| Entry {
                value: b"0".to_vec(),
                expires_at: Instant::now() + ttl,
            });
            let next = std::str::from_utf8(&entry.value)
                .ok()
                .and_then(|text| text.parse::<i64>().ok())
                .unwrap_or(0)
                + 1;
            entry.value = next.to_string().into_bytes();
            next
        }))
    }
}

/// Redis-backed cache; every key is put under `prefix`.
#[derive(Clone)]
pub struct RedisCache {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisCache {
    /// Connects to `url` (the first connection is made now, so a wrong URL fails at startup).
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCache, CacheError> {
        let (_, connection) = open_managed(url).await?;
        Ok(RedisCache {
            connection,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut connection = self.connection.clone();
        connection
            .get(self.key(key))
            .await
            .map_err(redis_failed("GET"))
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut connection = self.connection.clone();
        let keys: Vec<String> = keys.iter().map(|key| self.key(key)).collect();
        redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut connection)
            .await
            .map_err(redis_failed("MGET"))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async::<()>(&mut connection)
            .await
            .map_err(redis_failed("SET"))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        connection
            .del::<_, ()>(self.key(key))
            .await
            .map_err(redis_failed("DEL"))
    }

    async fn increment(&self, key: &str, ttl: Duration) -> Result<i64, CacheError> {
        let mut connection = self.connection.clone();
        let key = self.key(key);
        let (count,): (i64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(ttl_ms(ttl))
            .arg("NX")
            .ignore()
            .query_async(&mut connection)
            .await
            .map_err(redis_failed("INCR"))?;
        Ok(count)
    }
}

/// The cache replicas share in a test: Redis under a prefix of the test's own when
/// `TEST_REDIS_URL` is set, else one in-memory cache.
pub async fn shared_for_test() -> Result<SharedCache, CacheError> {
    match std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    {
        Some(url) => {
            let prefix = format!("tad-test-{}:", uuid::Uuid::new_v4().simple());
            Ok(Arc::new(RedisCache::connect(&url, &prefix).await?))
        }
        None => Ok(Arc::new(InMemoryCache::new())),
    }
}

/// `TEST_REDIS_URL` and a key prefix of one test's own, or `None` (and a note that the test is
/// skipped) when the variable is unset.
#[cfg(test)]
pub(crate) fn redis_for_test() -> Option<(String, String)> {
    let Some(url) = std::env::var("TEST_REDIS_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        eprintln!("skipped: TEST_REDIS_URL is not set");
        return None;
    };
    Some((url, format!("tad-test-{}:", uuid::Uuid::new_v4().simple())))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(cache: &dyn Cache, namespace: &str) {
        let key = format!("{namespace}:k");
        assert_eq!(cache.get(&key).await.expect("get"), None);
        cache
            .set(&key, b"v1", Duration::from_secs(30))
            .await
            .expect("set");
        assert_eq!(cache.get(&key).await.expect("get"), Some(b"v1".to_vec()));
        let missing = format!("{namespace}:missing");
        assert_eq!(
            cache
                .get_many(&[key.clone(), missing])
                .await
                .expect("get_many"),
            [Some(b"v1".to_vec()), None]
        );
        assert!(cache.get_many(&[]).await.expect("none").is_empty());
        cache.delete(&key).await.expect("delete");
        assert_eq!(cache.get(&key).await.expect("get"), None);

        let short = format!("{namespace}:short");
        cache
            .set(&short, b"gone soon", Duration::from_millis(150))
            .await
            .expect("set");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(cache.get(&short).await.expect("get"), None, "expired");

        let counter = format!("{namespace}:counter");
        assert_eq!(
            cache
                .increment(&counter, Duration::from_millis(300))
                .await
                .expect("incr"),
            1
        );
        assert_eq!(
            cache
                .increment(&counter, Duration::from_millis(300))
                .await
                .expect("incr"),
            2
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            cache
                .increment(&counter, Duration::from_secs(5))
                .await
                .expect("incr"),
            1,
            "counter expired"
        );
    }

    #[tokio::test]
    async fn the_in_memory_cache_holds_at_most_its_capacity() {
        let cache = InMemoryCache::with_capacity(100);
        for index in 0..1000 {
            cache
                .increment(
                    &format!("login-failures:user{index}"),
                    Duration::from_secs(60),
                )
                .await
                .expect("incr");
            assert!(cache.len() <= 100, "{} keys", cache.len());
        }
        assert_eq!(
            cache
                .get("login-failures:user999")
                .await
                .expect("get")
                .as_deref(),
            Some(&b"1"[..]),
            "the newest key is kept"
        );
    }

    #[tokio::test]
    async fn in_memory_cache_behaves() {
        exercise(&InMemoryCache::new(), "mem").await;
    }

    #[tokio::test]
    async fn redis_cache_behaves() {
        let Some((url, prefix)) = crate::cache::redis_for_test() else {
            return;
        };
        let cache = RedisCache::connect(&url, &prefix)
            .await
            .expect("connect to TEST_REDIS_URL");
        exercise(&cache, "redis").await;
    }

    /// An unreachable Redis is an error at once: a refused port, and a server that accepts but
    /// never answers (after FIRST_CONNECT_TIMEOUT, not the manager's long reconnection backoff).
    #[tokio::test]
    async fn an_unreachable_redis_is_reported_at_once() {
        let refused = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let refused_url = format!("redis://{}", refused.local_addr().expect("addr"));
        drop(refused);
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let silent_url = format!("redis://{}", silent.local_addr().expect("addr"));
        let _held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        for url in [refused_url, silent_url] {
            let outcome = tokio::time::timeout(
                FIRST_CONNECT_TIMEOUT + Duration::from_secs(5),
                RedisCache::connect(&url, "tad-test:"),
            )
            .await
            .unwrap_or_else(|_| panic!("connecting to {url} hung"));
            let error = outcome.err().unwrap_or_else(|| panic!("{url} answered"));
            assert!(error.to_string().contains("connect"), "{error}");
        }
    }
}
