//! Users: rows and queries. Passwords are stored only as argon2id hashes; roles as a JSON array.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::users::{self, dsl};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    /// JSON array of role names.
    pub roles: String,
    pub creator: String,
    pub create_time: NaiveDateTime,
}

impl UserRow {
    /// The role names; an unreadable column reads as no roles.
    pub fn role_names(&self) -> Vec<String> {
        serde_json::from_str(&self.roles).unwrap_or_default()
    }
}

pub fn count(connection: &mut DbConnection) -> QueryResult<i64> {
    dsl::users.count().get_result(connection)
}

pub fn find(connection: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    dsl::users
        .find(id)
        .select(UserRow::as_select())
        .first(connection)
        .optional()
}

pub fn find_by_username(
    connection: &mut DbConnection,
    username: &str,
) -> QueryResult<Option<UserRow>> {
    dsl::users
        .filter(dsl::username.eq(username))
        .select(UserRow::as_select())
        .first(connection)
        .optional()
}

pub fn list(connection: &mut DbConnection) -> QueryResult<Vec<UserRow>> {
    dsl::users
        .select(UserRow::as_select())
        .order((dsl::create_time.asc(), dsl::username.asc()))
        .load(connection)
}

pub fn insert(connection: &mut DbConnection, row: &UserRow) -> QueryResult<()> {
    diesel::insert_into(dsl::users)
        .values(row)
        .execute(connection)
        .map(|_| ())
}

/// Replaces the roles and, when given, the password hash of a user.
pub fn update(
    connection: &mut DbConnection,
    id: &str,
    roles: &str,
    password_hash: Option<&str>,
) -> QueryResult<()> {
    match password_hash {
        Some(hash) => diesel::update(dsl::users.find(id))
            .set((dsl::roles.eq(roles), dsl::password_hash.eq(hash)))
            .execute(connection),
        None => diesel::update(dsl::users.find(id))
            .set(dsl::roles.eq(roles))
            .execute(connection),
    }
    .map(|_| ())
}

pub fn delete(connection: &mut DbConnection, id: &str) -> QueryResult<usize> {
    diesel::delete(dsl::users.find(id)).execute(connection)
}
