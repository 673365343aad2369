//! Firing scheduled deploys (issue 21), on every replica's sweeper: each due occurrence is taken
//! by moving the schedule's `next_fire` on with a compare-and-set, so exactly one replica fires
//! it; that replica starts 6.1 (or 2.1) with the schedule as its starter (`schedule:ID`, in the
//! run's history and the audit trail), through the same gates as any caller: on a protected
//! environment it makes a deployment request, and a run in progress refuses it. Occurrences
//! missed while no replica ran fire once, or are skipped, as configured
//! (`execution.schedule_fire_missed`). An occurrence taken by a replica killed before it started
//! its run is lost (at most once), never fired twice.

use chrono::{DateTime, Duration, NaiveDateTime, Timelike, Utc};
use common::{audit::Origin, deploy_window::DeployWindow};

use super::{Engine, Mode};
use crate::{
    db::models::schedules::{self, ScheduleRow, target},
    domain::{JobsError, JobsResult},
};

/// The next occurrence of `cron` in `timezone` after the minute of `now` (none within a year,
/// or an unreadable cron).
pub fn next_occurrence(cron: &str, timezone: &str, now: DateTime<Utc>) -> Option<NaiveDateTime> {
    let window = DeployWindow::parse(cron, timezone).ok()?;
    next_occurrence_of(&window, now)
}

/// The next occurrence of a parsed cron after the minute of `now` (none within a year).
pub fn next_occurrence_of(window: &DeployWindow, now: DateTime<Utc>) -> Option<NaiveDateTime> {
    let minute = now.with_second(0)?.with_nanosecond(0)?;
    window
        .next_opening(minute + Duration::minutes(1))
        .map(|at| at.naive_utc())
}

/// Who a schedule's runs are started by.
pub fn starter_of(schedule_id: &str) -> String {
    format!("schedule:{schedule_id}")
}

impl Engine {
    /// Fires the occurrences due now that this replica takes first.
    pub(super) async fn fire_due_schedules(&self) -> JobsResult<()> {
        let now = Utc::now();
        let naive_now = now.naive_utc();
        let due = self
            .inner
            .database
            .run(move |connection| Ok::<_, JobsError>(schedules::due(connection, naive_now)?))
            .await?;
        for schedule in due {
            if let Err(error) = self.fire(&schedule, now).await {
                tracing::warn!(schedule = %schedule.id, %error, "firing a scheduled deploy failed");
            }
        }
        Ok(())
    }

    async fn fire(&self, schedule: &ScheduleRow, now: DateTime<Utc>) -> JobsResult<()> {
        let Some(due_at) = schedule.next_fire else {
            return Ok(());
        };
        let next = next_occurrence(&schedule.cron, &schedule.timezone, now);
        let (id, naive_now) = (schedule.id.clone(), now.naive_utc());
        let taken = self
            .inner
            .database
            .run(move |connection| {
                Ok::<_, JobsError>(schedules::take_occurrence(
                    connection, &id, due_at, next, naive_now,
                )?)
            })
            .await?;
        if !taken {
            return Ok(());
        }
        // A sweep runs every half lease: an occurrence taken more than two leases late was
        // missed while no replica ran.
        let on_time_secs = i64::try_from(self.inner.options.lease_secs.max(2) * 2).unwrap_or(60);
        let missed = (naive_now - due_at).num_seconds() > on_time_secs;
        let (execution, message) = if missed && !self.inner.options.schedule_fire_missed {
            (
                None,
                Some(format!(
                    "the occurrence of {} UTC was missed while no jobs replica ran: skipped",
                    common::time::format_time(due_at)
                )),
            )
        } else {
            self.start_scheduled(schedule).await
        };
        let id = schedule.id.clone();
        self.inner
            .database
            .run(move |connection| {
                schedules::record_outcome(
                    connection,
                    &id,
                    execution.as_deref(),
                    message.as_deref(),
                )?;
                Ok::<_, JobsError>(())
            })
            .await
    }

    /// Starts what `schedule` runs: the run's id, or why none started.
    async fn start_scheduled(&self, schedule: &ScheduleRow) -> (Option<String>, Option<String>) {
        let starter = starter_of(&schedule.id);
        let origin = Origin {
            actor: starter.clone(),
            role: "system".to_owned(),
            ..Origin::default()
        };
        let started = if schedule.target_kind == target::JOINT_LINE {
            self.start_joint(
                &starter,
                Some(&origin),
                &schedule.target_id,
                schedule.use_tad_host,
                None,
            )
            .await
        } else {
            self.start(
                &starter,
                Some(&origin),
                &schedule.target_id,
                Mode::All,
                schedule.use_tad_host,
                None,
            )
            .await
        };
        match started {
            Ok(started) => (Some(started.run_id), None),
            Err(error) => (None, Some(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_next_occurrence_is_after_the_current_minute_in_the_zone() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 6, 1, 30, 20)
            .single()
            .expect("time");
        // 03:00 in Shanghai is 19:00 UTC the day before.
        assert_eq!(
            next_occurrence("0 3 * * *", "Asia/Shanghai", now),
            Some(
                Utc.with_ymd_and_hms(2026, 12, 6, 19, 0, 0)
                    .single()
                    .expect("time")
                    .naive_utc()
            )
        );
        // Every minute: the next one, never this one again.
        assert_eq!(
            next_occurrence("* * * * *", "UTC", now),
            Some(
                Utc.with_ymd_and_hms(2026, 12, 6, 1, 31, 0)
                    .single()
                    .expect("time")
                    .naive_utc()
            )
        );
        assert_eq!(next_occurrence("61 * * * *", "UTC", now), None);
    }
}
