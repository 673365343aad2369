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

pub fn find(connection: &mut DbConnection, name: &str) -> QueryResult<Option<AppRow>> {
    dsl::apps
        .find(name)
        .select(AppRow::as_select())
        .first(connection)
        .optional()
}

pub fn insert(connection: &mut DbConnection, row: &AppRow) -> QueryResult<()> {
    diesel::insert_into(dsl::apps)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

pub fn update_text(
    connection: &mut DbConnection,
    name: &str,
    description: &str,
    alias: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(dsl::apps.find(name))
        .set((
            dsl::description.eq(description),
            dsl::alias.eq(alias),
            dsl::update_time.eq(now),
        ))
        .execute(connection)
}

pub fn set_position(connection: &mut DbConnection, name: &str, position: i64) -> QueryResult<()> {
    diesel::update(dsl::apps.find(name))
        .set(dsl::position.eq(position))
        .execute(connection)
        .map(|_| ())
}

pub fn delete(connection: &mut DbConnection, name: &str) -> QueryResult<usize> {
    diesel::delete(dsl::apps.find(name)).execute(connection)
}

/// Names and positions of every app, in list order.
pub fn ordered(connection: &mut DbConnection) -> QueryResult<Vec<(String, i64)>> {
    dsl::apps
        .select((dsl::name, dsl::position))
        .order((dsl::position.asc(), dsl::name.asc()))
        .load(connection)
}

pub fn count(connection: &mut DbConnection) -> QueryResult<i64> {
    dsl::apps.count().get_result(connection)
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
