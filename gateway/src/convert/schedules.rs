//! Scheduled deploys (issue 21) as `/api/schedules` answers them, and the create body.

use common::time::TimeRenderer;
use proto::jobs::v1 as pb;
use serde::{Deserialize, Serialize};

/// A scheduled deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ScheduleItem {
    pub id: String,
    /// `instance` (6.1) or `joint_line` (2.1).
    pub target_kind: String,
    pub target_id: String,
    /// Five fields, read on the wall clock of `timezone`.
    pub cron: String,
    pub timezone: String,
    pub use_tad_host: bool,
    pub enabled: bool,
    pub creator: String,
    pub create_time: String,
    /// The next occurrence (none while paused).
    pub next_fire: Option<String>,
    pub last_fire: Option<String>,
    /// The run the last occurrence started.
    pub last_execution_id: Option<String>,
    /// Why the last occurrence started no run (a run in progress, an approval asked, ...).
    pub last_message: Option<String>,
}

impl ScheduleItem {
    pub fn from_proto(schedule: pb::Schedule, times: &TimeRenderer) -> ScheduleItem {
        ScheduleItem {
            id: schedule.id,
            target_kind: schedule.target_kind,
            target_id: schedule.target_id,
            cron: schedule.cron,
            timezone: schedule.timezone,
            use_tad_host: schedule.use_tad_host,
            enabled: schedule.enabled,
            creator: schedule.creator,
            create_time: times.render_unix_ms(schedule.create_time_ms),
            next_fire: schedule.next_fire_ms.map(|ms| times.render_unix_ms(ms)),
            last_fire: schedule.last_fire_ms.map(|ms| times.render_unix_ms(ms)),
            last_execution_id: schedule.last_execution_id,
            last_message: schedule.last_message,
        }
    }
}

/// `POST /api/schedules`: `instance_id` or `jointline_id`, and a cron text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    #[serde(default)]
    #[schema(max_length = 100)]
    pub instance_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub jointline_id: Option<String>,
    /// Five fields: minute hour day-of-month month day-of-week (`0 3 * * MON-FRI`).
    #[schema(max_length = 100)]
    pub cron: String,
    /// IANA zone the cron is read in (default `UTC`).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub timezone: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Run on the TAD host instead of over SSH (default false).
    #[serde(default)]
    pub use_tad_host: Option<bool>,
}
