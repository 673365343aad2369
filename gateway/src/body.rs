//! Request bodies and queries: JSON bodies (or urlencoded forms, as the legacy server also took)
//! read up to the configured limit (413 beyond it) and decoded so that every error names the
//! field at fault; query and path errors as envelopes. Request values they quote are cut to an
//! excerpt (`ApiError::new` bounds every message).

use actix_web::{
    FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header::CONTENT_LENGTH, web,
};
use futures::{StreamExt, future::LocalBoxFuture};
use proto::ErrorReason;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, excerpt};

/// Largest body when no limit is configured.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// The configured body limit, shared with every worker.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorReason::PayloadTooLarge,
        format!("request body is larger than the limit of {limit} bytes"),
    )
}

/// Gathers a stream of body chunks (a request body, a multipart part) of at most `limit` bytes:
/// a chunk that cannot be read fails with `unreadable(error)`, one past the limit with
/// `too_large()`, each caller saying it in its own answer shape.
pub async fn gather<E, F>(
    mut chunks: impl futures::Stream<Item = Result<web::Bytes, E>> + Unpin,
    limit: usize,
    unreadable: impl Fn(E) -> F,
    too_large: impl Fn() -> F,
) -> Result<web::BytesMut, F> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(&unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes a JSON body; errors name the field (`field name: invalid type ...`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorReason::InvalidJson,
            "request body is empty; a JSON object is expected",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => ApiError::new(
                ErrorReason::InvalidJson,
                format!("request body is not valid JSON: {inner}"),
            ),
            serde_json::error::Category::Data => {
                if let Some(field) = message.strip_prefix("missing field ") {
                    let field = field.trim_matches('`');
                    let full = if path == "." {
                        field.to_owned()
                    } else {
                        format!("{path}.{field}")
                    };
                    ApiError::new(
                        ErrorReason::MissingField,
                        format!("field {full} is required"),
                    )
                } else if path == "." {
                    ApiError::new(
                        ErrorReason::InvalidField,
                        format!("request body: {message}"),
                    )
                } else {
                    ApiError::new(
                        ErrorReason::InvalidField,
                        format!("field {path}: {message}"),
                    )
                }
            }
        }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::new(
            ErrorReason::InvalidJson,
            format!("request body is not valid JSON: {error}"),
        )
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C" to data errors; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

/// A JSON body decoded with [`parse_json`], read up to the configured [`BodyLimit`].
#[derive(Debug)]
pub struct LegacyJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for LegacyJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = request
            .app_data::<web::Data<BodyLimit>>()
            .map(|limit| limit.0)
            .unwrap_or(DEFAULT_MAX_BODY_BYTES);
        let declared = request
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<usize>().ok());
        let is_form = request
            .content_type()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded");
        let mut payload = payload.take();
        Box::pin(async move {
            if declared.is_some_and(|length| length > limit) {
                return Err(too_large(limit));
            }
            let unreadable = |error: actix_web::error::PayloadError| {
                ApiError::new(
                    ErrorReason::InvalidJson,
                    format!("request body could not be read: {error}"),
                )
            };
            let body = gather(&mut payload, limit, unreadable, || too_large(limit)).await?;
            // `curl -d '{...}'` labels JSON as a form: a body that opens like JSON is JSON.
            let opens_like_json = body
                .iter()
                .find(|byte| !byte.is_ascii_whitespace())
                .is_some_and(|byte| matches!(byte, b'{' | b'['));
            if is_form && !opens_like_json {
                return parse_form(&body).map(LegacyJson);
            }
            parse_json(&body).map(LegacyJson)
        })
    }
}

/// A urlencoded body as the JSON object it stands for: one key per field, a repeated key an
/// array. With `typed`, `true`/`false` become booleans and numbers numbers (the coercion the
/// legacy server's form parsing did); otherwise every value stays a string.
fn form_as_json(bytes: &[u8], typed: bool) -> serde_json::Value {
    let mut object = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        let value = match value.as_ref() {
            "true" if typed => serde_json::Value::Bool(true),
            "false" if typed => serde_json::Value::Bool(false),
            text if typed => serde_json::from_str::<serde_json::Number>(text)
                .map_or_else(|_| text.into(), serde_json::Value::Number),
            text => text.into(),
        };
        match object.get_mut(key.as_ref()) {
            Some(serde_json::Value::Array(values)) => values.push(value),
            Some(first) => *first = serde_json::Value::Array(vec![first.take(), value]),
            None => {
                object.insert(key.into_owned(), value);
            }
        }
    }
    serde_json::Value::Object(object)
}

/// Decodes an `application/x-www-form-urlencoded` body into `T`: fields as strings first, then,
/// when a field wants a number or a boolean, with those coerced. Errors name the field as
/// [`parse_json`]'s do.
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let as_strings = form_as_json(bytes, false).to_string();
    parse_json(as_strings.as_bytes()).or_else(|_| {
        let typed = form_as_json(bytes, true).to_string();
        parse_json(typed.as_bytes())
    })
}

/// Query strings that do not decode answer the failure envelope naming the parameter.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _request| {
        ApiError::new(
            ErrorReason::InvalidField,
            format!("query parameter: {error}"),
        )
        .into()
    })
}

/// Path segments that do not decode answer the failure envelope.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, _request| {
        ApiError::new(ErrorReason::InvalidField, format!("path: {error}")).into()
    })
}

/// `page` and `page_size` of a paginated query, as text from the query string; absent → 0
/// (the service's default). Anything but a non-negative integer fails naming the parameter.
pub fn page_params(page: Option<&str>, page_size: Option<&str>) -> Result<(u32, u32), ApiError> {
    let parse = |name: &str, value: Option<&str>| -> Result<u32, ApiError> {
        match value.map(str::trim).filter(|value| !value.is_empty()) {
            None => Ok(0),
            Some(text) => text.parse::<u32>().map_err(|_| {
                ApiError::new(
                    ErrorReason::InvalidField,
                    format!(
                        "query parameter {name}: {:?} is not a positive integer",
                        excerpt(text)
                    ),
                )
            }),
        }
    };
    Ok((parse("page", page)?, parse("page_size", page_size)?))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        name: String,
        #[serde(default)]
        remark: String,
        #[serde(default)]
        roles: Vec<String>,
    }

    #[test]
    fn a_valid_body_decodes() {
        let body: Body =
            parse_json(br#"{"name":"OPENTKT","remark":"r","unknown":1,"roles":["a"]}"#)
                .expect("valid");
        assert_eq!(body.name, "OPENTKT");
        assert_eq!(body.remark, "r");
        assert_eq!(body.roles, vec!["a".to_owned()]);
    }

    #[derive(Debug, Deserialize)]
    struct Step {
        name: String,
        sequence: u32,
        #[serde(default)]
        enabled: bool,
    }

    #[test]
    fn a_urlencoded_form_decodes_as_strings_then_with_numbers_and_booleans() {
        let body: Body = parse_form(b"name=123&remark=a+b%26c&roles=x&roles=y").expect("form");
        assert_eq!(
            (body.name.as_str(), body.remark.as_str(), body.roles),
            ("123", "a b&c", vec!["x".to_owned(), "y".to_owned()]),
            "a number-looking name stays text; repeated keys make an array"
        );
        let step: Step = parse_form(b"name=s&sequence=2&enabled=true").expect("typed form");
        assert_eq!(
            (step.name.as_str(), step.sequence, step.enabled),
            ("s", 2, true)
        );
        let error = parse_form::<Step>(b"sequence=2").expect_err("missing name");
        assert_eq!(error.reason, ErrorReason::MissingField);
        assert!(error.to_string().contains("name"), "{error}");
        let error = parse_form::<Step>(b"name=s&sequence=two").expect_err("not a number");
        assert!(error.to_string().contains("sequence"), "{error}");
    }

    #[test]
    fn malformed_json_is_invalid_json() {
        let error = parse_json::<Body>(br#"{"name": "x",,}"#).expect_err("malformed");
        assert_eq!(error.reason, ErrorReason::InvalidJson);
        let empty = parse_json::<Body>(b"  ").expect_err("empty");
        assert_eq!(empty.reason, ErrorReason::InvalidJson);
        let trailing = parse_json::<Body>(br#"{"name":"x"} extra"#).expect_err("trailing data");
        assert_eq!(trailing.reason, ErrorReason::InvalidJson);
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let error = parse_json::<Body>(br#"{"name": 5}"#).expect_err("wrong type");
        assert_eq!(error.reason, ErrorReason::InvalidField);
        assert!(
            error
                .info
                .starts_with("field name: invalid type: integer `5`"),
            "{}",
            error.info
        );
        let nested =
            parse_json::<Body>(br#"{"name": "x", "roles": ["a", 7]}"#).expect_err("wrong item");
        assert!(
            nested.info.starts_with("field roles[1]:"),
            "{}",
            nested.info
        );
    }

    #[test]
    fn a_missing_field_is_named() {
        let error = parse_json::<Body>(br#"{"remark": "x"}"#).expect_err("missing");
        assert_eq!(error.reason, ErrorReason::MissingField);
        assert_eq!(error.info, "field name is required");
    }

    #[test]
    fn page_parameters_are_named_when_wrong() {
        assert_eq!(page_params(None, Some("")).expect("defaults"), (0, 0));
        assert_eq!(page_params(Some("2"), Some("50")).expect("parsed"), (2, 50));
        assert!(
            page_params(Some("x"), None)
                .expect_err("bad page")
                .info
                .contains("page")
        );
        assert!(
            page_params(None, Some("-1"))
                .expect_err("bad size")
                .info
                .contains("page_size")
        );
    }

    #[test]
    fn a_body_of_the_wrong_shape_says_so() {
        let error = parse_json::<Body>(br#""just text""#).expect_err("a string");
        assert_eq!(error.reason, ErrorReason::InvalidField);
        assert!(
            error.info.starts_with("request body: invalid type"),
            "{}",
            error.info
        );
    }
}
