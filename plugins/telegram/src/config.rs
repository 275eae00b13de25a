//! The channel configuration: one chat (a channel or a group) the bot
//! posts to, and the Bot API server to reach (Telegram's own by default).

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// The Bot API server Telegram runs.
pub const DEFAULT_API_BASE_URL: &str = "https://api.telegram.org";

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The chat to post to: a numeric id (`-1001234567890` for channels and
    /// supergroups) or a public channel's `@username`.
    pub chat_id: ChatRef,
    /// The Bot API base URL without a trailing slash: Telegram's own, or a
    /// self-hosted Bot API server (and local fakes in tests).
    #[serde(default = "default_base_url")]
    pub api_base_url: String,
}

/// How the configuration names the chat.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ChatRef {
    /// A numeric chat id.
    Id(i64),
    /// A numeric id as text, or `@username`.
    Text(String),
}

fn default_base_url() -> String {
    DEFAULT_API_BASE_URL.to_owned()
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let Config {
            chat_id,
            api_base_url,
        } = parse_config(config)?;
        let chat_id = checked_chat(chat_id)?;
        let api_base_url = checked_base_url(&api_base_url)?;
        Ok(Self {
            chat_id,
            api_base_url,
        })
    }

    /// The chat as the Bot API's `chat_id` parameter takes it.
    pub fn chat_param(&self) -> Value {
        match &self.chat_id {
            ChatRef::Id(id) => json!(id),
            ChatRef::Text(name) => json!(name),
        }
    }

    /// The chat as text: the id's digits, or `@username`.
    pub fn chat_text(&self) -> String {
        match &self.chat_id {
            ChatRef::Id(id) => id.to_string(),
            ChatRef::Text(name) => name.clone(),
        }
    }

    /// The numeric chat id, when the configuration gives one.
    pub fn numeric_chat_id(&self) -> Option<i64> {
        match &self.chat_id {
            ChatRef::Id(id) => Some(*id),
            ChatRef::Text(_) => None,
        }
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["chat_id"],
            "properties": {
                "chat_id": {
                    "title": "Chat",
                    "description": "The channel or group to post to: its numeric id (-100…) or a public channel's @username. The bot must be an administrator there.",
                    "oneOf": [
                        { "type": "integer" },
                        { "type": "string", "pattern": "^(-?[0-9]+|@[A-Za-z][A-Za-z0-9_]{4,31})$" }
                    ],
                    "examples": ["@acme_news", -1001234567890i64]
                },
                "api_base_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Bot API server",
                    "description": "Only for a self-hosted Bot API server",
                    "default": DEFAULT_API_BASE_URL
                }
            },
            "additionalProperties": false
        })
    }
}

/// A chat given as text becomes numeric when it is a number; otherwise it
/// must be a channel username (5–32 characters of letters, digits and `_`,
/// starting with a letter: Telegram's username rules).
fn checked_chat(chat: ChatRef) -> Result<ChatRef, PluginError> {
    let text = match chat {
        ChatRef::Id(0) => return Err(PluginError::invalid("chat_id must not be 0")),
        ChatRef::Id(id) => return Ok(ChatRef::Id(id)),
        ChatRef::Text(text) => text.trim().to_owned(),
    };
    if let Ok(id) = text.parse::<i64>() {
        return checked_chat(ChatRef::Id(id));
    }
    let valid = text.strip_prefix('@').is_some_and(|name| {
        (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    });
    if valid {
        Ok(ChatRef::Text(text))
    } else {
        Err(PluginError::invalid(
            "chat_id must be a numeric chat id or a channel username like @acme_news",
        ))
    }
}

/// The base URL without surrounding spaces or trailing slashes, if it is a
/// plain http(s) URL. Plain `http://` passes here; the host refuses it
/// unless its operator marked the host as a local server.
fn checked_base_url(url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("api_base_url {reason}")));
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
