//! The channel configuration: which feed to listen to.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The feed's URL, `https://…` (plain `http://` only for hosts the
    /// operator marked as local test servers).
    pub feed_url: String,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let config: Config = parse_config(config)?;
        let invalid = |reason: &str| Err(PluginError::Invalid(format!("feed_url {reason}")));
        let url = config.feed_url.as_str();
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            return invalid("must start with https://");
        };
        if url.chars().any(char::is_whitespace) || url.contains('#') {
            return invalid("must not contain spaces or a fragment");
        }
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if authority.is_empty() || authority.starts_with(':') {
            return invalid("has no host");
        }
        if authority.contains('@') {
            return invalid("must not carry a user name or password");
        }
        Ok(config)
    }

    /// The host part of the feed URL, to name the feed when it has no title.
    pub fn host(&self) -> &str {
        let rest = self
            .feed_url
            .split_once("://")
            .map_or(self.feed_url.as_str(), |(_, rest)| rest);
        rest.split(['/', '?']).next().unwrap_or_default()
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["feed_url"],
            "properties": {
                "feed_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Feed URL",
                    "description": "An RSS 2.0 or Atom 1.0 feed; each new entry becomes an inbox item",
                    "examples": ["https://blog.example.com/feed.xml"]
                }
            },
            "additionalProperties": false
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_url_is_read() {
        let config =
            Config::parse(r#"{"feed_url": "https://blog.example.com:8443/feed?x=1"}"#).unwrap();
        assert_eq!(config.host(), "blog.example.com:8443");
    }

    #[test]
    fn bad_configurations_are_invalid() {
        let cases = [
            ("{}", "feed_url"),
            (r#"{"feed_url": "ftp://a.example"}"#, "https://"),
            (r#"{"feed_url": "https://"}"#, "no host"),
            (r#"{"feed_url": "https://u:p@a.example"}"#, "user name"),
            (
                r#"{"feed_url": "https://a.example", "x": 1}"#,
                "unknown field",
            ),
        ];
        for (config, expected) in cases {
            match Config::parse(config) {
                Err(PluginError::Invalid(reason)) => {
                    assert!(reason.contains(expected), "{config}: {reason}");
                }
                other => panic!("{config}: expected Invalid, got {other:?}"),
            }
        }
    }
}
