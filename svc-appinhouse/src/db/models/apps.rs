//! Apps: rows and queries. `position` orders the app list (smallest first).

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::apps::{self, dsl};

/// An app builds are published under.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = apps)]
pub struct AppRow {
    pub name: String,
    pub description: String,
    pub alias: String,
    pub position: i64,
    pub create_time: NaiveDateTime,
    pub update_time: NaiveDateTime,
}

common::row_queries! { apps, AppRow;
    find, insert, delete;
    /// Rewrites the description and alias of an app; answers how many rows changed (0 or 1).
    pub fn update_text(name: &str, description: &str, alias: &str, now: NaiveDateTime)
        -> update_count
        where name.eq(name) set description.eq(description), alias.eq(alias), update_time.eq(now);
    /// Moves an app to `position` in the list.
    pub fn set_position(name: &str, position: i64) -> update
        where name.eq(name) set position.eq(position);
    /// How many apps there are.
    pub fn count() -> count;
}

/// Names and positions of every app, in list order.
pub fn ordered(connection: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    dsl::apps
        .select((dsl::name, dsl::position))
        .order((dsl::position.asc(), dsl::name.asc()))
        .load(connection)
}

/// One page of app names, in list order.
pub fn page(connection: &mut DbConnection, offset: i64, limit: i64) -> QueryResult<Vec<String>> {
    dsl::apps
        .select(dsl::name)
        .order((dsl::position.asc(), dsl::name.asc()))
        .offset(offset)
        .limit(limit)
        .load(connection)
}

/// Smallest and largest position in use.
pub fn position_bounds(connection: &mut DbConnection) -> QueryResult<(Option<i64>, Option<i64>)> {
    use diesel::dsl::{max, min};
    dsl::apps
        .select((min(dsl::position), max(dsl::position)))
        .first(connection)
}
