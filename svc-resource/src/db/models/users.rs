//! Users: rows and queries. Passwords are stored only as argon2id hashes; roles as a JSON array.

use chrono::NaiveDateTime;
use common::db::DbConnection;
use diesel::prelude::*;

use crate::db::schema::users;

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

common::row_queries! { users, UserRow;
    find, insert, delete;
    /// How many users there are.
    pub fn count() -> count;
    /// The user of this name, if any.
    pub fn find_by_username(username: &str) -> first where username.eq(username);
    /// Every user, oldest first.
    pub fn list() -> all order create_time.asc(), username.asc();
    /// Replaces the roles of a user.
    fn set_roles(id: &str, roles: &str) -> update where id.eq(id) set roles.eq(roles);
    /// Replaces the roles and the password hash of a user.
    fn set_roles_and_password(id: &str, roles: &str, hash: &str) -> update
        where id.eq(id) set roles.eq(roles), password_hash.eq(hash);
}

/// Replaces the roles and, when given, the password hash of a user.
pub fn update(
    connection: &mut DbConnection,
    id: &str,
    roles: &str,
    password_hash: Option<&str>,
) -> QueryResult<()> {
    match password_hash {
        Some(hash) => set_roles_and_password(connection, id, roles, hash),
        None => set_roles(connection, id, roles),
    }
}
