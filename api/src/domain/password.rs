//! The password policy (NIST SP 800-63B: length, not composition rules).

use std::fmt;

/// A password that meets the policy. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct Password(String);

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 10;
/// Most characters a password may have (argon2 is fine with more; this
/// bounds the work one request can ask for).
pub const MAX_CHARS: usize = 256;

impl Password {
    /// Checks a candidate password against the policy.
    pub fn parse(raw: String) -> Result<Self, &'static str> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err("must be at least 10 characters");
        }
        if chars > MAX_CHARS {
            return Err("must be at most 256 characters");
        }
        if raw.trim().is_empty() {
            return Err("must not be only spaces");
        }
        Ok(Self(raw))
    }

    /// The secret itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::Password;

    #[test]
    fn length_decides() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse(" ".repeat(12)).is_err());
        assert!(Password::parse("x".repeat(257)).is_err());
        assert!(Password::parse("correct horse battery".into()).is_ok());
        assert!(Password::parse("ünïcødé-pässwörd".into()).is_ok());
    }

    #[test]
    fn debug_hides_the_secret() {
        let password = Password::parse("correct horse battery".into());
        assert!(password.is_ok_and(|p| !format!("{p:?}").contains("horse")));
    }
}
