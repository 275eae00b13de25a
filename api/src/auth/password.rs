//! Password hashing with argon2id at OWASP's minimum (m=19456 KiB, t=2, p=1).

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::password::Password;

fn hasher() -> Argon2<'static> {
    // These are argon2's defaults today; spelled out so an upgrade of the
    // crate cannot lower them silently.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
/// Slow on purpose (tens of milliseconds): call it off the async workers.
pub fn hash(password: &Password) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.expose().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| anyhow::anyhow!("hashing a password failed: {err}"))
}

/// Whether `candidate` matches a stored PHC hash. A malformed hash never matches.
pub fn verify(candidate: &str, stored: &str) -> bool {
    hasher()
        .verify_password(candidate.as_bytes(), stored)
        .is_ok()
}

/// A hash of a random password, checked when an account does not exist so
/// that "no such account" takes as long as "wrong password".
pub static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let decoy = Password::parse(crate::auth::tokens::random_token("decoy"))
        .ok()
        .and_then(|p| hash(&p).ok());
    decoy.unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_with_argon2id_at_the_owasp_minimum_and_verifies() {
        let password = Password::parse("correct horse battery".into()).unwrap();
        let stored = hash(&password).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse battery!", &stored));
        assert!(!verify("anything", "not a hash"));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        let password = Password::parse("correct horse battery".into()).unwrap();
        assert_ne!(hash(&password).unwrap(), hash(&password).unwrap());
    }
}
