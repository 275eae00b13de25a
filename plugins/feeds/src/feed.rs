//! Reading a feed (RSS 2.0, Atom 1.0, and whatever else `feed-rs` reads)
//! into entries ordered by when they appeared.

use chrono::{DateTime, SecondsFormat, Utc};
use feed_rs::model::{Entry as FeedEntry, Feed as ParsedFeed, Link, Person, Text};
use feed_rs::parser::Builder;
use plaza_sdk::{Author, Item, ItemKind, PluginError};

/// Longest text an item carries, in characters.
const MAX_TEXT_CHARS: usize = 5_000;

/// A parsed feed.
#[derive(Debug)]
pub struct Feed {
    /// The feed's title, if it has one.
    pub title: Option<String>,
    /// The feed's own link (its site) or id.
    pub id: String,
    /// Entries in the order the feed lists them.
    pub entries: Vec<Entry>,
}

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The entry's id or guid, else its link, else its title.
    pub id: String,
    /// When it was published (else updated), if the feed says.
    pub at: Option<DateTime<Utc>>,
    /// Title and summary, HTML stripped.
    pub text: String,
    /// Its link.
    pub url: Option<String>,
    /// Who wrote it.
    pub author: Author,
}

impl Entry {
    /// The entry as an inbox item of `kind`, created at `at`.
    pub fn item(&self, kind: ItemKind, at: DateTime<Utc>) -> Item {
        let mut item = Item::new(
            kind,
            self.id.clone(),
            self.author.clone(),
            self.text.clone(),
            at.to_rfc3339_opts(SecondsFormat::Secs, true),
        );
        if let Some(url) = &self.url {
            item = item.url(url.clone());
        }
        item
    }
}

/// Parses a feed document; anything that is not a feed is `Invalid`.
pub fn parse(bytes: &[u8], feed_url: &str, fallback_name: &str) -> Result<Feed, PluginError> {
    let parser = Builder::new()
        .base_uri(Some(feed_url))
        .id_generator(|links, title, _| generated_id(links, title))
        .sanitize_content(false)
        .build();
    let feed = parser.parse(bytes).map_err(|err| {
        PluginError::invalid(format!("{feed_url} is not an RSS or Atom feed ({err})"))
    })?;
    Ok(convert(feed, fallback_name))
}

/// An id for an entry without one: its link, else its title.
fn generated_id(links: &[Link], title: &Option<Text>) -> String {
    links
        .first()
        .map(|link| link.href.clone())
        .or_else(|| title.as_ref().map(|t| t.content.trim().to_owned()))
        .unwrap_or_default()
}

fn convert(feed: ParsedFeed, fallback_name: &str) -> Feed {
    let title = feed
        .title
        .as_ref()
        .map(|t| plain_text(&t.content))
        .filter(|t| !t.is_empty());
    let site = site_link(&feed.links);
    let feed_author = feed.authors.first().and_then(person).unwrap_or_else(|| {
        let name = title.clone().unwrap_or_else(|| fallback_name.to_owned());
        Author::new(site.clone().unwrap_or_else(|| name.clone()), name.clone()).display_name(name)
    });
    let entries = feed
        .entries
        .into_iter()
        .filter(|entry| !entry.id.is_empty())
        .map(|entry| entry_of(entry, &feed_author))
        .collect();
    Feed {
        id: site.unwrap_or(feed.id),
        title,
        entries,
    }
}

/// The page a feed or entry links to (`alternate`, or a link without `rel`).
fn site_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .or_else(|| links.first())
        .map(|l| l.href.clone())
}

fn entry_of(entry: FeedEntry, feed_author: &Author) -> Entry {
    let title = entry.title.as_ref().map(|t| plain_text(&t.content));
    let summary = entry
        .summary
        .as_ref()
        .map(|s| s.content.as_str())
        .or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()))
        .map(plain_text);
    let text = [title, summary]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let url = site_link(&entry.links);
    let author = entry
        .authors
        .first()
        .and_then(person)
        .unwrap_or_else(|| feed_author.clone());
    Entry {
        id: entry.id,
        at: entry.published.or(entry.updated),
        text: text.chars().take(MAX_TEXT_CHARS).collect(),
        url,
        author,
    }
}

/// An author from a feed's person: RSS gives `email (Name)`, Atom a name,
/// a URI and an email.
fn person(person: &Person) -> Option<Author> {
    // feed-rs keeps RSS's parentheses: `ed@example.com (Ed)` names "(Ed)".
    let name = person
        .name
        .as_deref()
        .map(|n| {
            n.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .trim()
        })
        .filter(|n| !n.is_empty());
    let email = person.email.as_deref().filter(|e| !e.is_empty());
    let handle = name.or(email)?.to_owned();
    let remote_id = person
        .uri
        .clone()
        .or_else(|| email.map(str::to_owned))
        .unwrap_or_else(|| handle.clone());
    let mut author = Author::new(remote_id, handle);
    if let Some(name) = name {
        author = author.display_name(name);
    }
    Some(author)
}

/// Text without HTML: tags dropped (block ends become line breaks), the
/// contents of `script` and `style` dropped, entities decoded, runs of
/// spaces folded.
pub fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let Some(end) = after.find('>') else {
            // A lone "<" is text.
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = after[1..end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        rest = &after[end + 1..];
        if !tag.starts_with('/') && (name == "script" || name == "style") {
            let close = format!("</{name}");
            let lower = rest.to_ascii_lowercase();
            rest = match lower.find(&close) {
                Some(at) => rest[at..].split_once('>').map_or("", |(_, tail)| tail),
                None => "",
            };
            continue;
        }
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote"
        ) {
            out.push('\n');
        } else {
            out.push(' ');
        }
    }
    out.push_str(rest);
    let decoded = decode_entities(&out);
    decoded
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let entity = after
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| Some((decode_entity(&after[1..end])?, end)));
        match entity {
            Some((ch, end)) => {
                out.push(ch);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_stripped_to_text() {
        assert_eq!(
            plain_text(
                "<p>Beans &amp; <b>cups</b></p><script>alert(1)</script><p>Caf&#233; &lt;3&nbsp;you</p>"
            ),
            "Beans & cups\nCafé <3 you"
        );
        assert_eq!(plain_text("a < b & c"), "a < b & c");
    }
}
