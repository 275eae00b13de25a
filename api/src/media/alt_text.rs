//! Alternative text: what an image or video shows, for people who cannot
//! see it. Platforms pass it on to screen readers.

/// A trimmed, non-empty description of at most [`AltText::MAX_CHARS`]
/// characters; line breaks are allowed, other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltText(String);

impl AltText {
    /// Most characters alt text may have (Mastodon's limit, the largest of
    /// the platforms'; the shorter ones are checked when publishing).
    pub const MAX_CHARS: usize = 1500;

    /// Parses user input; blank input means no alt text.
    pub fn parse(raw: &str) -> Result<Option<Self>, &'static str> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err("must be at most 1500 characters");
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
        {
            return Err("must not contain control characters other than line breaks");
        }
        Ok(Some(Self(text.to_owned())))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::AltText;

    #[test]
    fn trims_bounds_and_treats_blank_as_none() {
        assert_eq!(
            AltText::parse("  A cat asleep on a keyboard. ").map(|a| a.map(AltText::into_string)),
            Ok(Some("A cat asleep on a keyboard.".to_owned()))
        );
        assert_eq!(AltText::parse(" \n "), Ok(None));
        assert!(AltText::parse("line one\nline two").is_ok_and(|a| a.is_some()));
        assert!(AltText::parse("bell\u{7}").is_err());
        assert!(AltText::parse(&"é".repeat(1500)).is_ok());
        assert!(AltText::parse(&"é".repeat(1501)).is_err());
    }
}
