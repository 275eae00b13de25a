//! The bodies a post is sent as, one per [`Format`].
//!
//! ## `plaza`
//!
//! ```json
//! {
//!   "type": "post.publish",
//!   "idempotency_key": "tgt_…",
//!   "channel_id": "ch_…",
//!   "text": "Spring roast is here",
//!   "reply_to": null,
//!   "media": [{"id": "med_…", "mime": "image/png", "size": 1234, "alt_text": "A cup"}],
//!   "options": {}
//! }
//! ```
//!
//! `idempotency_key` is also the `webhook-id` header: the same on every
//! retry, so a receiver drops repeats by it. `media` lists the attachments
//! by Plaza id (the receiver fetches them through Plaza's API); `options` are
//! the post's per-channel options as given.
//!
//! ## `slack`
//!
//! A Slack incoming-webhook message, `{"text": "…"}` with `&`, `<` and `>`
//! escaped as Slack's message formatting asks. Slack answers `200 ok`, or
//! `400 invalid_payload`/`no_text`, `403 action_prohibited`,
//! `404 no_service`/`channel_not_found`, `410 channel_is_archived`, and `429`
//! past its one-message-per-second rate limit.
//!
//! ## `teams`
//!
//! A Microsoft Teams message carrying one Adaptive Card (schema 1.4) with
//! the text as a wrapping `TextBlock`: the shape both the classic incoming
//! webhooks and Workflows ("Post to a channel when a webhook request is
//! received") accept.

use plaza_sdk::{Channel, PluginError, Post};
use serde_json::{Value, json};

use crate::config::Format;

/// The body for `post` in `format`.
pub fn body(format: Format, channel: &Channel, post: &Post) -> Result<Value, PluginError> {
    if format != Format::Plaza && !post.media.is_empty() {
        return Err(PluginError::invalid(
            "Slack and Teams webhooks cannot carry attachments; use the plaza format or remove the media",
        ));
    }
    Ok(match format {
        Format::Plaza => plaza(channel, post)?,
        Format::Slack => json!({ "text": slack_escape(&post.text) }),
        Format::Teams => teams(&post.text),
    })
}

fn plaza(channel: &Channel, post: &Post) -> Result<Value, PluginError> {
    let options = if post.options.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str::<Value>(&post.options)
            .map_err(|err| PluginError::invalid(format!("post options are not JSON: {err}")))?
    };
    let media: Vec<Value> = post
        .media
        .iter()
        .map(|m| json!({ "id": m.id, "mime": m.mime, "size": m.size, "alt_text": m.alt_text }))
        .collect();
    Ok(json!({
        "type": "post.publish",
        "idempotency_key": post.idempotency_key,
        "channel_id": channel.id,
        "text": post.text,
        "reply_to": post.reply_to,
        "media": media,
        "options": options,
    }))
}

/// Slack treats `&`, `<` and `>` as control characters in message text.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn teams(text: &str) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [{ "type": "TextBlock", "text": text, "wrap": true }]
            }
        }]
    })
}
