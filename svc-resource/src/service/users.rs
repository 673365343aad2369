//! Users and login: argon2id password hashes, roles, a first-start admin, tokens, and a per-user
//! limit on failed logins kept in the shared cache (so every replica counts the same failures).

use std::time::Duration;

use common::{
    audit::{Change, NewEvent, Origin},
    auth::{Claims, IssuedToken, Role},
    ids::new_id,
    limits,
    passwords::matches as password_matches,
    sessions::Revocation,
    time::now_utc,
};
use rand::{Rng, distr::Alphanumeric};

use super::{
    RecordKind, ResourceError, ResourceResult, ResourceService, audit, require_admin,
    require_admin_reader, sessions::session_event, validate,
};
use crate::db::models::{
    api_tokens,
    sessions::{self, SessionRow},
    users::{self, UserRow},
};

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Longest password accepted (refused before any hashing).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// How long a window of the login limit lasts.
const LOGIN_WINDOW: Duration = Duration::from_secs(60);

/// Username of records written by the first start.
const SYSTEM_ACTOR: &str = "system";

/// What the first start did about the admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Users existed already; nothing was created.
    Existing,
    /// `admin` was created; `generated_password` is set when no password was configured and must
    /// be shown once to the operator.
    Created { generated_password: Option<String> },
}

fn hash_password(password: &str) -> ResourceResult<String> {
    common::passwords::hash(password).map_err(ResourceError::Hashing)
}

/// Hashes `password` on a blocking thread (argon2 is slow on purpose).
async fn hash_off_thread(password: String) -> ResourceResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|error| ResourceError::Hashing(error.to_string()))?
}

fn check_password(password: &str) -> ResourceResult<()> {
    if password.is_empty() {
        return Err(ResourceError::Missing { field: "password" });
    }
    limits::check("password", password, limits::PASSWORD)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ResourceError::Invalid {
            field: "password",
            message: format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        });
    }
    Ok(())
}

fn check_roles(roles: &[String]) -> ResourceResult<String> {
    if roles.is_empty() {
        return Err(ResourceError::Missing { field: "roles" });
    }
    limits::items("roles", roles.len(), limits::MAX_ROLES)?;
    limits::check_all("roles", roles.iter().map(String::as_str), limits::NAME)?;
    let mut parsed = Vec::with_capacity(roles.len());
    for role in roles {
        let role = Role::parse(role).ok_or_else(|| ResourceError::Invalid {
            field: "roles",
            message: format!("has unknown role {role:?} (known: {})", Role::known_names()),
        })?;
        parsed.push(role);
    }
    parsed.sort();
    parsed.dedup();
    let names: Vec<&str> = parsed.into_iter().map(Role::as_str).collect();
    serde_json::to_string(&names).map_err(|error| ResourceError::Invalid {
        field: "roles",
        message: error.to_string(),
    })
}

fn check_username(username: &str) -> ResourceResult<String> {
    let username = validate::name("username", username)?;
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ResourceError::Invalid {
            field: "username",
            message: "must not contain spaces".to_owned(),
        });
    }
    Ok(username)
}

fn is_unique_violation(error: &ResourceError) -> bool {
    matches!(
        error,
        ResourceError::Database(common::db::DbError::Query(
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )
        ))
    )
}

/// A user of an import, checked: roles normalised, password hashed (when given).
#[derive(Debug, Clone)]
pub struct UserInput {
    pub username: String,
    pub roles_json: String,
    pub password_hash: Option<String>,
}

impl UserInput {
    /// Checks the fields and hashes the password (CPU-heavy: call off the async threads).
    pub fn new(
        username: &str,
        password: Option<&str>,
        roles: &[String],
    ) -> ResourceResult<UserInput> {
        let username = check_username(username)?;
        let roles_json = check_roles(roles)?;
        let password_hash = match password {
            Some(password) => {
                check_password(password)?;
                Some(hash_password(password)?)
            }
            None => None,
        };
        Ok(UserInput {
            username,
            roles_json,
            password_hash,
        })
    }
}

/// Creates or updates the user `username`: roles replaced, password when a hash is given.
pub(crate) fn upsert_user_in(
    connection: &mut common::db::DbConnection,
    creator: &str,
    username: String,
    roles: String,
    password_hash: Option<String>,
) -> ResourceResult<UserRow> {
    if users::find_by_username(connection, &username)?.is_none() {
        let row = UserRow {
            id: new_id(),
            username: username.clone(),
            password_hash: password_hash
                .clone()
                .ok_or(ResourceError::Missing { field: "password" })?,
            roles: roles.clone(),
            creator: creator.to_owned(),
            create_time: now_utc(),
        };
        if common::db::insert_unless_taken(connection, |connection| {
            users::insert(connection, &row)
        })? {
            return Ok(row);
        }
    }
    // Present, or created by a concurrent request after the look above.
    let existing =
        users::find_by_username(connection, &username)?.ok_or(diesel::result::Error::NotFound)?;
    users::update(connection, &existing.id, &roles, password_hash.as_deref())?;
    if existing.roles != roles || password_hash.is_some() {
        sessions::delete_of_user(connection, &existing.username)?;
    }
    Ok(UserRow {
        roles,
        password_hash: password_hash.unwrap_or_else(|| existing.password_hash.clone()),
        ..existing
    })
}

/// The event of `action` on `user`.
fn user_event(origin: &Origin, action: &str, user: &UserRow) -> NewEvent {
    NewEvent::new(origin, action, "user", &user.id)
}

/// The event of creating `user`: its name, roles and that a password was set.
fn created_user(origin: &Origin, user: &UserRow) -> NewEvent {
    user_event(origin, "user.create", user)
        .change(audit::change("username", None, Some(&user.username)))
        .change(audit::change("roles", None, Some(&user.roles)))
        .change(Change::secret("password", false, true))
}

/// The user with `id`, or why there is none.
fn existing_user(connection: &mut common::db::DbConnection, id: &str) -> ResourceResult<UserRow> {
    users::find(connection, id)?.ok_or_else(|| ResourceError::NotFound {
        kind: RecordKind::User,
        id: id.to_owned(),
    })
}

impl ResourceService {
    /// Creates `admin` when there is no user at all (first start). Safe when replicas race.
    pub async fn ensure_admin(
        &self,
        configured_password: Option<&str>,
    ) -> ResourceResult<AdminBootstrap> {
        let existing = self
            .database
            .run(|connection| Ok::<_, ResourceError>(users::count(connection)?))
            .await?;
        if existing > 0 {
            return Ok(AdminBootstrap::Existing);
        }
        let (password, generated) = match configured_password {
            Some(password) => (password.to_owned(), false),
            None => {
                let password: String = rand::rng()
                    .sample_iter(&Alphanumeric)
                    .take(20)
                    .map(char::from)
                    .collect();
                (password, true)
            }
        };
        check_password(&password)?;
        let password_hash = hash_off_thread(password.clone()).await?;
        let row = UserRow {
            id: new_id(),
            username: "admin".to_owned(),
            password_hash,
            roles: "[\"admin\"]".to_owned(),
            creator: SYSTEM_ACTOR.to_owned(),
            create_time: now_utc(),
        };
        let inserted = self
            .database
            .transaction(move |connection| {
                if users::count(connection)? > 0 {
                    return Ok(false);
                }
                users::insert(connection, &row)?;
                audit::append(connection, created_user(&Origin::system(), &row))?;
                Ok::<_, ResourceError>(true)
            })
            .await;
        match inserted {
            Ok(true) => Ok(AdminBootstrap::Created {
                generated_password: generated.then_some(password),
            }),
            Ok(false) => Ok(AdminBootstrap::Existing),
            Err(error) if is_unique_violation(&error) => Ok(AdminBootstrap::Existing),
            Err(error) => Err(error),
        }
    }

    /// Checks the password and issues a token of a new login session. Over-long input is refused
    /// before any lookup or hashing; every attempt on a username is counted (atomically, in the
    /// shared cache) before its password is checked, so parallel attempts cannot exceed the
    /// limit; a success clears the count.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> ResourceResult<(IssuedToken, Vec<String>)> {
        let username = username.trim();
        if username.is_empty() {
            return Err(ResourceError::Missing { field: "username" });
        }
        if username.chars().count() > validate::MAX_NAME_CHARS {
            return Err(ResourceError::Invalid {
                field: "username",
                message: format!("must be at most {} characters", validate::MAX_NAME_CHARS),
            });
        }
        if password.is_empty() {
            return Err(ResourceError::Missing { field: "password" });
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(ResourceError::Invalid {
                field: "password",
                message: format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
            });
        }
        let username = username.to_owned();
        let attempts_key = format!("login-attempts:{username}");
        let attempts = self.cache.increment(&attempts_key, LOGIN_WINDOW).await?;
        if attempts > i64::from(self.settings.login_attempts_per_minute) {
            tracing::warn!(username = %username, attempts, "login refused: too many attempts");
            return Err(ResourceError::TooManyLoginAttempts(username));
        }
        let lookup = username.clone();
        let user = self
            .database
            .run(move |connection| {
                Ok::<_, ResourceError>(users::find_by_username(connection, &lookup)?)
            })
            .await?;
        let password = password.to_owned();
        let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
        let verified = tokio::task::spawn_blocking(move || match stored_hash {
            Some(hash) => password_matches(&password, &hash),
            None => {
                // Same work for unknown users, so timing does not tell which names exist.
                let _ = hash_password(&password);
                false
            }
        })
        .await
        .map_err(|error| ResourceError::Hashing(error.to_string()))?;
        let Some(user) = user.filter(|_| verified) else {
            tracing::warn!(username = %username, "login failed");
            return Err(ResourceError::InvalidCredentials);
        };
        self.cache.delete(&attempts_key).await?;
        let roles = user.role_names();
        let session = SessionRow {
            id: new_id(),
            username: user.username.clone(),
            expires_at: now_utc()
                + chrono::Duration::from_std(self.settings.token_ttl)
                    .unwrap_or(chrono::Duration::hours(12)),
            create_time: now_utc(),
        };
        let token = self
            .jwt
            .issue_in_session(
                &user.username,
                &roles,
                self.settings.token_ttl,
                Some(&session.id),
            )
            .map_err(|error| ResourceError::Token(error.to_string()))?;
        let origin = Origin::current(&user.username, &roles);
        let event = session_event(&origin, "session.login", &user.username);
        self.database
            .transaction(move |connection| {
                sessions::delete_expired(connection, now_utc())?;
                sessions::insert(connection, &session)?;
                audit::append(connection, event)?;
                Ok::<_, ResourceError>(())
            })
            .await?;
        tracing::info!(username = %user.username, "login succeeded");
        Ok((token, roles))
    }

    /// Changes the roles (when given) and/or the password of a user (admin only); either ends
    /// every session of that user.
    pub async fn update_user(
        &self,
        actor: &Claims,
        id: &str,
        password: Option<&str>,
        roles: &[String],
    ) -> ResourceResult<UserRow> {
        require_admin(actor)?;
        let roles = if roles.is_empty() {
            None
        } else {
            Some(check_roles(roles)?)
        };
        if roles.is_none() && password.is_none() {
            return Err(ResourceError::Missing { field: "roles" });
        }
        let password_hash = match password {
            Some(password) => {
                check_password(password)?;
                Some(hash_off_thread(password.to_owned()).await?)
            }
            None => None,
        };
        let id = id.to_owned();
        let origin = Origin::of(actor);
        let updated = self
            .database
            .transaction(move |connection| {
                let user = existing_user(connection, &id)?;
                let mut event = user_event(&origin, "user.update", &user);
                if let Some(roles) = &roles {
                    let change = audit::change("roles", Some(&user.roles), Some(roles));
                    event = event.change(change);
                }
                if password_hash.is_some() {
                    event = event.change(Change::secret("password", true, true));
                }
                let roles = roles.unwrap_or_else(|| user.roles.clone());
                users::update(connection, &user.id, &roles, password_hash.as_deref())?;
                sessions::delete_of_user(connection, &user.username)?;
                audit::append(connection, event)?;
                Ok::<_, ResourceError>(UserRow {
                    roles,
                    password_hash: password_hash.unwrap_or(user.password_hash.clone()),
                    ..user
                })
            })
            .await?;
        self.announce(
            &updated.username,
            Revocation::User(updated.username.clone()),
        )
        .await;
        tracing::info!(username = %updated.username, by = %actor.username(), "user changed; sessions ended");
        Ok(updated)
    }

    /// Creates a user (admin only).
    pub async fn create_user(
        &self,
        actor: &Claims,
        username: &str,
        password: &str,
        roles: &[String],
    ) -> ResourceResult<UserRow> {
        require_admin(actor)?;
        let username = check_username(username)?;
        check_password(password)?;
        let roles = check_roles(roles)?;
        let password_hash = hash_off_thread(password.to_owned()).await?;
        let row = UserRow {
            id: new_id(),
            username,
            password_hash,
            roles,
            creator: actor.username().to_owned(),
            create_time: now_utc(),
        };
        let requested_username = row.username.clone();
        let origin = Origin::of(actor);
        let created = self
            .database
            .transaction(move |connection| {
                if users::find_by_username(connection, &row.username)?.is_some() {
                    return Err(ResourceError::UsernameTaken(row.username));
                }
                users::insert(connection, &row)?;
                audit::append(connection, created_user(&origin, &row))?;
                Ok(row)
            })
            .await;
        match created {
            Err(error) if is_unique_violation(&error) => {
                Err(ResourceError::UsernameTaken(requested_username))
            }
            other => other,
        }
    }

    /// Creates or updates a user by username (imports): roles are replaced, and the password
    /// when one is given. A new user needs a password.
    pub async fn upsert_user(
        &self,
        actor: &Claims,
        username: &str,
        password: Option<&str>,
        roles: &[String],
    ) -> ResourceResult<UserRow> {
        require_admin(actor)?;
        let username = check_username(username)?;
        let roles = check_roles(roles)?;
        if let Some(password) = password {
            check_password(password)?;
        }
        let password_hash = match password {
            Some(password) => Some(hash_off_thread(password.to_owned()).await?),
            None => None,
        };
        let creator = actor.username().to_owned();
        let row = self
            .database
            .transaction(move |connection| {
                upsert_user_in(connection, &creator, username, roles, password_hash)
            })
            .await?;
        self.announce(&row.username, Revocation::User(row.username.clone()))
            .await;
        Ok(row)
    }

    pub async fn list_users(&self, actor: &Claims) -> ResourceResult<Vec<UserRow>> {
        require_admin_reader(actor)?;
        self.database
            .run(|connection| Ok(users::list(connection)?))
            .await
    }

    /// Deletes a user by id (admin only; never yourself), with their sessions and API tokens.
    pub async fn delete_user(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_admin(actor)?;
        let id = id.to_owned();
        let actor_name = actor.username().to_owned();
        let origin = Origin::of(actor);
        let username = self
            .database
            .transaction(move |connection| {
                let user = existing_user(connection, &id)?;
                if user.username == actor_name {
                    return Err(ResourceError::CannotDeleteSelf(user.username));
                }
                users::delete(connection, &id)?;
                sessions::delete_of_user(connection, &user.username)?;
                // Their API tokens are void (gone with them, not kept for a later namesake).
                api_tokens::delete_of_user(connection, &user.username)?;
                let name = audit::change("username", Some(&user.username), None);
                audit::append(
                    connection,
                    user_event(&origin, "user.delete", &user).change(name),
                )?;
                Ok(user.username)
            })
            .await?;
        self.announce(&username, Revocation::User(username.clone()))
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_checked_and_normalised() {
        assert_eq!(
            check_roles(&["viewer".into(), "admin".into(), "viewer".into()]).expect("valid"),
            "[\"admin\",\"viewer\"]"
        );
        assert!(matches!(
            check_roles(&[]),
            Err(ResourceError::Missing { field: "roles" })
        ));
        assert!(matches!(
            check_roles(&["root".into()]),
            Err(ResourceError::Invalid { field: "roles", .. })
        ));
    }
}
