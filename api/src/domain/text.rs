//! Human-facing text: short names (people, workspaces, tokens), single
//! lines of a chosen length (titles), and free text (descriptions, notes).

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

/// A trimmed, non-empty single line of at most a given number of characters
/// (an event title, a UTM value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line(String);

impl Line {
    /// Parses user input; `max_chars` bounds the trimmed text.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, String> {
        let line = raw.trim();
        if line.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if line.chars().count() > max_chars {
            return Err(format!("must be at most {max_chars} characters"));
        }
        if line.chars().any(char::is_control) {
            return Err("must not contain control characters or line breaks".to_owned());
        }
        Ok(Self(line.to_owned()))
    }

    /// The line, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text a person wrote (a description, an objective, a note): trimmed,
/// possibly several lines, bounded. Blank text means "none".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prose(String);

impl Prose {
    /// Parses user input: `None` when it is blank.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Option<Self>, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > max_chars {
            return Err(format!("must be at most {max_chars} characters"));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Some(Self(text.to_owned())))
    }

    /// Parses optional input; absent and blank are both "none".
    pub fn parse_optional(raw: Option<&str>, max_chars: usize) -> Result<Option<Self>, String> {
        raw.map_or(Ok(None), |raw| Self::parse(raw, max_chars))
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The first `max` characters of a text, with `…` when it was cut: a post's
/// opening words in lists and calendars.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Line, Name, Prose, excerpt};

    #[test]
    fn excerpts_mark_where_they_cut() {
        assert_eq!(excerpt("short", 80), "short");
        assert_eq!(excerpt("ñandú", 3), "ñan…");
        assert_eq!(excerpt("abc", 3), "abc");
    }

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

    #[test]
    fn lines_are_single_and_bounded() {
        let cases: [(&str, usize, Result<&str, &str>); 6] = [
            ("  Meetup  ", 10, Ok("Meetup")),
            ("", 10, Err("must not be empty")),
            ("abcdef", 5, Err("must be at most 5 characters")),
            ("ééééé", 5, Ok("ééééé")),
            (
                "a\nb",
                10,
                Err("must not contain control characters or line breaks"),
            ),
            (
                "a\u{7}b",
                10,
                Err("must not contain control characters or line breaks"),
            ),
        ];
        for (raw, max, expected) in cases {
            let parsed = Line::parse(raw, max).map(Line::into_string);
            assert_eq!(
                parsed,
                expected.map(str::to_owned).map_err(str::to_owned),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn prose_keeps_lines_and_treats_blank_as_none() {
        let parse = |raw: &str| Prose::parse(raw, 12).map(|p| p.map(Prose::into_string));
        assert_eq!(parse(" two\nlines\t "), Ok(Some("two\nlines".to_owned())));
        assert_eq!(parse("   \n "), Ok(None));
        assert!(parse("x".repeat(13).as_str()).is_err());
        assert!(parse("bell\u{7}").is_err());
        assert_eq!(Prose::parse_optional(None, 5), Ok(None));
    }
}
