//! Session revocation: every user token names its login session (`sid`), and a token is honoured
//! only while that session is active at its owner (svc-resource). Answers are cached per process
//! for a few seconds and dropped at once when a revocation arrives on the event bus, so every
//! replica stops honouring a token within a second of a logout, a user's deletion, a role change
//! or a password change. When the owner cannot answer, the token is refused (fail closed).
//!
//! API tokens (`tad_...`, issue 20) are checked here too: the owner answers what a token grants
//! (owner, roles, expiry), the answer is cached the same few seconds under the token's SHA-256
//! (never the token), and a revoke (`token:<id>`) or any revocation of its owner drops it at once
//! on every process. Their expiry is checked on every use.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use futures::StreamExt;

use crate::{
    bus::SharedBus,
    identity::{Actor, AuthError, Claims},
};

/// Bus topic of revocations: `session:<id>`, `user:<username>` or `token:<id>`.
pub const REVOKED_TOPIC: &str = "auth.sessions.revoked";

/// How long a positive answer is trusted without asking the owner again (bus messages end it
/// sooner).
pub const ACTIVE_TTL: Duration = Duration::from_secs(5);

/// Most sessions remembered per process; beyond it the oldest answers are forgotten (and asked
/// again when needed).
pub const CACHE_CAPACITY: usize = 10_000;

/// Why the owner could not answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SessionError(pub String);

/// The owner of sessions: answers whether the session of a verified token is active.
#[async_trait]
pub trait SessionSource: Send + Sync + 'static {
    async fn is_active(&self, actor: &Actor) -> Result<bool, SessionError>;

    /// What the API token `token` grants: claims naming its owner (`sub`), its roles (capped by
    /// the owner's), its expiry (`exp`, past ones included so the caller can say "expired") and
    /// the token (`api_token`); `None` when no such token exists (never made, or revoked).
    async fn resolve_api_token(&self, token: &str) -> Result<Option<Claims>, SessionError>;
}

/// What a revocation ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// One session (a logout).
    Session(String),
    /// Every session of a user (deleted, roles changed, password changed), and the cached
    /// answers of their API tokens.
    User(String),
    /// One API token (revoked), by id.
    Token(String),
}

impl Revocation {
    fn encode(&self) -> String {
        match self {
            Revocation::Session(id) => format!("session:{id}"),
            Revocation::User(username) => format!("user:{username}"),
            Revocation::Token(id) => format!("token:{id}"),
        }
    }

    fn decode(payload: &[u8]) -> Option<Revocation> {
        let text = std::str::from_utf8(payload).ok()?;
        if let Some(id) = text.strip_prefix("session:") {
            return Some(Revocation::Session(id.to_owned()));
        }
        if let Some(id) = text.strip_prefix("token:") {
            return Some(Revocation::Token(id.to_owned()));
        }
        text.strip_prefix("user:")
            .map(|username| Revocation::User(username.to_owned()))
    }
}

#[derive(Debug)]
struct Entry {
    username: String,
    active: bool,
    checked_at: Instant,
}

/// A cached answer for an API token (keyed by the token's SHA-256).
#[derive(Debug)]
struct TokenEntry {
    claims: Claims,
    checked_at: Instant,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<String, Entry>,
    tokens: HashMap<String, TokenEntry>,
    /// Bumped by every revocation, so an answer fetched before it is not cached after it.
    generation: u64,
    /// True while the bus subscription runs; without it nothing is served from the cache.
    listening: bool,
}

struct Inner {
    source: Arc<dyn SessionSource>,
    bus: Option<SharedBus>,
    state: Mutex<State>,
}

/// The per-process session check (cheap to clone).
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Sessions")
    }
}

impl Sessions {
    /// A check asking `source`, invalidated by revocations on `bus` (a task listens to it; call
    /// inside a Tokio runtime). Without a bus nothing is cached.
    pub fn new(source: Arc<dyn SessionSource>, bus: Option<SharedBus>) -> Sessions {
        let sessions = Sessions {
            inner: Arc::new(Inner {
                source,
                bus: bus.clone(),
                state: Mutex::new(State::default()),
            }),
        };
        if let Some(bus) = bus {
            tokio::spawn(listen(Arc::downgrade(&sessions.inner), bus));
        }
        sessions
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.inner)
    }

    /// Ok when the session of `actor` is active; [`AuthError::Revoked`] when it ended or the
    /// token names none; [`AuthError::Unavailable`] when the owner cannot tell.
    pub async fn check(&self, actor: &Actor) -> Result<(), AuthError> {
        let Some(session_id) = actor.claims.sid.as_deref() else {
            return Err(AuthError::Revoked);
        };
        let generation = {
            let state = self.state();
            if state.listening
                && let Some(entry) = state.entries.get(session_id)
                && entry.username == actor.claims.sub
                && (!entry.active || entry.checked_at.elapsed() < ACTIVE_TTL)
            {
                return if entry.active {
                    Ok(())
                } else {
                    Err(AuthError::Revoked)
                };
            }
            state.generation
        };
        let active = self.inner.source.is_active(actor).await.map_err(|error| {
            tracing::warn!(error = %error, "cannot check a session; refusing the token");
            AuthError::Unavailable(error.0)
        })?;
        {
            let mut state = self.state();
            if state.listening && state.generation == generation {
                if state.entries.len() >= CACHE_CAPACITY {
                    evict(&mut state.entries);
                }
                state.entries.insert(
                    session_id.to_owned(),
                    Entry {
                        username: actor.claims.sub.clone(),
                        active,
                        checked_at: Instant::now(),
                    },
                );
            }
        }
        if active {
            Ok(())
        } else {
            Err(AuthError::Revoked)
        }
    }

    /// The claims of the API token `token`: [`AuthError::UnknownApiToken`] when its owner knows
    /// no such token (or it was revoked), [`AuthError::Expired`] past its expiry,
    /// [`AuthError::Revoked`] when its owner holds none of its roles any more,
    /// [`AuthError::Unavailable`] when the owner cannot tell.
    pub async fn resolve_api_token(&self, token: &str) -> Result<Claims, AuthError> {
        let key = token_key(token);
        let generation = {
            let state = self.state();
            if state.listening
                && let Some(entry) = state.tokens.get(&key)
                && entry.checked_at.elapsed() < ACTIVE_TTL
            {
                return granted(entry.claims.clone());
            }
            state.generation
        };
        let claims = self
            .inner
            .source
            .resolve_api_token(token)
            .await
            .map_err(|error| {
                tracing::warn!(error = %error, "cannot resolve an API token; refusing it");
                AuthError::Unavailable(error.0)
            })?
            .ok_or(AuthError::UnknownApiToken)?;
        {
            let mut state = self.state();
            if state.listening && state.generation == generation {
                if state.tokens.len() >= CACHE_CAPACITY {
                    state
                        .tokens
                        .retain(|_, entry| entry.checked_at.elapsed() < ACTIVE_TTL);
                    crate::cache::drop_earliest(
                        &mut state.tokens,
                        |entry| entry.checked_at,
                        CACHE_CAPACITY / 10 + 1,
                    );
                }
                state.tokens.insert(
                    key,
                    TokenEntry {
                        claims: claims.clone(),
                        checked_at: Instant::now(),
                    },
                );
            }
        }
        granted(claims)
    }

    /// Ends cached answers here and tells every other process over the bus. The owner calls it
    /// after the revocation is committed.
    pub async fn revoke(&self, revocation: Revocation) {
        apply(&self.inner, &revocation);
        if let Some(bus) = &self.inner.bus
            && let Err(error) = bus
                .publish(REVOKED_TOPIC, revocation.encode().as_bytes())
                .await
        {
            // Other replicas still stop within ACTIVE_TTL (their cached answers expire).
            tracing::warn!(error = %error, "cannot publish a session revocation");
        }
    }

    /// Number of cached answers (tests and metrics).
    pub fn cached(&self) -> usize {
        self.state().entries.len()
    }
}

/// The cache key of an API token: its SHA-256 (the cache never holds a token).
fn token_key(token: &str) -> String {
    crate::identity::api_token_hash(token)
}

/// The claims of a resolved API token, unless it expired or lost every role.
fn granted(claims: Claims) -> Result<Claims, AuthError> {
    if claims.exp <= chrono::Utc::now().timestamp() {
        return Err(AuthError::Expired);
    }
    if claims.roles.is_empty() {
        return Err(AuthError::Revoked);
    }
    Ok(claims)
}

fn lock(inner: &Inner) -> std::sync::MutexGuard<'_, State> {
    inner
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Drops expired positive answers, then (still full) the oldest tenth.
fn evict(entries: &mut HashMap<String, Entry>) {
    entries.retain(|_, entry| !entry.active || entry.checked_at.elapsed() < ACTIVE_TTL);
    if entries.len() < CACHE_CAPACITY {
        return;
    }
    crate::cache::drop_earliest(entries, |entry| entry.checked_at, CACHE_CAPACITY / 10 + 1);
}

fn apply(inner: &Inner, revocation: &Revocation) {
    let mut state = lock(inner);
    state.generation = state.generation.wrapping_add(1);
    match revocation {
        Revocation::Session(id) => {
            if let Some(entry) = state.entries.get_mut(id) {
                entry.active = false;
            }
        }
        Revocation::User(username) => {
            state.entries.retain(|_, entry| &entry.username != username);
            state
                .tokens
                .retain(|_, entry| &entry.claims.sub != username);
        }
        Revocation::Token(id) => state.tokens.retain(|_, entry| {
            entry
                .claims
                .api_token
                .as_ref()
                .is_none_or(|token| &token.id != id)
        }),
    }
}

/// Applies revocations from the bus while the check lives; when the subscription fails or ends,
/// forgets every cached answer (none can be trusted) and subscribes again.
async fn listen(inner: std::sync::Weak<Inner>, bus: SharedBus) {
    loop {
        match bus.subscribe(REVOKED_TOPIC).await {
            Ok(mut messages) => {
                match inner.upgrade() {
                    Some(inner) => {
                        let mut state = lock(&inner);
                        state.entries.clear();
                        state.tokens.clear();
                        state.listening = true;
                    }
                    None => return,
                }
                while let Some(payload) = messages.next().await {
                    let Some(inner) = inner.upgrade() else {
                        return;
                    };
                    if let Some(revocation) = Revocation::decode(&payload) {
                        apply(&inner, &revocation);
                    }
                }
                tracing::warn!("session revocation subscription ended; subscribing again");
            }
            Err(error) => {
                tracing::warn!(error = %error, "cannot subscribe to session revocations");
            }
        }
        match inner.upgrade() {
            Some(inner) => {
                let mut state = lock(&inner);
                state.entries.clear();
                state.tokens.clear();
                state.listening = false;
            }
            None => return,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::{bus::InMemoryBus, identity::Claims};

    struct Source {
        active: AtomicBool,
        asked: AtomicUsize,
    }

    impl Source {
        /// A source whose every session is active, not yet asked.
        fn active() -> Arc<Source> {
            Arc::new(Source {
                active: AtomicBool::new(true),
                asked: AtomicUsize::new(0),
            })
        }
    }

    #[async_trait]
    impl SessionSource for Source {
        async fn is_active(&self, _actor: &Actor) -> Result<bool, SessionError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Ok(self.active.load(Ordering::SeqCst))
        }

        /// Knows every token while active (as `ci` of alice, id `t1`, valid for an hour).
        async fn resolve_api_token(&self, _token: &str) -> Result<Option<Claims>, SessionError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            Ok(self.active.load(Ordering::SeqCst).then(|| Claims {
                api_token: Some(crate::identity::ApiTokenRef {
                    id: "t1".into(),
                    name: "ci".into(),
                }),
                exp: chrono::Utc::now().timestamp() + 3600,
                ..actor(None).claims
            }))
        }
    }

    fn actor(sid: Option<&str>) -> Actor {
        Actor {
            claims: Claims {
                sub: "alice".into(),
                roles: vec!["viewer".into()],
                iat: 0,
                exp: 0,
                sid: sid.map(str::to_owned),
                api_token: None,
            },
            token: String::new(),
        }
    }

    /// Waits up to a second for `holds` to answer true; panics with `failure` if it never does.
    async fn within_a_second<Check: std::future::Future<Output = bool>>(
        mut holds: impl FnMut() -> Check,
        failure: &str,
    ) {
        for _ in 0..100 {
            if holds().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{failure}");
    }

    async fn listening(sessions: &Sessions) {
        let started = || async { sessions.state().listening };
        within_a_second(started, "the bus listener never started").await;
    }

    /// One source and two processes' checks sharing a bus, both listening.
    async fn two_processes() -> (Arc<Source>, Sessions, Sessions) {
        let source = Source::active();
        let bus: SharedBus = Arc::new(InMemoryBus::new());
        let here = Sessions::new(source.clone(), Some(bus.clone()));
        let there = Sessions::new(source.clone(), Some(bus));
        listening(&here).await;
        listening(&there).await;
        (source, here, there)
    }

    #[tokio::test]
    async fn answers_are_cached_until_a_revocation_arrives_on_the_bus() {
        let (source, here, there) = two_processes().await;
        let alice = actor(Some("s1"));
        here.check(&alice).await.expect("active");
        here.check(&alice).await.expect("active");
        assert_eq!(
            source.asked.load(Ordering::SeqCst),
            1,
            "second answer cached"
        );
        there.check(&alice).await.expect("active");

        source.active.store(false, Ordering::SeqCst);
        here.revoke(Revocation::User("alice".into())).await;
        assert_eq!(here.check(&alice).await, Err(AuthError::Revoked));
        within_a_second(
            || async { there.check(&alice).await.is_err() },
            "the other process still honours the revoked session",
        )
        .await;
    }

    #[tokio::test]
    async fn api_token_answers_are_cached_until_revoked_on_any_process() {
        let (source, here, there) = two_processes().await;
        let claims = here.resolve_api_token("tad_x").await.expect("known");
        assert_eq!(claims.actor_label(), "token:ci");
        assert_eq!(claims.username(), "alice");
        there.resolve_api_token("tad_x").await.expect("known");
        here.resolve_api_token("tad_x").await.expect("cached");
        assert_eq!(
            source.asked.load(Ordering::SeqCst),
            2,
            "second answer cached"
        );
        assert!(
            !format!("{:?}", here.state().tokens.keys()).contains("tad_x"),
            "the cache holds hashes, not tokens"
        );

        source.active.store(false, Ordering::SeqCst);
        here.revoke(Revocation::Token("t1".into())).await;
        assert_eq!(
            here.resolve_api_token("tad_x").await,
            Err(AuthError::UnknownApiToken)
        );
        within_a_second(
            || async { there.resolve_api_token("tad_x").await.is_err() },
            "the other process still honours the revoked API token",
        )
        .await;
    }

    #[test]
    fn expired_or_roleless_api_tokens_are_refused() {
        let valid = Claims {
            exp: chrono::Utc::now().timestamp() + 60,
            ..actor(None).claims
        };
        assert!(granted(valid.clone()).is_ok());
        let expired = Claims {
            exp: chrono::Utc::now().timestamp() - 1,
            ..valid.clone()
        };
        assert_eq!(granted(expired), Err(AuthError::Expired));
        let roleless = Claims {
            roles: vec![],
            ..valid
        };
        assert_eq!(granted(roleless), Err(AuthError::Revoked));
    }

    #[tokio::test]
    async fn tokens_without_a_session_are_refused() {
        let source = Source::active();
        let sessions = Sessions::new(source, None);
        assert_eq!(sessions.check(&actor(None)).await, Err(AuthError::Revoked));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let mut entries = HashMap::new();
        for index in 0..CACHE_CAPACITY {
            entries.insert(
                format!("s{index}"),
                Entry {
                    username: "u".into(),
                    active: true,
                    checked_at: Instant::now(),
                },
            );
        }
        evict(&mut entries);
        assert!(entries.len() < CACHE_CAPACITY);
    }

    #[test]
    fn revocations_round_trip() {
        for revocation in [
            Revocation::Session("abc".into()),
            Revocation::User("bob".into()),
            Revocation::Token("t1".into()),
        ] {
            assert_eq!(
                Revocation::decode(revocation.encode().as_bytes()),
                Some(revocation)
            );
        }
        assert_eq!(Revocation::decode(b"other"), None);
    }
}
