//! The read cache on its own: hits, a write in another process seen at once, several scopes,
//! lost generations, TTL, capacity, failures of the shared cache. On the in-memory cache, and on
//! Redis when `TEST_REDIS_URL` is set.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;

use super::*;
use crate::cache::{Cache, CacheError, InMemoryCache, RedisCache};

const LISTS: &str = "test:generation:lists";
const NAMES: &str = "test:generation:names";

/// Counts the loads, answering `value` each time.
struct Source {
    loads: AtomicUsize,
}

impl Source {
    fn new() -> Source {
        Source {
            loads: AtomicUsize::new(0),
        }
    }

    async fn load(&self, value: &str) -> Result<String, String> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        Ok(value.to_owned())
    }

    fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
}

/// Two processes' caches over one shared cache.
fn pair(shared: SharedCache, ttl: Duration) -> (Arc<ReadCache>, Arc<ReadCache>) {
    (
        ReadCache::new("test", shared.clone(), ttl),
        ReadCache::new("test", shared, ttl),
    )
}

async fn exercise(shared: SharedCache) {
    let (a, b) = pair(shared.clone(), Duration::from_secs(60));
    let source = Source::new();
    let read = |cache: Arc<ReadCache>, value: &'static str, scopes: &'static [&'static str]| {
        let source = &source;
        async move {
            cache
                .read_through(scopes, "list", source.load(value))
                .await
                .expect("read")
        }
    };
    // A hit: the second read does not load.
    assert_eq!(read(b.clone(), "one", &[LISTS]).await, "one");
    assert_eq!(read(b.clone(), "changed", &[LISTS]).await, "one");
    assert_eq!(source.loads(), 1);
    // A write in the other process: read again at once.
    a.changed(&[LISTS]).await;
    assert_eq!(read(b.clone(), "two", &[LISTS]).await, "two");
    assert_eq!(source.loads(), 2);
    // An answer of two scopes moves with either.
    assert_eq!(read(b.clone(), "three", &[LISTS, NAMES]).await, "three");
    assert_eq!(read(b.clone(), "stale", &[LISTS, NAMES]).await, "three");
    a.changed(&[NAMES]).await;
    assert_eq!(read(b.clone(), "four", &[LISTS, NAMES]).await, "four");
    assert_eq!(
        read(b.clone(), "stale", &[LISTS]).await,
        "two",
        "the other scope alone did not move"
    );
    // Reads are told apart.
    let other = b
        .read_through(&[LISTS], "list\npage 2", source.load("page two"))
        .await
        .expect("read");
    assert_eq!(other, "page two");
    // Failed loads are not kept.
    let failed: Result<String, String> = b
        .read_through(&[LISTS], "failing", async { Err("down".to_owned()) })
        .await;
    assert!(failed.is_err());
    assert_eq!(
        b.read_through(&[LISTS], "failing", source.load("up"))
            .await
            .expect("read"),
        "up"
    );
    // `keep` may refuse an answer.
    let refused = |value: &'static str| {
        b.read_through_if(&[LISTS], "refused", |_: &String| false, source.load(value))
    };
    assert_eq!(refused("first").await.expect("read"), "first");
    assert_eq!(refused("second").await.expect("read"), "second");
    // A read named by a key longer than the limit is read each time, never kept.
    let long = "x".repeat(MAX_READ_KEY + 1);
    let kept_before = b.len();
    let loads = source.loads();
    for value in ["long one", "long two"] {
        let read = b.read_through(&[LISTS], &long, source.load(value)).await;
        assert_eq!(read.expect("read"), value);
    }
    assert_eq!((source.loads(), b.len()), (loads + 2, kept_before));
}

#[tokio::test]
async fn a_write_in_one_process_is_read_at_once_in_another_in_memory() {
    exercise(Arc::new(InMemoryCache::new())).await;
}

#[tokio::test]
async fn a_write_in_one_process_is_read_at_once_in_another_on_redis() {
    let Some((url, prefix)) = crate::cache::redis_for_test() else {
        return;
    };
    exercise(Arc::new(
        RedisCache::connect(&url, &prefix).await.expect("redis"),
    ))
    .await;
}

#[tokio::test]
async fn answers_expire_after_the_ttl() {
    let cache = ReadCache::new(
        "test",
        Arc::new(InMemoryCache::new()),
        Duration::from_millis(100),
    );
    let source = Source::new();
    cache
        .read_through(&[LISTS], "list", source.load("one"))
        .await
        .expect("read");
    cache
        .read_through(&[LISTS], "list", source.load("one"))
        .await
        .expect("read");
    assert_eq!(source.loads(), 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let fresh = cache
        .read_through(&[LISTS], "list", source.load("two"))
        .await
        .expect("read");
    assert_eq!(fresh, "two");
}

#[tokio::test]
async fn at_capacity_the_cache_starts_over() {
    let cache = ReadCache::new(
        "test",
        Arc::new(InMemoryCache::new()),
        Duration::from_secs(60),
    );
    let source = Source::new();
    for index in 0..CAPACITY {
        cache
            .read_through(&[LISTS], &index.to_string(), source.load("x"))
            .await
            .expect("read");
    }
    assert_eq!(cache.len(), CAPACITY);
    cache
        .read_through(&[LISTS], "one more", source.load("x"))
        .await
        .expect("read");
    assert_eq!(cache.len(), 1, "cleared, then the new answer");
    // Scopes are bounded too (names a caller may choose).
    for index in 0..=CAPACITY {
        let scope = scope("test", &index.to_string());
        cache
            .read_through(&[scope.as_str()], "list", source.load("x"))
            .await
            .expect("read");
    }
    assert!(cache.len() < CAPACITY);
}

#[tokio::test]
async fn a_cache_of_large_answers_keeps_at_most_its_capacity() {
    let cache = ReadCache::with_capacity(
        "test",
        Arc::new(InMemoryCache::new()),
        Duration::from_secs(60),
        3,
    );
    let source = Source::new();
    for index in 0..3 {
        cache
            .read_through(&[LISTS], &index.to_string(), source.load("x"))
            .await
            .expect("read");
    }
    assert_eq!(cache.len(), 3);
    cache
        .read_through(&[LISTS], "0", source.load("x"))
        .await
        .expect("read");
    assert_eq!(source.loads(), 3, "a kept answer is served");
    cache
        .read_through(&[LISTS], "one more", source.load("x"))
        .await
        .expect("read");
    assert_eq!(cache.len(), 1, "cleared at 3, then the new answer");
}

#[tokio::test]
async fn a_lost_generation_drops_what_was_kept_under_it() {
    let shared: Arc<InMemoryCache> = Arc::new(InMemoryCache::new());
    let cache = ReadCache::new("test", shared.clone(), Duration::from_secs(60));
    let source = Source::new();
    cache.changed(&[LISTS]).await;
    cache.changed(&[LISTS]).await;
    cache
        .read_through(&[LISTS], "list", source.load("under 2"))
        .await
        .expect("read");
    // The shared cache lost the generation (a Redis restart): it reads 0, below the newest seen
    // (2), so what was kept under 2 goes, and is not served when writes bring it back to 2.
    shared.delete(LISTS).await.expect("delete");
    let read = cache
        .read_through(&[LISTS], "list", source.load("at 0"))
        .await
        .expect("read");
    assert_eq!(read, "at 0");
    let other = ReadCache::new("test", shared.clone(), Duration::from_secs(60));
    other.changed(&[LISTS]).await;
    let read = cache
        .read_through(&[LISTS], "list", source.load("after a write"))
        .await
        .expect("read");
    assert_eq!(read, "after a write");
}

#[tokio::test]
async fn a_generation_lost_unseen_starts_above_the_one_before() {
    let shared: Arc<InMemoryCache> = Arc::new(InMemoryCache::new());
    let cache = ReadCache::new("test", shared.clone(), Duration::from_secs(60));
    let source = Source::new();
    cache.changed(&[LISTS]).await;
    cache.changed(&[LISTS]).await;
    cache
        .read_through(&[LISTS], "list", source.load("before the loss"))
        .await
        .expect("read");
    // Lost and written again before this process read it: it never sees generation 0, and the
    // new generation is not the one its answer is kept under.
    shared.delete(LISTS).await.expect("delete");
    tokio::time::sleep(Duration::from_millis(2)).await;
    let other = ReadCache::new("test", shared.clone(), Duration::from_secs(60));
    other.changed(&[LISTS]).await;
    other.changed(&[LISTS]).await;
    let read = cache
        .read_through(&[LISTS], "list", source.load("after the loss"))
        .await
        .expect("read");
    assert_eq!(read, "after the loss");
}

/// A shared cache that is down.
struct Down;

fn down() -> CacheError {
    crate::cache::RedisFailure {
        operation: "GET",
        source: redis::RedisError::from(std::io::Error::other("down")),
    }
}

#[async_trait]
impl Cache for Down {
    async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Err(down())
    }
    async fn set(&self, _: &str, _: &[u8], _: Duration) -> Result<(), CacheError> {
        Err(down())
    }
    async fn delete(&self, _: &str) -> Result<(), CacheError> {
        Err(down())
    }
    async fn increment(&self, _: &str, _: Duration) -> Result<i64, CacheError> {
        Err(down())
    }
}

#[tokio::test]
async fn without_the_shared_cache_every_read_loads() {
    let cache = ReadCache::new("test", Arc::new(Down), Duration::from_secs(60));
    let source = Source::new();
    for value in ["one", "two"] {
        let read = cache
            .read_through(&[LISTS], "list", source.load(value))
            .await
            .expect("read");
        assert_eq!(read, value);
    }
    cache.changed(&[LISTS]).await;
    assert!(cache.is_empty());
}

#[tokio::test]
async fn a_read_that_loaded_across_a_write_in_this_process_is_not_kept() {
    let cache = ReadCache::new(
        "test",
        Arc::new(InMemoryCache::new()),
        Duration::from_secs(60),
    );
    let slot = cache.slot(&[LISTS], "list").await.expect("slot");
    // The write commits and is announced while the read is loading.
    cache.changed(&[LISTS]).await;
    cache.put(slot, "read before the write".to_owned());
    assert!(cache.is_empty());
    let slot = cache.slot(&[LISTS], "list").await.expect("slot");
    assert_eq!(cache.get::<String>(&slot), None);
    // A kept answer is served only as its own type.
    cache.put(slot, "kept".to_owned());
    let slot = cache.slot(&[LISTS], "list").await.expect("slot");
    assert_eq!(cache.get::<String>(&slot).as_deref(), Some("kept"));
    assert_eq!(cache.get::<i64>(&slot), None);
}

#[tokio::test]
async fn a_recorded_read_names_its_generations_and_an_unkept_one_spoils_the_record() {
    let shared: SharedCache = Arc::new(InMemoryCache::new());
    let cache = ReadCache::new("test", shared, Duration::from_secs(60));
    let source = Source::new();
    cache.changed(&[LISTS]).await;
    let generation = parse_generation(shared_generation(&cache, LISTS).await);

    // A miss (loaded and kept), then a hit: both name the generation they were read under.
    for _ in 0..2 {
        let (answer, under) =
            provenance::recording(cache.read_through(&[LISTS, NAMES], "read", source.load("v1")))
                .await;
        assert_eq!(answer.as_deref(), Ok("v1"));
        let under = under.expect("recorded");
        assert_eq!(
            under.generations,
            vec![(LISTS.to_owned(), generation), (NAMES.to_owned(), 0)]
        );
        assert!(under.ttl <= Duration::from_secs(60) && !under.ttl.is_zero());
    }
    assert_eq!(source.loads(), 1);

    // An answer the cache does not keep is not kept by anyone else either.
    let (_, under) = provenance::recording(cache.read_through_if(
        &[LISTS],
        "unsteady",
        |_| false,
        source.load("v2"),
    ))
    .await;
    assert_eq!(under, None);
}

async fn shared_generation(cache: &ReadCache, scope: &str) -> Option<Vec<u8>> {
    cache
        .generations
        .get_many(&[scope.to_owned()])
        .await
        .expect("generation")
        .pop()
        .flatten()
}
