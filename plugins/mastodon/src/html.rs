//! Mastodon serves a status's text as HTML (`content`); the inbox wants
//! plain text, and `find_published` compares what was sent with what the
//! instance rendered.

/// The text of Mastodon's status HTML: tags dropped, `<br>` as a line break,
/// paragraphs separated by a blank line, character references decoded.
/// Link text keeps its hidden parts (`<span class="invisible">https://</span>`),
/// so a URL comes back whole.
pub fn to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&decode_entities(rest.get(..start).unwrap_or_default()));
        let Some(end) = rest.get(start..).and_then(|tail| tail.find('>')) else {
            // An unclosed `<` is text, not a tag.
            text.push_str(&decode_entities(rest.get(start..).unwrap_or_default()));
            rest = "";
            break;
        };
        let tag = rest
            .get(start + 1..start + end)
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        match name.as_str() {
            "br" => text.push('\n'),
            "p" if tag.starts_with('/') => text.push_str("\n\n"),
            _ => {}
        }
        rest = rest.get(start + end + 1..).unwrap_or_default();
    }
    text.push_str(&decode_entities(rest));
    text.trim_end().to_owned()
}

/// Decodes the character references Mastodon's sanitizer emits: the five
/// named XML ones, `&nbsp;` and numeric ones. Anything else stays as it is.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        let decoded = tail
            .find(';')
            .filter(|semi| *semi <= 10)
            .and_then(|semi| Some((entity(tail.get(1..semi)?)?, semi)));
        match decoded {
            Some((character, semi)) => {
                out.push(character);
                rest = tail.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// A form of a status's text that survives Mastodon's rendering, for
/// telling whether a status is the one Plaza sent: whitespace dropped (the
/// renderer turns line breaks into markup), and remote mentions cut to
/// `@user` (the rendered link shows only the user part).
pub fn fingerprint(text: &str) -> String {
    text.split_whitespace()
        .map(|word| match word.strip_prefix('@') {
            Some(mention) => match mention.find('@') {
                Some(at) => format!("@{}", mention.get(..at).unwrap_or_default()),
                None => word.to_owned(),
            },
            None => word.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_html_becomes_text() {
        // The shape of `content` in the Status entity's documented example.
        let html = "<p>Hello <span class=\"h-card\"><a href=\"https://mastodon.social/@Gargron\" class=\"u-url mention\">@<span>Gargron</span></a></span> &amp; friends</p><p>Read <a href=\"https://example.com/a/long/path\" rel=\"nofollow noopener noreferrer\" target=\"_blank\"><span class=\"invisible\">https://</span><span class=\"ellipsis\">example.com/a/lon</span><span class=\"invisible\">g/path</span></a><br />bye &#39;now&#39; &#x1F600;</p>";
        assert_eq!(
            to_text(html),
            "Hello @Gargron & friends\n\nRead https://example.com/a/long/path\nbye 'now' 😀"
        );
    }

    #[test]
    fn stray_markup_is_kept_as_text() {
        assert_eq!(to_text("a < b &unknown; & c"), "a < b &unknown; & c");
        assert_eq!(to_text("1 &lt;2 &gt; 0"), "1 <2 > 0");
    }

    #[test]
    fn fingerprints_match_across_rendering() {
        let sent = "Hello @Gargron@mastodon.social &\nfriends\n\nRead https://example.com/x";
        let rendered = "<p>Hello <span class=\"h-card\"><a href=\"https://mastodon.social/@Gargron\">@<span>Gargron</span></a></span> &amp;<br />friends</p><p>Read <a href=\"https://example.com/x\"><span class=\"invisible\">https://</span><span class=\"\">example.com/x</span></a></p>";
        assert_eq!(fingerprint(sent), fingerprint(&to_text(rendered)));
        assert_ne!(fingerprint("Hello there"), fingerprint("Hello here"));
    }
}
