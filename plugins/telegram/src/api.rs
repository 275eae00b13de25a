//! The Telegram Bot API as this plugin uses it: one method per API method,
//! the objects it reads, and what Bot API errors mean for Plaza.
//!
//! Every call is `POST {api_base_url}/bot<token>/<method>` with a JSON body
//! (uploads: `multipart/form-data`), answered by `{"ok": true, "result": …}`
//! or `{"ok": false, "error_code": …, "description": "…", "parameters":
//! {"retry_after" | "migrate_to_chat_id": …}}` ("Making requests").
//!
//! | method | use |
//! | --- | --- |
//! | `getMe` | the bot behind the token |
//! | `getChat` | the chat's id, title, username, linked discussion group |
//! | `getChatMemberCount` | members (subscribers, for a channel) |
//! | `sendMessage`, `sendPhoto`, `sendVideo`, `sendDocument`, `sendMediaGroup` | posting |
//! | `deleteMessage` | deleting a post or someone's message |
//! | `banChatMember`, `restrictChatMember` | moderation |
//! | `getUpdates` | new messages, from an offset |

use plaza_sdk::http::{HttpError, Request, Response, retry_after_secs};
use plaza_sdk::{PluginError, clock, credentials};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::Config;
use crate::multipart::Form;

/// The credential holding the bot token from @BotFather.
pub const BOT_TOKEN: &str = "bot_token";

/// Update types asked for: new messages and channel posts (edits are not
/// read: an inbox item is what was first said).
pub const ALLOWED_UPDATES: [&str; 2] = ["message", "channel_post"];

/// A Telegram user or bot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// Unique id.
    pub id: i64,
    /// Whether this is a bot.
    #[serde(default)]
    pub is_bot: bool,
    /// First name (always set for users and bots).
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// `@username` without the `@`.
    pub username: Option<String>,
}

impl User {
    /// First and last name.
    pub fn full_name(&self) -> String {
        match &self.last_name {
            Some(last) => format!("{} {last}", self.first_name),
            None => self.first_name.clone(),
        }
    }
}

/// A chat: private, group, supergroup or channel (`Chat`, and the fields of
/// `ChatFullInfo` that `getChat` adds).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Chat {
    /// Unique id; `-100…` for supergroups and channels.
    pub id: i64,
    /// `private`, `group`, `supergroup` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Title of groups and channels.
    pub title: Option<String>,
    /// Public username without the `@`.
    pub username: Option<String>,
    /// First name of the other party in a private chat.
    pub first_name: Option<String>,
    /// A channel's discussion group, or a group's channel (`getChat` only).
    pub linked_chat_id: Option<i64>,
}

/// A special entity in a text: `mention` (`@username`), `text_mention` (a
/// user without username, given in `user`), links, formatting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageEntity {
    /// The entity's type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Offset in UTF-16 code units.
    pub offset: usize,
    /// Length in UTF-16 code units.
    pub length: usize,
    /// For `text_mention`: the user mentioned.
    pub user: Option<User>,
}

/// Where a forwarded message came from (`MessageOrigin`); a channel post
/// copied into its discussion group has type `channel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageOrigin {
    /// `user`, `hidden_user`, `chat` or `channel`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The channel, for `channel` origins.
    pub chat: Option<Chat>,
    /// The message id in that channel.
    pub message_id: Option<i64>,
}

/// A message or channel post.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    /// Unique inside its chat.
    pub message_id: i64,
    /// The forum topic or the discussion thread it belongs to.
    pub message_thread_id: Option<i64>,
    /// Its sender; empty for channel posts.
    pub from: Option<User>,
    /// The chat it was sent on behalf of (channel posts, anonymous admins,
    /// channel posts copied into the discussion group).
    pub sender_chat: Option<Chat>,
    /// Unix time.
    #[serde(default)]
    pub date: i64,
    /// The chat it belongs to.
    pub chat: Chat,
    /// Where a forwarded message came from.
    pub forward_origin: Option<MessageOrigin>,
    /// A channel post copied into the channel's discussion group.
    #[serde(default)]
    pub is_automatic_forward: bool,
    /// The message it replies to.
    pub reply_to_message: Option<Box<Message>>,
    /// Text of text messages.
    pub text: Option<String>,
    /// Entities of `text`.
    #[serde(default)]
    pub entities: Vec<MessageEntity>,
    /// Caption of media messages.
    pub caption: Option<String>,
    /// Entities of `caption`.
    #[serde(default)]
    pub caption_entities: Vec<MessageEntity>,
}

impl Message {
    /// The text or caption, with its entities.
    pub fn body(&self) -> (&str, &[MessageEntity]) {
        match (&self.text, &self.caption) {
            (Some(text), _) => (text, &self.entities),
            (None, Some(caption)) => (caption, &self.caption_entities),
            (None, None) => ("", &[]),
        }
    }
}

/// One incoming update (`Update`): at most one of its optional fields is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Update {
    /// Sequential id; `getUpdates` confirms everything below its offset.
    pub update_id: i64,
    /// A new message in a private chat or a group.
    pub message: Option<Message>,
    /// A new channel post.
    pub channel_post: Option<Message>,
}

impl Update {
    /// The message the update carries, if it is one of the kinds read here.
    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref().or(self.channel_post.as_ref())
    }
}

/// The `{ok, result | error_code, description, parameters}` envelope.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    ok: bool,
    result: Option<Value>,
    error_code: Option<u16>,
    description: Option<String>,
    #[serde(default)]
    parameters: Parameters,
}

/// `ResponseParameters`: how to handle an error automatically.
#[derive(Debug, Default, Deserialize)]
struct Parameters {
    retry_after: Option<u64>,
    migrate_to_chat_id: Option<i64>,
}

/// A failed send: whether Telegram refused it, or the outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Telegram answered with an error, or the request never left: nothing
    /// was sent.
    Refused(PluginError),
    /// No usable answer came back (a timeout, an answer too large or not
    /// understood): the message may have been sent.
    Unknown(PluginError),
}

impl From<SendError> for PluginError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Refused(error) | SendError::Unknown(error) => error,
        }
    }
}

/// A request body: JSON, or a multipart form for uploads.
#[derive(Debug, Clone)]
pub enum Body {
    /// A JSON object of parameters.
    Json(Value),
    /// Parameters and files.
    Multipart(Form),
}

/// A client for one channel: its configuration and its bot token.
#[derive(Debug)]
pub struct Api {
    config: Config,
    token: String,
}

impl Api {
    /// A client for the channel; a missing token is `Unauthorized`.
    pub fn connect(channel: &plaza_sdk::Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let token = credentials::require(BOT_TOKEN)?;
        Ok(Self { config, token })
    }

    /// The channel's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `{api_base_url}/bot<token>/<method>`.
    pub fn method_url(&self, method: &str) -> String {
        format!("{}/bot{}/{method}", self.config.api_base_url, self.token)
    }

    /// `getMe`.
    pub fn get_me(&self) -> Result<User, PluginError> {
        self.call("getMe", &json!({}))
    }

    /// `getChat`.
    pub fn get_chat(&self, chat_id: &Value) -> Result<Chat, PluginError> {
        self.call("getChat", &json!({ "chat_id": chat_id }))
    }

    /// `getChatMemberCount`.
    pub fn member_count(&self, chat_id: &Value) -> Result<u64, PluginError> {
        self.call("getChatMemberCount", &json!({ "chat_id": chat_id }))
    }

    /// `deleteMessage`.
    pub fn delete_message(&self, chat_id: i64, message_id: i64) -> Result<(), PluginError> {
        let _: bool = self.call(
            "deleteMessage",
            &json!({ "chat_id": chat_id, "message_id": message_id }),
        )?;
        Ok(())
    }

    /// `banChatMember`: removed from the chat and unable to come back
    /// (until unbanned), without deleting their past messages.
    pub fn ban(&self, chat_id: i64, user_id: i64) -> Result<(), PluginError> {
        let _: bool = self.call(
            "banChatMember",
            &json!({ "chat_id": chat_id, "user_id": user_id }),
        )?;
        Ok(())
    }

    /// `restrictChatMember` with every sending permission off, for good
    /// (no `until_date`); supergroups only.
    pub fn mute(&self, chat_id: i64, user_id: i64) -> Result<(), PluginError> {
        let permissions = json!({
            "can_send_messages": false,
            "can_send_audios": false,
            "can_send_documents": false,
            "can_send_photos": false,
            "can_send_videos": false,
            "can_send_video_notes": false,
            "can_send_voice_notes": false,
            "can_send_polls": false,
            "can_send_other_messages": false,
            "can_add_web_page_previews": false
        });
        let _: bool = self.call(
            "restrictChatMember",
            &json!({
                "chat_id": chat_id,
                "user_id": user_id,
                "permissions": permissions,
                "use_independent_chat_permissions": true
            }),
        )?;
        Ok(())
    }

    /// `getUpdates` from `offset` (confirming every update below it), short
    /// polling (`timeout` 0): a plugin call must not hang on a long poll.
    pub fn get_updates(&self, offset: Option<i64>, limit: u32) -> Result<Vec<Update>, PluginError> {
        let mut params = serde_json::Map::new();
        if let Some(offset) = offset {
            params.insert("offset".into(), json!(offset));
        }
        params.insert("limit".into(), json!(limit.clamp(1, 100)));
        params.insert("timeout".into(), json!(0));
        params.insert("allowed_updates".into(), json!(ALLOWED_UPDATES));
        self.call("getUpdates", &Value::Object(params))
    }

    /// A method with JSON parameters, answering its `result`.
    pub fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &Value,
    ) -> Result<T, PluginError> {
        Ok(self.send(method, Body::Json(params.clone()))?)
    }

    /// A method that sends something: failures say whether it may have gone
    /// out ([`SendError`]).
    pub fn send<T: DeserializeOwned>(&self, method: &str, body: Body) -> Result<T, SendError> {
        let request = Request::post(self.method_url(method)).header("Accept", "application/json");
        let request = match body {
            Body::Json(params) => request.json(&params).map_err(SendError::Refused)?,
            Body::Multipart(form) => {
                let (content_type, bytes) = form.finish(clock::now_ms());
                request.header("Content-Type", content_type).bytes(bytes)
            }
        };
        let response = request.send().map_err(|error| match error {
            HttpError::Timeout | HttpError::TooLarge => SendError::Unknown(error.into()),
            other => SendError::Refused(other.into()),
        })?;
        result(&response)
    }
}

/// The `result` of a successful answer. A 2xx whose body is not the
/// envelope, or whose result does not fit, may still have done its work:
/// [`SendError::Unknown`].
fn result<T: DeserializeOwned>(response: &Response) -> Result<T, SendError> {
    let envelope = serde_json::from_slice::<Envelope>(&response.body).ok();
    match envelope {
        Some(Envelope {
            ok: true,
            result: Some(result),
            ..
        }) if response.is_success() => serde_json::from_value(result).map_err(|error| {
            SendError::Unknown(PluginError::transient(format!(
                "unexpected answer from Telegram: {error}"
            )))
        }),
        _ if response.is_success() && envelope.as_ref().is_none_or(|e| e.ok) => {
            Err(SendError::Unknown(PluginError::transient(format!(
                "unexpected answer from Telegram (HTTP {})",
                response.status
            ))))
        }
        _ => Err(SendError::Refused(telegram_error(response))),
    }
}

/// What a Bot API error means for Plaza. The envelope's `error_code`
/// (which mirrors the HTTP status) and `description` decide; a body that is
/// not the envelope (a proxy's page) falls back to the HTTP status.
///
/// | answer | error |
/// | --- | --- |
/// | 429 `Too Many Requests: retry after N` | `RateLimited(parameters.retry_after`, else `Retry-After`) |
/// | 401 `Unauthorized` | `Unauthorized`: the token was revoked or is wrong |
/// | 404 `Not Found` | `Unauthorized`: the Bot API answers 404 to a malformed token (every method this plugin calls exists) |
/// | 403 `Forbidden: …` | `Invalid` (with other 4xx): the token is fine but the bot may not act there (not a member, not an admin, blocked); people must fix it |
/// | 400 `… message to delete not found`, `message to edit not found`, `MESSAGE_ID_INVALID` | `NotFound` |
/// | 400 with `migrate_to_chat_id` | `Invalid`, naming the supergroup's new id for the configuration |
/// | 409 `Conflict: can't use getUpdates method while webhook is active` | `Invalid`: updates go to the webhook |
/// | 409 `Conflict: terminated by other long poll or webhook` | `Transient`: another reader polled at the same time |
/// | other 4xx | `Invalid` with the description |
/// | 5xx, anything else | `Transient` |
pub fn telegram_error(response: &Response) -> PluginError {
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&response.body) else {
        return plaza_sdk::http::error_for_response(response);
    };
    let code = envelope.error_code.unwrap_or(response.status);
    let description: String = envelope
        .description
        .unwrap_or_else(|| format!("HTTP {code}"))
        .chars()
        .take(300)
        .collect();
    let lower = description.to_ascii_lowercase();
    if code == 429 || response.status == 429 {
        let from_header = response
            .header("retry-after")
            .and_then(|value| retry_after_secs(value, clock::now_ms()));
        let from_body = envelope
            .parameters
            .retry_after
            .map(|secs| u32::try_from(secs).unwrap_or(u32::MAX));
        return PluginError::RateLimited(from_body.or(from_header));
    }
    if let Some(new_id) = envelope.parameters.migrate_to_chat_id {
        return PluginError::Invalid(format!(
            "{description}: the group is now the supergroup {new_id}; set chat_id to {new_id}"
        ));
    }
    match code {
        401 => PluginError::Unauthorized(description),
        404 => PluginError::Unauthorized(format!(
            "{description}: Telegram does not recognise the bot token"
        )),
        409 if lower.contains("webhook is active") => PluginError::Invalid(format!(
            "{description}. A webhook is set for this bot, so Telegram delivers updates only \
             there: remove it (deleteWebhook) to read updates from Plaza, or let Plaza's webhook \
             receive them"
        )),
        409 => PluginError::Transient(description),
        400 if lower.contains("message to delete not found")
            || lower.contains("message to edit not found")
            || lower.contains("message_id_invalid") =>
        {
            PluginError::NotFound
        }
        400..=499 => PluginError::Invalid(description),
        _ => PluginError::Transient(format!("HTTP {code}: {description}")),
    }
}
