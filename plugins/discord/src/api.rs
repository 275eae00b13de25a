//! Discord's HTTP API (v10) as this plugin uses it: one method per
//! endpoint, the rate-limit headers, and what Discord's errors mean for
//! Plaza.
//!
//! | endpoint | use |
//! | --- | --- |
//! | `GET /users/@me` | the bot behind the token |
//! | `GET /channels/{channel.id}` | the configured channel (its guild) |
//! | `GET /guilds/{guild.id}?with_counts=true` | member counts |
//! | `POST /channels/{channel.id}/messages` | send a message (JSON, or multipart with `files[n]`) |
//! | `GET /channels/{channel.id}/messages` | a channel's or thread's messages, by `after`/`before` |
//! | `GET /channels/{channel.id}/messages/{message.id}` | one message |
//! | `DELETE /channels/{channel.id}/messages/{message.id}` | delete a message |
//! | `POST /channels/{channel.id}/messages/{message.id}/threads` | start a thread from a message |
//! | `PATCH /guilds/{guild.id}/members/{user.id}` | time a member out |
//! | `PUT /guilds/{guild.id}/bans/{user.id}` | ban a member |
//!
//! Every call carries `Authorization: Bot <token>` and the `User-Agent`
//! Discord asks bots to send (`DiscordBot ($url, $versionNumber)`).

use std::cell::RefCell;
use std::collections::HashMap;

use plaza_sdk::http::{Request, Response, encode_component, retry_after_secs};
use plaza_sdk::{Channel, PluginError, clock, credentials, log};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;

/// The credential holding the bot's token (Developer Portal, Bot, Reset Token).
pub const BOT_TOKEN: &str = "bot_token";

/// JSON error code: a thread was already started from this message.
pub const THREAD_ALREADY_CREATED: i64 = 160_004;

/// A Discord user (`author`, `mentions[]`, `/users/@me`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    /// Snowflake.
    pub id: String,
    /// The unique handle.
    #[serde(default)]
    pub username: String,
    /// The display name, when the user set one.
    #[serde(default)]
    pub global_name: Option<String>,
    /// Whether the account is a bot.
    #[serde(default)]
    pub bot: Option<bool>,
}

/// Where a reply points (`message_reference`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MessageReference {
    /// The message answered.
    #[serde(default)]
    pub message_id: Option<String>,
    /// Its channel.
    #[serde(default)]
    pub channel_id: Option<String>,
}

/// A message as the API serves it (the fields this plugin reads).
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Snowflake.
    pub id: String,
    /// The channel or thread it is in.
    pub channel_id: String,
    /// Who sent it.
    #[serde(default)]
    pub author: User,
    /// Its text.
    #[serde(default)]
    pub content: String,
    /// When it was sent, ISO 8601.
    #[serde(default)]
    pub timestamp: String,
    /// Users it mentions.
    #[serde(default)]
    pub mentions: Vec<User>,
    /// The nonce it was sent with (an integer or a string), when shown.
    #[serde(default)]
    pub nonce: Option<Value>,
    /// Message type: 0 default, 19 reply, others are system messages.
    #[serde(default, rename = "type")]
    pub kind: u8,
    /// What it replies to.
    #[serde(default)]
    pub message_reference: Option<MessageReference>,
}

impl Message {
    /// The snowflake as a number (0 when it does not parse).
    pub fn snowflake(&self) -> u64 {
        self.id.parse().unwrap_or(0)
    }

    /// The nonce as text, whichever JSON type it came as.
    pub fn nonce_text(&self) -> Option<String> {
        match self.nonce.as_ref()? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }

    /// The id of the message this one replies to.
    pub fn replied_to(&self) -> Option<&str> {
        self.message_reference.as_ref()?.message_id.as_deref()
    }

    /// Whether people wrote it: default messages and replies, not system
    /// messages (thread created, member joined, pins...).
    pub fn is_conversation(&self) -> bool {
        matches!(self.kind, 0 | 19)
    }
}

/// A channel or thread (`GET /channels/{id}`, a started thread).
#[derive(Debug, Clone, Deserialize)]
pub struct ChannelInfo {
    /// Snowflake; a thread started from a message has the message's id.
    pub id: String,
    /// The guild it belongs to.
    #[serde(default)]
    pub guild_id: Option<String>,
}

/// A guild with its approximate counts.
#[derive(Debug, Clone, Deserialize)]
pub struct Guild {
    /// Snowflake.
    pub id: String,
    /// Approximate member count (`with_counts=true`).
    #[serde(default)]
    pub approximate_member_count: Option<u64>,
    /// Approximate count of members online.
    #[serde(default)]
    pub approximate_presence_count: Option<u64>,
}

/// Discord's rate-limit headers, on every answer ("Rate Limits", header
/// format).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed in the bucket's window.
    pub limit: Option<u32>,
    /// `X-RateLimit-Remaining`: requests left in this window.
    pub remaining: Option<u32>,
    /// `X-RateLimit-Reset`: epoch seconds (with decimals) when it resets.
    pub reset: Option<f64>,
    /// `X-RateLimit-Reset-After`: seconds (with decimals) until it resets.
    pub reset_after: Option<f64>,
    /// `X-RateLimit-Bucket`: the bucket's opaque id.
    pub bucket: Option<String>,
    /// `X-RateLimit-Global`: the global limit was hit (429 only).
    pub global: bool,
    /// `X-RateLimit-Scope`: `user`, `global` or `shared` (429 only).
    pub scope: Option<String>,
}

impl RateLimit {
    /// Reads the headers of a response; absent or malformed ones are `None`.
    pub fn from_response(response: &Response) -> Self {
        let number = |name: &str| {
            response
                .header(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let count = |name: &str| response.header(name).and_then(|v| v.trim().parse().ok());
        Self {
            limit: count("x-ratelimit-limit"),
            remaining: count("x-ratelimit-remaining"),
            reset: number("x-ratelimit-reset"),
            reset_after: number("x-ratelimit-reset-after"),
            bucket: response.header("x-ratelimit-bucket").map(str::to_owned),
            global: response
                .header("x-ratelimit-global")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
            scope: response.header("x-ratelimit-scope").map(str::to_owned),
        }
    }

    /// Whether the bucket is used up until it resets.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Whole seconds until the bucket resets, rounded up.
    pub fn reset_after_secs(&self) -> Option<u32> {
        self.reset_after.map(ceil_secs)
    }
}

/// Seconds with decimals, rounded up to whole seconds (at least the value,
/// never early).
pub fn ceil_secs(secs: f64) -> u32 {
    if secs.is_nan() || secs <= 0.0 {
        return 0;
    }
    let rounded = secs.ceil();
    if rounded >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        // In range and whole: the cast is exact.
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "checked to be a whole number in 0..u32::MAX"
        )]
        let whole = rounded as u32;
        whole
    }
}

/// A client for one channel: its configuration and its bot token.
#[derive(Debug)]
pub struct Api {
    /// The channel's configuration.
    pub config: Config,
    token: String,
    /// Routes whose bucket this call used up: route → seconds to wait.
    exhausted: RefCell<HashMap<String, u32>>,
}

impl Api {
    /// A client for the channel; a missing token is `Unauthorized`.
    pub fn connect(channel: &Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let token = credentials::require(BOT_TOKEN)?;
        Ok(Self {
            config,
            token,
            exhausted: RefCell::new(HashMap::new()),
        })
    }

    fn channel_url(channel_id: &str, rest: &str) -> String {
        format!("/channels/{}{rest}", encode_component(channel_id))
    }

    /// `GET /users/@me`: the bot.
    pub fn me(&self) -> Result<User, PluginError> {
        self.send(Request::get(self.config.url("/users/@me")))?
            .json()
    }

    /// `GET /channels/{id}`.
    pub fn channel(&self, channel_id: &str) -> Result<ChannelInfo, PluginError> {
        let url = self.config.url(&Self::channel_url(channel_id, ""));
        self.send(Request::get(url))?.json()
    }

    /// `GET /guilds/{id}?with_counts=true`.
    pub fn guild(&self) -> Result<Guild, PluginError> {
        let url = self.config.url(&format!(
            "/guilds/{}",
            encode_component(&self.config.guild_id)
        ));
        self.send(Request::get(url).query("with_counts", "true"))?
            .json()
    }

    /// `POST /channels/{id}/messages` with a JSON body.
    pub fn create_message(&self, channel_id: &str, body: &Value) -> Result<Message, PluginError> {
        let url = self.config.url(&Self::channel_url(channel_id, "/messages"));
        self.send(Request::post(url).json(body)?)?.json()
    }

    /// `POST /channels/{id}/messages` as `multipart/form-data`:
    /// `payload_json` and the files as `files[n]` ("Uploading Files").
    pub fn create_message_with_files(
        &self,
        channel_id: &str,
        body: &Value,
        files: &[FilePart],
        boundary: &str,
    ) -> Result<Message, PluginError> {
        let url = self.config.url(&Self::channel_url(channel_id, "/messages"));
        let (content_type, bytes) = multipart(body, files, boundary);
        let request = Request::post(url)
            .header("Content-Type", content_type)
            .bytes(bytes);
        self.send(request)?.json()
    }

    /// `GET /channels/{id}/messages`: up to `limit` (1–100) messages right
    /// after `after`, or right before `before`, or the newest. Discord
    /// answers newest first; this answers oldest first.
    pub fn messages(
        &self,
        channel_id: &str,
        after: Option<&str>,
        before: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Message>, PluginError> {
        let url = self.config.url(&Self::channel_url(channel_id, "/messages"));
        let mut request = Request::get(url).query("limit", limit.clamp(1, 100));
        if let Some(after) = after {
            request = request.query("after", after);
        }
        if let Some(before) = before {
            request = request.query("before", before);
        }
        let mut messages: Vec<Message> = self.send(request)?.json()?;
        messages.sort_by_key(Message::snowflake);
        Ok(messages)
    }

    /// `GET /channels/{id}/messages/{id}`.
    pub fn message(&self, channel_id: &str, message_id: &str) -> Result<Message, PluginError> {
        let url = self.config.url(&Self::channel_url(
            channel_id,
            &format!("/messages/{}", encode_component(message_id)),
        ));
        self.send(Request::get(url))?.json()
    }

    /// `DELETE /channels/{id}/messages/{id}`: 204 when deleted.
    pub fn delete_message(
        &self,
        channel_id: &str,
        message_id: &str,
        reason: &str,
    ) -> Result<(), PluginError> {
        let url = self.config.url(&Self::channel_url(
            channel_id,
            &format!("/messages/{}", encode_component(message_id)),
        ));
        self.send(Request::delete(url).header("X-Audit-Log-Reason", encode_component(reason)))?;
        Ok(())
    }

    /// `POST /channels/{id}/messages/{id}/threads`: the thread's id, which
    /// is the message's. A thread already started from the message is
    /// reused.
    pub fn start_thread(
        &self,
        channel_id: &str,
        message_id: &str,
        name: &str,
    ) -> Result<String, PluginError> {
        let url = self.config.url(&Self::channel_url(
            channel_id,
            &format!("/messages/{}/threads", encode_component(message_id)),
        ));
        // Archived after a day without messages: Discord's default for new threads.
        let body = json!({ "name": name, "auto_archive_duration": 1440 });
        let response = self.send_raw(Request::post(url).json(&body)?)?;
        if response.status == 400 && error_code(&response) == Some(THREAD_ALREADY_CREATED) {
            return Ok(message_id.to_owned());
        }
        let thread: ChannelInfo = check(response)?.json()?;
        Ok(thread.id)
    }

    /// `PATCH /guilds/{id}/members/{id}` with `communication_disabled_until`.
    pub fn timeout_member(
        &self,
        user_id: &str,
        until_rfc3339: &str,
        reason: &str,
    ) -> Result<(), PluginError> {
        let url = self.config.url(&format!(
            "/guilds/{}/members/{}",
            encode_component(&self.config.guild_id),
            encode_component(user_id)
        ));
        let body = json!({ "communication_disabled_until": until_rfc3339 });
        self.send(
            Request::patch(url)
                .header("X-Audit-Log-Reason", encode_component(reason))
                .json(&body)?,
        )?;
        Ok(())
    }

    /// `PUT /guilds/{id}/bans/{id}`, deleting none of their messages.
    pub fn ban_member(&self, user_id: &str, reason: &str) -> Result<(), PluginError> {
        let url = self.config.url(&format!(
            "/guilds/{}/bans/{}",
            encode_component(&self.config.guild_id),
            encode_component(user_id)
        ));
        let body = json!({ "delete_message_seconds": 0 });
        self.send(
            Request::put(url)
                .header("X-Audit-Log-Reason", encode_component(reason))
                .json(&body)?,
        )?;
        Ok(())
    }

    /// Sends and maps any unsuccessful answer to its [`PluginError`].
    fn send(&self, request: Request) -> Result<Response, PluginError> {
        check(self.send_raw(request)?)
    }

    /// Sends with the bot's credentials. A route whose bucket an earlier
    /// request of this call used up is not asked again before it resets:
    /// that would only earn a 429 (and repeated 429s earn a ban from
    /// Cloudflare, per "Invalid Request Limit").
    fn send_raw(&self, request: Request) -> Result<Response, PluginError> {
        let route = route_key(&request);
        if let Some(wait) = self.exhausted.borrow().get(&route) {
            log::debug(format!("{route}: bucket used up, waiting {wait}s"));
            return Err(PluginError::RateLimited(Some(*wait)));
        }
        let response = request
            .header("Authorization", format!("Bot {}", self.token))
            .header(
                "User-Agent",
                concat!(
                    "DiscordBot (https://github.com/plaza-social/plaza, ",
                    env!("CARGO_PKG_VERSION"),
                    ")"
                ),
            )
            .send()?;
        let limit = RateLimit::from_response(&response);
        if limit.exhausted() {
            let wait = limit.reset_after_secs().unwrap_or(1).max(1);
            self.exhausted.borrow_mut().insert(route, wait);
        }
        Ok(response)
    }
}

/// The method and URL without its query: requests that share it share a
/// rate-limit bucket.
fn route_key(request: &Request) -> String {
    let url = request.url();
    let path = url.split('?').next().unwrap_or(url);
    format!("{} {path}", request.method())
}

/// The response itself when 2xx, else the [`PluginError`] it means.
pub fn check(response: Response) -> Result<Response, PluginError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(discord_error(&response))
    }
}

/// The JSON error code of an error body (`{"code": 10008, ...}`).
pub fn error_code(response: &Response) -> Option<i64> {
    serde_json::from_slice::<Value>(&response.body)
        .ok()?
        .get("code")?
        .as_i64()
}

/// What a Discord error means for Plaza. Error bodies are `{"code",
/// "message", "errors"}` ("Opcodes and Status Codes", JSON error codes);
/// 429s are `{"message", "retry_after", "global"}` ("Rate Limits").
///
/// | answer | error |
/// | --- | --- |
/// | 429 | `RateLimited`: `retry_after` (float seconds, rounded up), else `Retry-After`, else `X-RateLimit-Reset-After` |
/// | 401 | `Unauthorized`: the token is wrong or was reset |
/// | 403 (50001 Missing Access, 50013 Missing Permissions, ...) | `Invalid`: the token is fine, the bot lacks a permission in the server; reconnecting does not help, an administrator must |
/// | 404 (10003 Unknown Channel, 10008 Unknown Message, 10007 Unknown Member, ...) | `NotFound` |
/// | 400 50035 Invalid Form Body | `Invalid`, with the first field error (`content: Must be 2000 or fewer in length.`) |
/// | other 4xx | `Invalid` |
/// | 5xx, anything else | `Transient` |
pub fn discord_error(response: &Response) -> PluginError {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let status = response.status;
    match status {
        429 => {
            let from_body = body
                .get("retry_after")
                .and_then(Value::as_f64)
                .map(ceil_secs);
            let from_header = response
                .header("retry-after")
                .and_then(|value| retry_after_secs(value, clock::now_ms()));
            let wait = from_body
                .or(from_header)
                .or_else(|| RateLimit::from_response(response).reset_after_secs());
            PluginError::RateLimited(wait)
        }
        401 => PluginError::Unauthorized(reason(&body, status)),
        404 => PluginError::NotFound,
        400..=499 => PluginError::Invalid(reason(&body, status)),
        _ => PluginError::Transient(format!("HTTP {status}: {}", reason(&body, status))),
    }
}

/// `message (code N)`, with the first field error of an Invalid Form Body.
fn reason(body: &Value, status: u16) -> String {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map_or_else(|| format!("HTTP {status}"), str::to_owned);
    let mut text = match body.get("code").and_then(Value::as_i64) {
        Some(code) if code != 0 => format!("{message} (code {code})"),
        _ => message,
    };
    if let Some((path, error)) = body.get("errors").and_then(|e| first_field_error(e, "")) {
        text = format!("{text}: {path}: {error}");
    }
    text.chars().take(300).collect()
}

/// The first `_errors[].message` in a nested `errors` object, with the
/// path of fields leading to it (`embeds.0.title`).
fn first_field_error(errors: &Value, path: &str) -> Option<(String, String)> {
    let object = errors.as_object()?;
    if let Some(message) = object
        .get("_errors")
        .and_then(|list| list.get(0)?.get("message")?.as_str())
    {
        return Some((path.to_owned(), message.to_owned()));
    }
    object
        .iter()
        .filter(|(key, _)| *key != "_errors")
        .find_map(|(key, nested)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            first_field_error(nested, &path)
        })
}

/// One file of a multipart message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    /// The name Discord shows.
    pub filename: String,
    /// Its MIME type.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A `multipart/form-data` body: `payload_json` first, then `files[n]`.
/// Answers the content type (with the boundary) and the body.
pub fn multipart(payload: &Value, files: &[FilePart], boundary: &str) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    let mut part = |disposition: String, content_type: &str, bytes: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; {disposition}\r\n").as_bytes(),
        );
        body.extend_from_slice(format!("Content-Type: {content_type}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    };
    part(
        "name=\"payload_json\"".to_owned(),
        "application/json",
        payload.to_string().as_bytes(),
    );
    for (n, file) in files.iter().enumerate() {
        let filename = file.filename.replace(['"', '\r', '\n'], "_");
        part(
            format!("name=\"files[{n}]\"; filename=\"{filename}\""),
            &file.content_type,
            &file.bytes,
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
