//! Tokens and roles: HS256 JWTs carrying the username and roles, issued at login by svc-resource
//! and verified by the gateway and by every service from the `authorization` metadata.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sha2::{Digest, Sha256};

use crate::sessions::Sessions;

pub use crate::identity::{
    API_TOKEN_PREFIX, AUTHORIZATION, Actor, ApiTokenRef, AuthError, Claims, INTERNAL_ROLE, Role,
    api_token_hash, is_api_token,
};

/// Characters of an API token's secret part (base62).
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Base62 digits of a 256-bit number (62^43 > 2^256).
const API_TOKEN_DIGITS: usize = 43;

/// A new API token: [`API_TOKEN_PREFIX`] and 32 random bytes as 43 base62 digits.
pub fn new_api_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    format!("{API_TOKEN_PREFIX}{}", base62(bytes))
}

/// `bytes` (big-endian) in base62, left-padded to [`API_TOKEN_DIGITS`] digits.
fn base62(mut bytes: [u8; 32]) -> String {
    let mut digits = Vec::with_capacity(API_TOKEN_DIGITS);
    for _ in 0..API_TOKEN_DIGITS {
        // One long division of the whole number by 62; the remainder is the next digit.
        let mut remainder = 0u32;
        for byte in bytes.iter_mut() {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 62) as u8;
            remainder = value % 62;
        }
        digits.push(BASE62[remainder as usize]);
    }
    digits.reverse();
    String::from_utf8_lossy(&digits).into_owned()
}

/// A freshly issued token.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    /// Unix milliseconds.
    pub expires_at_ms: i64,
}

/// How long a token whose signature was checked is not checked again in this process (its
/// expiry is, on every use; its session is checked by [`Sessions`] as before).
const VERIFIED_TTL: Duration = Duration::from_secs(30);
/// Most verified tokens remembered; when full, the memory starts over.
const VERIFIED_CAPACITY: usize = 10_000;

/// Tokens verified lately, with their claims (shared by the clones of one [`JwtKeys`]), so that
/// a request's token is verified once per process, not by the gateway and each service again.
type VerifiedTokens = Arc<Mutex<HashMap<String, (Instant, Claims)>>>;

/// Signing and verification keys (HS256 over one shared secret).
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    sessions: Option<Sessions>,
    verified: VerifiedTokens,
    /// Key of the CSRF tokens of cookie sessions ([`JwtKeys::csrf_token`]), derived from the
    /// secret so that it is not the signing key itself.
    csrf_key: [u8; 32],
}

/// The label the CSRF key is derived under.
const CSRF_KEY_LABEL: &[u8] = b"tad console csrf key\0";

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("JwtKeys(***)")
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            sessions: None,
            verified: VerifiedTokens::default(),
            csrf_key: Sha256::new()
                .chain_update(CSRF_KEY_LABEL)
                .chain_update(secret)
                .finalize()
                .into(),
        }
    }

    /// The MAC of `token` (HMAC takes keys of any length: `None` never happens, and would
    /// make every CSRF check fail closed).
    fn csrf_mac(&self, token: &str) -> Option<Hmac<Sha256>> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf_key).ok()?;
        mac.update(token.as_bytes());
        Some(mac)
    }

    /// The CSRF token of the session whose token is `token` (a cookie session of the console):
    /// hex HMAC-SHA256 of the token under a key derived from the secret. Only this server can
    /// make it, and only a page of this origin can read it (it is in the page, not a cookie).
    pub fn csrf_token(&self, token: &str) -> String {
        self.csrf_mac(token)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Whether `presented` is the CSRF token of `token` (compared in constant time).
    pub fn csrf_matches(&self, token: &str, presented: &str) -> bool {
        let Some(mac) = self.csrf_mac(token) else {
            return false;
        };
        hex::decode(presented.trim()).is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok())
    }

    /// The same keys, checking the session of every user token with `sessions`
    /// ([`JwtKeys::authenticate`]).
    pub fn with_sessions(mut self, sessions: Sessions) -> JwtKeys {
        self.sessions = Some(sessions);
        self
    }

    /// The session check, when configured.
    pub fn sessions(&self) -> Option<&Sessions> {
        self.sessions.as_ref()
    }

    /// Signs a token for `username` with `roles`, valid for `ttl`.
    pub fn issue(
        &self,
        username: &str,
        roles: &[String],
        ttl: Duration,
    ) -> Result<IssuedToken, AuthError> {
        self.issue_in_session(username, roles, ttl, None)
    }

    /// Signs a token of the login session `session_id` (see [`Sessions`]).
    pub fn issue_in_session(
        &self,
        username: &str,
        roles: &[String],
        ttl: Duration,
        session_id: Option<&str>,
    ) -> Result<IssuedToken, AuthError> {
        let now = chrono::Utc::now().timestamp();
        let ttl_secs = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let claims = Claims {
            sub: username.to_owned(),
            roles: roles.to_vec(),
            iat: now,
            exp: now.saturating_add(ttl_secs),
            sid: session_id.map(str::to_owned),
            api_token: None,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|error| AuthError::Sign(error.to_string()))?;
        Ok(IssuedToken {
            token,
            expires_at_ms: claims.exp.saturating_mul(1000),
        })
    }

    /// A short-lived token for calls between services (role [`INTERNAL_ROLE`]).
    pub fn issue_internal(&self, service: &str) -> Result<IssuedToken, AuthError> {
        self.issue(
            &format!("service:{service}"),
            &[INTERNAL_ROLE.to_owned()],
            Duration::from_secs(300),
        )
    }

    /// Verifies signature and expiry (the signature of a token verified in the last
    /// [`VERIFIED_TTL`] is not checked again; its expiry always is).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        if let Some(claims) = self.recently_verified(token) {
            let leeway = i64::try_from(self.validation.leeway).unwrap_or(0);
            if claims.exp.saturating_add(leeway) < chrono::Utc::now().timestamp() {
                return Err(AuthError::Expired);
            }
            return Ok(claims);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        self.remember_verified(token, &claims);
        Ok(claims)
    }

    fn verified_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Claims)>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn recently_verified(&self, token: &str) -> Option<Claims> {
        self.verified_tokens()
            .get(token)
            .filter(|(verified_at, _)| verified_at.elapsed() < VERIFIED_TTL)
            .map(|(_, claims)| claims.clone())
    }

    fn remember_verified(&self, token: &str, claims: &Claims) {
        let mut verified = self.verified_tokens();
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(token.to_owned(), (Instant::now(), claims.clone()));
    }

    /// Verifies an `Authorization` header value (`Bearer <token>`).
    pub fn verify_header(&self, header: Option<&str>) -> Result<Claims, AuthError> {
        self.verify_actor(header).map(|actor| actor.claims)
    }

    /// Verifies an `Authorization` header value and keeps its token with the claims.
    pub fn verify_actor(&self, header: Option<&str>) -> Result<Actor, AuthError> {
        let token = bearer_token(header.ok_or(AuthError::Missing)?)?;
        let claims = self.verify(token)?;
        Ok(Actor {
            claims,
            token: token.to_owned(),
        })
    }
}

impl JwtKeys {
    /// Verifies an `Authorization` header value, then (when a session check is configured) that
    /// the token's session is still active. Tokens services mint for each other carry no session
    /// and live five minutes. Every request of a user passes here.
    ///
    /// An API token (`tad_...`) is no JWT: its owner answers what it grants, through the session
    /// check ([`Sessions::resolve_api_token`], cached a few seconds and dropped on every process
    /// when it is revoked). It never enters the verified-token memory above, which only spares
    /// JWT signature checks; without a session check it is refused.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Actor, AuthError> {
        let token = bearer_token(header.ok_or(AuthError::Missing)?)?;
        if crate::identity::is_api_token(token) {
            let sessions = self.sessions.as_ref().ok_or(AuthError::Invalid)?;
            let claims = sessions.resolve_api_token(token).await?;
            return Ok(Actor {
                claims,
                token: token.to_owned(),
            });
        }
        let actor = self.verify_actor(header)?;
        if is_internal(&actor.claims) {
            return Ok(actor);
        }
        if let Some(sessions) = &self.sessions {
            sessions.check(&actor).await?;
        }
        Ok(actor)
    }
}

/// A token a service minted for another ([`JwtKeys::issue_internal`], or the jobs engine's own
/// token, which also carries `operator`): users can never hold the internal role.
fn is_internal(claims: &Claims) -> bool {
    claims.sub.starts_with("service:") && claims.roles.iter().any(|role| role == INTERNAL_ROLE)
}

/// The token of a `Bearer <token>` header value.
pub fn bearer_token(header: &str) -> Result<&str, AuthError> {
    let header = header.trim();
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn issued_tokens_verify_with_their_claims() {
        let issued = keys()
            .issue("alice", &["operator".to_owned()], Duration::from_secs(60))
            .expect("issue");
        let claims = keys().verify(&issued.token).expect("verify");
        assert_eq!(claims.username(), "alice");
        assert!(claims.has_role(Role::Operator));
        assert!(!claims.has_role(Role::Admin));
        assert!(claims.may(&[Role::Operator]));
        assert!(!claims.may(&[Role::Reviewer]));
        assert_eq!(issued.expires_at_ms, claims.exp * 1000);
    }

    #[test]
    fn another_key_or_a_tampered_token_is_refused() {
        let issued = keys()
            .issue("alice", &[], Duration::from_secs(60))
            .expect("issue");
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&issued.token), Err(AuthError::Invalid));
        let mut tampered = issued.token.clone();
        tampered.push('x');
        assert_eq!(keys().verify(&tampered), Err(AuthError::Invalid));
    }

    #[test]
    fn expired_tokens_are_refused() {
        let claims = Claims {
            sub: "bob".into(),
            roles: vec![],
            iat: 0,
            exp: 1000,
            sid: None,
            api_token: None,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("encode");
        assert_eq!(keys().verify(&token), Err(AuthError::Expired));
    }

    #[test]
    fn a_verified_actor_keeps_its_token_and_never_shows_it() {
        let issued = keys()
            .issue("alice", &["viewer".to_owned()], Duration::from_secs(60))
            .expect("issue");
        let actor = keys()
            .verify_actor(Some(&format!("Bearer {}", issued.token)))
            .expect("verify");
        assert_eq!(
            (actor.username(), actor.token.as_str()),
            ("alice", issued.token.as_str())
        );
        assert!(!format!("{actor:?}").contains(&issued.token));
        assert_eq!(
            keys().verify_actor(None).map(|_| ()),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn a_token_is_verified_once_and_its_expiry_on_every_use() {
        let keys = keys();
        let issued = keys
            .issue("alice", &[], Duration::from_secs(60))
            .expect("issue");
        let first = keys.verify(&issued.token).expect("verified");
        assert!(
            keys.recently_verified(&issued.token).is_some(),
            "remembered"
        );
        let clone = keys.clone();
        assert_eq!(
            clone.verify(&issued.token),
            Ok(first.clone()),
            "clones share it"
        );
        // Other keys share nothing: the same token is refused there.
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert_eq!(other.verify(&issued.token), Err(AuthError::Invalid));
        // A remembered token past its expiry (and the leeway) is refused all the same.
        let expired = Claims {
            exp: chrono::Utc::now().timestamp() - 10,
            ..first
        };
        keys.remember_verified(&issued.token, &expired);
        assert_eq!(keys.verify(&issued.token), Err(AuthError::Expired));
        // Nothing but a verified token is remembered.
        let mut tampered = issued.token.clone();
        tampered.push('x');
        assert_eq!(keys.verify(&tampered), Err(AuthError::Invalid));
        assert!(keys.recently_verified(&tampered).is_none());
    }

    #[test]
    fn admins_may_everything() {
        let claims = Claims {
            sub: "root".into(),
            roles: vec!["admin".into()],
            iat: 0,
            exp: 0,
            sid: None,
            api_token: None,
        };
        assert!(claims.may(&[Role::Reviewer]));
    }

    #[test]
    fn csrf_tokens_belong_to_one_session_and_one_key() {
        let csrf = keys().csrf_token("session-a");
        assert_eq!(csrf.len(), 64);
        assert!(keys().csrf_matches("session-a", &csrf));
        assert!(!keys().csrf_matches("session-b", &csrf));
        let other = JwtKeys::new(b"another-secret-another-secret-xx");
        assert!(!other.csrf_matches("session-a", &csrf));
        assert!(!keys().csrf_matches("session-a", ""));
        assert!(!keys().csrf_matches("session-a", "not hex"));
    }

    #[test]
    fn api_tokens_are_43_base62_digits_of_32_random_bytes() {
        let token = new_api_token();
        assert!(is_api_token(&token));
        let digits = token.strip_prefix(API_TOKEN_PREFIX).expect("prefix");
        assert_eq!(digits.len(), 43);
        assert!(digits.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_ne!(new_api_token(), token);
        assert_eq!(base62([0; 32]), "0".repeat(43));
        let mut one = [0u8; 32];
        one[31] = 63;
        assert_eq!(base62(one), format!("{}11", "0".repeat(41)));
        // 2^256 - 1 fits in 43 digits.
        assert!(base62([255; 32]).starts_with(|first: char| first != '0'));
        assert_eq!(api_token_hash("tad_x").len(), 64);
    }

    #[tokio::test]
    async fn api_tokens_need_a_session_check() {
        let header = format!("Bearer {}", new_api_token());
        assert_eq!(
            keys().authenticate(Some(&header)).await.map(|_| ()),
            Err(AuthError::Invalid)
        );
    }

    #[test]
    fn bearer_headers_are_parsed() {
        assert_eq!(bearer_token("Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token("bearer  abc "), Ok("abc"));
        assert_eq!(bearer_token("Basic abc"), Err(AuthError::Malformed));
        assert_eq!(bearer_token("Bearer"), Err(AuthError::Malformed));
        assert_eq!(keys().verify_header(None), Err(AuthError::Missing));
    }
}
