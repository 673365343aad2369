//! Secrets at rest: SSH passwords and private keys are sealed with ChaCha20-Poly1305 under the
//! credential key, bound to the record they belong to (associated data), so a sealed value copied
//! to another row does not open.

use chacha20poly1305::{
    ChaCha20Poly1305, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::RngCore;

/// Prefix of sealed values, so the format can change later.
const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// Why a secret cannot be sealed or opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("credential key must be 64 hex characters (32 bytes)")]
    BadKey,
    #[error("sealed credential is malformed")]
    Malformed,
    #[error("sealed credential does not open with this key (wrong key or record)")]
    Open,
    #[error("credential cannot be sealed")]
    Seal,
}

/// Seals and opens credentials with one key.
#[derive(Clone)]
pub struct CredentialCipher {
    cipher: ChaCha20Poly1305,
    /// HMAC key of [`CredentialCipher::fingerprint`], derived from the credential key.
    fingerprint_key: [u8; 32],
}

impl std::fmt::Debug for CredentialCipher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("CredentialCipher(***)")
    }
}

impl CredentialCipher {
    /// A cipher from the key as 64 hex characters (the key file's content).
    pub fn from_hex_key(hex_key: &[u8]) -> Result<CredentialCipher, CryptoError> {
        let text = std::str::from_utf8(hex_key)
            .map_err(|_| CryptoError::BadKey)?
            .trim();
        let bytes: [u8; 32] = hex::decode(text)
            .map_err(|_| CryptoError::BadKey)?
            .try_into()
            .map_err(|_| CryptoError::BadKey)?;
        let fingerprint_key = {
            use hmac::{Hmac, Mac};
            let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&bytes)
                .map_err(|_| CryptoError::BadKey)?;
            mac.update(b"tad fingerprint key v1");
            mac.finalize().into_bytes().into()
        };
        Ok(CredentialCipher {
            cipher: ChaCha20Poly1305::new(&Key::from(bytes)),
            fingerprint_key,
        })
    }

    /// A keyed fingerprint of `data` (HMAC-SHA-256 under a key derived from the credential key,
    /// 64 hex characters): equal data gives equal fingerprints on every replica, and a
    /// fingerprint says nothing about secrets in the data to someone without the key.
    pub fn fingerprint(&self, data: &[u8]) -> String {
        use hmac::{Hmac, Mac};
        match <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.fingerprint_key) {
            Ok(mut mac) => {
                mac.update(data);
                hex::encode(mac.finalize().into_bytes())
            }
            // HMAC takes keys of any length: not reached.
            Err(_) => String::new(),
        }
    }

    /// Seals `secret` for the record `context` (e.g. the host id).
    pub fn seal(&self, secret: &str, context: &str) -> Result<String, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Seal)?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(sealed)))
    }

    /// Opens a value sealed for the record `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(CryptoError::Malformed)?;
        let bytes = hex::decode(body).map_err(|_| CryptoError::Malformed)?;
        if bytes.len() <= NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| CryptoError::Malformed)?;
        let plaintext = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn fingerprints_are_stable_keyed_and_differ_by_data() {
        let cipher = CredentialCipher::from_hex_key(KEY).expect("key");
        let again = CredentialCipher::from_hex_key(KEY).expect("key");
        let other = CredentialCipher::from_hex_key(
            b"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        )
        .expect("key");
        let print = cipher.fingerprint(b"plan");
        assert_eq!(print.len(), 64);
        assert_eq!(print, again.fingerprint(b"plan"));
        assert_ne!(print, cipher.fingerprint(b"plan!"));
        assert_ne!(print, other.fingerprint(b"plan"));
    }

    #[test]
    fn sealed_values_open_only_for_their_record_and_key() {
        let cipher = CredentialCipher::from_hex_key(KEY).expect("key");
        let sealed = cipher.seal("s3cret-password", "host-1").expect("seal");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cret"));
        assert_ne!(
            sealed,
            cipher.seal("s3cret-password", "host-1").expect("seal"),
            "fresh nonce each time"
        );
        assert_eq!(
            cipher.open(&sealed, "host-1").expect("open"),
            "s3cret-password"
        );
        assert_eq!(cipher.open(&sealed, "host-2"), Err(CryptoError::Open));
        let other = CredentialCipher::from_hex_key(
            b"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        )
        .expect("key");
        assert_eq!(other.open(&sealed, "host-1"), Err(CryptoError::Open));
        assert_eq!(
            cipher.open("garbage", "host-1"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn keys_must_be_32_bytes_of_hex() {
        assert!(CredentialCipher::from_hex_key(b"abcd").is_err());
        assert!(
            CredentialCipher::from_hex_key(
                b"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
            )
            .is_err()
        );
    }
}
