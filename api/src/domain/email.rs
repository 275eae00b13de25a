//! Email addresses as accounts and invitations know them.

use std::fmt;

/// A syntactically plausible email address, trimmed and lower-cased so that
/// one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses user input; the error says what is wrong in words a person reads.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("must not be empty");
        }
        if email.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must contain an @");
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err("must look like name@example.com");
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") {
            return Err("has an invalid domain");
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn normalises_case_and_space() {
        let email = Email::parse("  Ada@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("ada@example.com".to_owned()));
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for bad in [
            "",
            "   ",
            "ada",
            "@example.com",
            "ada@",
            "a@b@c",
            "ad a@example.com",
            "ada@.example.com",
            "ada@example..com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
