//! The Matrix client-server API (v1.11+) as this plugin uses it: one method
//! per endpoint, and what Matrix errors mean for Plaza.
//!
//! | endpoint | use |
//! | --- | --- |
//! | `GET /_matrix/client/v3/account/whoami` | the account behind the token |
//! | `GET /_matrix/client/v3/profile/{userId}` | its display name |
//! | `PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}` | send an event, idempotent per transaction id |
//! | `POST /_matrix/media/v3/upload` | upload a file, answers its `mxc://` URI |
//! | `GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}` | one event (thread roots) |
//! | `GET /_matrix/client/v3/rooms/{roomId}/messages` | the room's timeline, paginated by token |
//! | `PUT /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}` | redact (delete) an event |
//! | `POST /_matrix/client/v3/rooms/{roomId}/kick`, `/ban` | moderation |
//! | `GET /_matrix/client/v3/rooms/{roomId}/joined_members` | member counts |
//!
//! Every call carries `Authorization: Bearer <access_token>`.

use plaza_sdk::http::{Request, Response, encode_component, retry_after_secs};
use plaza_sdk::{PluginError, clock, credentials};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::config::Config;

/// The credential holding the account's access token.
pub const ACCESS_TOKEN: &str = "access_token";

/// The account behind a token (`whoami`).
#[derive(Debug, Deserialize)]
pub struct WhoAmI {
    /// `@localpart:server`.
    pub user_id: String,
}

#[derive(Debug, Deserialize)]
struct Profile {
    displayname: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EventId {
    event_id: String,
}

#[derive(Debug, Deserialize)]
struct Uploaded {
    content_uri: String,
}

/// One room event as the client-server API serves it.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomEvent {
    /// `$…`.
    pub event_id: String,
    /// Who sent it.
    pub sender: String,
    /// `m.room.message`, `m.room.member`...
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds since the epoch, on the sender's homeserver.
    #[serde(default)]
    pub origin_server_ts: u64,
    /// The event's content (empty once redacted).
    #[serde(default)]
    pub content: Value,
    /// Data the server adds: `transaction_id` for the device that sent it.
    #[serde(default)]
    pub unsigned: Value,
    /// For state events (`m.room.member`: the user id).
    #[serde(default)]
    pub state_key: Option<String>,
}

impl RoomEvent {
    /// The thread root this event belongs to (`m.thread` relation).
    pub fn thread_root(&self) -> Option<&str> {
        let relation = self.content.get("m.relates_to")?;
        (relation.get("rel_type")?.as_str()? == "m.thread")
            .then(|| relation.get("event_id")?.as_str())
            .flatten()
    }

    /// The event this one replies to (`m.in_reply_to`).
    pub fn in_reply_to(&self) -> Option<&str> {
        self.content
            .get("m.relates_to")?
            .get("m.in_reply_to")?
            .get("event_id")?
            .as_str()
    }
}

/// A page of `/messages`.
#[derive(Debug, Deserialize)]
pub struct Messages {
    /// The events, in the direction asked for.
    #[serde(default)]
    pub chunk: Vec<RoomEvent>,
    /// Where to continue; absent when there is nothing further yet.
    pub end: Option<String>,
    /// Member events of the senders in `chunk` (lazy-loaded members).
    #[serde(default)]
    pub state: Vec<RoomEvent>,
}

#[derive(Debug, Deserialize)]
struct JoinedMembers {
    #[serde(default)]
    joined: serde_json::Map<String, Value>,
}

/// A client for one channel: its configuration and its token.
#[derive(Debug)]
pub struct Api {
    config: Config,
    token: String,
}

impl Api {
    /// A client for the channel; a missing token is `Unauthorized`.
    pub fn connect(channel: &plaza_sdk::Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let token = credentials::require(ACCESS_TOKEN)?;
        Ok(Self { config, token })
    }

    /// The channel's room id.
    pub fn room_id(&self) -> &str {
        &self.config.room_id
    }

    fn room_url(&self, rest: &str) -> String {
        self.config.url(&format!(
            "/_matrix/client/v3/rooms/{}{rest}",
            encode_component(&self.config.room_id)
        ))
    }

    /// `GET /account/whoami`.
    pub fn whoami(&self) -> Result<WhoAmI, PluginError> {
        self.send(Request::get(
            self.config.url("/_matrix/client/v3/account/whoami"),
        ))?
        .json()
    }

    /// The display name from the user's profile; `None` when unset or the
    /// profile is not visible.
    pub fn display_name(&self, user_id: &str) -> Result<Option<String>, PluginError> {
        let url = self.config.url(&format!(
            "/_matrix/client/v3/profile/{}",
            encode_component(user_id)
        ));
        match self.send(Request::get(url)) {
            Ok(response) => Ok(response.json::<Profile>()?.displayname),
            Err(PluginError::NotFound | PluginError::Invalid(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `PUT /rooms/{roomId}/send/{type}/{txnId}`: the same transaction id
    /// (for the same token) answers the event it already made instead of
    /// sending again.
    pub fn send_event(
        &self,
        event_type: &str,
        txn_id: &str,
        content: &Value,
    ) -> Result<String, PluginError> {
        let url = self.room_url(&format!(
            "/send/{}/{}",
            encode_component(event_type),
            encode_component(txn_id)
        ));
        let sent: EventId = self.send(Request::put(url).json(content)?)?.json()?;
        Ok(sent.event_id)
    }

    /// `POST /_matrix/media/v3/upload`: the file's `mxc://` URI.
    pub fn upload(
        &self,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
    ) -> Result<String, PluginError> {
        let request = Request::post(self.config.url("/_matrix/media/v3/upload"))
            .query("filename", filename)
            .header("Content-Type", mime)
            .bytes(bytes);
        let uploaded: Uploaded = self.send(request)?.json()?;
        Ok(uploaded.content_uri)
    }

    /// `GET /rooms/{roomId}/event/{eventId}`.
    pub fn event(&self, event_id: &str) -> Result<RoomEvent, PluginError> {
        let url = self.room_url(&format!("/event/{}", encode_component(event_id)));
        self.send(Request::get(url))?.json()
    }

    /// `GET /rooms/{roomId}/messages` with a `RoomEventFilter`. Without
    /// `from` the server starts at the start (`f`) or the end (`b`) of the
    /// timeline.
    pub fn messages(
        &self,
        from: Option<&str>,
        dir: &str,
        limit: u32,
        filter: &Value,
    ) -> Result<Messages, PluginError> {
        let mut request = Request::get(self.room_url("/messages"))
            .query("dir", dir)
            .query("limit", limit)
            .query("filter", filter);
        if let Some(from) = from {
            request = request.query("from", from);
        }
        self.send(request)?.json()
    }

    /// `PUT /rooms/{roomId}/redact/{eventId}/{txnId}`.
    pub fn redact(&self, event_id: &str, reason: &str) -> Result<(), PluginError> {
        let url = self.room_url(&format!(
            "/redact/{}/{}",
            encode_component(event_id),
            encode_component(&format!("plaza-redact-{event_id}"))
        ));
        self.send(Request::put(url).json(&json!({ "reason": reason }))?)?;
        Ok(())
    }

    /// `POST /rooms/{roomId}/kick` or `/ban` (`action`).
    pub fn remove_member(
        &self,
        action: &str,
        user_id: &str,
        reason: &str,
    ) -> Result<(), PluginError> {
        let url = self.room_url(&format!("/{action}"));
        let body = json!({ "user_id": user_id, "reason": reason });
        self.send(Request::post(url).json(&body)?)?;
        Ok(())
    }

    /// How many members the room has joined, from `joined_members`.
    pub fn joined_members(&self) -> Result<u64, PluginError> {
        let members: JoinedMembers = self
            .send(Request::get(self.room_url("/joined_members")))?
            .json()?;
        Ok(u64::try_from(members.joined.len()).unwrap_or(u64::MAX))
    }

    fn send(&self, request: Request) -> Result<Response, PluginError> {
        let response = request
            .bearer(&self.token)
            .header("Accept", "application/json")
            .send()?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(matrix_error(&response))
        }
    }
}

/// What a Matrix error response means for Plaza. The standard error body
/// is `{"errcode": "M_…", "error": "…"}` (client-server API, "Standard
/// error response"); the `errcode` decides, the HTTP status is the fallback.
///
/// | errcode | error |
/// | --- | --- |
/// | `M_LIMIT_EXCEEDED` | `RateLimited`: `Retry-After` header, else `retry_after_ms` rounded up |
/// | `M_UNKNOWN_TOKEN`, `M_MISSING_TOKEN`, `M_USER_DEACTIVATED`, `M_USER_LOCKED` | `Unauthorized`: connect the account again |
/// | `M_FORBIDDEN` | `Invalid`: the token is fine but the account may not do this in this room (not joined, power level too low); reconnecting does not help, people must |
/// | `M_NOT_FOUND`, 404 | `NotFound` |
/// | `M_UNRECOGNIZED` | `Unsupported`: the homeserver does not implement the endpoint |
/// | other 4xx | `Invalid` |
/// | 5xx, anything else | `Transient` |
pub fn matrix_error(response: &Response) -> PluginError {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let errcode = body
        .get("errcode")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = body.get("error").and_then(Value::as_str).map_or_else(
        || format!("HTTP {}", response.status),
        |m| m.chars().take(300).collect(),
    );
    let reason = if errcode.is_empty() {
        message
    } else {
        format!("{errcode}: {message}")
    };
    match (errcode, response.status) {
        ("M_LIMIT_EXCEEDED", _) | (_, 429) => {
            let from_header = response
                .header("retry-after")
                .and_then(|value| retry_after_secs(value, clock::now_ms()));
            let from_body = body
                .get("retry_after_ms")
                .and_then(Value::as_u64)
                .map(|ms| u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX));
            PluginError::RateLimited(from_header.or(from_body))
        }
        ("M_UNKNOWN_TOKEN" | "M_MISSING_TOKEN" | "M_USER_DEACTIVATED" | "M_USER_LOCKED", _)
        | ("", 401) => PluginError::Unauthorized(reason),
        ("M_NOT_FOUND", _) | ("", 404 | 410) => PluginError::NotFound,
        ("M_UNRECOGNIZED", _) => PluginError::Unsupported,
        (_, 400..=499) => PluginError::Invalid(reason),
        (_, status) => PluginError::Transient(format!("HTTP {status}: {reason}")),
    }
}
