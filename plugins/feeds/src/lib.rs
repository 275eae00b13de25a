//! Plaza's feeds plugin: listening through RSS 2.0 and Atom 1.0 feeds.
//! Each new entry of the channel's feed becomes an inbox item.
//!
//! `fetch-mentions` answers the feed's entries newer than the cursor,
//! oldest first. An entry's place is (when it was published — else updated,
//! else when the plugin first saw it —, its id); the cursor is the place of
//! the last entry answered, so the next call answers only what came after,
//! and a `limit` smaller than what is new pages through it. `search` does
//! the same for entries whose text holds every word of the query.
//!
//! Fetches are conditional (`If-None-Match`, `If-Modified-Since` from the
//! last answer, kept in the channel's key-value store): a feed that did not
//! change answers `304` and nothing is parsed.

pub mod config;
pub mod feed;

use chrono::{DateTime, Utc};
use plaza_sdk::http::{Request, Response, error_for_response};
use plaza_sdk::{
    Author, Capabilities, Channel, Item, ItemKind, Limits, Manifest, Page, Plugin, PluginError,
    clock, kv,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::Config;
use crate::feed::{Entry, Feed};

/// Most items answered in one page, whatever the host asks.
pub const MAX_PAGE: u32 = 100;

/// The key-value entry holding the last answer's validators.
const VALIDATORS_KEY: &str = "validators";
/// The key-value entry holding when undated entries were first seen.
const FIRST_SEEN_KEY: &str = "first_seen";

/// What the feed accepts to answer.
const ACCEPT: &str =
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1";

/// The feeds plugin.
#[derive(Debug)]
pub struct Feeds;

impl Plugin for Feeds {
    fn describe() -> Manifest {
        Manifest::builder("feeds", "RSS and Atom feeds")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("RSS 2.0 / Atom 1.0")
            .capabilities(Capabilities::MENTIONS | Capabilities::SEARCH)
            // Nothing is published to a feed.
            .limits(Limits::new(0, 0))
            .allowed_host("{config.feed_url}")
            .config_schema(&Config::schema())
            .post_options_schema(&json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "additionalProperties": false
            }))
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// Reads the feed once: a URL that answers something other than a feed
    /// cannot be connected. The account is the feed: its URL and title.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let config = Config::parse(&channel.config)?;
        let response = get(&config, None)?;
        let feed = feed::parse(&response.body, &config.feed_url, config.host())?;
        let name = feed.title.unwrap_or_else(|| config.host().to_owned());
        // The feed's URL names the account: one site may have several feeds.
        Ok(Author::new(config.feed_url, name.clone()).display_name(name))
    }

    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        listen(channel, cursor, limit, ItemKind::Mention, |_| true)
    }

    fn search(
        channel: &Channel,
        query: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Err(PluginError::invalid("the query has no words"));
        }
        listen(channel, cursor, limit, ItemKind::SearchHit, |entry| {
            let text = entry.text.to_lowercase();
            words.iter().all(|word| text.contains(word.as_str()))
        })
    }
}

/// An entry's place in the feed's history: when, then its id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The entry's id.
    pub id: String,
}

impl Position {
    /// Reads a cursor this plugin gave.
    pub fn parse(cursor: &str) -> Result<Self, PluginError> {
        cursor
            .split_once(':')
            .and_then(|(at, id)| {
                Some(Self {
                    at_ms: at.parse().ok()?,
                    id: id.to_owned(),
                })
            })
            .ok_or_else(|| PluginError::invalid("the cursor is not one the feeds plugin gave"))
    }

    /// The cursor naming this place.
    pub fn cursor(&self) -> String {
        format!("{}:{}", self.at_ms, self.id)
    }
}

/// Validators of the last full answer, and the newest place it held.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
    newest: Option<String>,
}

fn listen(
    channel: &Channel,
    cursor: Option<&str>,
    limit: u32,
    kind: ItemKind,
    keep: impl Fn(&Entry) -> bool,
) -> Result<Page, PluginError> {
    let config = Config::parse(&channel.config)?;
    let after = cursor.map(Position::parse).transpose()?;
    let limit = usize::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1);
    let stored: Validators = kv::get_json(VALIDATORS_KEY)?.unwrap_or_default();
    // A conditional fetch only when the cursor already covers everything
    // the last full answer held: a 304 then means "nothing new".
    let covered = match (&after, stored.newest.as_deref().map(Position::parse)) {
        (Some(after), Some(Ok(newest))) => *after >= newest,
        _ => false,
    };
    let response = get(&config, covered.then_some(&stored))?;
    if response.status == 304 {
        return Ok(page(Vec::new(), cursor));
    }
    let feed = feed::parse(&response.body, &config.feed_url, config.host())?;
    let placed = place(feed);
    let newest = placed.iter().map(|(p, _)| p).max().map(Position::cursor);
    kv::set_json(
        VALIDATORS_KEY,
        &Validators {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
            newest,
        },
    )?;
    let mut new: Vec<(Position, Entry)> = placed
        .into_iter()
        .filter(|(position, entry)| after.as_ref().is_none_or(|a| position > a) && keep(entry))
        .collect();
    new.sort_by(|a, b| a.0.cmp(&b.0));
    new.truncate(limit);
    let next = new.last().map(|(position, _)| position.cursor());
    let items = new
        .into_iter()
        .map(|(position, entry)| {
            let at = DateTime::<Utc>::from_timestamp_millis(position.at_ms).unwrap_or_default();
            entry.item(kind, at)
        })
        .collect();
    Ok(page(items, next.as_deref().or(cursor)))
}

fn page(items: Vec<Item>, cursor: Option<&str>) -> Page {
    let page = Page::new(items);
    match cursor {
        Some(cursor) => page.next_cursor(cursor),
        None => page,
    }
}

/// Each entry with its place. An entry without a date is placed when the
/// plugin first saw it (remembered per channel, for the entries still in
/// the feed), so it counts as new once.
fn place(feed: Feed) -> Vec<(Position, Entry)> {
    let now = i64::try_from(clock::now_ms()).unwrap_or(i64::MAX);
    let seen: std::collections::BTreeMap<String, i64> = kv::get_json(FIRST_SEEN_KEY)
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut still = std::collections::BTreeMap::new();
    let placed = feed
        .entries
        .into_iter()
        .map(|entry| {
            let at_ms = match entry.at {
                Some(at) => at.timestamp_millis(),
                None => {
                    let first = seen.get(&entry.id).copied().unwrap_or(now);
                    still.insert(entry.id.clone(), first);
                    first
                }
            };
            let position = Position {
                at_ms,
                id: entry.id.clone(),
            };
            (position, entry)
        })
        .collect();
    if still != seen {
        if still.is_empty() {
            kv::delete(FIRST_SEEN_KEY);
        } else if let Err(err) = kv::set_json(FIRST_SEEN_KEY, &still) {
            plaza_sdk::log::warn(format!("cannot remember undated entries: {err}"));
        }
    }
    placed
}

/// `GET` the feed, conditionally when validators are given.
fn get(config: &Config, validators: Option<&Validators>) -> Result<Response, PluginError> {
    let mut request = Request::get(config.feed_url.as_str())
        .header("Accept", ACCEPT)
        .header(
            "User-Agent",
            concat!("Plaza-Feeds/", env!("CARGO_PKG_VERSION")),
        );
    if let Some(validators) = validators {
        if let Some(etag) = &validators.etag {
            request = request.header("If-None-Match", etag.as_str());
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header("If-Modified-Since", modified.as_str());
        }
    }
    let response = request.send()?;
    match response.status {
        200..=299 | 304 => Ok(response),
        404 | 410 => Err(PluginError::invalid(format!(
            "there is no feed at {} (HTTP {})",
            config.feed_url, response.status
        ))),
        _ => Err(error_for_response(&response)),
    }
}

plaza_sdk::export_plugin!(Feeds);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
