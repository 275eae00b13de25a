//! The channel configuration: where the platform's API lives.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API's base URL, `https://…`, without a trailing slash. Plain
    /// `http://` is accepted here; the host refuses it unless its operator
    /// marked the host as a local test server.
    pub base_url: String,
    /// The OAuth2 client id registered with the platform, for channels
    /// connected through OAuth2 instead of a pasted token.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let Config {
            base_url,
            client_id,
        } = parse_config(config)?;
        let base_url = checked_base_url(&base_url)?;
        if client_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            return Err(PluginError::Invalid("client_id must not be empty".into()));
        }
        Ok(Self {
            base_url,
            client_id,
        })
    }

    /// The URL of `path` (which starts with `/`) on this API.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["base_url"],
            "properties": {
                "base_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "API base URL",
                    "description": "Where the platform's API lives, e.g. https://social.example.com",
                    "examples": ["https://social.example.com"]
                },
                "client_id": {
                    "type": "string",
                    "minLength": 1,
                    "title": "OAuth2 client id",
                    "description": "Needed only to connect through OAuth2"
                }
            },
            "additionalProperties": false
        })
    }
}

/// The base URL without surrounding spaces or trailing slashes, if it is a
/// plain https URL.
fn checked_base_url(base_url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("base_url {reason}")));
    let trimmed = base_url.trim();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_base_url_is_kept_without_its_trailing_slash() {
        let config = Config::parse(r#"{"base_url": "https://social.example.com/"}"#).unwrap();
        assert_eq!(config.base_url, "https://social.example.com");
        assert_eq!(config.url("/api/me"), "https://social.example.com/api/me");

        let prefixed = Config::parse(r#"{"base_url": "https://example.com/social"}"#).unwrap();
        assert_eq!(prefixed.url("/api/me"), "https://example.com/social/api/me");
    }

    #[test]
    fn bad_configurations_are_invalid() {
        let cases = [
            ("{}", "base_url"),
            (r#"{"base_url": 3}"#, "invalid type"),
            (r#"{"base_url": "ftp://social.example.com"}"#, "https://"),
            (
                r#"{"base_url": "https://a.example", "client_id": " "}"#,
                "client_id",
            ),
            (r#"{"base_url": "https://"}"#, "no host"),
            (
                r#"{"base_url": "https://u:p@social.example.com"}"#,
                "user name",
            ),
            (
                r#"{"base_url": "https://social.example.com/?a=b"}"#,
                "query",
            ),
            (
                r#"{"base_url": "https://a.example", "extra": 1}"#,
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
}
