//! Idempotency keys of the requests that start work (6.1, 6.2, 2.1, retry, rollback): the key is
//! stored in the transaction that claims the execution, so a request repeated with the same key
//! by the same caller on the same route answers the execution the first one started (even while
//! it runs, even on another replica) and two concurrent requests with one key start one
//! execution. The same key with another request is refused. Keys live [`KEY_LIFETIME`].

use std::future::Future;

use common::{db::DbConnection, time::now_utc};

use super::{Engine, Started};
use crate::{
    db::models::idempotency::{self, IdempotencyRow},
    domain::{JobsError, JobsResult},
};

/// How long a key answers its execution; older keys are deleted when a key is stored.
pub const KEY_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Longest key accepted (the gateway checks the same).
pub const MAX_KEY_CHARS: usize = 128;

/// The route a key was given on: keys of different routes do not meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyedRoute {
    /// 6.1: every remaining step.
    Start,
    /// 6.2: the next step.
    Resume,
    /// 2.1: a joint line.
    JointLine,
    /// `POST /api/executions/{id}/retry`.
    Retry,
    /// `POST /api/app/jobinstance/{id}/rollback`.
    Rollback,
}

impl KeyedRoute {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyedRoute::Start => "6.1",
            KeyedRoute::Resume => "6.2",
            KeyedRoute::JointLine => "2.1",
            KeyedRoute::Retry => "retry",
            KeyedRoute::Rollback => "rollback",
        }
    }

    /// Whether the execution it starts is a joint run.
    fn joint(self) -> bool {
        self == KeyedRoute::JointLine
    }
}

/// A start request with a client's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    pub key: String,
    pub caller: String,
    pub route: KeyedRoute,
    /// The request's parameters that decide what it starts (`instance=…;use_tad_host=…`).
    pub fingerprint: String,
}

impl Keyed {
    /// Checks the key: 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
    pub fn new(
        key: &str,
        caller: &str,
        route: KeyedRoute,
        fingerprint: String,
    ) -> JobsResult<Keyed> {
        if key.is_empty()
            || key.len() > MAX_KEY_CHARS
            || !key.bytes().all(|byte| byte.is_ascii_graphic())
        {
            return Err(JobsError::Invalid {
                field: "Idempotency-Key",
                message: format!(
                    "must be 1 to {MAX_KEY_CHARS} visible ASCII characters (got {} bytes)",
                    key.len()
                ),
            });
        }
        Ok(Keyed {
            key: key.to_owned(),
            caller: caller.to_owned(),
            route,
            fingerprint,
        })
    }
}

/// Stores `keyed` as having started `execution_id`, deleting expired keys first; meant for the
/// transaction that claims the execution. A key stored meanwhile is a unique violation.
pub(crate) fn store(
    connection: &mut DbConnection,
    keyed: &Keyed,
    execution_id: &str,
) -> JobsResult<()> {
    let now = now_utc();
    idempotency::delete_older(connection, now - KEY_LIFETIME)?;
    idempotency::insert(
        connection,
        &IdempotencyRow {
            caller: keyed.caller.clone(),
            route: keyed.route.as_str().to_owned(),
            idempotency_key: keyed.key.clone(),
            fingerprint: keyed.fingerprint.clone(),
            execution_id: execution_id.to_owned(),
            create_time: now,
        },
    )?;
    Ok(())
}

impl Engine {
    /// Starts with `start` unless `keyed` names an execution already; when `start` fails because
    /// a concurrent request with the same key won, answers that request's execution.
    pub(crate) async fn keyed<F>(&self, keyed: Option<&Keyed>, start: F) -> JobsResult<Started>
    where
        F: Future<Output = JobsResult<Started>>,
    {
        let Some(keyed) = keyed else {
            return start.await;
        };
        if let Some(started) = self.replay(keyed).await? {
            return Ok(started);
        }
        match start.await {
            Ok(started) => Ok(started),
            Err(error) => match self.replay(keyed).await? {
                Some(started) => Ok(started),
                None => Err(error),
            },
        }
    }

    /// The execution a stored key started, or the refusal of a key used for another request.
    async fn replay(&self, keyed: &Keyed) -> JobsResult<Option<Started>> {
        let owned = keyed.clone();
        let row = self
            .inner
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(idempotency::find(
                    connection,
                    &owned.caller,
                    owned.route.as_str(),
                    &owned.key,
                    now_utc() - KEY_LIFETIME,
                )?)
            })
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        if row.fingerprint != keyed.fingerprint {
            return Err(JobsError::KeyReused {
                message: format!(
                    "Idempotency-Key {:?} was already used on route {} for another request \
                     (execution {}); send a new key for a different request",
                    keyed.key,
                    keyed.route.as_str(),
                    row.execution_id
                ),
            });
        }
        tracing::info!(execution = %row.execution_id, route = keyed.route.as_str(), "repeated idempotency key answers its execution");
        Ok(Some(Started::stored(
            row.execution_id,
            self.inner.database.clone(),
            keyed.route.joint(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii_and_name_the_header() {
        let keyed =
            Keyed::new("k-1", "alice", KeyedRoute::Start, "instance=i".to_owned()).expect("valid");
        assert_eq!(keyed.route.as_str(), "6.1");
        for bad in [
            String::new(),
            "k".repeat(MAX_KEY_CHARS + 1),
            "a b".to_owned(),
        ] {
            let error =
                Keyed::new(&bad, "alice", KeyedRoute::Retry, String::new()).expect_err("refused");
            assert!(error.to_string().starts_with("Idempotency-Key "), "{error}");
        }
    }
}
