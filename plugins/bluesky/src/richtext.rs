//! Rich text: where the links, mentions, hashtags and cashtags of a post's
//! text are, as `app.bsky.richtext.facet` byte ranges.
//!
//! Bluesky has no markup: a post is plain text plus facets, each a range of
//! the text's UTF-8 bytes (start inclusive, end exclusive) with a feature
//! (docs.bsky.app, "Links, mentions, and rich text"). The rules follow the
//! detection of the reference client library (`@atproto/api` `RichText`):
//!
//! - a mention is `@handle` at the start, after whitespace or `(`; trailing
//!   `.` and `-` are not part of it, and the handle must have handle syntax
//!   (the reference client also wants a known TLD; here the handle must
//!   resolve instead, which the caller checks);
//! - a link is `http://` or `https://` and what follows up to whitespace,
//!   at the start, after whitespace or `(`; one trailing `.,;:!?` is left
//!   out, and a trailing `)` when the URL has no `(`. Bare domains
//!   (`example.com`) are left as text: telling them apart from file names
//!   needs the list of TLDs;
//! - a hashtag is `#` (or the full-width `＃`) at the start or after
//!   whitespace, then anything up to whitespace that is not only digits and
//!   punctuation; trailing punctuation is left out, and a tag is at most 64
//!   graphemes;
//! - a cashtag is `$` and a ticker of 1–5 letters and digits starting with a
//!   letter, followed by whitespace, the end or punctuation; it becomes the
//!   tag `$TICKER`.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

/// Longest hashtag, in graphemes (`app.bsky.richtext.facet#tag`:
/// `maxGraphemes: 64`).
pub const MAX_TAG_GRAPHEMES: usize = 64;

/// What a facet points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feature {
    /// `@handle`, still to be resolved to a DID.
    Mention(String),
    /// A URL.
    Link(String),
    /// A hashtag (without `#`) or a cashtag (with `$`).
    Tag(String),
}

/// A feature of the text and its byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// First byte (inclusive).
    pub start: usize,
    /// Byte after the last (exclusive).
    pub end: usize,
    /// What the range is.
    pub feature: Feature,
}

/// How many graphemes (user-perceived characters) `text` has: Bluesky's
/// unit for text limits.
pub fn grapheme_len(text: &str) -> usize {
    text.graphemes(true).count()
}

/// Every mention, link and tag in `text`, ordered by where they start.
pub fn detect(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    for (at, c) in text.char_indices() {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after_space = before.is_none_or(char::is_whitespace);
        let after_space_or_paren = after_space || before == Some('(');
        let rest = text.get(at..).unwrap_or_default();
        let span = match c {
            '@' if after_space_or_paren => mention(rest),
            'h' | 'H' if after_space_or_paren => link(rest),
            '#' | '＃' if after_space => hashtag(rest),
            '$' if after_space_or_paren => cashtag(rest),
            _ => None,
        };
        if let Some((len, feature)) = span {
            spans.push(Span {
                start: at,
                end: at + len,
                feature,
            });
        }
    }
    spans
}

/// `rest` starts with `@`: the mention's length in bytes and its handle.
fn mention(rest: &str) -> Option<(usize, Feature)> {
    let body = rest.get(1..)?;
    let run = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or(body.len());
    let handle = body.get(..run)?.trim_end_matches(['.', '-']);
    // A word character right after would move the word boundary inside.
    if body.get(handle.len()..)?.starts_with('_') || !is_handle(handle) {
        return None;
    }
    Some((
        1 + handle.len(),
        Feature::Mention(handle.to_ascii_lowercase()),
    ))
}

/// Handle syntax (atproto spec "Handle"): two or more labels of letters,
/// digits and inner hyphens, at most 63 characters each, the last starting
/// with a letter, 253 characters in all.
pub fn is_handle(handle: &str) -> bool {
    let labels: Vec<&str> = handle.split('.').collect();
    let valid_label = |label: &&str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    handle.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(valid_label)
        && labels
            .last()
            .is_some_and(|tld| tld.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// `rest` may start with a URL: its length in bytes and the URI.
fn link(rest: &str) -> Option<(usize, Feature)> {
    let lower = rest.get(..8).unwrap_or(rest).to_ascii_lowercase();
    let scheme = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        return None;
    };
    let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
    if len <= scheme {
        return None;
    }
    let mut uri = rest.get(..len)?;
    if uri.ends_with(['.', ',', ';', ':', '!', '?']) {
        uri = uri.get(..uri.len() - 1)?;
    }
    if uri.ends_with(')') && !uri.contains('(') {
        uri = uri.get(..uri.len() - 1)?;
    }
    if uri.len() <= scheme {
        return None;
    }
    Some((uri.len(), Feature::Link(uri.to_owned())))
}

/// Characters that end a hashtag though they are not whitespace: soft
/// hyphen and zero-width spaces and joiners.
fn is_invisible_break(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{2060}' | '\u{200A}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{20E2}'
    )
}

fn is_punctuation(c: char) -> bool {
    c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// `rest` starts with `#` or `＃`: the hashtag's length in bytes and its tag.
fn hashtag(rest: &str) -> Option<(usize, Feature)> {
    let sign = rest.chars().next()?.len_utf8();
    let body = rest.get(sign..)?;
    let run = body
        .find(|c: char| c.is_whitespace() || is_invisible_break(c))
        .unwrap_or(body.len());
    let run = body.get(..run)?;
    // An emoji presentation selector right after `#` makes the keycap emoji #️⃣.
    if run.starts_with('\u{FE0F}') {
        return None;
    }
    let has_word = run
        .chars()
        .any(|c| !c.is_ascii_digit() && !is_punctuation(c));
    if !has_word {
        return None;
    }
    let tag = run.trim_end_matches(is_punctuation);
    if tag.is_empty() || grapheme_len(tag) > MAX_TAG_GRAPHEMES {
        return None;
    }
    Some((sign + tag.len(), Feature::Tag(tag.to_owned())))
}

/// `rest` starts with `$`: the cashtag's length in bytes and its tag.
fn cashtag(rest: &str) -> Option<(usize, Feature)> {
    let body = rest.get(1..)?;
    let run = body
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(body.len());
    let ticker = body.get(..run)?;
    let next = body.get(run..)?.chars().next();
    let ends_well = next.is_none_or(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '.' | ',' | ';' | ':' | '!' | '?' | ')' | '"' | '\'' | '’'
            )
    });
    let starts_with_letter = ticker.starts_with(|c: char| c.is_ascii_alphabetic());
    if !(1..=5).contains(&ticker.len()) || !starts_with_letter || !ends_well {
        return None;
    }
    Some((
        1 + ticker.len(),
        Feature::Tag(format!("${}", ticker.to_ascii_uppercase())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(usize, usize, Feature)> {
        detect(text)
            .into_iter()
            .map(|s| (s.start, s.end, s.feature))
            .collect()
    }

    /// The facet's bytes, to check ranges against the text itself.
    fn covered(text: &str) -> Vec<&str> {
        detect(text)
            .iter()
            .map(|s| &text.as_bytes()[s.start..s.end])
            .map(|b| std::str::from_utf8(b).unwrap())
            .collect()
    }

    fn mention(handle: &str) -> Feature {
        Feature::Mention(handle.into())
    }

    #[test]
    fn ranges_are_utf8_bytes_after_emoji_and_accents() {
        // 👨‍👩‍👧‍👧 is 25 bytes (11 UTF-16 units); é is 2 bytes.
        let text = "👨‍👩‍👧‍👧 @alice.test 👨‍👩‍👧‍👧";
        assert_eq!(spans(text), [(26, 37, mention("alice.test"))]);
        let text = "Café — https://café.example/ménu #crème";
        assert_eq!(covered(text), ["https://café.example/ménu", "#crème"]);
        let link = text.find("https").unwrap();
        assert_eq!(link, "Café — ".len());
        assert_eq!(link, 10, "é 2 bytes, the em dash 3");
        assert_eq!(
            spans(text)[0],
            (
                10,
                10 + "https://café.example/ménu".len(),
                Feature::Link("https://café.example/ménu".into())
            )
        );
    }

    #[test]
    fn mentions_follow_the_reference_rules() {
        assert_eq!(covered("@handle.com middle end"), ["@handle.com"]);
        assert_eq!(covered("start middle @handle.com"), ["@handle.com"]);
        assert_eq!(covered("@handle.com @handle.com @handle.com").len(), 3);
        assert_eq!(covered("@full123-chars.test"), ["@full123-chars.test"]);
        assert!(covered("not@right").is_empty());
        assert_eq!(covered("@handle.com!@#$chars"), ["@handle.com"]);
        assert_eq!(covered("@handle.com\n@handle.com").len(), 2);
        assert_eq!(covered("parenthetical (@handle.com)"), ["@handle.com"]);
        assert_eq!(covered("trailing @handle.com."), ["@handle.com"]);
        assert_eq!(spans("Hi @Alice.Test!")[0].2, mention("alice.test"));
        // No dot, or a numeric TLD: not handles.
        assert!(covered("@alice and @1.2").is_empty());
    }

    #[test]
    fn links_lose_trailing_punctuation_and_unbalanced_parens() {
        assert_eq!(
            covered("start https://middle.com/foo/bar?baz=bux#hash end"),
            ["https://middle.com/foo/bar?baz=bux#hash"]
        );
        assert_eq!(
            covered("https://newline1.com\nhttps://newline2.com").len(),
            2
        );
        assert_eq!(covered("see https://example.com."), ["https://example.com"]);
        assert_eq!(covered("see https://example.com!"), ["https://example.com"]);
        assert_eq!(
            covered("(see https://example.com)"),
            ["https://example.com"]
        );
        assert_eq!(
            covered("https://en.wikipedia.org/wiki/Rust_(language)"),
            ["https://en.wikipedia.org/wiki/Rust_(language)"]
        );
        assert_eq!(covered("HTTPS://EXAMPLE.COM/X"), ["HTTPS://EXAMPLE.COM/X"]);
        assert!(covered("https:// nothing, and example.com is left as text").is_empty());
        assert!(covered("xhttps://example.com").is_empty());
    }

    #[test]
    fn hashtags_follow_the_reference_rules() {
        let tag = |t: &str| Feature::Tag(t.into());
        assert_eq!(spans("#a"), [(0, 2, tag("a"))]);
        assert_eq!(covered("#a #b"), ["#a", "#b"]);
        assert!(covered("#1").is_empty(), "digits only");
        assert!(covered("#!?").is_empty(), "punctuation only");
        assert_eq!(spans("#1a")[0].2, tag("1a"));
        assert_eq!(covered("#tag!!"), ["#tag"]);
        assert_eq!(covered("#tag, and"), ["#tag"]);
        assert_eq!(covered("#tag's"), ["#tag's"]);
        assert!(covered("a#b").is_empty(), "needs a space before");
        assert!(covered("#\u{fe0f}\u{20e3}").is_empty(), "the keycap emoji");
        assert_eq!(covered("#tag\u{200b}after"), ["#tag"]);
        // The full-width sign is 3 bytes.
        assert_eq!(spans("＃タグ"), [(0, 3 + 6, tag("タグ"))]);
        assert_eq!(spans("😀 #Rôti")[0].0, 5);
        let long = format!("#{}", "a".repeat(65));
        assert!(covered(&long).is_empty(), "over 64 graphemes");
        let ok = format!("#{}", "a".repeat(64));
        assert_eq!(covered(&ok).len(), 1);
    }

    #[test]
    fn cashtags_become_upper_case_tags() {
        assert_eq!(
            spans("buy $aapl, now"),
            [(4, 9, Feature::Tag("$AAPL".into()))]
        );
        assert!(covered("$1abc and $TOOLONG and 5$ and $a_b").is_empty());
    }

    #[test]
    fn graphemes_are_what_people_see() {
        assert_eq!(grapheme_len("👨‍👩‍👧‍👧"), 1);
        assert_eq!(grapheme_len("e\u{301}"), 1);
        assert_eq!(grapheme_len("Café"), 4);
    }

    #[test]
    fn handles_follow_the_spec() {
        assert!(is_handle("alice.bsky.social"));
        assert!(is_handle("xn--ls8h.test"));
        assert!(!is_handle("alice"));
        assert!(!is_handle("-alice.test"));
        assert!(!is_handle("alice.1com"));
        assert!(!is_handle(&format!("{}.com", "a".repeat(64))));
    }
}
