//! The optional `Idempotency-Key` header of the routes that start work (6.1, 6.2, 2.1, retry,
//! rollback): up to [`MAX_KEY_CHARS`] visible ASCII characters, forwarded to svc-jobs as gRPC
//! metadata so a repeated request answers the first one's run instead of starting another.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use futures::future::{Ready, ready};
use proto::ErrorReason;
use tonic::metadata::{Ascii, MetadataValue};

use crate::error::{ApiError, excerpt};

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 128;

/// A client's idempotency key, checked.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub(crate) MetadataValue<Ascii>);

impl IdempotencyKey {
    /// Checks a header value: 1 to [`MAX_KEY_CHARS`] visible ASCII characters (no spaces).
    pub fn parse(value: &[u8]) -> Result<IdempotencyKey, ApiError> {
        let invalid = |why: &str| {
            ApiError::new(
                ErrorReason::InvalidField,
                format!(
                    "header {HEADER} {:?} {why}",
                    excerpt(&String::from_utf8_lossy(value))
                ),
            )
        };
        if value.is_empty() {
            return Err(invalid("is empty"));
        }
        if value.len() > MAX_KEY_CHARS {
            return Err(invalid(&format!(
                "is longer than {MAX_KEY_CHARS} characters"
            )));
        }
        if !value.iter().all(|byte| byte.is_ascii_graphic()) {
            return Err(invalid(
                "must be visible ASCII characters (letters, digits, punctuation; no spaces)",
            ));
        }
        let text = std::str::from_utf8(value).map_err(|_| invalid("is not text"))?;
        MetadataValue::try_from(text)
            .map(IdempotencyKey)
            .map_err(|_| invalid("is not a valid header value"))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// The optional header of a request; a bad one refuses the request naming the header.
#[derive(Debug, Clone)]
pub struct OptionalIdempotencyKey(pub Option<IdempotencyKey>);

impl FromRequest for OptionalIdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<OptionalIdempotencyKey, ApiError>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let mut values = request.headers().get_all(HEADER);
        let answer = match (values.next(), values.next()) {
            (None, _) => Ok(OptionalIdempotencyKey(None)),
            (Some(_), Some(_)) => Err(ApiError::new(
                ErrorReason::InvalidField,
                format!("header {HEADER} is given more than once"),
            )),
            (Some(value), None) => {
                IdempotencyKey::parse(value.as_bytes()).map(|key| OptionalIdempotencyKey(Some(key)))
            }
        };
        ready(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert_eq!(
            IdempotencyKey::parse(b"run-2026-12-05/#1")
                .expect("valid")
                .as_str(),
            "run-2026-12-05/#1"
        );
        assert!(IdempotencyKey::parse("k".repeat(MAX_KEY_CHARS).as_bytes()).is_ok());
        for bad in [
            Vec::new(),
            "k".repeat(MAX_KEY_CHARS + 1).into_bytes(),
            b"two words".to_vec(),
            "clé".as_bytes().to_vec(),
            b"tab\there".to_vec(),
        ] {
            let error = IdempotencyKey::parse(&bad).expect_err("refused");
            assert_eq!(error.reason, ErrorReason::InvalidField);
            assert!(
                error.info.starts_with("header Idempotency-Key "),
                "{}",
                error.info
            );
        }
    }
}
