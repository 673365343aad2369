//! Scheduled deploys (issue 21): 6.1 of an instance or 2.1 of a joint line at each occurrence of
//! a cron text in a time zone. Firing an occurrence is a compare-and-set of `next_fire`, so
//! exactly one replica fires it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::schedules;

/// What a schedule starts.
pub mod target {
    /// 6.1 of a job instance.
    pub const INSTANCE: &str = "instance";
    /// 2.1 of a joint line.
    pub const JOINT_LINE: &str = "joint_line";
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = schedules)]
pub struct ScheduleRow {
    pub id: String,
    /// [`target::INSTANCE`] or [`target::JOINT_LINE`].
    pub target_kind: String,
    pub target_id: String,
    /// Five fields, read on the wall clock of `timezone`.
    pub cron: String,
    pub timezone: String,
    pub use_tad_host: bool,
    pub enabled: bool,
    pub creator: String,
    pub create_time: NaiveDateTime,
    /// The next occurrence (UTC); none while paused.
    pub next_fire: Option<NaiveDateTime>,
    pub last_fire: Option<NaiveDateTime>,
    pub last_execution_id: Option<String>,
    pub last_message: Option<String>,
}

common::row_queries! { schedules, ScheduleRow;
    find, insert, delete;
    /// One page of schedules, newest first, and how many there are.
    pub fn page(offset: i64, limit: i64) -> newest_page(offset, limit);
    /// The enabled schedules whose next occurrence is due at `now`, earliest first.
    pub fn due(now: NaiveDateTime) -> all
        where enabled.eq(true), next_fire.le(now)
        order next_fire.asc(), id.asc();
    /// Takes the occurrence `due` of a schedule: moves its next occurrence to `next`; false when
    /// another replica took it first (or it was paused, resumed or deleted meanwhile).
    pub fn take_occurrence(
        id: &str, due: NaiveDateTime, next: Option<NaiveDateTime>, now: NaiveDateTime,
    ) -> update_one
        where id.eq(id), enabled.eq(true), next_fire.eq(due)
        set next_fire.eq(next), last_fire.eq(now);
    /// Records what an occurrence did.
    pub fn record_outcome(id: &str, execution: Option<&str>, message: Option<&str>) -> update
        where id.eq(id)
        set last_execution_id.eq(execution), last_message.eq(message);
    /// Pauses (no next occurrence) or resumes (from `next`) a schedule; false when unchanged.
    pub fn set_enabled(id: &str, on: bool, next: Option<NaiveDateTime>) -> update_one
        where id.eq(id), enabled.eq(!on)
        set enabled.eq(on), next_fire.eq(next);
    /// The schedules of a target (deleted with it).
    pub fn of_target(kind: &str, target: &str) -> all
        where target_kind.eq(kind), target_id.eq(target);
}
