//! The channel configuration: a homeserver and one room on it.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The homeserver's client-server API base, `https://matrix.example.org`,
    /// kept without a trailing slash. Plain `http://` is accepted here; the
    /// host refuses it unless its operator marked the host as a local server.
    pub homeserver: String,
    /// The room this channel posts to: its id, `!opaque:server`.
    pub room_id: String,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let Config {
            homeserver,
            room_id,
        } = parse_config(config)?;
        let homeserver = checked_homeserver(&homeserver)?;
        let room_id = room_id.trim().to_owned();
        // Room ids are `!localpart:server` (the spec's "room ID" grammar);
        // an alias (`#name:server`) would need resolving first.
        let valid_room = room_id.starts_with('!')
            && room_id.len() > 1
            && !room_id.chars().any(char::is_whitespace);
        if !valid_room {
            return Err(PluginError::Invalid(
                "room_id must be a room id like !abc123:example.org (not an alias)".into(),
            ));
        }
        Ok(Self {
            homeserver,
            room_id,
        })
    }

    /// The URL of `path` (which starts with `/`) on the homeserver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.homeserver)
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["homeserver", "room_id"],
            "properties": {
                "homeserver": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Homeserver URL",
                    "description": "The homeserver's client-server API base URL",
                    "examples": ["https://matrix.example.org"]
                },
                "room_id": {
                    "type": "string",
                    "pattern": "^![^\\s]+$",
                    "title": "Room id",
                    "description": "The room to post to, as its id (room settings, Advanced)",
                    "examples": ["!abc123:example.org"]
                }
            },
            "additionalProperties": false
        })
    }
}

/// The homeserver URL without surrounding spaces or trailing slashes, if it
/// is a plain http(s) URL.
fn checked_homeserver(url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("homeserver {reason}")));
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
