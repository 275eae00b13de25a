//! The Matrix plugin: a channel is one room on a homeserver, reached with
//! an account's access token (`access_token`), through the client-server
//! API.
//!
//! - Posts are `m.room.message` events, markdown rendered to
//!   `org.matrix.custom.html`; media is uploaded to the media repository
//!   and sent as `m.image`/`m.video`/`m.file` events after the text.
//! - Follow-up parts are `m.thread` relations to the first event (the
//!   thread root), each also replying to the part before it.
//! - Mentions and comments are new `m.room.message` events from other
//!   users, read forward through `/messages` from a pagination token.
//! - Replies use `m.in_reply_to` (in the thread when the target is in one);
//!   deleting is redaction; block-author bans, mute-author kicks.

pub mod api;
pub mod config;
pub mod markdown;

use chrono::{DateTime, SecondsFormat};
use plaza_sdk::http::encode_component;
use plaza_sdk::{
    Author, Capabilities, Channel, Item, ItemKind, Limits, Manifest, MediaRef, Metric, Moderation,
    Page, Plugin, PluginError, Post, Published, kv, log, media,
};
use serde_json::{Map, Value, json};

use crate::api::{Api, Messages, RoomEvent};
use crate::config::Config;

/// Most events asked for in one page, whatever the host asks.
const MAX_PAGE: u32 = 100;

/// How far back `find_published` looks through the account's own events
/// when the key is not in the kv store: pages of [`MAX_PAGE`].
const LOOKUP_PAGES: usize = 3;

/// The content field carrying Plaza's idempotency key (namespaced, as the
/// spec asks of custom fields), so a post can be found by its key from any
/// device, not only from the token that sent it.
const KEY_FIELD: &str = "app.plaza.idempotency_key";

/// The Matrix platform.
#[derive(Debug)]
pub struct Matrix;

impl Plugin for Matrix {
    fn describe() -> Manifest {
        Manifest::builder("matrix", "Matrix")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Matrix")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::REPLY
                    | Capabilities::DELETE_COMMENT
                    | Capabilities::BLOCK_AUTHOR
                    | Capabilities::ACCOUNT_METRICS,
            )
            // An event may be at most 65,536 bytes of JSON (spec: "Size
            // limits"); the text goes out twice (body and HTML), so a cap
            // well below half of that leaves room for markup and multi-byte
            // characters.
            .limits(Limits::new(16_000, 4).media_types([
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "video/mp4",
                "application/pdf",
            ]))
            .allowed_host("{config.homeserver}")
            .config_schema(&Config::schema())
            .post_options_schema(&post_options_schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// Who the token belongs to, with the room's member count: also proves
    /// the account can see the room.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let api = Api::connect(channel)?;
        let me = api.whoami()?;
        let members = api.joined_members()?;
        let display_name = api.display_name(&me.user_id)?;
        Ok(Author {
            handle: me.user_id.clone(),
            remote_id: me.user_id,
            display_name,
            followers: Some(members.saturating_sub(1)),
        })
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let key = &post.idempotency_key;
        // A follow-up answers the part before it: find the thread's root.
        let relation = match post.reply_to.as_deref() {
            Some(previous) => Some(thread_relation(&api, previous, true)?),
            None => None,
        };
        let mut sent = Vec::new();
        if !post.text.trim().is_empty() || post.media.is_empty() {
            let mut content = text_content(&post.text);
            decorate(&mut content, relation.as_ref(), key);
            sent.push(api.send_event(
                "m.room.message",
                &txn_id(key, None),
                &Value::Object(content),
            )?);
        }
        for (n, attachment) in post.media.iter().enumerate() {
            let mut content = media_content(&api, attachment, n)?;
            decorate(&mut content, relation.as_ref(), key);
            sent.push(api.send_event(
                "m.room.message",
                &txn_id(key, Some(n)),
                &Value::Object(content),
            )?);
        }
        let Some((first, rest)) = sent.split_first() else {
            return Err(PluginError::Invalid("nothing to send".into()));
        };
        remember(key, first, rest, relation.as_ref())?;
        log::debug(format!("sent {first} to {}", api.room_id()));
        Ok(published(api.room_id(), first))
    }

    /// Idempotency works twice over. The send itself is idempotent: the
    /// transaction id is derived from the key, and the homeserver answers
    /// a repeated `PUT …/send/{txnId}` (same token) with the event it already
    /// made. And this lookup never sends: first the kv store, written right
    /// after the send; if a crash came between the send and that write, the
    /// account's own recent events in the room are read back (newest first)
    /// for one carrying the key in its content (or the transaction id in
    /// `unsigned`, which the homeserver shows the sending device). An event
    /// older than the pages read would not be found: the resend that
    /// follows reuses the transaction id, so the homeserver still
    /// de-duplicates it while it remembers the id.
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::Invalid(
                "a post sent without an idempotency key cannot be looked up".into(),
            ));
        }
        let api = Api::connect(channel)?;
        if let Some(event_id) = kv::get_string(&sent_key(idempotency_key)) {
            return Ok(Some(published(api.room_id(), &event_id)));
        }
        let me = api.whoami()?;
        let filter = json!({ "types": ["m.room.message"], "senders": [me.user_id] });
        let first_txn = txn_id(idempotency_key, None);
        let mut from: Option<String> = None;
        for _ in 0..LOOKUP_PAGES {
            let page = api.messages(from.as_deref(), "b", MAX_PAGE, &filter)?;
            let found = page.chunk.iter().find(|event| {
                event.content.get(KEY_FIELD).and_then(Value::as_str) == Some(idempotency_key)
                    || event.unsigned.get("transaction_id").and_then(Value::as_str)
                        == Some(first_txn.as_str())
            });
            if let Some(event) = found {
                return Ok(Some(published(api.room_id(), &event.event_id)));
            }
            match page.end {
                Some(end) if !page.chunk.is_empty() => from = Some(end),
                _ => break,
            }
        }
        Ok(None)
    }

    /// Redacts the event and any media events sent with it.
    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let attached: Vec<String> = kv::get_json(&media_key(remote_id))?.unwrap_or_default();
        for event_id in std::iter::once(remote_id).chain(attached.iter().map(String::as_str)) {
            match api.redact(event_id, "deleted in Plaza") {
                // Already gone is what was asked for, for attachments.
                Err(PluginError::NotFound) if event_id != remote_id => {}
                other => other?,
            }
        }
        kv::delete(&media_key(remote_id));
        Ok(())
    }

    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        read_room(&api, cursor, limit, ItemKind::Mention, |_| true)
    }

    /// Messages in the post's thread or replying to it, from others.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        read_room(&api, cursor, limit, ItemKind::Comment, |event| {
            event.thread_root() == Some(post_id) || event.in_reply_to() == Some(post_id)
        })
    }

    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let relation = thread_relation(&api, to, false)?;
        let mut content = text_content(&post.text);
        decorate(&mut content, Some(&relation), &post.idempotency_key);
        let event_id = api.send_event(
            "m.room.message",
            &txn_id(&post.idempotency_key, None),
            &Value::Object(content),
        )?;
        if !post.idempotency_key.is_empty() {
            kv::set(&sent_key(&post.idempotency_key), &event_id);
        }
        Ok(published(api.room_id(), &event_id))
    }

    /// `delete` redacts the event; `block-author` bans its sender from the
    /// room, `mute-author` kicks them (they may join again). The remote id
    /// is an event id, or a user id (`@…`) for the author actions.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        match action {
            Moderation::Delete => api.redact(remote_id, "removed by a moderator"),
            Moderation::BlockAuthor | Moderation::MuteAuthor => {
                let user_id = if remote_id.starts_with('@') {
                    remote_id.to_owned()
                } else {
                    api.event(remote_id)?.sender
                };
                let (verb, reason) = if action == Moderation::BlockAuthor {
                    ("ban", "banned by a moderator")
                } else {
                    ("kick", "removed by a moderator")
                };
                api.remove_member(verb, &user_id, reason)
            }
            Moderation::Hide | Moderation::Unhide | Moderation::Report => {
                Err(PluginError::Unsupported)
            }
        }
    }

    /// The room's joined members: `followers` (everyone but the account)
    /// and `x_joined_members` (everyone).
    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let joined = Api::connect(channel)?.joined_members()?;
        Ok(vec![
            Metric::followers(joined.saturating_sub(1)),
            Metric::account("x_joined_members", joined as f64),
        ])
    }
}

/// The transaction id for a post's part: derived from the idempotency key
/// alone, so a retried publish reuses it and the homeserver de-duplicates.
/// Without a key (never from Plaza's publisher) the clock makes it unique.
pub fn txn_id(idempotency_key: &str, media: Option<usize>) -> String {
    let base = if idempotency_key.is_empty() {
        format!("plaza-unkeyed-{}", plaza_sdk::clock::now_ms())
    } else {
        idempotency_key.to_owned()
    };
    match media {
        None => base,
        Some(n) => format!("{base}.media{n}"),
    }
}

/// Where a published part is recorded: key → event id.
fn sent_key(idempotency_key: &str) -> String {
    format!("sent:{idempotency_key}")
}

/// Where a part's media events are recorded: event id → [event id].
fn media_key(event_id: &str) -> String {
    format!("media:{event_id}")
}

/// Where a threaded part's root is recorded: event id → root event id.
fn root_key(event_id: &str) -> String {
    format!("root:{event_id}")
}

/// How a new event relates to the one it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// The thread root, when the new event goes into a thread.
    pub thread_root: Option<String>,
    /// The event answered.
    pub in_reply_to: String,
    /// For a thread part that is not a real reply (a follow-up): clients
    /// without threads show it as a reply to `in_reply_to`.
    pub is_falling_back: bool,
}

/// The relation to answer `to`. `follow_up`: a part of one of our threads,
/// always threaded under the root (`to` itself when `to` is not in a thread).
/// Otherwise a reply: in the thread when `to` is in one, else a plain reply.
fn thread_relation(api: &Api, to: &str, follow_up: bool) -> Result<Relation, PluginError> {
    let root = match kv::get_string(&root_key(to)) {
        Some(root) => Some(root),
        None => api.event(to)?.thread_root().map(str::to_owned),
    };
    let thread_root = match (root, follow_up) {
        (Some(root), _) => Some(root),
        (None, true) => Some(to.to_owned()),
        (None, false) => None,
    };
    Ok(Relation {
        thread_root,
        in_reply_to: to.to_owned(),
        is_falling_back: follow_up,
    })
}

/// Adds the relation and the idempotency key to an event's content.
fn decorate(content: &mut Map<String, Value>, relation: Option<&Relation>, key: &str) {
    if let Some(relation) = relation {
        let reply = json!({ "event_id": relation.in_reply_to });
        let relates_to = match &relation.thread_root {
            Some(root) => json!({
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": relation.is_falling_back,
                "m.in_reply_to": reply,
            }),
            None => json!({ "m.in_reply_to": reply }),
        };
        content.insert("m.relates_to".into(), relates_to);
    }
    if !key.is_empty() {
        content.insert(KEY_FIELD.into(), Value::String(key.to_owned()));
    }
}

/// An `m.text` message: the text as `body`, its HTML when markdown changes it.
pub fn text_content(text: &str) -> Map<String, Value> {
    let mut content = Map::new();
    content.insert("msgtype".into(), "m.text".into());
    content.insert("body".into(), text.into());
    if let Some(html) = markdown::to_html(text) {
        content.insert("format".into(), "org.matrix.custom.html".into());
        content.insert("formatted_body".into(), html.into());
    }
    content
}

/// Uploads an attachment and answers the content of its event.
fn media_content(
    api: &Api,
    attachment: &MediaRef,
    n: usize,
) -> Result<Map<String, Value>, PluginError> {
    let msgtype = match attachment.mime.split('/').next() {
        Some("image") => "m.image",
        Some("video") => "m.video",
        _ => "m.file",
    };
    let extension = attachment.mime.rsplit('/').next().unwrap_or("bin");
    let filename = format!("attachment-{}.{extension}", n + 1);
    let bytes = media::read_all(attachment)?;
    let uri = api.upload(bytes, &attachment.mime, &filename)?;
    let mut content = Map::new();
    content.insert("msgtype".into(), msgtype.into());
    // `body` is the alt text when there is one (its caption use needs
    // `filename` too, which is set).
    content.insert(
        "body".into(),
        attachment
            .alt_text
            .clone()
            .unwrap_or_else(|| filename.clone())
            .into(),
    );
    content.insert("filename".into(), filename.into());
    content.insert("url".into(), uri.into());
    content.insert(
        "info".into(),
        json!({ "mimetype": attachment.mime, "size": attachment.size }),
    );
    Ok(content)
}

/// Records what a publish sent, so `find_published`, later follow-ups and
/// `delete_post` need not ask the homeserver.
fn remember(
    key: &str,
    first: &str,
    media: &[String],
    relation: Option<&Relation>,
) -> Result<(), PluginError> {
    if !key.is_empty() {
        kv::set(&sent_key(key), first);
    }
    if !media.is_empty() {
        kv::set_json(&media_key(first), media)?;
    }
    if let Some(root) = relation.and_then(|r| r.thread_root.as_deref()) {
        kv::set(&root_key(first), root);
    }
    Ok(())
}

/// A `matrix.to` link to an event.
fn published(room_id: &str, event_id: &str) -> Published {
    Published {
        remote_id: event_id.to_owned(),
        url: Some(format!(
            "https://matrix.to/#/{}/{}",
            encode_component(room_id),
            encode_component(event_id)
        )),
    }
}

/// Reads the room forward from `cursor` (a `/messages` or `/sync` token;
/// none: from the start of the room), keeping others' messages that `keep`.
///
/// The next cursor is the page's `end`; when the homeserver has nothing
/// further it omits `end`, and the cursor stays where it was so the next
/// call sees only what arrives later. Filtering happens after paging, so a
/// page may hold fewer items than asked with more to come.
fn read_room(
    api: &Api,
    cursor: Option<&str>,
    limit: u32,
    kind: ItemKind,
    keep: impl Fn(&RoomEvent) -> bool,
) -> Result<Page, PluginError> {
    let me = api.whoami()?;
    let filter = json!({
        "types": ["m.room.message"],
        "not_senders": [me.user_id],
        "lazy_load_members": true,
    });
    let page = api.messages(cursor, "f", limit.clamp(1, MAX_PAGE), &filter)?;
    let next_cursor = page.end.clone().or_else(|| cursor.map(str::to_owned));
    Ok(Page {
        items: items(api.room_id(), &page, kind, &me.user_id, keep),
        next_cursor,
    })
}

/// The page's messages as inbox items, authors named from the member
/// events that came with them.
pub fn items(
    room_id: &str,
    page: &Messages,
    kind: ItemKind,
    me: &str,
    keep: impl Fn(&RoomEvent) -> bool,
) -> Vec<Item> {
    page.chunk
        .iter()
        .filter(|event| event.kind == "m.room.message" && event.sender != me)
        // Redacted events have no body left.
        .filter(|event| event.content.get("body").is_some())
        .filter(|event| keep(event))
        .map(|event| {
            let display_name = page
                .state
                .iter()
                .find(|s| {
                    s.kind == "m.room.member" && s.state_key.as_deref() == Some(&event.sender)
                })
                .and_then(|s| s.content.get("displayname")?.as_str())
                .map(str::to_owned);
            let author = Author {
                remote_id: event.sender.clone(),
                handle: event.sender.clone(),
                display_name,
                followers: None,
            };
            let text = event
                .content
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let created_at = i64::try_from(event.origin_server_ts)
                .ok()
                .and_then(DateTime::from_timestamp_millis)
                .unwrap_or_default()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            let mut item = Item::new(kind, &event.event_id, author, text, created_at);
            item.thread_id = event.thread_root().map(str::to_owned);
            item.parent_id = event
                .in_reply_to()
                .or_else(|| event.thread_root())
                .map(str::to_owned);
            item.post_id = event.thread_root().map(str::to_owned);
            item.url = published(room_id, &event.event_id).url;
            item
        })
        .collect()
}

/// No per-post options yet.
fn post_options_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": false
    })
}

plaza_sdk::export_plugin!(Matrix);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
