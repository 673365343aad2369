//! API tokens: rows and queries. A token is found by the SHA-256 of its secret (the only form
//! stored); deleting its row revokes it.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::api_tokens;

/// A stored API token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: String,
    /// Its owner.
    pub username: String,
    pub name: String,
    /// Hex SHA-256 of the secret.
    pub token_hash: String,
    /// JSON array of role names.
    pub roles: String,
    pub expires_at: NaiveDateTime,
    pub create_time: NaiveDateTime,
    pub last_used: Option<NaiveDateTime>,
}

impl ApiTokenRow {
    /// The role names; an unreadable column reads as no roles.
    pub fn role_names(&self) -> Vec<String> {
        serde_json::from_str(&self.roles).unwrap_or_default()
    }
}

common::row_queries! { api_tokens, ApiTokenRow;
    find, insert, delete;
    /// The token whose secret hashes to `hash`.
    pub fn find_by_hash(hash: &str) -> first where token_hash.eq(hash);
    /// The token `name` of `username`, if any.
    pub fn find_by_name(username: &str, name: &str) -> first
        where username.eq(username), name.eq(name);
    /// Every token, newest first.
    pub fn list() -> all order create_time.desc(), id.desc();
    /// The tokens of `username`, newest first.
    pub fn list_of_user(username: &str) -> all
        where username.eq(username) order create_time.desc(), id.desc();
    /// Records a use of token `id` at `now`.
    pub fn set_last_used(id: &str, now: NaiveDateTime) -> update
        where id.eq(id) set last_used.eq(Some(now));
    /// Moves the expiry of token `id` (operators shortening a token; tests).
    pub fn set_expires_at(id: &str, when: NaiveDateTime) -> update_one
        where id.eq(id) set expires_at.eq(when);
    /// Voids every token of `username` (the user is deleted).
    pub fn delete_of_user(username: &str) -> delete where username.eq(username);
}

/// Whether a use at `now` should be recorded: never recorded, or last recorded a minute ago or
/// more (so a busy token costs at most one write a minute).
pub fn use_is_due(row: &ApiTokenRow, now: NaiveDateTime) -> bool {
    row.last_used
        .is_none_or(|last| now - last >= chrono::Duration::seconds(60))
}

/// Revokes one token; answers whether it existed.
pub fn revoke(connection: &mut DbConnection, id: &str) -> QueryResult<bool> {
    delete(connection, id).map(|deleted| deleted > 0)
}
