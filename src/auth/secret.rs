//! Key strings: `tk_<id>_<secret>`, where the id (12 hex digits) finds the key's record
//! without a scan and the secret is 256 random bits from the operating system, in 64 hex
//! digits.
//!
//! The server keeps only the SHA-256 of the whole string. A slow password hash (Argon2,
//! bcrypt) protects guessable human passwords; a 256-bit random secret cannot be guessed
//! however fast the hash, so one SHA-256 is enough and keeps every call's check cheap.
//! Hashes are compared in constant time, so that timing does not leak how much of a guess
//! matched.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::app::AppError;

const PREFIX: &str = "tk_";
/// Random bytes of the public id.
const ID_BYTES: usize = 6;
/// Random bytes of the secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// A new key string and its public id.
pub(super) fn generate() -> Result<(String, String), AppError> {
    let mut id = [0u8; ID_BYTES];
    let mut secret = [0u8; SECRET_BYTES];
    getrandom::fill(&mut id)
        .and_then(|()| getrandom::fill(&mut secret))
        .map_err(|e| AppError::Internal {
            what: "reading the operating system's random source",
            detail: e.to_string(),
        })?;
    let id = hex(&id);
    Ok((format!("{PREFIX}{id}_{}", hex(&secret)), id))
}

/// The public id of a key string; `None` when it is not shaped like one.
pub fn public_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let lower_hex = |s: &str, bytes: usize| {
        s.len() == 2 * bytes && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (lower_hex(id, ID_BYTES) && lower_hex(secret, SECRET_BYTES)).then_some(id)
}

/// The hash stored for a key string.
pub(super) fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `key` hashes to `stored`, compared in constant time.
pub(super) fn matches(key: &str, stored: &[u8; 32]) -> bool {
    hash(key).ct_eq(stored).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_parses_to_its_id_and_matches_only_its_hash() {
        let (key, id) = generate().unwrap();
        assert_eq!(key.len(), PREFIX.len() + 12 + 1 + 64, "{key}");
        assert_eq!(public_id(&key), Some(id.as_str()));
        let stored = hash(&key);
        assert!(matches(&key, &stored));
        let (other, _) = generate().unwrap();
        assert_ne!(key, other);
        assert!(!matches(&other, &stored));
    }

    #[test]
    fn strings_not_shaped_like_a_key_have_no_id() {
        let secret = "0".repeat(64);
        for bad in [
            String::new(),
            "tk_".into(),
            format!("tk_0123456789ab{secret}"),
            format!("tk_0123456789AB_{secret}"),
            format!("tk_0123456789a_{secret}"),
            format!("xx_0123456789ab_{secret}"),
            format!("tk_0123456789ab_{secret}0"),
            "Bearer tk_0123456789ab".into(),
        ] {
            assert_eq!(public_id(&bad), None, "{bad}");
        }
        assert_eq!(
            public_id(&format!("tk_0123456789ab_{secret}")),
            Some("0123456789ab")
        );
    }
}
