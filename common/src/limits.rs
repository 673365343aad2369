//! Input limits shared by every service (SPEC §8 "Every input has a limit"): the caps of each
//! kind of free-text field as named constants, and checks answering a [`LimitError`] that names
//! the field. Each service maps that error to its own invalid-field failure.

use std::fmt::Display;

/// Which characters below U+0020 (and DEL, C1 controls) a field may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allow {
    /// One line: no control character at all (names, ids, paths, IPs, usernames, URLs).
    Line,
    /// Free text: tab, line feed and carriage return; no other control character, never NUL.
    Multiline,
}

/// How a cap is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values (names: what a person counts).
    Chars,
    /// UTF-8 bytes (texts and secrets: what the server stores).
    Bytes,
}

/// The cap of one kind of field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: usize,
    pub unit: Unit,
    pub allow: Allow,
}

impl Limit {
    const fn line_chars(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::Chars,
            allow: Allow::Line,
        }
    }

    const fn line_bytes(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::Bytes,
            allow: Allow::Line,
        }
    }

    const fn text_bytes(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::Bytes,
            allow: Allow::Multiline,
        }
    }
}

/// Names of records (users, product lines, clusters, hosts, templates, instances, apps, ...),
/// usernames, roles, versions, keys: 128 characters, one line.
pub const NAME: Limit = Limit::line_chars(128);
/// Ids chosen by callers or imported from a CMDB: 64 characters, one line.
pub const ID: Limit = Limit::line_chars(crate::ids::MAX_ID_LEN);
/// Short tokens (IPs, md5 sums, platforms, enum-like values): 64 characters, one line.
pub const TOKEN: Limit = Limit::line_chars(64);
/// Passwords of TAD users: 1 KiB, one line (argon2 hashes whatever it is given).
pub const PASSWORD: Limit = Limit::line_bytes(1024);
/// Remarks and descriptions: 4 KiB, several lines.
pub const REMARK: Limit = Limit::text_bytes(4096);
/// Paths on a target or file names: 1 KiB, one line.
pub const PATH: Limit = Limit::line_bytes(1024);
/// One file name (a single path component, as file systems allow): 255 bytes, one line.
pub const FILE_NAME: Limit = Limit::line_bytes(255);
/// Longest run time a method may declare (`timeout_s`): one day.
pub const MAX_TIMEOUT_SECS: u32 = 86_400;
/// Script parameters: 4 KiB, one line (a parameter is split into argv words).
pub const PARAMETER: Limit = Limit::line_bytes(4096);
/// SSH secrets (password, private key): 16 KiB; a private key spans lines.
pub const SECRET: Limit = Limit::text_bytes(16 * 1024);
/// A value of a work-order form, of a step parameter or an app-config field: 4 KiB, may hold
/// tabs and newlines.
pub const VALUE: Limit = Limit::text_bytes(4096);
/// Stored URLs (appinhouse links, webhooks): 2 KiB, one line.
pub const URL: Limit = Limit::line_bytes(2048);
/// A whole JSON document of values sent in one field (step parameters, config groups, a
/// work-order form): 256 KiB. Each value inside it is checked against [`VALUE`].
pub const DOCUMENT: Limit = Limit::text_bytes(256 * 1024);

/// A refused input: the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {message}")]
pub struct LimitError {
    pub field: &'static str,
    pub message: String,
}

impl LimitError {
    pub fn new(field: &'static str, message: impl Into<String>) -> LimitError {
        LimitError {
            field,
            message: message.into(),
        }
    }
}

fn control_name(character: char) -> String {
    match character {
        '\0' => "a NUL byte".to_owned(),
        '\n' => "a line break".to_owned(),
        '\r' => "a carriage return".to_owned(),
        '\t' => "a tab".to_owned(),
        other => format!("control character U+{:04X}", u32::from(other)),
    }
}

/// Checks `value` of `field` against `limit`: its length, and no control character the field
/// may not hold (NUL never).
pub fn check(field: &'static str, value: &str, limit: Limit) -> Result<(), LimitError> {
    let (length, unit) = match limit.unit {
        Unit::Chars => (value.chars().count(), "characters"),
        Unit::Bytes => (value.len(), "bytes"),
    };
    if length > limit.max {
        return Err(LimitError::new(
            field,
            format!("must be at most {} {unit} (got {length})", limit.max),
        ));
    }
    let refused = value.chars().find(|character| {
        character.is_control()
            && !(limit.allow == Allow::Multiline && matches!(character, '\t' | '\n' | '\r'))
    });
    if let Some(character) = refused {
        return Err(LimitError::new(
            field,
            format!("must not contain {}", control_name(character)),
        ));
    }
    Ok(())
}

/// [`check`] on an optional value (absent passes).
pub fn check_opt(field: &'static str, value: Option<&str>, limit: Limit) -> Result<(), LimitError> {
    match value {
        Some(value) => check(field, value, limit),
        None => Ok(()),
    }
}

/// [`check`] on every value of a list (the field named once).
pub fn check_all<'a>(
    field: &'static str,
    values: impl IntoIterator<Item = &'a str>,
    limit: Limit,
) -> Result<(), LimitError> {
    values
        .into_iter()
        .try_for_each(|value| check(field, value, limit))
}

/// Most items a list field of one request may hold (hosts of a step, nodes of a joint line,
/// roles, ...).
pub const MAX_ITEMS: usize = 1000;

/// Most roles one user may be given (there are four; repeats are folded).
pub const MAX_ROLES: usize = 16;

/// A list of at most `max` items.
pub fn items(field: &'static str, count: usize, max: usize) -> Result<(), LimitError> {
    if count > max {
        return Err(LimitError::new(
            field,
            format!("must hold at most {max} items (got {count})"),
        ));
    }
    Ok(())
}

/// Highest step or joint-line sequence number (sequences start at 0 or 1).
pub const MAX_SEQUENCE: i64 = 10_000;
/// Largest canvas coordinate (joint-line `top`/`left`), either sign.
pub const MAX_CANVAS: f64 = 1_000_000.0;

/// A number within `min..=max`.
pub fn range<T: PartialOrd + Display + Copy>(
    field: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<T, LimitError> {
    if value < min || value > max {
        return Err(LimitError::new(
            field,
            format!("must be between {min} and {max} (got {value})"),
        ));
    }
    Ok(value)
}

/// A finite float within `-max..=max` (canvas coordinates).
pub fn finite(field: &'static str, value: f64, max: f64) -> Result<f64, LimitError> {
    if !value.is_finite() {
        return Err(LimitError::new(field, "must be a finite number"));
    }
    if value.abs() > max {
        return Err(LimitError::new(
            field,
            format!("must be between -{max} and {max} (got {value})"),
        ));
    }
    Ok(value)
}

/// Every string inside a JSON document (object keys and values, at any depth) within `limit`,
/// keys within [`NAME`].
pub fn json_values(
    field: &'static str,
    value: &serde_json::Value,
    limit: Limit,
) -> Result<(), LimitError> {
    match value {
        serde_json::Value::String(text) => check(field, text, limit),
        serde_json::Value::Array(items) => items
            .iter()
            .try_for_each(|item| json_values(field, item, limit)),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            check(field, key, NAME)
                .map_err(|error| LimitError::new(field, format!("key {}", error.message)))?;
            json_values(field, item, limit).map_err(|error| {
                LimitError::new(
                    field,
                    format!("value of {:?}: {}", excerpt(key), error.message),
                )
            })
        }),
        serde_json::Value::Number(number) => match number.as_f64() {
            Some(float) if float.is_finite() => Ok(()),
            _ => Err(LimitError::new(field, "holds a number out of range")),
        },
        serde_json::Value::Null | serde_json::Value::Bool(_) => Ok(()),
    }
}

/// The first 32 characters of a caller's text, for messages.
pub fn excerpt(text: &str) -> String {
    let mut short: String = text.chars().take(32).filter(|c| !c.is_control()).collect();
    if text.chars().count() > 32 {
        short.push('…');
    }
    short
}

/// An absolute `http` or `https` URL with a host, within [`URL`]. Anything else (`javascript:`,
/// `data:`, relative links) is refused: stored URLs are rendered as links.
pub fn http_url(field: &'static str, value: &str) -> Result<(), LimitError> {
    check(field, value, URL)?;
    let parsed = url::Url::parse(value.trim())
        .map_err(|error| LimitError::new(field, format!("is not an absolute URL: {error}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(LimitError::new(
            field,
            format!("must be an http or https URL, not {}:", parsed.scheme()),
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(LimitError::new(field, "must name a host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_characters_and_refuse_controls() {
        assert!(check("name", &"é".repeat(128), NAME).is_ok());
        let over = check("name", &"é".repeat(129), NAME).expect_err("over");
        assert_eq!(over.field, "name");
        assert!(over.message.contains("128 characters"), "{over}");
        for bad in ["a\0b", "a\nb", "a\tb", "a\u{7f}", "a\u{1b}[31m"] {
            let error = check("name", bad, NAME).expect_err(bad);
            assert!(
                error.to_string().starts_with("name must not contain"),
                "{error}"
            );
        }
    }

    #[test]
    fn texts_count_bytes_and_keep_newlines() {
        assert!(check("remark", &"x".repeat(4096), REMARK).is_ok());
        assert!(check("remark", &"x".repeat(4097), REMARK).is_err());
        assert!(check("remark", "line one\r\nline two\tend", REMARK).is_ok());
        let nul = check("remark", "a\0", REMARK).expect_err("nul");
        assert!(nul.message.contains("NUL"), "{nul}");
        assert!(check("remark", "bell\u{7}", REMARK).is_err());
    }

    #[test]
    fn numbers_have_ranges() {
        assert_eq!(range("sequence", 5, 0, 10_000), Ok(5));
        assert!(range("sequence", -5, 0, 10_000).is_err());
        assert!(range("sequence", 1_i64 << 40, 0, 10_000).is_err());
        assert!(finite("top", f64::NAN, 1e6).is_err());
        assert!(finite("top", 2e6, 1e6).is_err());
        assert_eq!(finite("top", -12.5, 1e6), Ok(-12.5));
    }

    #[test]
    fn json_documents_are_checked_throughout() {
        let good = serde_json::json!({"a": ["x", {"b": "line\nline"}], "n": 3});
        assert!(json_values("values", &good, VALUE).is_ok());
        let nul = serde_json::json!({"a": {"b": "x\u{0}"}});
        let error = json_values("values", &nul, VALUE).expect_err("nul");
        assert_eq!(error.field, "values");
        let long = serde_json::json!({"a": "x".repeat(4097)});
        assert!(json_values("values", &long, VALUE).is_err());
    }

    #[test]
    fn urls_are_http_only() {
        assert!(http_url("url", "https://example.com/a?b=c").is_ok());
        assert!(http_url("url", "http://10.0.0.1:8080/").is_ok());
        for bad in [
            "javascript:alert(document.cookie)",
            "JAVASCRIPT:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "/relative/path",
            "ftp://example.com/x",
            "https://",
            "http://exa\0mple.com",
        ] {
            let error = http_url("software_url", bad).expect_err(bad);
            assert_eq!(error.field, "software_url");
        }
    }
}
