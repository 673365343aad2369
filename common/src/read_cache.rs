//! Read-through cache of the answers a service gives again and again (lists, name lookups),
//! kept per process under "generations" held in the shared cache (Redis across replicas, in
//! memory in `tad serve`). Every write bumps the generation of each scope it can change after
//! it committed and before it is answered; a read first reads the generations of the scopes its
//! answer depends on and serves only an answer stored under exactly those. So once a write has
//! been answered, no replica serves what was there before. Answers live for the cache's TTL at
//! most; a read whose generations cannot be read goes to the database; when more than
//! [`CAPACITY`] answers (or scopes) are kept, the cache starts over.

use std::{
    any::Any,
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::cache::SharedCache;

pub mod provenance;

/// Most answers (and most scopes whose newest generation is remembered) kept per cache.
pub const CAPACITY: usize = 4096;
/// The longest read (its name and parameters) whose answer is kept: what a longer one holds is
/// read from the database every time, so no caller fills the cache with huge keys.
pub const MAX_READ_KEY: usize = 4096;
/// How long a scope's generation lives in the shared cache after its first write (it then
/// starts again above every generation before it, see `ReadCache::bump`).
pub const GENERATION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The scope of svc-resource's catalog (product lines, applications, modules, environments,
/// cluster types): other services' answers that show catalog names depend on it too.
pub const RESOURCE_CATALOG: &str = "resource:generation:catalog";

/// The scope of svc-resource's clusters, hosts and bindings (every write of them, and every
/// catalog write, bumps it): other services' answers that show cluster names depend on it too.
pub const RESOURCE_RECORDS: &str = "resource:generation:resources";

/// The scope of svc-artifact's component catalog (components, methods and their newest
/// packages): the answers of other services that show method names depend on it too.
pub const ARTIFACT_CATALOG: &str = "artifact:generation:catalog";

/// The scope of svc-artifact's artifacts, versions and their files and templates (package sync and
/// app-config uploads bump it): the step read-backs of svc-jobs that show them depend on it too.
pub const ARTIFACT_VERSIONS: &str = "artifact:generation:versions";

/// The scope of svc-artifact's scripts and their reviews: the step read-backs of svc-jobs that
/// show a bound script's name and state depend on it too.
pub const ARTIFACT_SCRIPTS: &str = "artifact:generation:scripts";

/// The scope of what `username`'s tokens may be answered: svc-resource bumps it when any of the
/// user's sessions or API tokens ends (after the change committed, before it is answered), and
/// the gateway keeps an answer for a caller only under it, so it serves none of them again
/// after the end was answered (its own session cache learns of it over the bus a moment later).
pub fn caller_scope(username: &str) -> String {
    scope("sessions", username)
}

/// Marks the answer being made as one no cache may keep (it holds an opened secret, say): the
/// service's read cache may still serve what it read, but no gateway keeps the rendered answer.
pub fn withhold() {
    provenance::spoil();
}

/// The generation key of scope `name` of `service` (`appinhouse:generation:{app}`, ...).
pub fn scope(service: &str, name: &str) -> String {
    format!("{service}:generation:{name}")
}

/// Where an answer is stored: the generation of each scope it was read under, and the read.
pub struct Slot {
    generations: Vec<(String, i64)>,
    key: String,
}

struct Stored {
    at: Instant,
    scopes: Vec<String>,
    answer: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct Answers {
    entries: HashMap<String, Stored>,
    /// The newest generation seen per scope.
    newest: HashMap<String, i64>,
}

impl Answers {
    fn forget(&mut self, scope: &str) {
        self.entries
            .retain(|_, stored| !stored.scopes.iter().any(|kept| kept == scope));
    }
}

/// The answers of one service in this process and the shared generations.
pub struct ReadCache {
    /// Named in logs.
    service: &'static str,
    generations: SharedCache,
    ttl: Duration,
    /// Most answers kept: past it the cache starts over.
    capacity: usize,
    answers: Mutex<Answers>,
    /// Reads that went to the database because the shared cache did not answer, since the last
    /// warning, and when (Unix ms) that warning was logged: one line a minute, not one a read.
    bypassed: AtomicU64,
    bypass_warned_ms: AtomicI64,
}

/// How often a shared cache that does not answer is logged.
const BYPASS_WARNING_EVERY_MS: i64 = 60_000;

/// A generation as the shared cache holds it (0 when it holds none).
pub fn parse_generation(value: Option<Vec<u8>>) -> i64 {
    value
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.parse::<i64>().ok())
        .unwrap_or(0)
}

impl ReadCache {
    /// A cache of `service`'s answers, each served for `ttl` at most.
    pub fn new(service: &'static str, generations: SharedCache, ttl: Duration) -> Arc<ReadCache> {
        ReadCache::with_capacity(service, generations, ttl, CAPACITY)
    }

    /// As [`ReadCache::new`], keeping at most `capacity` answers (a cache of large answers
    /// bounds its memory by their size times this).
    pub fn with_capacity(
        service: &'static str,
        generations: SharedCache,
        ttl: Duration,
        capacity: usize,
    ) -> Arc<ReadCache> {
        Arc::new(ReadCache {
            service,
            generations,
            ttl,
            capacity: capacity.clamp(1, CAPACITY),
            answers: Mutex::new(Answers::default()),
            bypassed: AtomicU64::new(0),
            bypass_warned_ms: AtomicI64::new(i64::MIN),
        })
    }

    /// Another cache of `service` under the same generations and TTL, keeping at most
    /// `capacity` answers: for answers too large to keep thousands of.
    pub fn sibling(&self, service: &'static str, capacity: usize) -> Arc<ReadCache> {
        ReadCache::with_capacity(service, self.generations.clone(), self.ttl, capacity)
    }

    /// Counts a bypassed read; logs the count at most once a minute.
    fn warn_bypassed(&self, error: &str) {
        self.bypassed.fetch_add(1, Ordering::Relaxed);
        let now = chrono::Utc::now().timestamp_millis();
        let last = self.bypass_warned_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < BYPASS_WARNING_EVERY_MS
            || self
                .bypass_warned_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let reads = self.bypassed.swap(0, Ordering::Relaxed);
        tracing::warn!(
            error,
            service = self.service,
            reads,
            "read cache bypassed: the shared cache does not answer, reads go to the database"
        );
    }

    fn with_answers<T>(&self, work: impl FnOnce(&mut Answers) -> T) -> T {
        let mut answers = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut answers)
    }

    /// Where the read `read` of an answer that depends on `scopes` is stored now; `None` when a
    /// generation cannot be read (the read then goes to the database).
    pub async fn slot(&self, scopes: &[&str], read: &str) -> Option<Slot> {
        let keys: Vec<String> = scopes.iter().map(|scope| (*scope).to_owned()).collect();
        let values = match self.generations.get_many(&keys).await {
            Ok(values) => values,
            Err(error) => {
                self.warn_bypassed(&error.to_string());
                provenance::spoil();
                return None;
            }
        };
        let generations: Vec<(String, i64)> = keys
            .into_iter()
            .zip(values.into_iter().map(parse_generation))
            .collect();
        self.with_answers(|answers| {
            if answers.newest.len() + generations.len() > CAPACITY {
                *answers = Answers::default();
            }
            for (scope, generation) in &generations {
                let newest = answers.newest.get(scope).copied().unwrap_or(*generation);
                if *generation < newest {
                    // The shared cache lost the generation (restart, eviction): nothing kept
                    // for the scope can be trusted.
                    answers.forget(scope);
                }
                answers.newest.insert(scope.clone(), *generation);
            }
        });
        // Debug formatting quotes and escapes every part: no two reads share a key.
        let key = format!("{generations:?}{read:?}");
        Some(Slot { generations, key })
    }

    /// The answer stored in `slot`, if it is young enough and of type `T`.
    pub fn get<T: Clone + 'static>(&self, slot: &Slot) -> Option<T> {
        let (answer, age) = self.with_answers(|answers| {
            answers
                .entries
                .get(&slot.key)
                .map(|stored| (stored, stored.at.elapsed()))
                .filter(|(_, age)| *age < self.ttl)
                .and_then(|(stored, age)| Some((stored.answer.downcast_ref::<T>()?.clone(), age)))
        })?;
        provenance::record(&slot.generations, self.ttl.saturating_sub(age));
        Some(answer)
    }

    /// Keeps `answer` in `slot`, unless one of its scopes has moved to another generation
    /// meanwhile.
    pub fn put<T: Send + Sync + 'static>(&self, slot: Slot, answer: T) {
        // Kept or not, the answer was read under these generations.
        provenance::record(&slot.generations, self.ttl);
        self.with_answers(|answers| {
            let current = slot
                .generations
                .iter()
                .all(|(scope, generation)| answers.newest.get(scope) == Some(generation));
            if !current {
                return;
            }
            if answers.entries.len() >= self.capacity {
                answers.entries.clear();
            }
            answers.entries.insert(
                slot.key,
                Stored {
                    at: Instant::now(),
                    scopes: slot
                        .generations
                        .into_iter()
                        .map(|(scope, _)| scope)
                        .collect(),
                    answer: Arc::new(answer),
                },
            );
        });
    }

    /// `load`, or the answer kept for this read (`read` names it, with its parameters) of what
    /// `scopes` hold. Only successful answers are kept.
    pub async fn read_through<T, E>(
        &self,
        scopes: &[&str],
        read: &str,
        load: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        self.read_through_if(scopes, read, |_| true, load).await
    }

    /// As [`ReadCache::read_through`], keeping only answers `keep` accepts (an answer that
    /// changes with time rather than by a write is served once and not kept).
    pub async fn read_through_if<T, E>(
        &self,
        scopes: &[&str],
        read: &str,
        keep: impl FnOnce(&T) -> bool,
        load: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E>
    where
        T: Clone + Send + Sync + 'static,
    {
        if read.len() > MAX_READ_KEY {
            // A read named by a long list (another service's batch of ids) is read, not kept.
            provenance::spoil();
            return load.await;
        }
        let slot = self.slot(scopes, read).await;
        if let Some(answer) = slot.as_ref().and_then(|slot| self.get::<T>(slot)) {
            return Ok(answer);
        }
        let answer = load.await?;
        if !keep(&answer) {
            provenance::spoil();
        } else if let Some(slot) = slot {
            self.put(slot, answer.clone());
        }
        Ok(answer)
    }

    /// Marks `scopes` changed: every process reads what they hold again. Called after the write
    /// committed and before it is answered; a failure is logged (the answers kept still expire
    /// within the TTL).
    pub async fn changed(&self, scopes: &[&str]) {
        for scope in scopes {
            let bumped = self.bump(scope).await;
            self.with_answers(|answers| {
                answers.forget(scope);
                match &bumped {
                    Ok(generation) => answers.newest.insert((*scope).to_owned(), *generation),
                    Err(_) => answers.newest.remove(*scope),
                };
            });
            if let Err(error) = bumped {
                tracing::error!(%error, service = self.service, scope, "read cache: the change was not announced");
            }
        }
    }

    /// Moves the generation of `scope` on. A generation the shared cache did not hold (the first
    /// write, or one after Redis lost its keys) starts at the time in microseconds, above any
    /// generation counted before: a reader that kept answers under the lost one never finds
    /// them under the new one, even without having seen the loss.
    async fn bump(&self, scope: &str) -> Result<i64, crate::cache::CacheError> {
        let generation = self.generations.increment(scope, GENERATION_TTL).await?;
        if generation != 1 {
            return Ok(generation);
        }
        let start = chrono::Utc::now().timestamp_micros();
        self.generations
            .set(scope, start.to_string().as_bytes(), GENERATION_TTL)
            .await?;
        Ok(start)
    }

    /// `written` (a write's outcome), once the scopes it changed are marked when it succeeded (a
    /// failed transaction wrote nothing).
    pub async fn written<T, E>(&self, scopes: &[&str], written: Result<T, E>) -> Result<T, E> {
        if written.is_ok() {
            self.changed(scopes).await;
        }
        written
    }

    /// How many answers this process keeps now (tests).
    pub fn len(&self) -> usize {
        self.with_answers(|answers| answers.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests;
