//! An article's HTML: title and body from the post text, the hidden
//! idempotency marker, and the text helpers WordPress's answers need
//! (entities, slugs).

use pulldown_cmark::{Event, Options, Parser, html};
use sha2::{Digest, Sha256};

use crate::options::Format;

/// The article's title and the text of its body.
///
/// With a title in the options the whole text is the body. Without one the
/// first line is the title; when that line is a markdown heading (`# …`)
/// it leaves the body, as it would otherwise show twice.
pub fn title_and_body(title: Option<&str>, text: &str) -> (String, String) {
    if let Some(title) = title {
        return (title.trim().to_owned(), text.to_owned());
    }
    let text = text.trim_start();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let heading = first.trim_start().starts_with('#');
    let title = shortened(first.trim().trim_start_matches('#').trim());
    if heading {
        (title, rest.trim_start_matches(['\r', '\n']).to_owned())
    } else {
        (title, text.to_owned())
    }
}

/// Longest title taken from the text, in characters: a first line that is
/// a whole paragraph is cut at a word.
pub const MAX_DERIVED_TITLE: usize = 120;

fn shortened(line: &str) -> String {
    if line.chars().count() <= MAX_DERIVED_TITLE {
        return line.to_owned();
    }
    let cut: String = line.chars().take(MAX_DERIVED_TITLE).collect();
    let at_word = cut.rfind(' ').map_or(cut.as_str(), |space| &cut[..space]);
    format!("{}…", at_word.trim_end_matches([',', ';', ':', ' ']))
}

/// The body as HTML. Markdown is rendered with raw HTML escaped (people
/// see what they typed); HTML is passed on and WordPress filters it by the
/// account's role (`unfiltered_html`).
pub fn body_html(text: &str, format: Format) -> String {
    match format {
        Format::Html => text.trim().to_owned(),
        Format::Markdown => {
            let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
            let events = Parser::new_ext(text, options).map(|event| match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                other => other,
            });
            let mut rendered = String::with_capacity(text.len() * 2);
            html::push_html(&mut rendered, events);
            rendered.trim_end().to_owned()
        }
    }
}

/// The search token that marks an article as Plaza's publish under an
/// idempotency key: a hash, so it is one word of safe characters whatever
/// the key holds (WordPress's search splits on spaces, and `kses` folds
/// `--` inside HTML comments for accounts without `unfiltered_html`).
pub fn key_token(idempotency_key: &str) -> String {
    let digest = Sha256::digest(idempotency_key.as_bytes());
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("plaza-key-{hex}")
}

/// The HTML comment carrying [`key_token`]: invisible on the site, kept by
/// WordPress in `post_content`, and found by `?search=`.
pub fn key_marker(idempotency_key: &str) -> String {
    format!("<!-- {} -->", key_token(idempotency_key))
}

/// `html` with the marker inside its last element (`…<!-- … --></p>`):
/// standing alone after it, `wpautop` would wrap the comment in an empty
/// paragraph of its own.
pub fn with_marker(html: &str, marker: &str) -> String {
    let html = html.trim_end();
    if html.ends_with('>')
        && let Some(at) = html.rfind("</")
        && html
            .get(at + 2..html.len() - 1)
            .is_some_and(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        let (head, closing) = html.split_at(at);
        return format!("{head}{marker}{closing}");
    }
    format!("{html}{marker}")
}

/// The slug WordPress's `sanitize_title` gives an ASCII name: lower case,
/// runs of spaces, dots and dashes as one `-`, other punctuation dropped.
/// `None` for names with other characters (WordPress folds accents and
/// percent-encodes the rest; such names are found by creating them instead).
pub fn ascii_slug(name: &str) -> Option<String> {
    if !name.is_ascii() || name.contains('&') || name.contains('%') {
        return None;
    }
    let mut slug = String::with_capacity(name.len());
    for c in name.trim().to_ascii_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '_' => slug.push(c),
            '-' | '.' | ' ' | '\t' | '\n' | '\r' if !slug.ends_with('-') => slug.push('-'),
            _ => {}
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    (!slug.is_empty()).then_some(slug)
}

/// `text` with the HTML entities WordPress writes into names, titles and
/// messages (`&amp;`, `&#8217;`, `&#x2019;`…) turned back into characters.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let decoded = from.find(';').filter(|end| *end <= 10).and_then(|end| {
            let entity = from.get(1..end)?;
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                _ => {
                    let number = entity.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = from.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = from.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

/// The text of rendered HTML: tags dropped, entities decoded, whitespace
/// runs folded.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    decode_entities(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An HTML attribute value, escaped.
pub fn attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
