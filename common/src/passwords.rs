//! Password hashes (argon2id, salted): the users' login passwords and the page passwords of
//! protected appinhouse apps. Hashing is slow on purpose; services call it off the async threads.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

/// The PHC string of an argon2id hash of `password`; the error says why hashing failed.
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| error.to_string())
}

/// Whether `password` matches `stored_hash` (false for a stored value that is not a hash).
pub fn matches(password: &str, stored_hash: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() {
        let stored = hash("correct horse").expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(matches("correct horse", &stored));
        assert!(!matches("wrong horse", &stored));
        assert!(!matches("correct horse", "not a hash"));
        assert_ne!(stored, hash("correct horse").expect("hash"), "salted");
    }
}
