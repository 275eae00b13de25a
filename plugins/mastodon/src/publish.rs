//! Publishing a status with its media, and finding it again after a crash.
//!
//! Mastodon keeps an `Idempotency-Key` for one hour only, and it has no
//! lookup by key. So the plugin keeps its own record per key in the kv store:
//! `sending` (written, and read back, before anything is sent: what the
//! status will look like and when it was sent) and then `published` (its id
//! and link). `find_published` answers from the record; for a `sending`
//! record it looks through the account's own recent statuses for one with
//! the same text and parent, created since the send began.

use chrono::DateTime;
use plaza_sdk::{MediaRef, PluginError, Post, Published, clock, kv, log, media};
use serde::{Deserialize, Serialize};

use crate::api::{Api, NewStatus, Status};
use crate::config::PostOptions;
use crate::html;
use crate::upload::Upload;

/// Most attachments per status (docs: `POST /api/v1/statuses`, `media_ids`:
/// "up to 4"; instances advertise `configuration.statuses.max_media_attachments`).
pub const MAX_MEDIA: usize = 4;

/// MIME types Mastodon accepts (instances advertise
/// `configuration.media_attachments.supported_mime_types`; these are in
/// every release since 4.0).
pub const MEDIA_TYPES: [&str; 9] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
];

/// Statuses read per page when looking for a sent one (the endpoint's maximum).
const LOOKUP_PAGE: u32 = 40;
/// Pages looked through before giving up on telling.
const LOOKUP_PAGES: usize = 3;
/// Clock difference allowed between Plaza and the instance.
const CLOCK_SKEW_MS: u64 = 5 * 60 * 1000;
/// Records kept; older ones are forgotten (Plaza asks only about recent sends).
const MAX_RECORDS: usize = 200;
/// The kv key listing record keys, oldest first.
const RECORD_INDEX: &str = "publish_index";

/// What the plugin knows about a publish with one idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Record {
    /// Sent (or about to be), outcome unknown.
    Sending {
        /// When the send began, ms since the epoch.
        started_ms: u64,
        /// [`html::fingerprint`] of the text.
        fingerprint: String,
        /// The status it answers.
        reply_to: Option<String>,
    },
    /// Created on the instance.
    Published {
        /// The status id.
        id: String,
        /// Its link.
        url: Option<String>,
    },
}

fn record_key(idempotency_key: &str) -> String {
    format!("publish/{idempotency_key}")
}

fn media_key(idempotency_key: &str, media_id: &str) -> String {
    format!("media/{idempotency_key}/{media_id}")
}

/// The record for `idempotency_key`, if any.
pub fn record(idempotency_key: &str) -> Result<Option<Record>, PluginError> {
    kv::get_json(&record_key(idempotency_key))
}

/// Writes a record and checks that it was kept: a `sending` record that
/// silently failed to store would later read as "never sent".
fn store(idempotency_key: &str, record: &Record) -> Result<(), PluginError> {
    let key = record_key(idempotency_key);
    let is_new = kv::get(&key).is_none();
    kv::set_json(&key, record)?;
    if kv::get_json::<Record>(&key)?.as_ref() != Some(record) {
        return Err(PluginError::Transient(
            "the plugin's store did not keep the publish record; not sending".into(),
        ));
    }
    if is_new {
        remember(&key)?;
    }
    Ok(())
}

/// Adds a record key to the index, forgetting the oldest records past
/// [`MAX_RECORDS`] so the store (1,000 keys per channel) never fills up.
fn remember(key: &str) -> Result<(), PluginError> {
    let mut index: Vec<String> = kv::get_json(RECORD_INDEX)?.unwrap_or_default();
    index.retain(|known| known != key);
    index.push(key.to_owned());
    let excess = index.len().saturating_sub(MAX_RECORDS);
    for old in index.drain(..excess) {
        kv::delete(&old);
    }
    kv::set_json(RECORD_INDEX, &index)
}

/// Publishes `post` (a status, or the next part of a thread).
pub fn publish(api: &Api, post: &Post) -> Result<Published, PluginError> {
    let options = PostOptions::parse(&post.options)?;
    check_length(&post.text, options.content_warning.as_deref())?;
    check_media(&post.media)?;
    let key = post.idempotency_key.as_str();
    if !key.is_empty() {
        let started_ms = match record(key)? {
            Some(Record::Published { id, url }) => {
                log::debug(format!("key already published as status {id}"));
                return Ok(published(id, url));
            }
            // An earlier attempt's outcome is unknown. Mastodon forgets the
            // key after an hour, so look before sending again.
            Some(Record::Sending {
                started_ms,
                fingerprint,
                reply_to,
            }) => {
                if let Some(found) =
                    lookup(api, key, started_ms, &fingerprint, reply_to.as_deref())?
                {
                    return Ok(found);
                }
                started_ms
            }
            None => clock::now_ms(),
        };
        store(
            key,
            &Record::Sending {
                started_ms,
                fingerprint: html::fingerprint(&post.text),
                reply_to: post.reply_to.clone(),
            },
        )?;
    }
    let media_ids = upload_all(api, post)?;
    let status = api
        .create_status(
            &NewStatus {
                status: &post.text,
                media_ids,
                in_reply_to_id: post.reply_to.as_deref(),
                spoiler_text: options.content_warning.as_deref(),
                sensitive: options.sensitive,
                visibility: options.visibility,
                language: options.language.as_deref(),
            },
            key,
        )
        .map_err(still_processing)?;
    if !key.is_empty() {
        store(
            key,
            &Record::Published {
                id: status.id.clone(),
                url: status.link(),
            },
        )?;
        for attachment in &post.media {
            kv::delete(&media_key(key, &attachment.id));
        }
    }
    log::debug(format!("published status {}", status.id));
    Ok(published(status.id.clone(), status.link()))
}

fn published(id: String, url: Option<String>) -> Published {
    Published { remote_id: id, url }
}

/// Characters in a status with its content warning (docs: `POST
/// /api/v1/statuses`, and the instance's `max_characters`).
pub const MAX_CHARS: usize = 500;

/// Characters of a URL, however long, as Mastodon counts them
/// (`configuration.statuses.characters_reserved_per_url`).
const CHARS_PER_URL: usize = 23;

/// Mastodon counts the content warning into the status's length, a link as
/// 23 characters and a remote mention without its domain. Plaza checks the
/// text alone, so a warning that pushes a status over is refused here, with
/// a reason, rather than by the instance.
pub fn check_length(text: &str, content_warning: Option<&str>) -> Result<(), PluginError> {
    let length = counted_length(text) + content_warning.map_or(0, |cw| cw.chars().count());
    if length > MAX_CHARS {
        return Err(PluginError::Invalid(format!(
            "Mastodon takes {MAX_CHARS} characters per status, content warning included; \
             this one has {length}"
        )));
    }
    Ok(())
}

/// The length of `text` as Mastodon counts it.
pub fn counted_length(text: &str) -> usize {
    let mut length = text.chars().count();
    for word in text.split_whitespace() {
        let chars = word.chars().count();
        if word.starts_with("https://") || word.starts_with("http://") {
            length -= chars.saturating_sub(CHARS_PER_URL);
        } else if let Some(mention) = word.strip_prefix('@')
            && let Some(at) = mention.find('@')
        {
            length -= mention.get(at..).map_or(0, |domain| domain.chars().count());
        }
    }
    length
}

/// Mastodon takes up to four images, or one video or audio file.
fn check_media(attachments: &[MediaRef]) -> Result<(), PluginError> {
    if attachments.len() > MAX_MEDIA {
        return Err(PluginError::Invalid(format!(
            "Mastodon takes at most {MAX_MEDIA} attachments per status"
        )));
    }
    if let Some(unknown) = attachments
        .iter()
        .find(|a| !MEDIA_TYPES.contains(&a.mime.as_str()))
    {
        return Err(PluginError::Invalid(format!(
            "Mastodon does not take {} attachments",
            unknown.mime
        )));
    }
    let moving = attachments
        .iter()
        .filter(|a| !a.mime.starts_with("image/"))
        .count();
    if moving > 0 && attachments.len() > 1 {
        return Err(PluginError::Invalid(
            "a Mastodon status takes either up to four images or one video or audio file".into(),
        ));
    }
    Ok(())
}

/// Uploads every attachment (or reuses the upload of an earlier attempt
/// with the same key), then checks that those the instance processes in
/// the background are ready. One still processing is `Transient`: the
/// retry finds the uploads in the store and only checks again.
fn upload_all(api: &Api, post: &Post) -> Result<Vec<String>, PluginError> {
    let key = post.idempotency_key.as_str();
    let mut ids = Vec::with_capacity(post.media.len());
    let mut processing = Vec::new();
    for (index, attachment) in post.media.iter().enumerate() {
        let cached = (!key.is_empty())
            .then(|| kv::get_string(&media_key(key, &attachment.id)))
            .flatten();
        if let Some(id) = cached {
            processing.push(id.clone());
            ids.push(id);
            continue;
        }
        let bytes = media::read_all(attachment)?;
        let uploaded = api.upload_media(&Upload {
            bytes: &bytes,
            mime: &attachment.mime,
            filename: filename(index, &attachment.mime),
            description: attachment.alt_text.as_deref(),
        })?;
        if !key.is_empty() {
            kv::set(&media_key(key, &attachment.id), uploaded.id.as_bytes());
        }
        if uploaded.url.is_none() {
            processing.push(uploaded.id.clone());
        }
        ids.push(uploaded.id);
    }
    for id in processing {
        if !api.media_ready(&id)? {
            return Err(PluginError::Transient(format!(
                "Mastodon is still processing media {id}; try again shortly"
            )));
        }
    }
    Ok(ids)
}

/// Mastodon answers `422` "Cannot attach files that have not finished
/// processing. Try again in a moment!" when media is not ready yet: that
/// one is worth retrying.
fn still_processing(error: PluginError) -> PluginError {
    match error {
        PluginError::Invalid(reason) if reason.contains("not finished processing") => {
            PluginError::Transient(reason)
        }
        other => other,
    }
}

fn filename(index: usize, mime: &str) -> String {
    let extension = match mime {
        "image/jpeg" => "jpg",
        "video/quicktime" => "mov",
        "audio/mpeg" => "mp3",
        other => other.rsplit('/').next().unwrap_or("bin"),
    };
    format!("plaza-{}.{extension}", index + 1)
}

/// After a crash: the status published under `idempotency_key`, if any.
///
/// - no record: nothing was sent (the `sending` record is stored and read
///   back before the first request), so `None`;
/// - `published`: that status;
/// - `sending`: the account's own statuses since the send began, newest
///   first, up to [`LOOKUP_PAGES`] pages, for one with the same text and
///   parent. Not found when the pages reach back past the send: `None`.
///   More statuses than that since the send: the plugin cannot tell, and
///   says so (`Invalid`, so a person reviews instead of risking a duplicate).
pub fn find_published(api: &Api, idempotency_key: &str) -> Result<Option<Published>, PluginError> {
    if idempotency_key.is_empty() {
        return Err(PluginError::Invalid(
            "a post sent without an idempotency key cannot be looked up".into(),
        ));
    }
    match record(idempotency_key)? {
        None => Ok(None),
        Some(Record::Published { id, url }) => Ok(Some(published(id, url))),
        Some(Record::Sending {
            started_ms,
            fingerprint,
            reply_to,
        }) => lookup(
            api,
            idempotency_key,
            started_ms,
            &fingerprint,
            reply_to.as_deref(),
        ),
    }
}

/// Looks through the account's statuses since `started_ms` for the one a
/// send with this key made; remembers it when found.
fn lookup(
    api: &Api,
    idempotency_key: &str,
    started_ms: u64,
    fingerprint: &str,
    reply_to: Option<&str>,
) -> Result<Option<Published>, PluginError> {
    let account_id = crate::own_account_id(api)?;
    let since_ms = started_ms.saturating_sub(CLOCK_SKEW_MS);
    let mut max_id: Option<String> = None;
    for _ in 0..LOOKUP_PAGES {
        let statuses = api.account_statuses(&account_id, max_id.as_deref(), LOOKUP_PAGE)?;
        let end_of_account = statuses.len() < LOOKUP_PAGE as usize;
        let mut reached_start = false;
        for status in &statuses {
            if created_ms(status).is_some_and(|created| created < since_ms) {
                reached_start = true;
                break;
            }
            if status.in_reply_to_id.as_deref() == reply_to
                && html::fingerprint(&html::to_text(&status.content)) == fingerprint
            {
                let record = Record::Published {
                    id: status.id.clone(),
                    url: status.link(),
                };
                store(idempotency_key, &record)?;
                return Ok(Some(published(status.id.clone(), status.link())));
            }
        }
        if reached_start || end_of_account {
            return Ok(None);
        }
        max_id = statuses.last().map(|status| status.id.clone());
    }
    Err(PluginError::Invalid(format!(
        "the account posted more than {} statuses since this one was sent; \
         check the account by hand",
        LOOKUP_PAGES * LOOKUP_PAGE as usize
    )))
}

fn created_ms(status: &Status) -> Option<u64> {
    let at = DateTime::parse_from_rfc3339(&status.created_at).ok()?;
    u64::try_from(at.timestamp_millis()).ok()
}
