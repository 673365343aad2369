//! Record ids: 32 lowercase hex characters of a uuid v7 (time-ordered), and the rule for ids
//! imported from a CMDB (any non-empty string up to 64 characters, kept verbatim).

/// Longest id accepted from an import or an admin route.
pub const MAX_ID_LEN: usize = 64;

/// A new time-ordered id: uuid v7 in 32-hex form, no hyphens.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Checks an id given by a caller; answers why it is refused.
pub fn validate_external_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    if id.chars().count() > MAX_ID_LEN {
        return Err(format!("must be at most {MAX_ID_LEN} characters"));
    }
    if id.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_32_lowercase_hex_and_ordered() {
        let first = new_id();
        let second = new_id();
        assert_eq!(first.len(), 32);
        assert!(
            first
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(first, second);
        assert!(first < second, "uuid v7 ids sort by creation time");
    }

    #[test]
    fn external_ids_are_checked() {
        assert!(validate_external_id("5000").is_ok());
        assert!(validate_external_id("d781053b-8a2e-4cc5-be49-40b826f5d361").is_ok());
        assert!(validate_external_id("").is_err());
        assert!(validate_external_id("   ").is_err());
        assert!(validate_external_id(&"x".repeat(65)).is_err());
    }
}
