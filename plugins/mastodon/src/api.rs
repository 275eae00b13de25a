//! The Mastodon REST API (docs.joinmastodon.org/methods) as this plugin uses
//! it: wire types, one method per endpoint, and what Mastodon's errors mean
//! for Plaza.
//!
//! | endpoint | use |
//! | --- | --- |
//! | `GET /api/v1/accounts/verify_credentials` | the account behind the token |
//! | `POST /api/v2/media` (multipart `file`, `description`) | upload; `202` while the full size is processed |
//! | `GET /api/v1/media/:id` | `206` while processing, `200` once done |
//! | `POST /api/v1/statuses` + `Idempotency-Key` | create a status; the same key within an hour answers the same status |
//! | `GET /api/v1/statuses/:id`, `GET /api/v1/statuses?id[]=` | one or several statuses (counts) |
//! | `DELETE /api/v1/statuses/:id` | delete one of the account's statuses |
//! | `GET /api/v1/statuses/:id/context` | replies under a status (`descendants`) |
//! | `GET /api/v1/notifications?types[]=mention` | mentions, paged by `min_id` / `max_id` |
//! | `GET /api/v1/accounts/:id/statuses` | the account's own recent statuses |
//! | `POST /api/v1/accounts/:id/block`, `/mute` | moderation |
//! | `POST /api/v1/reports` | report an account and its statuses |
//!
//! Every call carries `Authorization: Bearer <access_token>`.

use chrono::DateTime;
use plaza_sdk::http::{Request, Response, encode_component, retry_after_secs};
use plaza_sdk::{Author, Channel, PluginError, clock, credentials};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::{Config, Visibility};
use crate::upload::Upload;

/// The credential holding the account's access token.
pub const ACCESS_TOKEN: &str = "access_token";

/// An account (the `Account` entity), as far as Plaza needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    /// The instance's id of the account.
    pub id: String,
    /// `user` for local accounts, `user@domain` for remote ones.
    pub acct: String,
    /// The name shown next to the handle; empty or absent when unset.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Followers.
    #[serde(default)]
    pub followers_count: Option<u64>,
    /// Accounts followed.
    #[serde(default)]
    pub following_count: Option<u64>,
    /// Statuses posted.
    #[serde(default)]
    pub statuses_count: Option<u64>,
}

impl From<Account> for Author {
    fn from(account: Account) -> Self {
        Author {
            remote_id: account.id,
            handle: account.acct,
            display_name: account.display_name.filter(|name| !name.is_empty()),
            followers: account.followers_count,
        }
    }
}

/// A status (the `Status` entity), as far as Plaza needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The instance's id of the status.
    pub id: String,
    /// ISO 8601, UTC.
    pub created_at: String,
    /// The status this one answers.
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    /// The author of the status this one answers.
    #[serde(default)]
    pub in_reply_to_account_id: Option<String>,
    /// Who may see it: `public`, `unlisted`, `private`, `direct` (other
    /// Mastodon-API servers add their own, so it is kept as text).
    #[serde(default)]
    pub visibility: Option<String>,
    /// The content warning; empty or absent when none.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub spoiler_text: String,
    /// ISO 639 code, when known.
    #[serde(default)]
    pub language: Option<String>,
    /// The HTML page of the status (absent for some remote statuses).
    #[serde(default)]
    pub url: Option<String>,
    /// The ActivityPub id, a fallback link.
    #[serde(default)]
    pub uri: Option<String>,
    /// The text, as sanitized HTML.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub content: String,
    /// Who wrote it.
    pub account: Account,
    /// Replies.
    #[serde(default)]
    pub replies_count: u64,
    /// Boosts.
    #[serde(default)]
    pub reblogs_count: u64,
    /// Favourites.
    #[serde(default)]
    pub favourites_count: u64,
    /// Quotes (Mastodon 4.5+).
    #[serde(default)]
    pub quotes_count: Option<u64>,
    /// Set when this is a boost of another status.
    #[serde(default)]
    pub reblog: Option<Value>,
}

/// Reads `null` as an empty string: some servers send `null` for an empty field.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

impl Status {
    /// A link people can open: the page, else the ActivityPub id.
    pub fn link(&self) -> Option<String> {
        self.url.clone().or_else(|| self.uri.clone())
    }
}

/// A notification (the `Notification` entity).
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// The notification's id; also the paging cursor.
    pub id: String,
    /// `mention`, `favourite`, `reblog`...
    #[serde(rename = "type")]
    pub kind: String,
    /// The status it is about, for mentions.
    #[serde(default)]
    pub status: Option<Status>,
}

/// An uploaded file (the `MediaAttachment` entity).
#[derive(Debug, Clone, Deserialize)]
pub struct MediaAttachment {
    /// The id to pass in `media_ids`.
    pub id: String,
    /// Where the processed file is; `null` while processing.
    #[serde(default)]
    pub url: Option<String>,
}

/// A status's thread (the `Context` entity).
#[derive(Debug, Clone, Deserialize)]
pub struct Context {
    /// Replies under the status, depth first.
    #[serde(default)]
    pub descendants: Vec<Status>,
}

/// The body of `POST /api/v1/statuses`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewStatus<'a> {
    /// The text.
    pub status: &'a str,
    /// Uploaded attachments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    /// The status it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to_id: Option<&'a str>,
    /// Content warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoiler_text: Option<&'a str>,
    /// Marks the media as sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    /// Who may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// ISO 639 code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<&'a str>,
}

/// One page of notifications and the `min_id` the `Link` header's `prev`
/// relation names (the newest notification on the page).
#[derive(Debug, Clone)]
pub struct NotificationPage {
    /// Newest first.
    pub notifications: Vec<Notification>,
    /// Where to read newer notifications from.
    pub prev_min_id: Option<String>,
}

/// A client for one channel: its instance and its token.
#[derive(Debug)]
pub struct Api {
    config: Config,
    token: String,
}

impl Api {
    /// A client for the channel; a missing token is `Unauthorized`.
    pub fn connect(channel: &Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let token = credentials::require(ACCESS_TOKEN)?;
        Ok(Self { config, token })
    }

    /// The channel's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The access token, to key what is cached per account.
    pub fn token(&self) -> &str {
        &self.token
    }

    fn url(&self, path: &str) -> String {
        self.config.url(path)
    }

    /// `GET /api/v1/accounts/verify_credentials`.
    pub fn verify_credentials(&self) -> Result<Account, PluginError> {
        self.send(Request::get(
            self.url("/api/v1/accounts/verify_credentials"),
        ))?
        .json()
    }

    /// `POST /api/v2/media`: uploads one file as multipart form data. The
    /// instance answers `200` with a `url` when it processed the file at
    /// once, `202` with `url: null` while it processes in the background.
    pub fn upload_media(&self, upload: &Upload<'_>) -> Result<MediaAttachment, PluginError> {
        let (content_type, body) = upload.multipart();
        let request = Request::post(self.url("/api/v2/media"))
            .header("Content-Type", content_type)
            .bytes(body);
        self.send(request)?.json()
    }

    /// `GET /api/v1/media/:id`: whether processing is done (`200`) or still
    /// running (`206 Partial Content`).
    pub fn media_ready(&self, media_id: &str) -> Result<bool, PluginError> {
        let url = self.url(&format!("/api/v1/media/{}", encode_component(media_id)));
        let response = self.send(Request::get(url))?;
        if response.status == 206 {
            return Ok(false);
        }
        let media: MediaAttachment = response.json()?;
        Ok(media.url.is_some())
    }

    /// `POST /api/v1/statuses` with `Idempotency-Key`: Mastodon keeps the
    /// key for an hour and answers the status it already made for it.
    pub fn create_status(
        &self,
        status: &NewStatus<'_>,
        idempotency_key: &str,
    ) -> Result<Status, PluginError> {
        let mut request = Request::post(self.url("/api/v1/statuses")).json(status)?;
        if !idempotency_key.is_empty() {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        self.send(request)?.json()
    }

    /// `GET /api/v1/statuses/:id`.
    pub fn status(&self, id: &str) -> Result<Status, PluginError> {
        let url = self.url(&format!("/api/v1/statuses/{}", encode_component(id)));
        self.send(Request::get(url))?.json()
    }

    /// `GET /api/v1/statuses?id[]=…` (Mastodon 4.3+, up to 20 ids); statuses
    /// that do not exist (any more) are simply missing from the answer.
    pub fn statuses(&self, ids: &[String]) -> Result<Vec<Status>, PluginError> {
        let request = ids
            .iter()
            .fold(Request::get(self.url("/api/v1/statuses")), |request, id| {
                request.query("id[]", id)
            });
        self.send(request)?.json()
    }

    /// `DELETE /api/v1/statuses/:id`.
    pub fn delete_status(&self, id: &str) -> Result<(), PluginError> {
        let url = self.url(&format!("/api/v1/statuses/{}", encode_component(id)));
        self.send(Request::delete(url))?;
        Ok(())
    }

    /// `GET /api/v1/statuses/:id/context`.
    pub fn context(&self, id: &str) -> Result<Context, PluginError> {
        let url = self.url(&format!(
            "/api/v1/statuses/{}/context",
            encode_component(id)
        ));
        self.send(Request::get(url))?.json()
    }

    /// `GET /api/v1/notifications?types[]=mention`: with `min_id`, the
    /// mentions right after it (still newest first); without, the newest.
    pub fn mentions(
        &self,
        min_id: Option<&str>,
        limit: u32,
    ) -> Result<NotificationPage, PluginError> {
        let mut request = Request::get(self.url("/api/v1/notifications"))
            .query("types[]", "mention")
            .query("limit", limit);
        if let Some(min_id) = min_id {
            request = request.query("min_id", min_id);
        }
        let response = self.send(request)?;
        let prev_min_id = response
            .header("link")
            .and_then(|link| link_cursor(link, "prev", "min_id"));
        Ok(NotificationPage {
            notifications: response.json()?,
            prev_min_id,
        })
    }

    /// `GET /api/v1/accounts/:id/statuses`, newest first, older than `max_id`.
    pub fn account_statuses(
        &self,
        account_id: &str,
        max_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Status>, PluginError> {
        let mut request = Request::get(self.url(&format!(
            "/api/v1/accounts/{}/statuses",
            encode_component(account_id)
        )))
        .query("exclude_reblogs", "true")
        .query("limit", limit);
        if let Some(max_id) = max_id {
            request = request.query("max_id", max_id);
        }
        self.send(request)?.json()
    }

    /// `POST /api/v1/accounts/:id/{action}`: `block` or `mute`.
    pub fn account_action(&self, account_id: &str, action: &str) -> Result<(), PluginError> {
        let url = self.url(&format!(
            "/api/v1/accounts/{}/{action}",
            encode_component(account_id)
        ));
        self.send(Request::post(url).json(&json!({}))?)?;
        Ok(())
    }

    /// `POST /api/v1/reports`: reports an account for one of its statuses.
    pub fn report(&self, account_id: &str, status_id: &str) -> Result<(), PluginError> {
        let body = json!({
            "account_id": account_id,
            "status_ids": [status_id],
            "comment": "Reported through Plaza",
            "category": "other",
        });
        self.send(Request::post(self.url("/api/v1/reports")).json(&body)?)?;
        Ok(())
    }

    fn send(&self, request: Request) -> Result<Response, PluginError> {
        let response = request
            .bearer(&self.token)
            .header("Accept", "application/json")
            .send()?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(mastodon_error(&response))
        }
    }
}

/// The value of `param` in the `Link` header relation `rel`:
/// `<https://…/api/v1/notifications?min_id=42>; rel="prev"` gives `42`.
pub fn link_cursor(link: &str, rel: &str, param: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let wanted = params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == rel);
        if !wanted {
            return None;
        }
        let url = target.trim().trim_start_matches('<').trim_end_matches('>');
        let (_, query) = url.split_once('?')?;
        query.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == param && !value.is_empty()).then(|| value.to_owned())
        })
    })
}

/// What a Mastodon error response means for Plaza. Errors are
/// `{"error": "…", "error_description"?: "…"}` (docs: "Error" entity).
///
/// | status | error |
/// | --- | --- |
/// | 401 | `Unauthorized`: the token is invalid or revoked |
/// | 403 "This action is not allowed" | `Invalid`: the token is fine but the account may not do this (another account's status) |
/// | other 403 | `Unauthorized`: a missing scope, a disabled or suspended login; reconnecting (or a person) must fix it |
/// | 404, 410 | `NotFound` |
/// | 422 | `Invalid` with Mastodon's validation message |
/// | 429 | `RateLimited`: `Retry-After`, else `X-RateLimit-Reset` (an ISO 8601 time) |
/// | other 4xx | `Invalid` |
/// | 5xx, anything else | `Transient` |
pub fn mastodon_error(response: &Response) -> PluginError {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let message = ["error_description", "error"]
        .iter()
        .find_map(|key| body.get(*key).and_then(Value::as_str))
        .filter(|message| !message.is_empty())
        .map_or_else(
            || format!("HTTP {}", response.status),
            |message| message.chars().take(300).collect(),
        );
    match response.status {
        403 if message == "This action is not allowed" => PluginError::Invalid(message),
        401 | 403 => PluginError::Unauthorized(message),
        404 | 410 => PluginError::NotFound,
        429 => PluginError::RateLimited(retry_after(response)),
        400..=499 => PluginError::Invalid(message),
        status => PluginError::Transient(format!("HTTP {status}: {message}")),
    }
}

/// Seconds to wait after a `429`: `Retry-After` when sent, else the time
/// until `X-RateLimit-Reset`, which Mastodon sends as an ISO 8601 time
/// (some Mastodon-API servers send Unix seconds; both are read).
pub fn retry_after(response: &Response) -> Option<u32> {
    let now_ms = clock::now_ms();
    if let Some(secs) = response
        .header("retry-after")
        .and_then(|value| retry_after_secs(value, now_ms))
    {
        return Some(secs);
    }
    let reset = response.header("x-ratelimit-reset")?.trim();
    let reset_secs = match DateTime::parse_from_rfc3339(reset) {
        Ok(at) => u64::try_from(at.timestamp()).ok()?,
        Err(_) => reset.parse::<u64>().ok()?,
    };
    let wait = reset_secs.saturating_sub(now_ms / 1000);
    Some(u32::try_from(wait).unwrap_or(u32::MAX))
}

/// Whether Mastodon ids `a` and `b` compare `a > b`. Ids are decimal
/// strings (snowflakes) too large for some clients; a longer id is larger.
pub fn id_newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}
