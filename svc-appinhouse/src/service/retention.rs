//! Retention by age (`TAD_APPINHOUSE_MAX_AGE_DAYS`): every appinhouse process sweeps hourly (the
//! first time a minute after start) and deletes the builds whose build time is older than the
//! age, with their extra downloads and their hosted files, always keeping the newest
//! `min_residue` builds of each app and platform.
//!
//! Replicas sweep without coordinating: each app and platform is swept in one transaction that
//! deletes rows only (a row another sweep deleted first counts for nobody), and files are
//! deleted after the commit, where a missing one is no error. A file whose delete fails is left
//! to the leftover collection at the next start (it is no longer referenced).

use std::time::Duration;

use chrono::NaiveDateTime;

use common::audit::{Change, Origin};

use super::{
    AppinhouseError, AppinhouseResult, AppinhouseService, append_event, build_event,
    builds::{delete_build_in, unreferenced},
};
use crate::db::models::builds;

/// Time between two sweeps of one process.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);
/// Wait before the first sweep, so a starting process answers first.
pub const FIRST_SWEEP_DELAY: Duration = Duration::from_secs(60);

/// What one sweep deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Builds deleted (with their extra downloads).
    pub builds: usize,
    /// Hosted files deleted.
    pub files: usize,
}

/// The build time before which builds are old, `max_age_days` before `now`; `None` when that is
/// before the representable past (nothing is that old).
pub fn retention_cutoff(now: NaiveDateTime, max_age_days: u32) -> Option<NaiveDateTime> {
    now.checked_sub_signed(chrono::TimeDelta::try_days(i64::from(max_age_days))?)
}

impl AppinhouseService {
    /// Deletes the builds built before `cutoff` beyond the newest `min_residue` of each app and
    /// platform, their extra downloads and the hosted files no remaining build refers to.
    pub async fn remove_builds_built_before(
        &self,
        cutoff: NaiveDateTime,
    ) -> AppinhouseResult<Swept> {
        let pairs = self
            .database
            .run(move |connection| {
                builds::platforms_with_builds_before(connection, cutoff)
                    .map_err(AppinhouseError::from)
            })
            .await?;
        let keep = self.settings.min_residue.max(0);
        let mut swept = Swept::default();
        for (app, platform) in pairs {
            let changed = app.clone();
            let (removed, files) = self
                .database
                .transaction(move |connection| {
                    let beyond_residue =
                        builds::newest(connection, &app, &platform, keep, i64::MAX)?;
                    let mut removed = 0;
                    let mut keys = Vec::new();
                    for row in beyond_residue.iter().filter(|row| row.build_time < cutoff) {
                        let (deleted, files) = delete_build_in(connection, row)?;
                        if deleted {
                            let build = (row.app.as_str(), row.platform.as_str(), &*row.version);
                            let built = row.build_time.and_utc().to_rfc3339();
                            let event = build_event(&Origin::system(), "build.expire", build)
                                .change(Change::new("build_time", Some(&built), None));
                            append_event(connection, event)?;
                        }
                        removed += usize::from(deleted);
                        keys.extend(files);
                    }
                    let files = unreferenced(connection, &app, keys)?;
                    Ok::<_, AppinhouseError>((removed, files))
                })
                .await?;
            if removed > 0 {
                self.reads.changed(&changed).await;
            }
            self.delete_hosted(&files).await?;
            swept.builds += removed;
            swept.files += files.len();
        }
        Ok(swept)
    }

    /// Starts this process's sweeper: builds older than `max_age_days` go, hourly.
    pub fn start_retention(&self, max_age_days: u32) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(FIRST_SWEEP_DELAY).await;
            loop {
                if let Some(cutoff) = retention_cutoff(common::time::now_utc(), max_age_days) {
                    match service.remove_builds_built_before(cutoff).await {
                        Ok(swept) if swept.builds > 0 => tracing::info!(
                            builds = swept.builds,
                            files = swept.files,
                            max_age_days,
                            "old appinhouse builds deleted"
                        ),
                        Ok(_) => {}
                        Err(error) => {
                            tracing::warn!(%error, "appinhouse retention sweep failed")
                        }
                    }
                }
                tokio::time::sleep(SWEEP_INTERVAL).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_age_before_now_and_none_past_the_representable_past() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 31)
            .and_then(|day| day.and_hms_opt(12, 0, 0))
            .expect("date");
        let cutoff = retention_cutoff(now, 31).expect("cutoff");
        assert_eq!(cutoff.to_string(), "2026-02-28 12:00:00");
        assert_eq!(retention_cutoff(NaiveDateTime::MIN, 1), None);
    }
}
