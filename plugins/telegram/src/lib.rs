//! The Telegram plugin: a channel is one Telegram channel or group, reached
//! through the Bot API with a bot token from @BotFather (`bot_token`); the
//! bot must be an administrator of the chat.
//!
//! - Posts are `sendMessage` with the text HTML-escaped under
//!   `parse_mode: "HTML"`; one attachment goes up with `sendPhoto`,
//!   `sendVideo` or `sendDocument`, two to ten as an album
//!   (`sendMediaGroup`), the text as the (first) caption.
//! - Follow-up parts reply to the part before them (`reply_parameters`).
//! - Mentions, comments and direct messages come from `getUpdates`
//!   ([`updates`]) or from Telegram's webhook (`parse_webhook`); the two are
//!   exclusive on Telegram's side (see [`api::telegram_error`]).
//! - Replies answer an item; deleting is `deleteMessage`; block-author is
//!   `banChatMember`, mute-author `restrictChatMember`.
//!
//! Ids: a post or message is `chat_id:message_id`; an inbox item written by
//! a user adds `:user_id`, so moderation can act on its author.
//!
//! Credentials: `bot_token` (required) and `webhook_secret` (the
//! `secret_token` given to `setWebhook`, only when Telegram delivers
//! updates to a webhook). Configuration: `chat_id` and, for a self-hosted
//! Bot API server, `api_base_url`.
//!
//! What Telegram does not allow, and so this plugin does not do:
//! - no idempotency key and no way to list a chat's messages: a send whose
//!   answer was lost cannot be checked, and is reported as possibly sent
//!   ([`ledger`]) rather than retried;
//! - captions are 1024 characters (texts 4096): a longer text with media is
//!   refused before anything is sent;
//! - one bot token serves one Plaza channel for reading: the update queue
//!   is per bot, and whoever reads it confirms it;
//! - `getUpdates` and a webhook exclude each other (409 Conflict);
//! - no view counts per post, no search, no hiding, no reporting.

pub mod api;
pub mod config;
pub mod html;
pub mod ledger;
pub mod multipart;
pub mod send;
pub mod updates;

use plaza_sdk::{
    Author, Capabilities, Channel, ItemKind, Limits, Manifest, Metric, Moderation, Page, Plugin,
    PluginError, Post, Published, WebhookOutcome, WebhookRequest, credentials,
};
use serde_json::json;

use crate::api::{Api, Update};
use crate::config::Config;
use crate::ledger::Lookup;
use crate::send::{Options, deliver, published};
use crate::updates::{Known, Wanted, message_ref};

/// Longest message text, in UTF-16 code units after entity parsing
/// (Bot API, `sendMessage`: "1-4096 characters after entities parsing").
pub const MAX_TEXT: usize = 4096;
/// Longest media caption (`sendPhoto` and others: "0-1024 characters after
/// entities parsing").
pub const MAX_CAPTION: usize = 1024;
/// Items in one album (`sendMediaGroup`: "an array describing messages to
/// be sent, must include 2-10 items").
pub const MAX_ALBUM: usize = 10;
/// Largest photo (`sendPhoto`: "The photo must be at most 10 MB in size").
pub const MAX_PHOTO_BYTES: u64 = 10 * 1024 * 1024;
/// Largest upload of other files ("Sending files": "50 MB max size for
/// other files" sent as multipart).
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// The credential holding the webhook's secret token: the `secret_token`
/// given to `setWebhook`, which Telegram sends back in
/// `X-Telegram-Bot-Api-Secret-Token`.
pub const WEBHOOK_SECRET: &str = "webhook_secret";
/// The header Telegram puts the secret token in.
pub const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// The Telegram platform.
#[derive(Debug)]
pub struct Telegram;

impl Plugin for Telegram {
    fn describe() -> Manifest {
        Manifest::builder("telegram", "Telegram")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Telegram")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::DIRECT_MESSAGES
                    | Capabilities::REPLY
                    | Capabilities::DELETE_COMMENT
                    | Capabilities::BLOCK_AUTHOR
                    | Capabilities::ACCOUNT_METRICS
                    | Capabilities::WEBHOOKS,
            )
            // Text: sendMessage's 4096 characters; media: an album's ten
            // items. Captions are shorter (1024), checked at publish.
            .limits(Limits::new(MAX_TEXT as u32, MAX_ALBUM as u32).media_types([
                "image/jpeg",
                "image/png",
                "image/webp",
                "image/gif",
                "video/mp4",
                "application/pdf",
            ]))
            .allowed_host("api.telegram.org")
            .allowed_host("{config.api_base_url}")
            .config_schema(&Config::schema())
            .post_options_schema(&Options::schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// The chat the channel posts to, as the account (one bot may serve
    /// several chats), with its member count; also proves the token works
    /// (`getMe`) and the bot can see the chat (`getChat`).
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let api = Api::connect(channel)?;
        let (_, _, chat) = Known::refresh(&api)?;
        let members = api.member_count(&json!(chat.id))?;
        let handle = chat
            .username
            .as_ref()
            .map_or_else(|| chat.id.to_string(), |u| format!("@{u}"));
        Ok(Author {
            remote_id: chat.id.to_string(),
            handle,
            display_name: chat.title.or(chat.first_name),
            followers: Some(members),
        })
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let (chat, reply_to) = match post.reply_to.as_deref() {
            Some(previous) => {
                let target = MessageRef::parse(previous)?;
                let chat = target
                    .chat
                    .map_or_else(|| api.config().chat_param(), |c| json!(c));
                (chat, Some(target.message))
            }
            None => (api.config().chat_param(), None),
        };
        deliver(&api, &chat, reply_to, &post)
    }

    /// Only the kv store can tell (see [`ledger`]): the Bot API has no
    /// idempotency key and no way to list a chat's messages.
    fn find_published(
        _channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::invalid(
                "a post sent without an idempotency key cannot be looked up",
            ));
        }
        match ledger::lookup(idempotency_key)? {
            Lookup::Sent(sent) => Ok(Some(published(&sent))),
            Lookup::Unknown => Err(PluginError::invalid(
                "a send of this post to Telegram began but its outcome was never recorded, and \
                 the Bot API cannot be asked: check the chat before sending it again",
            )),
            Lookup::Nothing => Ok(None),
        }
    }

    /// Deletes the message, and the rest of its album. Telegram lets bots
    /// delete messages up to 48 hours old in groups (any age in channels
    /// where the bot may delete others' posts); older ones are refused.
    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let target = MessageRef::parse(remote_id)?;
        let chat = match target.chat {
            Some(chat) => chat,
            None => Known::load(&api)?.chat_id,
        };
        let first = message_ref(chat, target.message);
        let album: Vec<i64> = plaza_sdk::kv::get_json(&ledger::album_key(&first))?
            .unwrap_or_else(|| vec![target.message]);
        api.delete_message(chat, target.message)?;
        for id in album.into_iter().filter(|id| *id != target.message) {
            match api.delete_message(chat, id) {
                // Already gone is what was asked for.
                Err(PluginError::NotFound) | Ok(()) => {}
                Err(other) => return Err(other),
            }
        }
        plaza_sdk::kv::delete(&ledger::album_key(&first));
        Ok(())
    }

    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        read(channel, ItemKind::Mention, None, cursor, limit)
    }

    /// Replies to the post, in the chat or in the channel's discussion group.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        read(channel, ItemKind::Comment, Some(post_id), cursor, limit)
    }

    /// Private messages to the bot.
    fn fetch_messages(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        read(channel, ItemKind::DirectMessage, None, cursor, limit)
    }

    /// Answers the item in its own chat (a direct message in the private
    /// chat, a comment in the discussion group), replying to it.
    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let target = MessageRef::parse(to)?;
        let chat = target
            .chat
            .map_or_else(|| api.config().chat_param(), |c| json!(c));
        deliver(&api, &chat, Some(target.message), &post)
    }

    /// `delete` deletes the message; `block-author` bans its author from the
    /// chat (`banChatMember`), `mute-author` takes away their right to send
    /// anything (`restrictChatMember`, supergroups only). Telegram has no
    /// hiding and bots cannot report: those are `Unsupported`.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        if matches!(
            action,
            Moderation::Hide | Moderation::Unhide | Moderation::Report
        ) {
            return Err(PluginError::Unsupported);
        }
        let api = Api::connect(channel)?;
        let target = MessageRef::parse(remote_id)?;
        let chat = match target.chat {
            Some(chat) => chat,
            None => Known::load(&api)?.chat_id,
        };
        let author = || {
            target.user.ok_or_else(|| {
                PluginError::invalid(
                    "this item was sent on behalf of a chat, not by a user: there is no one to ban or mute",
                )
            })
        };
        match action {
            Moderation::Delete => api.delete_message(chat, target.message),
            Moderation::BlockAuthor => api.ban(chat, author()?),
            Moderation::MuteAuthor => api.mute(chat, author()?),
            Moderation::Hide | Moderation::Unhide | Moderation::Report => {
                Err(PluginError::Unsupported)
            }
        }
    }

    /// `followers`: the chat's members (`getChatMemberCount`; a channel's
    /// subscribers, its administrators and the bot included).
    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let api = Api::connect(channel)?;
        let members = api.member_count(&api.config().chat_param())?;
        Ok(vec![
            Metric::followers(members),
            Metric::account("x_chat_members", members as f64),
        ])
    }

    /// Telegram signs nothing: a webhook set with a `secret_token` sends it
    /// back in `X-Telegram-Bot-Api-Secret-Token`, compared here in constant
    /// time with the channel's `webhook_secret` credential.
    fn verify_webhook(_channel: &Channel, request: &WebhookRequest) -> Result<(), PluginError> {
        let secret = credentials::get(WEBHOOK_SECRET).ok_or_else(|| {
            PluginError::unauthorized(
                "no webhook_secret credential: set it to the secret_token given to setWebhook",
            )
        })?;
        if !request.method.eq_ignore_ascii_case("POST") {
            return Err(PluginError::invalid("Telegram delivers updates with POST"));
        }
        let given = request
            .header(SECRET_HEADER)
            .ok_or_else(|| PluginError::unauthorized(format!("no {SECRET_HEADER} header")))?;
        if constant_time_eq(given.as_bytes(), secret.as_bytes()) {
            Ok(())
        } else {
            Err(PluginError::unauthorized(format!(
                "the {SECRET_HEADER} header does not match"
            )))
        }
    }

    /// One `Update` per request; its message becomes an item when it is a
    /// direct message, a comment or a mention (as for `getUpdates`).
    fn parse_webhook(
        channel: &Channel,
        request: &WebhookRequest,
    ) -> Result<WebhookOutcome, PluginError> {
        let update: Update = serde_json::from_slice(&request.body)
            .map_err(|error| PluginError::invalid(format!("not a Telegram update: {error}")))?;
        let api = Api::connect(channel)?;
        let known = Known::load(&api)?;
        Ok(WebhookOutcome::items(updates::webhook_items(
            &known, &update,
        )))
    }
}

/// A post or message as Plaza names it: `chat:message`, an item adds
/// `:user`; a bare message id means the configured chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    /// The chat, when named.
    pub chat: Option<i64>,
    /// The message id in that chat.
    pub message: i64,
    /// The author, for items written by users.
    pub user: Option<i64>,
}

impl MessageRef {
    /// Parses an id Plaza got from this plugin.
    pub fn parse(id: &str) -> Result<Self, PluginError> {
        let invalid = || PluginError::invalid(format!("not a Telegram message id: {id}"));
        let numbers: Vec<i64> = id
            .split(':')
            .map(|part| part.trim().parse::<i64>().map_err(|_| invalid()))
            .collect::<Result<_, _>>()?;
        match numbers.as_slice() {
            [message] => Ok(Self {
                chat: None,
                message: *message,
                user: None,
            }),
            [chat, message] => Ok(Self {
                chat: Some(*chat),
                message: *message,
                user: None,
            }),
            [chat, message, user] => Ok(Self {
                chat: Some(*chat),
                message: *message,
                user: Some(*user),
            }),
            _ => Err(invalid()),
        }
    }
}

fn read(
    channel: &Channel,
    kind: ItemKind,
    post_id: Option<&str>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<Page, PluginError> {
    let api = Api::connect(channel)?;
    let known = Known::load(&api)?;
    let (items, next_cursor) =
        updates::read(&api, &known, Wanted { kind, post_id }, cursor, limit)?;
    Ok(Page { items, next_cursor })
}

/// Compares in time that depends on the given value's length only, never
/// on where the two differ.
pub fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (n, byte) in given.iter().enumerate() {
        let other = expected
            .get(n % expected.len().max(1))
            .copied()
            .unwrap_or(0);
        difference |= byte ^ other;
    }
    difference == 0 && !expected.is_empty()
}

plaza_sdk::export_plugin!(Telegram);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
