//! The audit trail's retention sweep (issue 20, `TAD_AUDIT_RETENTION_DAYS`): every service
//! removes, hourly, the events of its own trail older than the retention, from the oldest end
//! (`audit::prune`, which records the removal as an event of its own).

use std::time::Duration;

use crate::{
    audit,
    db::{Database, DbError},
};

/// The first sweep waits this long after start (a starting service has other work first).
const FIRST_SWEEP_DELAY: Duration = Duration::from_secs(60);
/// Between sweeps.
const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 24 * 3600 * 1000;

/// One sweep: removes the events older than `retention_days` (as of `now_ms`).
pub async fn sweep(
    database: &Database,
    retention_days: u32,
    now_ms: i64,
) -> Result<Option<audit::Pruned>, DbError> {
    let before_ms = now_ms - i64::from(retention_days) * DAY_MS;
    database
        .transaction(move |connection| {
            Ok::<_, DbError>(audit::prune(connection, before_ms, now_ms)?)
        })
        .await
}

/// Sweeps `service`'s trail hourly for as long as the process runs.
pub fn start(
    service: &'static str,
    database: Database,
    retention_days: u32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep(FIRST_SWEEP_DELAY).await;
        loop {
            match sweep(&database, retention_days, audit::now_ms()).await {
                Ok(Some(pruned)) => tracing::info!(
                    service,
                    removed = pruned.removed,
                    through_seq = pruned.through_seq,
                    retention_days,
                    "old audit events removed"
                ),
                Ok(None) => {}
                Err(error) => tracing::warn!(service, %error, "audit retention sweep failed"),
            }
            tokio::time::sleep(SWEEP_INTERVAL).await;
        }
    })
}
