//! Login sessions: rows and queries. A user token is honoured only while its session row exists
//! and has not expired; deleting rows ends tokens.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::sessions;

/// A stored login session.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub username: String,
    pub expires_at: NaiveDateTime,
    pub create_time: NaiveDateTime,
}

common::row_queries! { sessions, SessionRow;
    insert, delete as delete_session;
    /// Whether session `id` of `username` exists and has not expired at `now`.
    fn count_active(id: &str, username: &str, now: NaiveDateTime) -> count
        where id.eq(id), username.eq(username), expires_at.gt(now);
    /// Ends every session of `username`.
    pub fn delete_of_user(username: &str) -> delete where username.eq(username);
    /// Forgets sessions that expired before `now`.
    pub fn delete_expired(now: NaiveDateTime) -> delete where expires_at.le(now);
}

/// Whether session `id` of `username` exists and has not expired at `now`.
pub fn is_active(
    connection: &mut DbConnection,
    id: &str,
    username: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    count_active(connection, id, username, now).map(|count| count > 0)
}

/// Ends one session; answers whether it existed.
pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    delete_session(connection, id).map(|deleted| deleted > 0)
}
