//! The channel configuration: one text channel of one guild (server), the
//! API base URL, and what interactions and timeouts need.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// Discord's HTTP API, version 10 (the current one).
pub const DEFAULT_API_BASE_URL: &str = "https://discord.com/api/v10";

/// How long `mute-author` times a member out unless configured.
pub const DEFAULT_TIMEOUT_MINUTES: u32 = 60;

/// The longest timeout Discord accepts: 28 days ("Modify Guild Member",
/// `communication_disabled_until`).
pub const MAX_TIMEOUT_MINUTES: u32 = 28 * 24 * 60;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    channel_id: String,
    guild_id: String,
    #[serde(default)]
    api_base_url: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    timeout_minutes: Option<u32>,
}

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The text channel posts go to (a snowflake).
    pub channel_id: String,
    /// The guild the channel belongs to, for moderation (a snowflake).
    pub guild_id: String,
    /// The API base, without a trailing slash.
    pub api_base_url: String,
    /// The application's Ed25519 public key (32 bytes), for interactions.
    pub public_key: Option<[u8; 32]>,
    /// How long `mute-author` times a member out.
    pub timeout_minutes: u32,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let raw: RawConfig = parse_config(config)?;
        let channel_id = snowflake("channel_id", &raw.channel_id)?;
        let guild_id = snowflake("guild_id", &raw.guild_id)?;
        let api_base_url = match raw.api_base_url {
            Some(url) => checked_base_url(&url)?,
            None => DEFAULT_API_BASE_URL.to_owned(),
        };
        let public_key = match raw.public_key {
            Some(hex) => Some(
                decode_hex::<32>(hex.trim())
                    .ok_or_else(|| invalid("public_key must be 64 hexadecimal characters"))?,
            ),
            None => None,
        };
        let timeout_minutes = raw.timeout_minutes.unwrap_or(DEFAULT_TIMEOUT_MINUTES);
        if !(1..=MAX_TIMEOUT_MINUTES).contains(&timeout_minutes) {
            return Err(invalid(
                "timeout_minutes must be between 1 and 40320 (28 days)",
            ));
        }
        Ok(Self {
            channel_id,
            guild_id,
            api_base_url,
            public_key,
            timeout_minutes,
        })
    }

    /// The URL of `path` (which starts with `/`) on the API.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api_base_url)
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        let snowflake = |title: &str, description: &str| {
            json!({
                "type": "string",
                "pattern": "^[0-9]{1,20}$",
                "title": title,
                "description": description,
                "examples": ["1176548911040565258"]
            })
        };
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["channel_id", "guild_id"],
            "properties": {
                "channel_id": snowflake(
                    "Channel id",
                    "The text channel to post to (Developer Mode, right-click the channel, Copy Channel ID)"
                ),
                "guild_id": snowflake(
                    "Server id",
                    "The server (guild) the channel belongs to, for moderation"
                ),
                "api_base_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "API base URL",
                    "description": "Discord's HTTP API; change it only for tests",
                    "default": DEFAULT_API_BASE_URL
                },
                "public_key": {
                    "type": "string",
                    "pattern": "^[0-9a-fA-F]{64}$",
                    "title": "Application public key",
                    "description": "From the Developer Portal (General Information); needed to receive interactions"
                },
                "timeout_minutes": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_TIMEOUT_MINUTES,
                    "title": "Timeout length (minutes)",
                    "description": "How long muting an author times them out (at most 28 days)",
                    "default": DEFAULT_TIMEOUT_MINUTES
                }
            },
            "additionalProperties": false
        })
    }
}

fn invalid(reason: &str) -> PluginError {
    PluginError::Invalid(reason.to_owned())
}

/// A snowflake: Discord's ids are unsigned 64-bit integers sent as strings.
fn snowflake(field: &str, value: &str) -> Result<String, PluginError> {
    let value = value.trim();
    if value.parse::<u64>().is_ok() && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(PluginError::Invalid(format!(
            "{field} must be a Discord id (digits only, Developer Mode → Copy ID)"
        )))
    }
}

/// The base URL without surrounding spaces or trailing slashes, if it is a
/// plain http(s) URL. Plain `http://` is accepted here; the host refuses it
/// unless its operator marked the host as a local server.
fn checked_base_url(url: &str) -> Result<String, PluginError> {
    let trimmed = url.trim();
    let (scheme, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err(invalid("api_base_url must start with https://"));
    };
    let rest = rest.trim_end_matches('/');
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(invalid(
            "api_base_url must name a host, without user name or password",
        ));
    }
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return Err(invalid(
            "api_base_url must be a plain URL without query, fragment or spaces",
        ));
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Decodes exactly `N` bytes of hexadecimal text (either case).
pub fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0_u8; N];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let digit = |b: u8| char::from(b).to_digit(16);
        let (high, low) = (digit(*pair.first()?)?, digit(*pair.get(1)?)?);
        *slot = u8::try_from(high * 16 + low).ok()?;
    }
    Some(out)
}
