//! Governance of environments (issue 20): an admin marks an environment `protected` (its runs
//! need an approval), gives it deploy windows (cron texts read in one time zone) and a freeze
//! (`frozen_until`, UTC), and says whether a run approved outside them waits for the next window
//! or is refused. The jobs service reads it before every run on the environment.

use chrono::{DateTime, NaiveDateTime};
use common::{
    audit::Origin,
    auth::Claims,
    db::DbConnection,
    deploy_window::{self, DeployWindow, MAX_WINDOWS, OutsideWindow},
    read_cache::RESOURCE_CATALOG,
    time::now_utc,
};

use super::{
    CATALOG_WRITE, RecordKind, ResourceError, ResourceResult, ResourceService,
    audit::{self, Audited, saved},
    catalog::Saved,
    require_admin, require_reader, validate,
};
use crate::db::models::{
    catalog::envs,
    env_governance::{self, EnvGovernanceRow},
};

/// The time zone of windows when none is given.
pub const DEFAULT_TIMEZONE: &str = "UTC";

/// An environment's governance to save, checked.
#[derive(Debug, Clone)]
pub struct GovernanceInput {
    pub env_id: String,
    pub protected: bool,
    pub windows: Vec<String>,
    pub timezone: String,
    pub frozen_until: Option<NaiveDateTime>,
    pub outside_window: OutsideWindow,
}

/// The governance fields as sent (text), before checks.
#[derive(Debug, Clone, Default)]
pub struct GovernanceFields {
    pub protected: bool,
    pub deploy_windows: Vec<String>,
    /// Empty: UTC.
    pub window_timezone: String,
    /// RFC 3339 (`2026-12-24T18:00:00+08:00`); empty or absent: no freeze.
    pub frozen_until: Option<String>,
    /// `wait` or `refuse`; empty: `wait`.
    pub outside_window: String,
}

impl GovernanceInput {
    /// Checks every field, naming the one at fault (each window is parsed in the zone).
    pub fn new(env_id: &str, fields: GovernanceFields) -> ResourceResult<GovernanceInput> {
        let env_id = validate::reference("env_id", env_id)?;
        let timezone = match fields.window_timezone.trim() {
            "" => DEFAULT_TIMEZONE.to_owned(),
            zone => zone.to_owned(),
        };
        if fields.deploy_windows.len() > MAX_WINDOWS {
            return Err(invalid(
                "deploy_windows",
                format!(
                    "at most {MAX_WINDOWS} windows, got {}",
                    fields.deploy_windows.len()
                ),
            ));
        }
        let mut windows = Vec::with_capacity(fields.deploy_windows.len());
        for (index, cron) in fields.deploy_windows.iter().enumerate() {
            let cron = cron.trim();
            DeployWindow::parse(cron, &timezone).map_err(|refused| {
                invalid(
                    "deploy_windows",
                    format!("window {} ({cron:?}): {refused}", index + 1),
                )
            })?;
            windows.push(cron.to_owned());
        }
        if windows.is_empty() {
            deploy_window::parse_zone(&timezone)
                .map_err(|refused| invalid("window_timezone", refused.to_string()))?;
        }
        let frozen_until = match fields.frozen_until.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| {
                        invalid(
                            "frozen_until",
                            format!(
                                "{:?} is not an RFC 3339 time with its offset \
                                 (e.g. 2026-12-24T18:00:00+08:00)",
                                common::limits::excerpt(text)
                            ),
                        )
                    })?
                    .naive_utc(),
            ),
        };
        let outside_window = match fields.outside_window.trim() {
            "" => OutsideWindow::default(),
            name => OutsideWindow::parse(name).ok_or_else(|| {
                invalid(
                    "outside_window",
                    format!(
                        "{:?} is not one of {}",
                        common::limits::excerpt(name),
                        OutsideWindow::NAMES.join(", ")
                    ),
                )
            })?,
        };
        Ok(GovernanceInput {
            env_id,
            protected: fields.protected,
            windows,
            timezone,
            frozen_until,
            outside_window,
        })
    }
}

fn invalid(field: &'static str, message: String) -> ResourceError {
    ResourceError::Invalid { field, message }
}

/// An environment's governance as answered: its name, and its row (an environment never
/// governed answers the defaults: not protected, no window, no freeze).
#[derive(Debug, Clone)]
pub struct EnvGovernance {
    pub env_name: String,
    /// The row's deploy windows, read (an unreadable column fails the read: a protected
    /// environment must never look window-less).
    pub windows: Vec<String>,
    pub row: EnvGovernanceRow,
}

/// The governance of an environment that has no row.
fn ungoverned(env_id: &str, mender: &str, update_time: NaiveDateTime) -> EnvGovernanceRow {
    EnvGovernanceRow {
        env_id: env_id.to_owned(),
        protected: false,
        deploy_windows: "[]".to_owned(),
        window_timezone: DEFAULT_TIMEZONE.to_owned(),
        frozen_until: None,
        outside_window: OutsideWindow::default().name().to_owned(),
        mender: mender.to_owned(),
        update_time,
    }
}

/// Saves `input` on the environment it names (which must exist), on `connection`.
pub(crate) fn set_governance_in(
    connection: &mut DbConnection,
    actor: &str,
    input: GovernanceInput,
) -> ResourceResult<Saved<EnvGovernanceRow>> {
    if envs::find(connection, &input.env_id)?.is_none() {
        return Err(ResourceError::NotFound {
            kind: RecordKind::Env,
            id: input.env_id,
        });
    }
    let row = EnvGovernanceRow {
        env_id: input.env_id,
        protected: input.protected,
        deploy_windows: serde_json::to_string(&input.windows)
            .map_err(|error| invalid("deploy_windows", error.to_string()))?,
        window_timezone: input.timezone,
        frozen_until: input.frozen_until,
        outside_window: input.outside_window.name().to_owned(),
        mender: actor.to_owned(),
        update_time: now_utc(),
    };
    // A first save changes the defaults of an ungoverned environment: its event says so.
    let before = match env_governance::find(connection, &row.env_id)? {
        Some(existing) => {
            env_governance::update(connection, &row)?;
            existing
        }
        None => {
            env_governance::insert(connection, &row)?;
            ungoverned(&row.env_id, &row.mender, row.update_time)
        }
    };
    Ok(Saved {
        before: Some(before),
        row,
    })
}

/// The governance of environment `env_id` (which must exist) on `connection`.
fn governance_in(connection: &mut DbConnection, env_id: &str) -> ResourceResult<EnvGovernance> {
    let Some(env) = envs::find(connection, env_id)? else {
        return Err(ResourceError::NotFound {
            kind: RecordKind::Env,
            id: env_id.to_owned(),
        });
    };
    let row = match env_governance::find(connection, env_id)? {
        Some(row) => row,
        None => ungoverned(env_id, &env.mender, env.update_time),
    };
    let windows = row
        .window_texts()
        .map_err(|error| ResourceError::Unreadable {
            what: format!("deploy windows of environment {env_id:?}"),
            detail: error.to_string(),
        })?;
    Ok(EnvGovernance {
        env_name: env.name,
        windows,
        row,
    })
}

impl Audited for EnvGovernanceRow {
    const KIND: &'static str = "env";
    fn audit_id(&self) -> &str {
        &self.env_id
    }
    fn audit_name(&self) -> &str {
        &self.env_id
    }
    fn audit_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("protected", self.protected.to_string()),
            (
                "deploy_windows",
                self.window_texts()
                    .map(|windows| windows.join("; "))
                    .unwrap_or_else(|_| self.deploy_windows.clone()),
            ),
            ("window_timezone", self.window_timezone.clone()),
            (
                "frozen_until",
                self.frozen_until
                    .map(common::time::format_time)
                    .unwrap_or_default(),
            ),
            ("outside_window", self.outside_window.clone()),
        ]
    }
    fn audit_env(&self) -> Option<&str> {
        Some(&self.env_id)
    }
}

impl ResourceService {
    /// Saves the governance of an environment (admins), with its `env.governance` event.
    pub async fn set_env_governance(
        &self,
        actor: &Claims,
        input: ResourceResult<GovernanceInput>,
    ) -> ResourceResult<EnvGovernance> {
        require_admin(actor)?;
        let input = input?;
        let origin = Origin::of(actor);
        let mender = actor.username().to_owned();
        let written = self
            .database
            .transaction(move |connection| {
                let env_id = input.env_id.clone();
                let Saved { before, row } = set_governance_in(connection, &mender, input)?;
                let event = saved(&origin, "env.governance", before.as_ref(), &row);
                audit::append(connection, event)?;
                governance_in(connection, &env_id)
            })
            .await;
        self.reads.written(CATALOG_WRITE, written).await
    }

    /// The governance of an environment, for any reader (the jobs service asks before runs).
    pub async fn env_governance(
        &self,
        actor: &Claims,
        env_id: &str,
    ) -> ResourceResult<EnvGovernance> {
        require_reader(actor)?;
        let env_id = env_id.to_owned();
        let read = format!("env_governance\n{env_id}");
        let load = self
            .database
            .run(move |connection| governance_in(connection, &env_id));
        self.reads
            .read_through(&[RESOURCE_CATALOG], &read, load)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(
        windows: &[&str],
        zone: &str,
        frozen: Option<&str>,
        outside: &str,
    ) -> GovernanceFields {
        GovernanceFields {
            protected: true,
            deploy_windows: windows.iter().map(|cron| (*cron).to_owned()).collect(),
            window_timezone: zone.to_owned(),
            frozen_until: frozen.map(str::to_owned),
            outside_window: outside.to_owned(),
        }
    }

    #[test]
    fn defaults_and_offsets() {
        let input = GovernanceInput::new("env", fields(&[], "", None, "")).expect("defaults");
        assert_eq!(input.timezone, "UTC");
        assert_eq!(input.outside_window, OutsideWindow::Wait);
        let input = GovernanceInput::new(
            "env",
            fields(
                &[" * 9-17 * * MON-FRI "],
                "Asia/Shanghai",
                Some("2026-12-24T18:00:00+08:00"),
                "refuse",
            ),
        )
        .expect("full");
        assert_eq!(input.windows, ["* 9-17 * * MON-FRI"]);
        assert_eq!(
            input.frozen_until.map(common::time::format_time).as_deref(),
            Some("2026-12-24 10:00:00")
        );
        assert_eq!(input.outside_window, OutsideWindow::Refuse);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                fields(&["* * *"], "UTC", None, ""),
                "deploy_windows",
                "window 1",
            ),
            (
                fields(&[], "Mars/Olympus", None, ""),
                "window_timezone",
                "Mars",
            ),
            (
                fields(&["* * * * *"], "Mars/Olympus", None, ""),
                "deploy_windows",
                "timezone",
            ),
            (
                fields(&[], "UTC", Some("tomorrow"), ""),
                "frozen_until",
                "RFC 3339",
            ),
            (
                fields(&[], "UTC", Some("2026-12-24 18:00:00"), ""),
                "frozen_until",
                "offset",
            ),
            (
                fields(&[], "UTC", None, "later"),
                "outside_window",
                "wait, refuse",
            ),
        ];
        for (fields, field, named) in cases {
            let refused = GovernanceInput::new("env", fields).expect_err(field);
            let ResourceError::Invalid { field: at, message } = refused else {
                panic!("{field}: not an invalid field: {refused}");
            };
            assert_eq!(at, field);
            assert!(message.contains(named), "{field}: {message}");
        }
        let many = vec!["* * * * *"; MAX_WINDOWS + 1];
        assert!(GovernanceInput::new("env", fields(&many, "UTC", None, "")).is_err());
    }
}
