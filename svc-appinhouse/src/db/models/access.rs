//! Protected apps: the argon2id hash of an app's page password, the epoch its signed links are
//! bound to (a new one at every change, so older links stop working), and the count of wrong
//! passwords in the current minute.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::app_access;

/// The protection of one app.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = app_access)]
pub struct AccessRow {
    pub app: String,
    pub password_hash: String,
    pub epoch: String,
    pub failed_attempts: i64,
    pub attempts_since: NaiveDateTime,
    pub update_time: NaiveDateTime,
}

common::row_queries! { app_access, AccessRow;
    find as find_access, insert as insert_access, delete as delete_access;
    /// Replaces an app's protection: a new hash and epoch, no failed attempts.
    pub fn reset_access(app: &str, hash: &str, epoch: &str, now: NaiveDateTime) -> update_one
        where app.eq(app)
        set password_hash.eq(hash), epoch.eq(epoch), failed_attempts.eq(0),
            attempts_since.eq(now), update_time.eq(now);
    /// Counts a wrong password in the minute that started at `since`.
    pub fn set_failures(app: &str, failures: i64, since: NaiveDateTime) -> update
        where app.eq(app) set failed_attempts.eq(failures), attempts_since.eq(since);
}
