//! Short human-facing names (people, workspaces, tokens).

/// A trimmed, non-empty single-line name of at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    /// Most characters a name may have.
    pub const MAX_CHARS: usize = 100;

    /// Parses user input.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 100 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters or line breaks");
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Name;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(
            Name::parse("  Acme  ").map(Name::into_string),
            Ok("Acme".into())
        );
        assert!(Name::parse("").is_err());
        assert!(Name::parse("\t").is_err());
        assert!(Name::parse("two\nlines").is_err());
        assert!(Name::parse(&"a".repeat(101)).is_err());
        assert!(Name::parse(&"é".repeat(100)).is_ok());
    }
}
