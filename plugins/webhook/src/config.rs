//! The channel configuration: where to send and in which shape.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The JSON shape a post is sent in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plaza's own envelope (see [`crate::payload`]), for Zapier, n8n or
    /// any endpoint of your own.
    #[default]
    Plaza,
    /// A Slack incoming webhook (`https://hooks.slack.com/services/…`).
    Slack,
    /// A Microsoft Teams incoming webhook or Workflows webhook: an Adaptive Card.
    Teams,
}

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where posts go, `https://…` (plain `http://` only for hosts the
    /// operator marked as local test servers).
    pub url: String,
    /// The body's shape; `plaza` unless said.
    #[serde(default)]
    pub format: Format,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let config: Config = parse_config(config)?;
        let host = checked_host(&config.url)?;
        if host.is_empty() {
            return Err(PluginError::invalid("url has no host"));
        }
        Ok(config)
    }

    /// The URL's host, which the manifest's allowed host expands to. It
    /// names the channel's account: the rest of a webhook URL (Slack's,
    /// Teams') is a secret and is never shown.
    pub fn host(&self) -> String {
        checked_host(&self.url).unwrap_or_default()
    }

    /// `<host>/<first 16 hex digits of SHA-256(url)>`: names the URL
    /// without revealing it.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.url.as_bytes());
        let hex: String = digest
            .iter()
            .take(8)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("{}/{hex}", self.host())
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Webhook URL",
                    "description": "Where each post is sent with POST, e.g. a Slack or Teams incoming webhook, a Zapier catch hook or an n8n webhook node",
                    "examples": ["https://hooks.slack.com/services/T000/B000/XXXX"]
                },
                "format": {
                    "enum": ["plaza", "slack", "teams"],
                    "default": "plaza",
                    "title": "Payload format",
                    "description": "plaza: Plaza's JSON envelope; slack: a Slack incoming-webhook message; teams: a Microsoft Teams Adaptive Card message"
                }
            },
            "additionalProperties": false
        })
    }
}

/// The host of an `http(s)://` URL without user info, spaces or fragment.
fn checked_host(url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("url {reason}")));
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        rest
    } else {
        return invalid("must start with https://");
    };
    if url.chars().any(char::is_whitespace) || url.contains('#') {
        return invalid("must not contain spaces or a fragment");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return invalid("must not carry a user name or password");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return invalid("has no host");
    }
    Ok(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_defaults_to_plaza_and_the_host_is_read() {
        let config =
            Config::parse(r#"{"url": "https://Hooks.Slack.com:443/services/T/B/X?a=1"}"#).unwrap();
        assert_eq!(config.format, Format::Plaza);
        assert_eq!(config.host(), "hooks.slack.com");
        let teams =
            Config::parse(r#"{"url": "http://127.0.0.1:9/hook", "format": "teams"}"#).unwrap();
        assert_eq!(teams.format, Format::Teams);
        assert_eq!(teams.host(), "127.0.0.1");
    }

    #[test]
    fn bad_configurations_are_invalid() {
        let cases = [
            ("{}", "url"),
            (r#"{"url": "ftp://a.example"}"#, "https://"),
            (r#"{"url": "https://"}"#, "no host"),
            (r#"{"url": "https://u:p@a.example/x"}"#, "user name"),
            (r#"{"url": "https://a.example/x y"}"#, "spaces"),
            (
                r#"{"url": "https://a.example", "format": "discord"}"#,
                "unknown variant",
            ),
            (
                r#"{"url": "https://a.example", "extra": 1}"#,
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
