//! Interactions delivered to an outgoing webhook ("Interactions
//! Endpoint URL"): Ed25519 verification and what each type means.
//!
//! Discord signs `timestamp + body` with the application's key and sends
//! `X-Signature-Ed25519` (hex) and `X-Signature-Timestamp`; an endpoint
//! must refuse a bad signature with 401 ("Security and Authorization") and
//! answer a PING (type 1) with a PONG (type 1).

use ed25519_dalek::{Signature, VerifyingKey};
use plaza_sdk::http::Response;
use plaza_sdk::{Author, Item, ItemKind, PluginError, WebhookOutcome, WebhookRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::User;
use crate::config::decode_hex;
use crate::snowflake_time;

/// The oldest (or most future) timestamp accepted, in seconds from now:
/// a captured request cannot be replayed later. Discord does not document
/// a window; its requests arrive within seconds.
pub const MAX_SKEW_SECS: u64 = 300;

/// `EPHEMERAL`: only the user who invoked sees the answer.
const FLAG_EPHEMERAL: u64 = 1 << 6;

/// What a command or modal gets back at once: Discord fails an interaction
/// not answered within three seconds, and the team answers later.
pub const ACKNOWLEDGEMENT: &str = "Thanks! Your message reached the team.";

/// Checks the signature and the timestamp's freshness against the
/// application's public key.
pub fn verify(
    public_key: &[u8; 32],
    request: &WebhookRequest,
    now_ms: u64,
) -> Result<(), PluginError> {
    let refuse = |reason: &str| Err(PluginError::Unauthorized(reason.to_owned()));
    let (Some(signature), Some(timestamp)) = (
        request.header("x-signature-ed25519"),
        request.header("x-signature-timestamp"),
    ) else {
        return refuse("missing X-Signature-Ed25519 or X-Signature-Timestamp");
    };
    let Some(signature) = decode_hex::<64>(signature.trim()) else {
        return refuse("X-Signature-Ed25519 is not 128 hexadecimal characters");
    };
    let Ok(sent_at) = timestamp.trim().parse::<u64>() else {
        return refuse("X-Signature-Timestamp is not a Unix time");
    };
    if sent_at.abs_diff(now_ms / 1000) > MAX_SKEW_SECS {
        return refuse("X-Signature-Timestamp is too far from now (a replay?)");
    }
    let key = VerifyingKey::from_bytes(public_key)
        .map_err(|_| PluginError::Invalid("public_key is not a valid Ed25519 public key".into()))?;
    let mut signed = timestamp.as_bytes().to_vec();
    signed.extend_from_slice(&request.body);
    key.verify_strict(&signed, &Signature::from_bytes(&signature))
        .or_else(|_| refuse("the signature does not match"))
}

#[derive(Debug, Deserialize)]
struct Interaction {
    id: String,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    guild_id: Option<String>,
    /// In a guild: the member, with its user.
    #[serde(default)]
    member: Option<Member>,
    /// In a DM: the user.
    #[serde(default)]
    user: Option<User>,
}

#[derive(Debug, Deserialize)]
struct Member {
    user: User,
    #[serde(default)]
    nick: Option<String>,
}

/// What an interaction means: a PING wants a PONG; a slash command or a
/// modal becomes an inbox item (answered with a private acknowledgement);
/// a button press is acknowledged without change, an autocomplete gets no
/// suggestions.
pub fn parse(request: &WebhookRequest) -> Result<WebhookOutcome, PluginError> {
    let interaction: Interaction = serde_json::from_slice(&request.body)
        .map_err(|error| PluginError::Invalid(format!("not an interaction: {error}")))?;
    let answer = |body: Value| Response::json_body(200, &body);
    match interaction.kind {
        1 => Ok(WebhookOutcome::default().reply(answer(json!({ "type": 1 })))),
        2 | 5 => {
            let item = item(&interaction);
            let ack = json!({
                "type": 4,
                "data": { "content": ACKNOWLEDGEMENT, "flags": FLAG_EPHEMERAL }
            });
            Ok(WebhookOutcome::items(vec![item]).reply(answer(ack)))
        }
        3 => Ok(WebhookOutcome::default().reply(answer(json!({ "type": 6 })))),
        4 => Ok(WebhookOutcome::default()
            .reply(answer(json!({ "type": 8, "data": { "choices": [] } })))),
        other => Err(PluginError::Invalid(format!(
            "unknown interaction type {other}"
        ))),
    }
}

/// A command or modal as an inbox item: `/name option=value ...`, or the
/// modal's answers line by line.
fn item(interaction: &Interaction) -> Item {
    let (user, nick) = match (&interaction.member, &interaction.user) {
        (Some(member), _) => (member.user.clone(), member.nick.clone()),
        (None, Some(user)) => (user.clone(), None),
        (None, None) => (User::default(), None),
    };
    let author = Author {
        remote_id: user.id.clone(),
        handle: user.username.clone(),
        display_name: nick.or(user.global_name),
        followers: None,
    };
    let text = if interaction.kind == 2 {
        command_text(&interaction.data)
    } else {
        modal_text(&interaction.data)
    };
    let created_at = snowflake_time(&interaction.id);
    let mut item = Item::new(
        ItemKind::Mention,
        format!("interaction:{}", interaction.id),
        author,
        text,
        created_at,
    );
    item.thread_id.clone_from(&interaction.channel_id);
    if let (Some(guild), Some(channel)) = (&interaction.guild_id, &interaction.channel_id) {
        item.url = Some(format!("https://discord.com/channels/{guild}/{channel}"));
    }
    item
}

fn command_text(data: &Value) -> String {
    let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut text = format!("/{name}");
    let mut options: Vec<&Value> = data
        .get("options")
        .and_then(Value::as_array)
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    // Subcommands nest their options one level down.
    while let Some(option) = options.first().copied() {
        options.remove(0);
        let option_name = option.get("name").and_then(Value::as_str).unwrap_or("?");
        match option.get("value") {
            Some(Value::String(value)) => text.push_str(&format!(" {option_name}={value}")),
            Some(value) => text.push_str(&format!(" {option_name}={value}")),
            None => {
                text.push_str(&format!(" {option_name}"));
                if let Some(nested) = option.get("options").and_then(Value::as_array) {
                    options.splice(0..0, nested.iter());
                }
            }
        }
    }
    text
}

fn modal_text(data: &Value) -> String {
    let mut values = Vec::new();
    collect_values(data.get("components").unwrap_or(&Value::Null), &mut values);
    values.join("\n")
}

/// The `value`s of text inputs, however deeply the rows nest them.
fn collect_values(components: &Value, values: &mut Vec<String>) {
    for component in components.as_array().into_iter().flatten() {
        if let Some(value) = component.get("value").and_then(Value::as_str) {
            values.push(value.to_owned());
        }
        for key in ["components", "component"] {
            if let Some(nested) = component.get(key) {
                let list = if nested.is_array() {
                    nested.clone()
                } else {
                    Value::Array(vec![nested.clone()])
                };
                collect_values(&list, values);
            }
        }
    }
}
