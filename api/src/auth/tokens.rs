//! Opaque bearer secrets (refresh tokens, API tokens, invitations): random,
//! shown once, stored only as a SHA-256 digest.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "plzr";
/// Prefix of workspace API tokens.
pub const API_TOKEN_PREFIX: &str = "plzt";
/// Prefix of invitation tokens.
pub const INVITATION_PREFIX: &str = "plzi";

/// A new secret: `<prefix>_` and 256 random bits in URL-safe base64.
/// The prefix tells a reader (and a secret scanner) what leaked.
pub fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The digest stored in place of a secret. Secrets carry 256 bits of
/// entropy, so a fast hash is enough: there is nothing to brute-force.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_digest_stably() {
        let a = random_token(REFRESH_PREFIX);
        let b = random_token(REFRESH_PREFIX);
        assert!(a.starts_with("plzr_") && a.len() == 5 + 43);
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_ne!(digest(&a), digest(&b));
        assert_eq!(digest(&a).len(), 64);
    }
}
