//! Incoming messages as inbox items, and the inbox that keeps them between
//! `getUpdates` and the `fetch-*` calls.
//!
//! Telegram keeps one update queue per bot, and `getUpdates` with an offset
//! confirms (forgets) every update below it, whatever kind it was. Mentions,
//! comments and direct messages are read by three separate calls with three
//! cursors, so no call may confirm what another has not read yet: every
//! call first pulls what is new from Telegram into a small inbox in the kv
//! store (writing the inbox before moving the offset, so a crash repeats
//! updates rather than losing them; repeats are recognised by update id),
//! then answers from the inbox for its own kind. A cursor is the last update
//! id a caller has read; passing it back confirms those items, which the
//! inbox then drops, just as Telegram's offset does.

use chrono::DateTime;
use plaza_sdk::{Author, Item, ItemKind, PluginError, kv, log};
use serde::{Deserialize, Serialize};

use crate::api::{Api, Chat, Message, Update, User};
use crate::html::utf16_slice;

/// The kv key of the `getUpdates` offset.
const OFFSET_KEY: &str = "updates:offset";
/// The kv key of the inbox.
const INBOX_KEY: &str = "updates:inbox";
/// Largest inbox kept, in bytes of JSON (the host keeps values up to
/// 64 KiB); past it the oldest items go, with a warning.
const MAX_INBOX_BYTES: usize = 48 * 1024;
/// Most `getUpdates` pages pulled in one call (100 updates each).
const MAX_PULLS: usize = 3;

/// What the plugin knows of the channel: the bot and the chat, resolved once
/// (`getMe`, `getChat`) and kept in the kv store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Known {
    /// The bot's user id.
    pub bot_id: i64,
    /// The bot's username, without `@`.
    pub bot_username: String,
    /// The configured chat's numeric id.
    pub chat_id: i64,
    /// The configured chat's public username, if any.
    pub chat_username: Option<String>,
    /// The channel's discussion group (or the group's channel).
    pub linked_chat_id: Option<i64>,
    /// The configuration's `chat_id` this was resolved from.
    #[serde(default)]
    pub configured_as: String,
}

/// The kv key of [`Known`].
const KNOWN_KEY: &str = "known";

impl Known {
    /// From the kv store, else asked of Telegram and stored.
    pub fn load(api: &Api) -> Result<Self, PluginError> {
        if let Some(known) = kv::get_json::<Self>(KNOWN_KEY)?
            && known.configured_as == api.config().chat_text()
        {
            return Ok(known);
        }
        Self::refresh(api).map(|(known, _, _)| known)
    }

    /// Asks Telegram again (`getMe`, `getChat`) and stores the answer; also
    /// answers the bot and the chat.
    pub fn refresh(api: &Api) -> Result<(Self, User, Chat), PluginError> {
        let me = api.get_me()?;
        let chat = api.get_chat(&api.config().chat_param())?;
        let known = Self {
            bot_id: me.id,
            bot_username: me.username.clone().unwrap_or_default(),
            chat_id: chat.id,
            chat_username: chat.username.clone(),
            linked_chat_id: chat.linked_chat_id,
            configured_as: api.config().chat_text(),
        };
        kv::set_json(KNOWN_KEY, &known)?;
        Ok((known, me, chat))
    }

    /// Whether a message was sent by the bot or on behalf of the chat.
    pub fn is_ours(&self, message: &Message) -> bool {
        message.from.as_ref().is_some_and(|u| u.id == self.bot_id)
            || message
                .sender_chat
                .as_ref()
                .is_some_and(|c| c.id == self.chat_id)
    }

    /// Whether the message mentions the bot, by `@username` or as a
    /// `text_mention` of its account.
    pub fn mentions_bot(&self, message: &Message) -> bool {
        let (text, entities) = message.body();
        let handle = format!("@{}", self.bot_username);
        entities.iter().any(|entity| match entity.kind.as_str() {
            "mention" => {
                !self.bot_username.is_empty()
                    && utf16_slice(text, entity.offset, entity.length)
                        .is_some_and(|m| m.eq_ignore_ascii_case(&handle))
            }
            "text_mention" => entity.user.as_ref().is_some_and(|u| u.id == self.bot_id),
            _ => false,
        })
    }

    /// The reference of the post a message answers, when it answers one of
    /// ours: directly, or (in the discussion group) the channel post's copy.
    fn answered_post(&self, message: &Message) -> Option<String> {
        let answered = message.reply_to_message.as_deref()?;
        if answered.is_automatic_forward
            && let Some(origin) = &answered.forward_origin
            && let (Some(chat), Some(id)) = (&origin.chat, origin.message_id)
            && chat.id == self.chat_id
        {
            return Some(message_ref(chat.id, id));
        }
        self.is_ours(answered)
            .then(|| message_ref(answered.chat.id, answered.message_id))
    }

    /// The chats the inbox watches: the configured one and its linked one.
    fn watches(&self, chat: &Chat) -> bool {
        chat.id == self.chat_id || Some(chat.id) == self.linked_chat_id
    }
}

/// `chat:message`, how posts and messages are named to Plaza.
pub fn message_ref(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

/// A link to a message: `t.me/<username>/<id>` in public chats,
/// `t.me/c/<id>/<id>` in private supergroups and channels (members only);
/// none elsewhere.
pub fn message_url(chat: &Chat, message_id: i64) -> Option<String> {
    if let Some(username) = &chat.username
        && chat.kind != "private"
    {
        return Some(format!("https://t.me/{username}/{message_id}"));
    }
    let internal = chat.id.to_string();
    internal
        .strip_prefix("-100")
        .map(|id| format!("https://t.me/c/{id}/{message_id}"))
}

/// What a message is to Plaza, if anything: a direct message to the bot, a
/// comment on one of the chat's posts, or a mention of the bot in the chat
/// (or its discussion group). The bot's and the chat's own messages are
/// nothing.
pub fn classify(known: &Known, message: &Message) -> Option<Item> {
    if known.is_ours(message) {
        return None;
    }
    let (kind, post_id) = if message.chat.kind == "private" {
        (ItemKind::DirectMessage, None)
    } else if !known.watches(&message.chat) {
        return None;
    } else if let Some(post) = known.answered_post(message) {
        (ItemKind::Comment, Some(post))
    } else if known.mentions_bot(message) {
        (ItemKind::Mention, None)
    } else {
        return None;
    };
    let (text, _) = message.body();
    let author = author(message);
    // The author's user id rides in the item's id, so moderation can ban
    // or mute from the item alone (bots cannot look messages up).
    let remote_id = match &message.from {
        Some(user) if message.sender_chat.is_none() => format!(
            "{}:{user}",
            message_ref(message.chat.id, message.message_id),
            user = user.id
        ),
        _ => message_ref(message.chat.id, message.message_id),
    };
    let created_at = DateTime::from_timestamp(message.date, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut item = Item::new(kind, remote_id, author, text, created_at);
    item.thread_id = match kind {
        ItemKind::DirectMessage => Some(message.chat.id.to_string()),
        _ => post_id.clone().or_else(|| {
            message
                .message_thread_id
                .map(|t| message_ref(message.chat.id, t))
        }),
    };
    item.parent_id = message
        .reply_to_message
        .as_deref()
        .map(|answered| message_ref(answered.chat.id, answered.message_id));
    item.post_id = post_id;
    item.url = message_url(&message.chat, message.message_id);
    Some(item)
}

fn author(message: &Message) -> Author {
    match (&message.sender_chat, &message.from) {
        (Some(chat), _) => Author {
            remote_id: chat.id.to_string(),
            handle: chat
                .username
                .as_ref()
                .map_or_else(|| chat.id.to_string(), |u| format!("@{u}")),
            display_name: chat.title.clone(),
            followers: None,
        },
        (None, Some(user)) => Author {
            remote_id: user.id.to_string(),
            handle: user
                .username
                .as_ref()
                .map_or_else(|| user.id.to_string(), |u| format!("@{u}")),
            display_name: Some(user.full_name()),
            followers: None,
        },
        (None, None) => Author::new("0", "unknown"),
    }
}

/// An item in the inbox with the update it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    update_id: i64,
    kind: String,
    remote_id: String,
    thread_id: Option<String>,
    parent_id: Option<String>,
    post_id: Option<String>,
    author_id: String,
    author_handle: String,
    author_name: Option<String>,
    text: String,
    created_at: String,
    url: Option<String>,
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Mention => "mention",
        ItemKind::Comment => "comment",
        ItemKind::DirectMessage => "message",
        ItemKind::Review => "review",
        ItemKind::SearchHit => "search",
    }
}

impl Stored {
    fn new(update_id: i64, item: Item) -> Self {
        Self {
            update_id,
            kind: kind_name(item.kind).to_owned(),
            remote_id: item.remote_id,
            thread_id: item.thread_id,
            parent_id: item.parent_id,
            post_id: item.post_id,
            author_id: item.author.remote_id,
            author_handle: item.author.handle,
            author_name: item.author.display_name,
            text: item.text,
            created_at: item.created_at,
            url: item.url,
        }
    }

    fn item(&self, kind: ItemKind) -> Item {
        let author = Author {
            remote_id: self.author_id.clone(),
            handle: self.author_handle.clone(),
            display_name: self.author_name.clone(),
            followers: None,
        };
        Item {
            remote_id: self.remote_id.clone(),
            kind,
            thread_id: self.thread_id.clone(),
            parent_id: self.parent_id.clone(),
            post_id: self.post_id.clone(),
            author,
            text: self.text.clone(),
            lang: None,
            created_at: self.created_at.clone(),
            url: self.url.clone(),
        }
    }
}

/// Items of one kind (and, for comments, one post) after a cursor.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The kind asked for.
    pub kind: ItemKind,
    /// For comments: the post they answer.
    pub post_id: Option<&'a str>,
}

impl Wanted<'_> {
    fn matches(&self, stored: &Stored) -> bool {
        stored.kind == kind_name(self.kind)
            && self
                .post_id
                .is_none_or(|post| stored.post_id.as_deref() == Some(post))
    }
}

/// Pulls what is new from Telegram, then answers up to `limit` items of the
/// wanted kind after `cursor` (an update id; none: everything kept),
/// oldest first. Items at or below the cursor are confirmed and dropped.
/// The next cursor is the last item's update id; with nothing to answer it
/// is the newest update seen, so a later call sees only what came after.
pub fn read(
    api: &Api,
    known: &Known,
    wanted: Wanted<'_>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<Item>, Option<String>), PluginError> {
    let cursor = cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| PluginError::invalid(format!("not a Telegram cursor: {c}")))
        })
        .transpose()?;
    let mut inbox = pull(api, known)?;
    if let Some(cursor) = cursor {
        let before = inbox.len();
        inbox.retain(|s| !(wanted.matches(s) && s.update_id <= cursor));
        if inbox.len() != before {
            save_inbox(&mut inbox)?;
        }
    }
    let after = |s: &&Stored| cursor.is_none_or(|c| s.update_id > c);
    let limit = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
    let page: Vec<&Stored> = inbox
        .iter()
        .filter(|s| wanted.matches(s))
        .filter(after)
        .take(limit)
        .collect();
    let seen = kv::get_string(OFFSET_KEY)
        .and_then(|o| o.parse::<i64>().ok())
        .map(|offset| offset - 1);
    let next = match page.last() {
        Some(last) => Some(last.update_id),
        None => seen.max(cursor),
    };
    let items = page.iter().map(|s| s.item(wanted.kind)).collect();
    Ok((items, next.map(|n| n.to_string())))
}

/// Files new updates into the inbox and moves the offset past them.
fn pull(api: &Api, known: &Known) -> Result<Vec<Stored>, PluginError> {
    let mut inbox: Vec<Stored> = kv::get_json(INBOX_KEY)?.unwrap_or_default();
    let mut offset = kv::get_string(OFFSET_KEY).and_then(|o| o.parse::<i64>().ok());
    for _ in 0..MAX_PULLS {
        let updates = api.get_updates(offset, 100)?;
        let Some(last) = updates.iter().map(|u| u.update_id).max() else {
            break;
        };
        let full = updates.len() >= 100;
        file(&mut inbox, known, &updates);
        save_inbox(&mut inbox)?;
        offset = Some(last + 1);
        kv::set(OFFSET_KEY, (last + 1).to_string());
        if !full {
            break;
        }
    }
    Ok(inbox)
}

/// Adds the items of `updates` the inbox does not hold yet.
fn file(inbox: &mut Vec<Stored>, known: &Known, updates: &[Update]) {
    for update in updates {
        if inbox.iter().any(|s| s.update_id == update.update_id) {
            continue;
        }
        if let Some(item) = update.message().and_then(|m| classify(known, m)) {
            inbox.push(Stored::new(update.update_id, item));
        }
    }
    inbox.sort_by_key(|s| s.update_id);
}

fn save_inbox(inbox: &mut Vec<Stored>) -> Result<(), PluginError> {
    let mut bytes = serde_json::to_vec(inbox).map_err(|e| PluginError::transient(e.to_string()))?;
    let mut dropped = 0;
    while bytes.len() > MAX_INBOX_BYTES && !inbox.is_empty() {
        inbox.remove(0);
        dropped += 1;
        bytes = serde_json::to_vec(inbox).map_err(|e| PluginError::transient(e.to_string()))?;
    }
    if dropped > 0 {
        log::warn(format!(
            "the Telegram inbox is full: {dropped} unread item(s) dropped, oldest first"
        ));
    }
    kv::set(INBOX_KEY, bytes);
    Ok(())
}

/// The items of a webhook's update (nothing is kept: Telegram does not send
/// an update again once the webhook answered 2xx).
pub fn webhook_items(known: &Known, update: &Update) -> Vec<Item> {
    update
        .message()
        .and_then(|m| classify(known, m))
        .into_iter()
        .collect()
}
