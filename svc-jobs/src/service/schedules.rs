//! Scheduled deploys (issue 21): `POST /api/schedules` (6.1 of an instance or 2.1 of a joint
//! line at each occurrence of a cron text in a time zone), the list, pause and resume, delete.
//! Operators and admins write them, every signed-in role reads them; each write is one audit
//! event. The occurrences are fired by the engine's sweeper (`execution::schedules`).

use common::{deploy_window::DeployWindow, ids::new_id, time::now_utc};

use super::{
    Actor, JobsError, JobsResult, JobsService, RecordKind, require_operator, require_reader,
};
use crate::{
    db::models::{
        joint_lines,
        schedules::{self, ScheduleRow, target},
    },
    domain::audit::{self, NewEvent},
    execution::schedules::{next_occurrence, next_occurrence_of},
};

/// The longest cron text or zone name.
const MAX_TEXT_CHARS: usize = 100;

/// A schedule as asked.
#[derive(Debug, Clone, Default)]
pub struct ScheduleInput {
    pub instance_id: Option<String>,
    pub jointline_id: Option<String>,
    pub cron: String,
    /// IANA zone the cron is read in (default `UTC`).
    pub timezone: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
    pub use_tad_host: Option<bool>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> JobsError {
    JobsError::Invalid {
        field,
        message: message.into(),
    }
}

/// The target (kind, id) of an input: exactly one of `instance_id` and `jointline_id`.
fn target_of(input: &ScheduleInput) -> JobsResult<(&'static str, String)> {
    let named = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    match (named(&input.instance_id), named(&input.jointline_id)) {
        (Some(instance), None) => Ok((target::INSTANCE, instance)),
        (None, Some(line)) => Ok((target::JOINT_LINE, line)),
        (Some(_), Some(_)) => Err(invalid(
            "instance_id",
            "and jointline_id are both given: a schedule starts one of them",
        )),
        (None, None) => Err(JobsError::Missing {
            field: "instance_id",
        }),
    }
}

/// The most schedules one instance or joint line may have (each fires through every gate; more
/// would only make it easy to flood the queue of runs and requests).
const MAX_SCHEDULES_PER_TARGET: usize = 20;

/// The field naming a schedule's target of `kind`.
fn target_field(kind: &str) -> &'static str {
    if kind == target::INSTANCE {
        "instance_id"
    } else {
        "jointline_id"
    }
}

/// The schedule `id`, or `schedule_not_found`.
fn existing_schedule(
    connection: &mut common::db::DbConnection,
    id: &str,
) -> JobsResult<ScheduleRow> {
    schedules::find(connection, id)?.ok_or_else(|| JobsError::NotFound {
        kind: RecordKind::Schedule,
        id: id.to_owned(),
    })
}

impl JobsService {
    /// Creates a schedule; its first occurrence is the next minute its cron matches.
    pub async fn create_schedule(
        &self,
        actor: &Actor,
        input: ScheduleInput,
    ) -> JobsResult<ScheduleRow> {
        require_operator(actor)?;
        let (kind, target_id) = target_of(&input)?;
        if target_id.chars().count() > MAX_TEXT_CHARS {
            return Err(invalid(
                target_field(kind),
                format!("at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        let cron = input.cron.trim().to_owned();
        if cron.is_empty() {
            return Err(JobsError::Missing { field: "cron" });
        }
        let timezone = match input.timezone.as_deref().map(str::trim) {
            None | Some("") => "UTC".to_owned(),
            Some(zone) => zone.to_owned(),
        };
        if common::deploy_window::parse_zone(&timezone).is_err() {
            return Err(invalid(
                "timezone",
                format!(
                    "{:?} is not an IANA time zone name (e.g. Asia/Shanghai)",
                    common::limits::excerpt(&timezone)
                ),
            ));
        }
        let window = DeployWindow::parse(&cron, &timezone)
            .map_err(|refused| invalid("cron", format!("{cron:?}: {refused}")))?;
        let enabled = input.enabled.unwrap_or(true);
        let next_fire = next_occurrence_of(&window, chrono::Utc::now());
        if next_fire.is_none() {
            return Err(invalid(
                "cron",
                format!("{cron:?} has no occurrence within a year"),
            ));
        }
        let row = ScheduleRow {
            id: new_id(),
            target_kind: kind.to_owned(),
            target_id,
            cron,
            timezone,
            use_tad_host: input.use_tad_host.unwrap_or(false),
            enabled,
            creator: actor.username().to_owned(),
            create_time: now_utc(),
            next_fire: next_fire.filter(|_| enabled),
            last_fire: None,
            last_execution_id: None,
            last_message: None,
        };
        let stored = row.clone();
        let origin = audit::origin(actor);
        self.database
            .transaction(move |connection| {
                if stored.target_kind == target::INSTANCE {
                    crate::domain::existing_instance(connection, &stored.target_id)?;
                } else if joint_lines::find(connection, &stored.target_id)?.is_none() {
                    return Err(JobsError::NotFound {
                        kind: RecordKind::JointLine,
                        id: stored.target_id.clone(),
                    });
                }
                let existing = schedules::of_target(connection, &stored.target_kind, &stored.target_id)?;
                if existing.len() >= MAX_SCHEDULES_PER_TARGET {
                    return Err(invalid(
                        target_field(&stored.target_kind),
                        format!(
                            "{:?} has {MAX_SCHEDULES_PER_TARGET} schedules already: delete one first",
                            stored.target_id
                        ),
                    ));
                }
                schedules::insert(connection, &stored)?;
                let event = NewEvent::new(&origin, "schedule.create", "schedule", &stored.id)
                    .change(audit::created(&stored.target_kind, &stored.target_id))
                    .change(audit::created("cron", &stored.cron))
                    .change(audit::created("timezone", &stored.timezone))
                    .change(audit::created("enabled", &stored.enabled.to_string()));
                audit::append(connection, event)
            })
            .await?;
        Ok(row)
    }

    /// One page of schedules, newest first, and how many there are.
    pub async fn list_schedules(
        &self,
        actor: &Actor,
        page: common::paging::PageRequest,
    ) -> JobsResult<(i64, Vec<ScheduleRow>)> {
        require_reader(actor)?;
        let (offset, limit) = (page.offset(), page.limit());
        self.database
            .run(move |connection| Ok::<_, JobsError>(schedules::page(connection, offset, limit)?))
            .await
    }

    /// Pauses (`enabled: false`) or resumes a schedule; a resumed one fires from its next
    /// occurrence (those passed while paused are not fired).
    pub async fn set_schedule_enabled(
        &self,
        actor: &Actor,
        id: &str,
        enabled: bool,
    ) -> JobsResult<ScheduleRow> {
        require_operator(actor)?;
        let id = id.to_owned();
        let origin = audit::origin(actor);
        self.database
            .transaction(move |connection| {
                let schedule = existing_schedule(connection, &id)?;
                let next = if enabled {
                    next_occurrence(&schedule.cron, &schedule.timezone, chrono::Utc::now())
                } else {
                    None
                };
                let changed = schedules::set_enabled(connection, &id, enabled, next)?;
                let action = if enabled {
                    "schedule.resume"
                } else {
                    "schedule.pause"
                };
                let mut event = NewEvent::new(&origin, action, "schedule", &id);
                if changed {
                    event = event.change(audit::Change::new(
                        "enabled",
                        Some(&(!enabled).to_string()),
                        Some(&enabled.to_string()),
                    ));
                }
                audit::append(connection, event)?;
                existing_schedule(connection, &id)
            })
            .await
    }

    pub async fn delete_schedule(&self, actor: &Actor, id: &str) -> JobsResult<()> {
        require_operator(actor)?;
        let id = id.to_owned();
        let origin = audit::origin(actor);
        self.database
            .transaction(move |connection| {
                let schedule = existing_schedule(connection, &id)?;
                schedules::delete(connection, &id)?;
                let event = NewEvent::new(&origin, "schedule.delete", "schedule", &id)
                    .change(audit::deleted(&schedule.target_kind, &schedule.target_id))
                    .change(audit::deleted("cron", &schedule.cron));
                audit::append(connection, event)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_names_exactly_one_target() {
        let input = |instance: Option<&str>, line: Option<&str>| ScheduleInput {
            instance_id: instance.map(str::to_owned),
            jointline_id: line.map(str::to_owned),
            ..ScheduleInput::default()
        };
        assert_eq!(
            target_of(&input(Some("i1"), None)).expect("instance"),
            (target::INSTANCE, "i1".to_owned())
        );
        assert_eq!(
            target_of(&input(None, Some(" l1 "))).expect("line"),
            (target::JOINT_LINE, "l1".to_owned())
        );
        assert!(target_of(&input(Some("i1"), Some("l1"))).is_err());
        assert!(matches!(
            target_of(&input(None, Some(""))),
            Err(JobsError::Missing {
                field: "instance_id"
            })
        ));
    }
}
