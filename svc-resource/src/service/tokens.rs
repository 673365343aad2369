//! API tokens (issue 20): a user makes named tokens for the AOS platform and CI, with some of
//! their own roles and an expiry; the secret (`tad_` + 43 base62 characters) is answered once and
//! kept only as its SHA-256. Rules:
//! - only a password session may create tokens (a token cannot make another token, so a leaked
//!   token cannot outlive its revocation through a child);
//! - a token's roles are within its creator's when made, and capped by its owner's current roles
//!   on every use (lowering a user's roles lowers their tokens; a token left with no role is
//!   refused); deleting a user deletes their tokens;
//! - a revoke deletes the row and is announced on the bus, so every process drops its cached
//!   answer at once; `last_used` is written at most once a minute per token.

use chrono::NaiveDateTime;
use common::{
    audit::{NewEvent, Origin},
    auth::{ApiTokenRef, Claims, Role, api_token_hash, new_api_token},
    db::DbConnection,
    ids::new_id,
    roles::require_reader,
    sessions::Revocation,
    time::now_utc,
};

use super::{
    ConflictKind, RecordKind, ResourceError, ResourceResult, ResourceService, audit, validate,
};
use crate::db::models::{
    api_tokens::{self, ApiTokenRow},
    users,
};

/// Longest token name.
pub const MAX_TOKEN_NAME_CHARS: usize = 64;
/// Expiry when none is asked for.
pub const DEFAULT_EXPIRES_IN_DAYS: i64 = 90;
/// Longest expiry (ten years).
pub const MAX_EXPIRES_IN_DAYS: i64 = 3650;

/// What a new token is asked to be.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub expires_in_days: Option<i64>,
    pub roles: &'a [String],
}

/// Whether a holder of `held` roles may hand out `role` (admins hold every role).
fn holds(held: &[String], role: &str) -> bool {
    held.iter()
        .any(|name| name == role || name == Role::Admin.as_str())
}

/// The roles of a token that its owner still holds, in the token's order.
pub fn capped_roles(token_roles: &[String], owner_roles: &[String]) -> Vec<String> {
    token_roles
        .iter()
        .filter(|role| holds(owner_roles, role))
        .cloned()
        .collect()
}

fn check_name(name: &str) -> ResourceResult<String> {
    let name = validate::name("name", name)?;
    if name.chars().count() > MAX_TOKEN_NAME_CHARS {
        return Err(ResourceError::Invalid {
            field: "name",
            message: format!("must be at most {MAX_TOKEN_NAME_CHARS} characters"),
        });
    }
    Ok(name)
}

fn check_expiry(days: Option<i64>) -> ResourceResult<i64> {
    let days = days.unwrap_or(DEFAULT_EXPIRES_IN_DAYS);
    Ok(common::limits::range(
        "expires_in_days",
        days,
        1,
        MAX_EXPIRES_IN_DAYS,
    )?)
}

/// The token's roles, known, deduplicated, and each held by the creator (`held`).
fn check_token_roles(roles: &[String], held: &[String]) -> ResourceResult<Vec<String>> {
    if roles.is_empty() {
        return Err(ResourceError::Missing { field: "roles" });
    }
    common::limits::items("roles", roles.len(), common::limits::MAX_ROLES)?;
    let mut checked: Vec<String> = Vec::with_capacity(roles.len());
    for role in roles {
        let Some(parsed) = Role::parse(role.trim()) else {
            return Err(ResourceError::Invalid {
                field: "roles",
                message: format!(
                    "has unknown role {:?} (known: {})",
                    common::limits::excerpt(role),
                    Role::known_names()
                ),
            });
        };
        if !holds(held, parsed.as_str()) {
            return Err(ResourceError::Invalid {
                field: "roles",
                message: format!(
                    "names role {:?}, which you do not hold (a token's roles are some of yours)",
                    parsed.as_str()
                ),
            });
        }
        if !checked.iter().any(|name| name == parsed.as_str()) {
            checked.push(parsed.as_str().to_owned());
        }
    }
    Ok(checked)
}

/// The claims a stored token grants now: its owner, its roles capped by the owner's current
/// roles (none when the owner is gone), its expiry.
fn grant_of(connection: &mut DbConnection, row: &ApiTokenRow) -> ResourceResult<Claims> {
    let owner_roles = users::find_by_username(connection, &row.username)?
        .map(|user| user.role_names())
        .unwrap_or_default();
    Ok(Claims {
        sub: row.username.clone(),
        roles: capped_roles(&row.role_names(), &owner_roles),
        iat: row.create_time.and_utc().timestamp(),
        exp: row.expires_at.and_utc().timestamp(),
        sid: None,
        api_token: Some(ApiTokenRef {
            id: row.id.clone(),
            name: row.name.clone(),
        }),
    })
}

/// A token as answered: the row, with its roles as its owner may use them now.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub row: ApiTokenRow,
    pub roles: Vec<String>,
}

/// The event of `action` on token `row` (never its secret), of its owner's.
fn token_event(origin: &Origin, action: &str, row: &ApiTokenRow) -> NewEvent {
    NewEvent::new(origin, action, "api_token", &row.id)
}

/// The token `token` grants, recording its use (at most once a minute). `None` when unknown.
pub fn resolve_in(
    connection: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
) -> ResourceResult<Option<(ApiTokenRow, Claims)>> {
    let Some(row) = api_tokens::find_by_hash(connection, &api_token_hash(token))? else {
        return Ok(None);
    };
    let claims = grant_of(connection, &row)?;
    if row.expires_at > now && api_tokens::use_is_due(&row, now) {
        api_tokens::set_last_used(connection, &row.id, now)?;
    }
    Ok(Some((row, claims)))
}

impl ResourceService {
    /// Creates a token for `actor` (a password session, not a token) with some of their roles;
    /// answers it with its secret, which is not kept.
    pub async fn create_api_token(
        &self,
        actor: &Claims,
        new: NewToken<'_>,
    ) -> ResourceResult<(TokenView, String)> {
        require_reader(actor)?;
        if actor.api_token.is_some() {
            return Err(ResourceError::Forbidden(format!(
                "{} cannot create API tokens: sign in with a password to create one",
                actor.actor_label()
            )));
        }
        let name = check_name(new.name)?;
        let days = check_expiry(new.expires_in_days)?;
        let roles = check_token_roles(new.roles, &actor.roles)?;
        let secret = new_api_token();
        let now = now_utc();
        let row = ApiTokenRow {
            id: new_id(),
            username: actor.username().to_owned(),
            name,
            token_hash: api_token_hash(&secret),
            roles: serde_json::to_string(&roles).map_err(|error| ResourceError::Invalid {
                field: "roles",
                message: error.to_string(),
            })?,
            expires_at: now + chrono::Duration::days(days),
            create_time: now,
            last_used: None,
        };
        let name_taken = || {
            ResourceError::Conflict(
                ConflictKind::TokenNameTaken,
                format!("you already have an API token named {:?}", row.name),
            )
        };
        let stored = row.clone();
        let event = token_event(&Origin::of(actor), "api_token.create", &row)
            .change(audit::change("name", None, Some(&row.name)))
            .change(audit::change("roles", None, Some(&row.roles)))
            .change(audit::change(
                "expires_at",
                None,
                Some(&row.expires_at.and_utc().to_rfc3339()),
            ));
        let inserted = self
            .database
            .transaction(move |connection| {
                if api_tokens::find_by_name(connection, &stored.username, &stored.name)?.is_some() {
                    return Ok(false);
                }
                let inserted = common::db::insert_unless_taken(connection, |connection| {
                    api_tokens::insert(connection, &stored)
                })?;
                if inserted {
                    audit::append(connection, event)?;
                }
                Ok::<_, ResourceError>(inserted)
            })
            .await?;
        if !inserted {
            return Err(name_taken());
        }
        tracing::info!(username = %row.username, token = %row.name, id = %row.id, "API token created");
        Ok((TokenView { roles, row }, secret))
    }

    /// The caller's tokens (admins: everyone's), newest first, never a secret.
    pub async fn list_api_tokens(&self, actor: &Claims) -> ResourceResult<Vec<TokenView>> {
        require_reader(actor)?;
        let everyone = actor.has_role(Role::Admin);
        let username = actor.username().to_owned();
        self.database
            .run(move |connection| {
                let rows = if everyone {
                    api_tokens::list(connection)?
                } else {
                    api_tokens::list_of_user(connection, &username)?
                };
                rows.into_iter()
                    .map(|row| {
                        let roles = grant_of(connection, &row)?.roles;
                        Ok(TokenView { row, roles })
                    })
                    .collect::<ResourceResult<Vec<_>>>()
            })
            .await
    }

    /// Revokes token `id` (its owner's or, for admins, anyone's): it answers 401 on every process
    /// from now on. Someone else's token is "not found" to a non-admin.
    pub async fn revoke_api_token(&self, actor: &Claims, id: &str) -> ResourceResult<()> {
        require_reader(actor)?;
        let admin = actor.has_role(Role::Admin);
        let username = actor.username().to_owned();
        let token_id = id.to_owned();
        let origin = Origin::of(actor);
        let revoked = self
            .database
            .transaction(move |connection| {
                let row = api_tokens::find(connection, &token_id)?
                    .filter(|row| admin || row.username == username)
                    .ok_or_else(|| ResourceError::NotFound {
                        kind: RecordKind::ApiToken,
                        id: token_id.clone(),
                    })?;
                api_tokens::revoke(connection, &row.id)?;
                let name = audit::change("name", Some(&row.name), None);
                audit::append(
                    connection,
                    token_event(&origin, "api_token.revoke", &row).change(name),
                )?;
                Ok::<_, ResourceError>(row)
            })
            .await?;
        self.announce(&revoked.username, Revocation::Token(revoked.id.clone()))
            .await;
        tracing::info!(username = %revoked.username, token = %revoked.name, by = %actor.actor_label(), "API token revoked");
        Ok(())
    }

    /// What the presented token grants (`None`: unknown or revoked); expired tokens are answered
    /// too, so that the caller can say so.
    pub async fn resolve_api_token(&self, token: &str) -> ResourceResult<Option<TokenView>> {
        if !common::auth::is_api_token(token) || token.len() > 128 {
            return Ok(None);
        }
        let token = token.to_owned();
        let found = self
            .database
            .run(move |connection| resolve_in(connection, &token, now_utc()))
            .await?;
        Ok(found.map(|(row, claims)| TokenView {
            row,
            roles: claims.roles,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|role| (*role).to_owned()).collect()
    }

    #[test]
    fn token_roles_are_some_of_the_creators() {
        let operator = names(&["operator"]);
        assert_eq!(
            check_token_roles(&names(&["operator", "operator"]), &operator).expect("held"),
            names(&["operator"])
        );
        let refused = check_token_roles(&names(&["admin"]), &operator).expect_err("not held");
        assert!(refused.to_string().contains("roles") && refused.to_string().contains("admin"));
        assert!(check_token_roles(&names(&["root"]), &operator).is_err());
        assert!(check_token_roles(&[], &operator).is_err());
        // Admins hold every role.
        assert!(check_token_roles(&names(&["viewer", "reviewer"]), &names(&["admin"])).is_ok());
    }

    #[test]
    fn used_roles_are_capped_by_the_owners() {
        let token = names(&["operator", "viewer"]);
        assert_eq!(
            capped_roles(&token, &names(&["viewer"])),
            names(&["viewer"])
        );
        assert_eq!(capped_roles(&token, &names(&["admin"])), token);
        assert!(capped_roles(&token, &[]).is_empty());
    }

    #[test]
    fn names_and_expiries_have_limits() {
        assert!(check_name("ci").is_ok());
        assert!(check_name(" ").is_err());
        assert!(check_name(&"n".repeat(65)).is_err());
        assert_eq!(check_expiry(None).expect("default"), 90);
        assert!(check_expiry(Some(0)).is_err());
        assert!(check_expiry(Some(3651)).is_err());
        assert_eq!(check_expiry(Some(3650)).expect("ten years"), 3650);
    }
}
