//! The governance of an environment (protected, deploy windows, freeze): rows and queries. An
//! environment without a row is not protected.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::env_governance;

/// How an environment's runs are governed.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = env_governance)]
pub struct EnvGovernanceRow {
    pub env_id: String,
    /// Runs need an approval.
    pub protected: bool,
    /// JSON array of five-field cron texts.
    pub deploy_windows: String,
    /// The IANA zone whose wall clock the windows read.
    pub window_timezone: String,
    /// No run starts before then (UTC).
    pub frozen_until: Option<NaiveDateTime>,
    /// `wait` or `refuse`: what an approval outside every window does.
    pub outside_window: String,
    pub mender: String,
    pub update_time: NaiveDateTime,
}

impl EnvGovernanceRow {
    /// The cron texts of the windows; an unreadable column reads as none.
    pub fn window_texts(&self) -> Result<Vec<String>, serde_json::Error> {
        serde_json::from_str(&self.deploy_windows)
    }
}

common::row_queries! { env_governance, EnvGovernanceRow;
    find, insert, delete;
    /// Rewrites every governed column of the row of `row.env_id`.
    pub fn update(row: &EnvGovernanceRow) -> update
        where env_id.eq(&row.env_id)
        set protected.eq(row.protected), deploy_windows.eq(&row.deploy_windows),
            window_timezone.eq(&row.window_timezone), frozen_until.eq(row.frozen_until),
            outside_window.eq(&row.outside_window), mender.eq(&row.mender),
            update_time.eq(row.update_time);
}
