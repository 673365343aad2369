//! Input checks shared by the resource rules.

use common::limits::{self, Limit};

use super::error::{ResourceError, ResourceResult};

/// Longest name of a catalog record.
pub const MAX_NAME_CHARS: usize = limits::NAME.max;

/// A trimmed, non-empty name of at most [`MAX_NAME_CHARS`] characters.
pub fn name(field: &'static str, value: &str) -> ResourceResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ResourceError::Missing { field });
    }
    limits::check(field, trimmed, limits::NAME)?;
    Ok(trimmed.to_owned())
}

/// A trimmed free text (remark) within `limit`; empty is fine.
pub fn text(field: &'static str, value: &str, limit: Limit) -> ResourceResult<String> {
    let trimmed = value.trim();
    limits::check(field, trimmed, limit)?;
    Ok(trimmed.to_owned())
}

/// An id chosen by the caller (kept verbatim), or a new one when absent.
pub fn id_or_new(field: &'static str, value: Option<&str>) -> ResourceResult<String> {
    match value {
        None => Ok(common::ids::new_id()),
        Some(id) => {
            common::ids::validate_external_id(id)
                .map_err(|message| ResourceError::Invalid { field, message })?;
            Ok(id.to_owned())
        }
    }
}

/// A reference to another record: required and non-empty.
pub fn reference(field: &'static str, value: &str) -> ResourceResult<String> {
    if value.trim().is_empty() {
        return Err(ResourceError::Missing { field });
    }
    limits::check(field, value, limits::ID)?;
    Ok(value.to_owned())
}

/// An optional filter id: None when absent or empty.
pub fn filter_id(value: Option<&str>) -> Option<String> {
    value.filter(|id| !id.is_empty()).map(str::to_owned)
}

/// An optional filter text, trimmed: None when absent or blank.
pub fn filter_text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  OPENTKT ").expect("valid"), "OPENTKT");
        assert!(matches!(
            name("name", "   "),
            Err(ResourceError::Missing { field: "name" })
        ));
        assert!(matches!(
            name("name", &"x".repeat(129)),
            Err(ResourceError::Invalid { field: "name", .. })
        ));
    }

    #[test]
    fn ids_are_kept_or_made() {
        assert_eq!(id_or_new("id", Some("5000")).expect("kept"), "5000");
        assert_eq!(id_or_new("id", None).expect("new").len(), 32);
        assert!(id_or_new("id", Some("")).is_err());
    }
}
