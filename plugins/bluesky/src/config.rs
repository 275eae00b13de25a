//! The channel configuration: which service the account signs in to, and
//! the languages its posts are in by default.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// The service used when the configuration names none: Bluesky's own
/// entryway, which forwards every call to the account's PDS.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

/// Most languages a post may declare (`app.bsky.feed.post`, `langs`:
/// `maxLength: 3`).
pub const MAX_LANGS: usize = 3;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    langs: Vec<String>,
}

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The XRPC service (PDS or entryway), without a trailing slash.
    /// Plain `http://` is accepted here; the host refuses it unless its
    /// operator marked the host as a local server.
    pub service: String,
    /// Languages of the channel's posts (BCP 47), unless a post says otherwise.
    pub langs: Vec<String>,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let RawConfig { service, langs } = parse_config(config)?;
        let service = checked_service(service.as_deref().unwrap_or(DEFAULT_SERVICE))?;
        let langs = checked_langs(langs)?;
        Ok(Self { service, langs })
    }

    /// The URL of the XRPC method `nsid` on the service.
    pub fn xrpc(&self, nsid: &str) -> String {
        format!("{}/xrpc/{nsid}", self.service)
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "service": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Service URL",
                    "description": "Where the account signs in: https://bsky.social for Bluesky accounts, or the URL of a self-hosted PDS",
                    "default": DEFAULT_SERVICE,
                    "examples": [DEFAULT_SERVICE]
                },
                "langs": langs_schema("Languages the channel's posts are in, unless a post says otherwise")
            },
            "additionalProperties": false
        })
    }
}

/// The schema of a list of post languages, for the channel and per post.
pub fn langs_schema(description: &str) -> Value {
    json!({
        "type": "array",
        "title": "Languages",
        "description": description,
        "items": { "type": "string", "minLength": 2, "maxLength": 35, "pattern": "^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$" },
        "maxItems": MAX_LANGS,
        "examples": [["en"], ["pt-BR", "en"]]
    })
}

/// Languages as BCP 47 tags, at most [`MAX_LANGS`].
pub fn checked_langs(langs: Vec<String>) -> Result<Vec<String>, PluginError> {
    if langs.len() > MAX_LANGS {
        return Err(PluginError::Invalid(format!(
            "a post declares at most {MAX_LANGS} languages"
        )));
    }
    for lang in &langs {
        let mut subtags = lang.split('-');
        let primary = subtags.next().unwrap_or_default();
        let valid = (2..=8).contains(&primary.len())
            && primary.chars().all(|c| c.is_ascii_alphabetic())
            && subtags.all(|s| {
                (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !valid {
            return Err(PluginError::Invalid(format!(
                "{lang:?} is not a language tag like en or pt-BR"
            )));
        }
    }
    Ok(langs)
}

/// The service URL without surrounding spaces or trailing slashes, if it is
/// a plain http(s) URL.
fn checked_service(url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("service {reason}")));
    let trimmed = url.trim();
    let (scheme, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        ("http", rest)
    } else {
        return invalid("must start with https://");
    };
    let rest = rest.trim_end_matches('/');
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return invalid("has no host");
    }
    if authority.contains('@') {
        return invalid("must not carry a user name or password");
    }
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return invalid("must be a plain URL without query, fragment or spaces");
    }
    Ok(format!("{scheme}://{rest}"))
}
