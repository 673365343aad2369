//! The run's lease while a replica works it: renewed several times per lease; a stop asked
//! through the database becomes the local stop signal; and a replica that can no longer be sure
//! it holds the lease gives the run up at once, as if it had been killed, before another replica
//! can take it.

use std::time::Duration;

use tokio::{
    sync::{oneshot, watch},
    time::Instant,
};

use crate::{db::models::runs, execution::Inner};

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

/// Renews the lease (see [`renewal_interval`]) and turns a stop asked through the database (from
/// any replica) into the local stop signal. Sends on `lost` when this replica must give the run up:
/// another replica took the lease (the sweep declared the run interrupted), or no renewal got
/// through before the time this replica may still count on its lease ran out (a frozen or
/// starved replica, a database that does not answer).
///
/// Giving up means working on as if this replica had been killed with `-9`: nothing is killed
/// on the hosts and nothing more is written. A replica that lost its lease and went on (killing
/// its last command on the way out, writing a host task's end, removing exit status marks) would
/// undo what the replica now resuming the run counts on: the command it waits for, the mark that
/// says the step completed there.
pub(super) async fn keep_lease(
    inner: std::sync::Arc<Inner>,
    run_id: String,
    stop: watch::Sender<bool>,
    lost: oneshot::Sender<()>,
) {
    let hold = held_for(inner.options.lease_secs);
    let interval = renewal_interval(inner.options.lease_secs);
    // The claim that started this work set the lease a moment ago.
    let mut held_until = Instant::now() + hold;
    loop {
        tokio::time::sleep(interval).await;
        // The lease the renewal writes lasts from (at least) now.
        let renewal_begins = Instant::now();
        let renewed =
            tokio::time::timeout_at(held_until, inner.renew_lease(&run_id, runs::renew_lease))
                .await;
        match renewed {
            Ok(Ok(Some(stop_requested))) => {
                held_until = renewal_begins + hold;
                if stop_requested {
                    let _ = stop.send(true);
                }
            }
            Ok(Ok(None)) => {
                tracing::warn!(run = %run_id, "run lease lost to another replica; giving the run up here");
                let _ = lost.send(());
                return;
            }
            Ok(Err(error)) => {
                // The lease outlives a failed renewal; the deadline decides when it is gone.
                tracing::warn!(run = %run_id, %error, "cannot renew the run lease");
            }
            Err(_) => {
                tracing::warn!(run = %run_id, "the run lease could not be renewed in time; giving the run up here");
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
