//! Who a caller is once its token is verified: roles, claims, the actor, and why a token is
//! refused. Shared by `auth` (which verifies tokens) and `sessions` (which checks a login
//! session is still open), so neither needs the other's types.

use serde::{Deserialize, Serialize};

/// Metadata (and HTTP header) that carries `Bearer <token>`.
pub const AUTHORIZATION: &str = "authorization";

/// Role carried only by tokens services mint for each other (never by a user: user roles are
/// checked against [`Role`]). It allows reading host credentials.
pub const INTERNAL_ROLE: &str = "internal";

/// How every API token starts (issue 20): `tad_` and 43 base62 characters (32 random bytes).
/// A bearer token with this prefix is looked up at its owner (svc-resource), never decoded as a
/// JWT.
pub const API_TOKEN_PREFIX: &str = "tad_";

/// Whether a bearer token is an API token (by its prefix; its owner decides whether it is valid).
pub fn is_api_token(token: &str) -> bool {
    token.starts_with(API_TOKEN_PREFIX)
}

/// The only form an API token is kept in: the hex SHA-256 of the whole token.
pub fn api_token_hash(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// The roles of SPEC §1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Everything.
    Admin,
    /// Configure and deploy.
    Operator,
    /// Script review.
    Reviewer,
    /// Reads.
    Viewer,
    /// Reads everything, the audit trail included, and writes nothing (issue 20).
    Auditor,
    /// Approves or rejects deployment requests on protected environments (never their own).
    Approver,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Operator,
        Role::Reviewer,
        Role::Viewer,
        Role::Auditor,
        Role::Approver,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Approver => "approver",
        }
    }

    /// Every role's name, comma-separated (for refusals that list the known roles).
    pub fn known_names() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

/// What a verified token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Username.
    pub sub: String,
    pub roles: Vec<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Login session the token belongs to (user tokens); checked on every request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The API token the caller presented, when it was one (never part of a JWT: only the owner's
    /// answer for a `tad_` token sets it). `sub` is then the token's owner and `roles` the
    /// token's own.
    #[serde(skip)]
    pub api_token: Option<ApiTokenRef>,
}

/// Which API token a call came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRef {
    pub id: String,
    pub name: String,
}

impl Claims {
    pub fn username(&self) -> &str {
        &self.sub
    }

    /// Who acted, as an audit trail names it: `token:NAME` for a call with an API token, the
    /// username otherwise. (Ownership rules still use [`Claims::username`], the token's owner.)
    pub fn actor_label(&self) -> String {
        match &self.api_token {
            Some(token) => format!("token:{}", token.name),
            None => self.sub.clone(),
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.iter().any(|held| held == role.as_str())
    }

    /// Admins may do everything; others need one of `roles`.
    pub fn may(&self, roles: &[Role]) -> bool {
        self.has_role(Role::Admin) || roles.iter().any(|role| self.has_role(*role))
    }
}

/// A verified caller: what its token says, and the token itself, forwarded when one service asks
/// another on the caller's behalf. `Debug` never shows the token.
#[derive(Clone)]
pub struct Actor {
    pub claims: Claims,
    pub token: String,
}

impl Actor {
    pub fn username(&self) -> &str {
        self.claims.username()
    }
}

impl std::fmt::Debug for Actor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Actor")
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("authorization token is missing")]
    Missing,
    #[error("authorization header must be \"Bearer <token>\"")]
    Malformed,
    #[error("authorization token has expired")]
    Expired,
    #[error("authorization token is invalid")]
    Invalid,
    #[error("cannot sign token: {0}")]
    Sign(String),
    #[error("authorization token was revoked (logged out, or its user was changed or deleted)")]
    Revoked,
    #[error("cannot check the authorization token's session: {0}")]
    Unavailable(String),
    #[error("API token is unknown or was revoked")]
    UnknownApiToken,
}

impl AuthError {
    /// True when the token could not be checked (the session owner did not answer), as opposed
    /// to a token that is wrong; both refuse the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AuthError::Unavailable(_))
    }
}
