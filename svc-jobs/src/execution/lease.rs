//! The lease of a run (or joint run) while a replica works it: renewed several times per lease,
//! and a replica that can no longer be sure it holds the lease gives the run up at once, as if it
//! had been killed, before another replica can take it.

use std::time::Duration;

use common::db::DbConnection;
use tokio::{sync::oneshot, time::Instant};

use super::Inner;

/// How much of the lease a replica works on after its last renewal began: it gives the run up
/// a third of the lease before another replica's sweep may settle it.
fn held_for(lease_secs: u64) -> Duration {
    Duration::from_millis(lease_secs.saturating_mul(1000) * 2 / 3)
}

/// How often the lease is renewed: a sixth of it, at most a second, so that a few slow renewals
/// in a row still land before the replica would give the run up.
fn renewal_interval(lease_secs: u64) -> Duration {
    Duration::from_millis((lease_secs.saturating_mul(1000) / 6).min(1000))
}

/// Until when this replica may still act on a run it works: a third of the lease before
/// another replica's sweep may settle it, moved on by every renewal. A host task checks it
/// before it starts anything on a host: a replica woken from a freeze past it starts nothing
/// more (its work is about to be dropped), so nothing it starts can meet the work of the replica
/// that resumes the run.
#[derive(Debug, Clone)]
pub(crate) struct HeldUntil(std::sync::Arc<std::sync::Mutex<Instant>>);

impl HeldUntil {
    /// The time a lease written to last from `leased_at` may be counted on.
    pub(crate) fn claimed(inner: &Inner, leased_at: Instant) -> HeldUntil {
        HeldUntil(std::sync::Arc::new(std::sync::Mutex::new(
            leased_at + held_for(inner.options.lease_secs),
        )))
    }

    fn until(&self) -> Instant {
        match self.0.lock() {
            Ok(until) => *until,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    fn extend(&self, until: Instant) {
        match self.0.lock() {
            Ok(mut held) => *held = until,
            Err(poisoned) => *poisoned.into_inner() = until,
        }
    }

    /// Whether the lease may still be counted on now.
    pub(crate) fn holds(&self) -> bool {
        Instant::now() < self.until()
    }
}

/// The query that extends a lease (connection, id, owner, new end of the lease); what it answers
/// goes to the caller's `held`, which says whether this replica still holds the run (and may act
/// on the rest, e.g. a stop asked through the database).
pub(super) type Renew<T> =
    fn(&mut DbConnection, &str, &str, chrono::NaiveDateTime) -> diesel::QueryResult<T>;

/// Renews the lease of run `id` with `renew` (see [`renewal_interval`]) for as long as `held`
/// says this replica holds it. Sends on `lost` when this replica must give the run up: another
/// replica took the lease (the sweep declared the run interrupted), or no renewal got through
/// before the time this replica may still count on its lease ran out (a frozen or starved
/// replica, a database that does not answer).
///
/// Giving up means working on as if this replica had been killed with `-9`: nothing is killed
/// on the hosts and nothing more is written. A replica that lost its lease and went on (killing
/// its last command on the way out, writing a host task's end, removing exit status marks,
/// starting a joint run's next node) would undo what the replica now resuming the run counts on:
/// the command it waits for, the mark that says the step completed there, the nodes it runs.
pub(super) async fn keep_lease<T: Send + 'static>(
    inner: std::sync::Arc<Inner>,
    id: String,
    held_until: HeldUntil,
    renew: Renew<T>,
    mut held: impl FnMut(T) -> bool + Send,
    lost: oneshot::Sender<()>,
) {
    let hold = held_for(inner.options.lease_secs);
    let interval = renewal_interval(inner.options.lease_secs);
    loop {
        tokio::time::sleep(interval).await;
        // The lease the renewal writes lasts from (at least) now.
        let renewal_begins = Instant::now();
        let renewed =
            tokio::time::timeout_at(held_until.until(), inner.renew_lease(&id, renew)).await;
        match renewed {
            Ok(Ok(answer)) => {
                if !held(answer) {
                    tracing::warn!(run = %id, "lease lost to another replica; giving the run up here");
                    let _ = lost.send(());
                    return;
                }
                held_until.extend(renewal_begins + hold);
            }
            Ok(Err(error)) => {
                // The lease outlives a failed renewal; the deadline decides when it is gone.
                tracing::warn!(run = %id, %error, "cannot renew the lease");
            }
            Err(_) => {
                tracing::warn!(run = %id, "the lease could not be renewed in time; giving the run up here");
                let _ = lost.send(());
                return;
            }
        }
    }
}

/// Resolves when the keeper sent on `lost`; never when it ended without sending.
pub(super) async fn given_up(lost: oneshot::Receiver<()>) {
    if lost.await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replica_gives_a_run_up_a_third_of_the_lease_before_it_ends() {
        assert_eq!(held_for(3), Duration::from_secs(2));
        assert_eq!(held_for(30), Duration::from_secs(20));
        // Several renewals fit in the time a replica counts on its lease, also for the shortest
        // lease allowed.
        assert_eq!(renewal_interval(2), Duration::from_millis(333));
        assert_eq!(renewal_interval(3), Duration::from_millis(500));
        assert_eq!(renewal_interval(30), Duration::from_secs(1));
        assert!(held_for(2) >= renewal_interval(2) * 4);
    }
}
