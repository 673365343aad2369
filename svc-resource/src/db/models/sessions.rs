//! Login sessions: rows and queries. A user token is honoured only while its session row exists
//! and has not expired; deleting rows ends tokens.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::sessions::{self, dsl};

/// A stored login session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub username: String,
    pub expires_at: NaiveDateTime,
    pub create_time: NaiveDateTime,
}

pub fn insert(connection: &mut DbConnection, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(dsl::sessions)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Whether session `id` of `username` exists and has not expired at `now`.
pub fn is_active(
    connection: &mut DbConnection,
    id: &str,
    username: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    dsl::sessions
        .filter(dsl::id.eq(id))
        .filter(dsl::username.eq(username))
        .filter(dsl::expires_at.gt(now))
        .count()
        .get_result::<i64>(connection)
        .map(|count| count > 0)
}

/// Ends one session; answers whether it existed.
pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    diesel::delete(dsl::sessions.find(id))
        .execute(connection)
        .map(|deleted| deleted > 0)
}

/// Ends every session of `username`.
pub fn delete_of_user(connection: &mut DbConnection, username: &str) -> QueryResult<usize> {
    diesel::delete(dsl::sessions.filter(dsl::username.eq(username))).execute(connection)
}

/// Forgets sessions that expired before `now`.
pub fn delete_expired(connection: &mut DbConnection, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(dsl::sessions.filter(dsl::expires_at.le(now))).execute(connection)
}
