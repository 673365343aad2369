//! API tokens (issue 20) as the JSON routes take and answer them: the create body, the token
//! answered once with its secret, and the listed token (never a secret).

use common::time::TimeRenderer;
use proto::resource::v1 as pb;
use serde::{Deserialize, Serialize};

/// Body of `POST /api/auth/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    /// 1-64 characters, unique among the caller's tokens.
    #[schema(max_length = 64)]
    pub name: String,
    /// Days until it expires, 1-3650 (default 90).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
    /// Some of the caller's roles.
    #[schema(inline, value_type = Vec<crate::openapi::contract::RoleName>)]
    pub roles: Vec<String>,
}

/// A token as listed: who owns it, its roles (as its owner may use them now), when it was made,
/// expires and was last used (to the minute). Never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenItem {
    pub id: String,
    pub name: String,
    /// Its owner.
    pub username: String,
    pub roles: Vec<String>,
    pub create_time: String,
    pub expires_at: String,
    /// Null until first used.
    pub last_used: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
}

impl TokenItem {
    pub fn from_proto(token: pb::ApiToken, times: &TimeRenderer) -> TokenItem {
        TokenItem {
            expired: token.expires_at_ms <= chrono::Utc::now().timestamp_millis(),
            id: token.id,
            name: token.name,
            username: token.username,
            roles: token.roles,
            create_time: times.render_unix_ms(token.create_time_ms),
            expires_at: times.render_unix_ms(token.expires_at_ms),
            last_used: token.last_used_ms.map(|ms| times.render_unix_ms(ms)),
        }
    }
}

/// `data` of `POST /api/auth/tokens`: the token, and its secret shown this once
/// (`Authorization: Bearer <token>`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// `tad_` and 43 base62 characters; not stored, not shown again.
    pub token: String,
    #[serde(flatten)]
    pub item: TokenItem,
}

impl CreatedToken {
    pub fn from_proto(created: pb::CreatedApiToken, times: &TimeRenderer) -> Option<CreatedToken> {
        Some(CreatedToken {
            token: created.secret,
            item: TokenItem::from_proto(created.token?, times),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_shows_its_secret_once_beside_its_fields() {
        let created = pb::CreatedApiToken {
            token: Some(pb::ApiToken {
                id: "t1".into(),
                name: "ci".into(),
                username: "alice".into(),
                roles: vec!["viewer".into()],
                expires_at_ms: 4_102_444_800_000,
                create_time_ms: 0,
                last_used_ms: None,
            }),
            secret: "tad_secret".into(),
        };
        let answer = CreatedToken::from_proto(created, &crate::convert::shanghai()).expect("token");
        let json = serde_json::to_value(&answer).expect("json");
        assert_eq!(json["token"], "tad_secret");
        assert_eq!(json["name"], "ci");
        assert_eq!(json["expires_at"], "2100-01-01 08:00:00");
        assert_eq!(json["last_used"], serde_json::Value::Null);
        assert_eq!(json["expired"], false);
    }
}
