//! Sending a post: checking it against Telegram's limits, picking the
//! method (`sendMessage`, `sendPhoto`/`sendVideo`/`sendDocument`,
//! `sendMediaGroup`), and keeping the ledger around the send.

use plaza_sdk::{MediaRef, PluginError, Post, Published, clock, log, media};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Api, Body, Message, SendError};
use crate::html::{escape, telegram_len};
use crate::ledger::{self, Sent};
use crate::multipart::Form;
use crate::updates::{message_ref, message_url};
use crate::{MAX_ALBUM, MAX_CAPTION, MAX_FILE_BYTES, MAX_PHOTO_BYTES, MAX_TEXT};

/// Per-post options (`post_options_schema`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Send silently: members get no sound.
    pub disable_notification: bool,
    /// Forbid forwarding and saving.
    pub protect_content: bool,
    /// No link preview under the text.
    pub disable_link_preview: bool,
    /// The forum topic to post in (supergroups with topics).
    pub message_thread_id: Option<i64>,
}

impl Options {
    /// The JSON Schema of the options.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "disable_notification": {
                    "type": "boolean",
                    "title": "Send silently",
                    "description": "Members get the message without a sound"
                },
                "protect_content": {
                    "type": "boolean",
                    "title": "Protect content",
                    "description": "The message cannot be forwarded or saved"
                },
                "disable_link_preview": {
                    "type": "boolean",
                    "title": "No link preview"
                },
                "message_thread_id": {
                    "type": "integer",
                    "title": "Forum topic",
                    "description": "The topic's thread id, in groups with topics"
                }
            },
            "additionalProperties": false
        })
    }

    /// The parameters every send method shares.
    fn common(&self, chat: &Value, reply_to: Option<i64>) -> Vec<(&'static str, Value)> {
        let mut params = vec![("chat_id", chat.clone())];
        if let Some(thread) = self.message_thread_id {
            params.push(("message_thread_id", json!(thread)));
        }
        if self.disable_notification {
            params.push(("disable_notification", json!(true)));
        }
        if self.protect_content {
            params.push(("protect_content", json!(true)));
        }
        if let Some(message_id) = reply_to {
            params.push(("reply_parameters", json!({ "message_id": message_id })));
        }
        params
    }
}

/// Sends a post (or a reply) and keeps the ledger: the mark before, the
/// record after, and an unknown outcome reported as such.
pub fn deliver(
    api: &Api,
    chat: &Value,
    reply_to: Option<i64>,
    post: &Post,
) -> Result<Published, PluginError> {
    let options: Options = post.parse_options()?;
    let plan = plan(post)?;
    let key = &post.idempotency_key;
    ledger::begin(key, clock::now_ms())?;
    match send(api, chat, reply_to, post, &options, plan) {
        Ok(messages) => {
            let Some(first) = messages.first() else {
                ledger::abandon(key);
                return Err(PluginError::transient("Telegram answered no message"));
            };
            let sent = Sent {
                chat_id: first.chat.id,
                message_ids: messages.iter().map(|m| m.message_id).collect(),
                url: message_url(&first.chat, first.message_id),
            };
            ledger::record(key, &sent, &message_ref(sent.chat_id, first.message_id))?;
            log::debug(format!(
                "sent {} message(s) to chat {}",
                sent.message_ids.len(),
                sent.chat_id
            ));
            Ok(published(&sent))
        }
        Err(SendError::Refused(error)) => {
            ledger::abandon(key);
            Err(error)
        }
        Err(SendError::Unknown(error)) => Err(PluginError::invalid(format!(
            "Telegram did not confirm the message ({error}); it may have been sent: check the \
             chat before sending it again"
        ))),
    }
}

pub fn published(sent: &Sent) -> Published {
    let first = sent.message_ids.first().copied().unwrap_or_default();
    Published {
        remote_id: message_ref(sent.chat_id, first),
        url: sent.url.clone(),
    }
}

/// How an attachment goes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `sendPhoto` / `InputMediaPhoto`: JPEG, PNG, WebP.
    Photo,
    /// `sendVideo` / `InputMediaVideo`: MP4.
    Video,
    /// `sendDocument` / `InputMediaDocument`: anything else (a GIF sent as
    /// a document plays as an animation).
    Document,
}

impl MediaKind {
    /// The kind for a MIME type.
    pub fn of(mime: &str) -> Self {
        match mime {
            "image/jpeg" | "image/png" | "image/webp" => Self::Photo,
            "video/mp4" => Self::Video,
            _ => Self::Document,
        }
    }

    /// The method sending one attachment, and its file parameter.
    fn method(self) -> (&'static str, &'static str) {
        match self {
            Self::Photo => ("sendPhoto", "photo"),
            Self::Video => ("sendVideo", "video"),
            Self::Document => ("sendDocument", "document"),
        }
    }
}

/// What a post becomes, checked before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// `sendMessage`.
    Text,
    /// One attachment with the text as caption.
    Single(MediaKind),
    /// An album, the text as the first item's caption.
    Album(Vec<MediaKind>),
}

/// Checks a post against Telegram's limits and picks the method.
pub fn plan(post: &Post) -> Result<Plan, PluginError> {
    let length = telegram_len(&post.text);
    if post.media.is_empty() {
        if post.text.trim().is_empty() {
            return Err(PluginError::invalid(
                "a Telegram message needs text or media",
            ));
        }
        if length > MAX_TEXT {
            return Err(PluginError::invalid(format!(
                "Telegram messages are at most {MAX_TEXT} characters; this one has {length}"
            )));
        }
        return Ok(Plan::Text);
    }
    if length > MAX_CAPTION {
        return Err(PluginError::invalid(format!(
            "a Telegram caption is at most {MAX_CAPTION} characters and this text has {length}: \
             shorten it, or post the media as a follow-up"
        )));
    }
    if post.media.len() > MAX_ALBUM {
        return Err(PluginError::invalid(format!(
            "a Telegram album holds at most {MAX_ALBUM} items"
        )));
    }
    let kinds: Vec<MediaKind> = post
        .media
        .iter()
        .map(|m| {
            let kind = MediaKind::of(&m.mime);
            let cap = if kind == MediaKind::Photo {
                MAX_PHOTO_BYTES
            } else {
                MAX_FILE_BYTES
            };
            if m.size > cap {
                Err(PluginError::invalid(format!(
                    "{} is larger than Telegram accepts ({} MB)",
                    m.mime,
                    cap / (1024 * 1024)
                )))
            } else {
                Ok(kind)
            }
        })
        .collect::<Result<_, _>>()?;
    match kinds.as_slice() {
        [one] => Ok(Plan::Single(*one)),
        many => {
            let documents = many.iter().filter(|k| **k == MediaKind::Document).count();
            if documents != 0 && documents != many.len() {
                return Err(PluginError::invalid(
                    "a Telegram album cannot mix documents with photos or videos",
                ));
            }
            Ok(Plan::Album(kinds))
        }
    }
}

/// Sends the post as planned; answers the messages made.
fn send(
    api: &Api,
    chat: &Value,
    reply_to: Option<i64>,
    post: &Post,
    options: &Options,
    plan: Plan,
) -> Result<Vec<Message>, SendError> {
    let common = options.common(chat, reply_to);
    let caption = escape(&post.text);
    match plan {
        Plan::Text => {
            let mut params: serde_json::Map<String, Value> =
                common.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            params.insert("text".into(), json!(caption));
            params.insert("parse_mode".into(), json!("HTML"));
            if options.disable_link_preview {
                params.insert(
                    "link_preview_options".into(),
                    json!({ "is_disabled": true }),
                );
            }
            let message: Message = api.send("sendMessage", Body::Json(Value::Object(params)))?;
            Ok(vec![message])
        }
        Plan::Single(kind) => {
            let (method, field) = kind.method();
            let mut form = form_of(common);
            if !post.text.trim().is_empty() {
                form = form.text("caption", caption).text("parse_mode", "HTML");
            }
            let attachment = post
                .media
                .first()
                .ok_or_else(|| SendError::Refused(PluginError::invalid("the post has no media")))?;
            let bytes = media::read_all(attachment).map_err(SendError::Refused)?;
            let form = form.file(field, &file_name(attachment, 0), &attachment.mime, bytes);
            let message: Message = api.send(method, Body::Multipart(form))?;
            Ok(vec![message])
        }
        Plan::Album(kinds) => {
            let mut items = Vec::new();
            let mut files = Vec::new();
            for (n, (attachment, kind)) in post.media.iter().zip(kinds).enumerate() {
                let name = format!("file{n}");
                let kind_name = match kind {
                    MediaKind::Photo => "photo",
                    MediaKind::Video => "video",
                    MediaKind::Document => "document",
                };
                let mut item = serde_json::Map::new();
                item.insert("type".into(), json!(kind_name));
                item.insert("media".into(), json!(format!("attach://{name}")));
                if n == 0 && !post.text.trim().is_empty() {
                    item.insert("caption".into(), json!(caption));
                    item.insert("parse_mode".into(), json!("HTML"));
                }
                items.push(Value::Object(item));
                let bytes = media::read_all(attachment).map_err(SendError::Refused)?;
                files.push((
                    name,
                    file_name(attachment, n),
                    attachment.mime.clone(),
                    bytes,
                ));
            }
            let mut form = form_of(common).text("media", Value::Array(items).to_string());
            for (name, filename, mime, bytes) in files {
                form = form.file(&name, &filename, &mime, bytes);
            }
            api.send("sendMediaGroup", Body::Multipart(form))
        }
    }
}

/// Parameters as multipart text fields: strings as they are, everything
/// else JSON-serialized (as the API wants objects in multipart requests).
fn form_of(params: Vec<(&'static str, Value)>) -> Form {
    params
        .into_iter()
        .fold(Form::new(), |form, (name, value)| match value {
            Value::String(text) => form.text(name, text),
            other => form.text(name, other.to_string()),
        })
}

fn file_name(attachment: &MediaRef, n: usize) -> String {
    let extension = attachment.mime.rsplit('/').next().unwrap_or("bin");
    format!("attachment-{}.{extension}", n + 1)
}
