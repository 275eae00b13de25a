//! Inbox pages: others' messages read forward from a snowflake cursor,
//! from one channel or several (a post's thread and its channel), as items.

use plaza_sdk::{Author, Item, ItemKind, Page, PluginError};

use crate::api::{Api, Message};
use crate::config::Config;
use crate::{MAX_PAGE, MessageRef, message_url, snowflake_time};

/// One channel read for an inbox page, and which of its messages count.
pub(crate) struct Source {
    /// The channel or thread to read.
    pub(crate) channel_id: String,
    /// A thread that may not exist (404 reads as empty).
    pub(crate) optional: bool,
    /// Which of its messages (from others, people's messages) count.
    pub(crate) keep: Box<dyn Fn(&Message) -> bool>,
}

/// Reads each source forward from `cursor` (a snowflake; none: the newest
/// messages) and merges what others wrote, newest first.
///
/// Snowflakes grow with time across channels, so one cursor serves every
/// source. When a source answered a full page there may be more after it:
/// the next cursor stops at the lowest last id of such sources, and
/// messages past it (from other sources) are left for the next call. With
/// nothing new the cursor stays where it was. Filtering happens after
/// paging, so a page may hold fewer items than asked with more to come.
pub(crate) fn read(
    api: &Api,
    me: &str,
    sources: &[Source],
    cursor: Option<&str>,
    limit: u32,
    kind: ItemKind,
    post_id: Option<&str>,
) -> Result<Page, PluginError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut seen: Vec<(Message, bool)> = Vec::new();
    let mut cutoff: Option<u64> = None;
    for source in sources {
        let messages = match api.messages(&source.channel_id, cursor, None, limit) {
            Err(PluginError::NotFound) if source.optional => continue,
            other => other?,
        };
        if messages.len() >= limit as usize {
            let last = messages.last().map_or(0, Message::snowflake);
            cutoff = Some(cutoff.map_or(last, |c| c.min(last)));
        }
        seen.extend(messages.into_iter().map(|m| {
            let keep = m.author.id != me && m.is_conversation() && (source.keep)(&m);
            (m, keep)
        }));
    }
    if let Some(cutoff) = cutoff {
        seen.retain(|(m, _)| m.snowflake() <= cutoff);
    }
    let newest = seen.iter().map(|(m, _)| m.snowflake()).max();
    let next_cursor = newest
        .map(|id| id.to_string())
        .or_else(|| cursor.map(str::to_owned));
    let mut kept: Vec<Message> = seen
        .into_iter()
        .filter(|(_, k)| *k)
        .map(|(m, _)| m)
        .collect();
    kept.sort_by_key(|m| std::cmp::Reverse(m.snowflake()));
    kept.dedup_by(|a, b| a.id == b.id);
    let items = kept
        .iter()
        .map(|m| item(&api.config, m, kind, post_id))
        .collect();
    Ok(Page { items, next_cursor })
}

/// A message as an inbox item.
fn item(config: &Config, message: &Message, kind: ItemKind, post_id: Option<&str>) -> Item {
    let author = Author {
        remote_id: message.author.id.clone(),
        handle: message.author.username.clone(),
        display_name: message.author.global_name.clone(),
        followers: None,
    };
    let at = MessageRef::of(message);
    let created_at = if message.timestamp.is_empty() {
        snowflake_time(&message.id)
    } else {
        message.timestamp.clone()
    };
    let mut item = Item::new(
        kind,
        at.remote_id(config),
        author,
        message.content.clone(),
        created_at,
    );
    let in_thread = message.channel_id != config.channel_id;
    if in_thread {
        item.thread_id = Some(message.channel_id.clone());
    }
    // Replies answer a message in their own channel; thread messages
    // without a reply answer the message the thread was started from.
    item.parent_id = match (message.replied_to(), in_thread) {
        (Some(parent), _) => Some(
            MessageRef {
                channel_id: message.channel_id.clone(),
                message_id: parent.to_owned(),
            }
            .remote_id(config),
        ),
        (None, true) => Some(message.channel_id.clone()),
        (None, false) => None,
    };
    item.post_id = post_id.map(str::to_owned);
    item.url = Some(message_url(config, &at));
    item
}
