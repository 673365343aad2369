//! Script versions: one per upload (5.11.1), with their review status (5.11.3).

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::script_versions::{self, dsl};

/// A script version.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = script_versions)]
pub struct ScriptRow {
    pub id: String,
    pub app_id: String,
    pub name: String,
    pub uploader: String,
    /// `able` or `disable`.
    pub status: String,
    /// Who set the status last (empty before any review).
    pub reviewer: String,
    pub create_time: NaiveDateTime,
    pub review_time: Option<NaiveDateTime>,
}

common::row_queries! { script_versions, ScriptRow;
    insert, find;
    /// Sets the review status of a script version; answers how many rows changed (0 or 1).
    pub fn set_status(id: &str, status: &str, reviewer: &str, time: NaiveDateTime)
        -> update_count
        where id.eq(id)
        set status.eq(status), reviewer.eq(reviewer), review_time.eq(Some(time));
}

/// Script versions of an application (all applications when empty), newest first, optionally
/// those whose name contains `name`.
pub fn list(
    connection: &mut DbConnection,
    app_id: &str,
    name: &str,
) -> QueryResult<Vec<ScriptRow>> {
    let mut query = dsl::script_versions
        .select(ScriptRow::as_select())
        .into_boxed();
    if !app_id.is_empty() {
        query = query.filter(dsl::app_id.eq(app_id.to_owned()));
    }
    if !name.is_empty() {
        query = query.filter(
            dsl::name
                .like(common::db::contains_pattern(name))
                .escape('\\'),
        );
    }
    query.order(dsl::id.desc()).load(connection)
}
