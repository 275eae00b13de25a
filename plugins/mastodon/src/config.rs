//! The channel configuration (one Mastodon instance) and the per-post
//! options the post-options schema allows.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The instance's base URL, `https://mastodon.social`, kept without a
    /// trailing slash. Plain `http://` is accepted here; the host refuses it
    /// unless its operator marked the host as a local test server.
    pub instance: String,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let Config { instance } = parse_config(config)?;
        Ok(Self {
            instance: checked_instance(&instance)?,
        })
    }

    /// The URL of `path` (which starts with `/`) on the instance.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.instance)
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["instance"],
            "properties": {
                "instance": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Instance",
                    "description": "The Mastodon (or Mastodon-API) server the account lives on",
                    "examples": ["https://mastodon.social"]
                }
            },
            "additionalProperties": false
        })
    }
}

/// The instance URL without surrounding spaces or trailing slashes, if it
/// is a plain http(s) origin: Mastodon's API lives at the root of its host.
fn checked_instance(instance: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("instance {reason}")));
    let trimmed = instance.trim();
    let (scheme, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        ("http", rest)
    } else {
        return invalid("must start with https://");
    };
    let host = rest.trim_end_matches('/');
    if host.is_empty() {
        return invalid("has no host");
    }
    if host.contains('@') {
        return invalid("must not carry a user name or password");
    }
    if host.contains(['/', '?', '#']) || host.chars().any(char::is_whitespace) {
        return invalid("must be the server's address only, like https://mastodon.social");
    }
    Ok(format!("{scheme}://{host}"))
}

/// Who may see a status (Mastodon's `visibility`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone, and public timelines.
    Public,
    /// Everyone, but kept off public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned accounts only.
    Direct,
}

/// Per-post options, as the post-options schema describes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostOptions {
    /// Who may see it; the account's default when absent.
    pub visibility: Option<Visibility>,
    /// A content warning (`spoiler_text`): shown instead of the text until opened.
    pub content_warning: Option<String>,
    /// Marks the media as sensitive (blurred until opened).
    pub sensitive: Option<bool>,
    /// ISO 639 language code of the text.
    pub language: Option<String>,
}

impl PostOptions {
    /// The JSON Schema the host validates options against before publishing.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "visibility": {
                    "enum": ["public", "unlisted", "private", "direct"],
                    "title": "Visibility",
                    "description": "public, unlisted (not on public timelines), private (followers only) or direct (mentioned accounts only); the account's default when absent"
                },
                "content_warning": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 500,
                    "title": "Content warning",
                    "description": "Shown instead of the text until the reader opens it (spoiler_text)"
                },
                "sensitive": {
                    "type": "boolean",
                    "title": "Sensitive media",
                    "description": "Blur the attached media until the reader opens it"
                },
                "language": {
                    "type": "string",
                    "pattern": "^[a-z]{2,3}$",
                    "title": "Language",
                    "description": "ISO 639 code of the text, like en or de"
                }
            },
            "additionalProperties": false
        })
    }

    /// Reads options the host already validated; empty means defaults.
    pub fn parse(raw: &str) -> Result<Self, PluginError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(raw)
            .map_err(|err| PluginError::Invalid(format!("post options: {err}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instance_is_kept_without_its_trailing_slash() {
        let config = Config::parse(r#"{"instance": " https://mastodon.social/ "}"#).unwrap();
        assert_eq!(config.instance, "https://mastodon.social");
        assert_eq!(
            config.url("/api/v1/statuses"),
            "https://mastodon.social/api/v1/statuses"
        );
        let local = Config::parse(r#"{"instance": "http://127.0.0.1:4000"}"#).unwrap();
        assert_eq!(local.instance, "http://127.0.0.1:4000");
    }

    #[test]
    fn bad_configurations_are_invalid() {
        let cases = [
            ("{}", "instance"),
            (r#"{"instance": 3}"#, "invalid type"),
            (r#"{"instance": "mastodon.social"}"#, "https://"),
            (r#"{"instance": "https://"}"#, "no host"),
            (
                r#"{"instance": "https://u:p@mastodon.social"}"#,
                "user name",
            ),
            (
                r#"{"instance": "https://example.com/mastodon"}"#,
                "address only",
            ),
            (
                r#"{"instance": "https://mastodon.social?x=1"}"#,
                "address only",
            ),
            (
                r#"{"instance": "https://a.example", "extra": 1}"#,
                "unknown field",
            ),
            ("not json", "invalid channel configuration"),
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

    #[test]
    fn post_options_parse_or_are_invalid() {
        let options = PostOptions::parse(
            r#"{"visibility": "unlisted", "content_warning": "spoilers", "language": "de"}"#,
        )
        .unwrap();
        assert_eq!(options.visibility, Some(Visibility::Unlisted));
        assert_eq!(options.content_warning.as_deref(), Some("spoilers"));
        assert_eq!(PostOptions::parse("").unwrap(), PostOptions::default());
        assert!(matches!(
            PostOptions::parse(r#"{"visibility": "secret"}"#),
            Err(PluginError::Invalid(_))
        ));
        assert!(matches!(
            PostOptions::parse(r#"{"poll": {}}"#),
            Err(PluginError::Invalid(_))
        ));
    }
}
