//! Per-post options: embeds, the thread's name, silent messages and who
//! may be pinged. Limits are Discord's ("Message Resource", Create Message;
//! "Embed Limits").

use plaza_sdk::{PluginError, Post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Most embeds in one message.
pub const MAX_EMBEDS: usize = 10;
/// Most characters across every embed's title, description, field names
/// and values, footer text and author name.
pub const MAX_EMBED_CHARS: usize = 6_000;
/// Longest thread name.
pub const MAX_THREAD_NAME: usize = 100;
/// `SUPPRESS_NOTIFICATIONS`: the message pings nobody's device.
pub const FLAG_SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;

/// A rich embed, as Discord takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Embed {
    /// Up to 256 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Up to 4096 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The title links here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The colour bar, `0xRRGGBB` as an integer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<u32>,
    /// An image shown in the embed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Link>,
    /// A small image at the side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<Link>,
    /// Footer text, up to 2048 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
    /// Up to 25 fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// An image by URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// http(s) URL.
    pub url: String,
}

/// An embed's footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Footer {
    /// Up to 2048 characters.
    pub text: String,
}

/// An embed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Up to 256 characters.
    pub name: String,
    /// Up to 1024 characters.
    pub value: String,
    /// Shown side by side with other inline fields.
    #[serde(default)]
    pub inline: bool,
}

impl Embed {
    /// The characters that count towards [`MAX_EMBED_CHARS`].
    fn counted_chars(&self) -> usize {
        let text = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        text(&self.title)
            + text(&self.description)
            + self.footer.as_ref().map_or(0, |f| f.text.chars().count())
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }
}

/// The options a post may carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostOptions {
    /// Embeds sent with the message.
    #[serde(default)]
    pub embeds: Vec<Embed>,
    /// The name of the thread follow-ups go into (else the first line of
    /// the first part).
    #[serde(default)]
    pub thread_name: Option<String>,
    /// Sent without notifications (`@silent`).
    #[serde(default)]
    pub silent: bool,
    /// Whether `@everyone` and `@here` in the text ping; off by default so
    /// a pasted text never pings a whole server.
    #[serde(default)]
    pub mention_everyone: bool,
}

impl PostOptions {
    /// The post's options, checked beyond the schema (the total embed size).
    pub fn of(post: &Post) -> Result<Self, PluginError> {
        let options: Self = post.parse_options()?;
        if options.embeds.len() > MAX_EMBEDS {
            return Err(PluginError::Invalid(format!(
                "a message carries at most {MAX_EMBEDS} embeds"
            )));
        }
        let total: usize = options.embeds.iter().map(Embed::counted_chars).sum();
        if total > MAX_EMBED_CHARS {
            return Err(PluginError::Invalid(format!(
                "embeds may hold at most {MAX_EMBED_CHARS} characters together, these hold {total}"
            )));
        }
        Ok(options)
    }

    /// `allowed_mentions`: users and roles named in the text are pinged,
    /// `@everyone` only when asked.
    pub fn allowed_mentions(&self) -> Value {
        let mut parse = vec!["users", "roles"];
        if self.mention_everyone {
            parse.push("everyone");
        }
        json!({ "parse": parse })
    }

    /// The message flags these options set.
    pub fn flags(&self) -> u64 {
        if self.silent {
            FLAG_SUPPRESS_NOTIFICATIONS
        } else {
            0
        }
    }
}

/// The thread name for a post: the option, else the text's first line,
/// cut to [`MAX_THREAD_NAME`] characters.
pub fn thread_name(options: &PostOptions, text: &str) -> String {
    let name = options
        .thread_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .or_else(|| text.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("Thread");
    name.chars().take(MAX_THREAD_NAME).collect()
}

/// The JSON Schema of [`PostOptions`].
pub fn schema() -> Value {
    let text = |max: u32| json!({ "type": "string", "minLength": 1, "maxLength": max });
    let link = json!({
        "type": "object",
        "required": ["url"],
        "properties": { "url": { "type": "string", "format": "uri", "pattern": "^https?://" } },
        "additionalProperties": false
    });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "embeds": {
                "type": "array",
                "maxItems": MAX_EMBEDS,
                "title": "Embeds",
                "items": {
                    "type": "object",
                    "properties": {
                        "title": text(256),
                        "description": text(4096),
                        "url": { "type": "string", "format": "uri", "pattern": "^https?://" },
                        "color": { "type": "integer", "minimum": 0, "maximum": 0x00FF_FFFF },
                        "image": link,
                        "thumbnail": link,
                        "footer": {
                            "type": "object",
                            "required": ["text"],
                            "properties": { "text": text(2048) },
                            "additionalProperties": false
                        },
                        "fields": {
                            "type": "array",
                            "maxItems": 25,
                            "items": {
                                "type": "object",
                                "required": ["name", "value"],
                                "properties": {
                                    "name": text(256),
                                    "value": text(1024),
                                    "inline": { "type": "boolean" }
                                },
                                "additionalProperties": false
                            }
                        }
                    },
                    "additionalProperties": false
                }
            },
            "thread_name": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_THREAD_NAME,
                "title": "Thread name",
                "description": "Follow-ups go into a thread with this name (default: the first line of the post)"
            },
            "silent": {
                "type": "boolean",
                "title": "Silent",
                "description": "Send without push notifications"
            },
            "mention_everyone": {
                "type": "boolean",
                "title": "Allow @everyone",
                "description": "Let @everyone and @here in the text ping the server"
            }
        },
        "additionalProperties": false
    })
}
