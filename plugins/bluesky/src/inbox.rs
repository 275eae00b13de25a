//! What others write to the account: notifications (mentions, replies,
//! quotes) and the replies under a post, as inbox items.

use plaza_sdk::{Author, Item, ItemKind, Page};
use serde::Deserialize;
use serde_json::Value;

use crate::records::AtUri;

/// An account as views show it (`app.bsky.actor.defs#profileViewBasic`).
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileView {
    /// Its DID.
    pub did: String,
    /// Its handle.
    pub handle: String,
    /// Its display name, when set.
    #[serde(default, rename = "displayName")]
    pub display_name: Option<String>,
}

impl ProfileView {
    fn author(&self) -> Author {
        Author {
            remote_id: self.did.clone(),
            handle: self.handle.clone(),
            display_name: self.display_name.clone().filter(|name| !name.is_empty()),
            followers: None,
        }
    }
}

/// One notification (`app.bsky.notification.listNotifications#notification`).
#[derive(Debug, Clone, Deserialize)]
pub struct Notification {
    /// The record that caused it: for a mention, reply or quote, the post.
    pub uri: String,
    /// Who caused it.
    pub author: ProfileView,
    /// `mention`, `reply`, `quote`, `like`, `follow`…
    pub reason: String,
    /// What it is about: the account's post replied to or quoted.
    #[serde(default, rename = "reasonSubject")]
    pub reason_subject: Option<String>,
    /// The record itself.
    #[serde(default)]
    pub record: Value,
    /// When the AppView saw it.
    #[serde(default, rename = "indexedAt")]
    pub indexed_at: String,
}

/// A page of `listNotifications`.
#[derive(Debug, Deserialize)]
pub struct Notifications {
    /// Newest first.
    #[serde(default)]
    pub notifications: Vec<Notification>,
    /// Where older ones continue.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The notification reasons that become inbox items.
pub const INBOX_REASONS: [&str; 3] = ["mention", "reply", "quote"];

/// The page's mentions, replies and quotes as items, newest first. The
/// cursor continues to older notifications; `None` once a page is empty.
pub fn notification_page(page: Notifications) -> Page {
    let next_cursor = page.cursor.filter(|_| !page.notifications.is_empty());
    let items = page
        .notifications
        .iter()
        .filter(|n| INBOX_REASONS.contains(&n.reason.as_str()))
        .map(notification_item)
        .collect();
    Page { items, next_cursor }
}

fn notification_item(n: &Notification) -> Item {
    let kind = if n.reason == "reply" {
        ItemKind::Comment
    } else {
        ItemKind::Mention
    };
    let mut item = post_item(kind, &n.uri, &n.author, &n.record, &n.indexed_at);
    if let Some(subject) = &n.reason_subject {
        item.post_id = Some(subject.clone());
    }
    item
}

/// An item for the post `uri` by `author` with the post record `record`.
fn post_item(
    kind: ItemKind,
    uri: &str,
    author: &ProfileView,
    record: &Value,
    seen_at: &str,
) -> Item {
    let text = record
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let created_at = record
        .get("createdAt")
        .and_then(Value::as_str)
        .unwrap_or(seen_at);
    let mut item = Item::new(kind, uri, author.author(), text, created_at);
    let reply = record.get("reply");
    let reply_uri = |field: &str| {
        reply
            .and_then(|r| r.get(field))
            .and_then(|r| r.get("uri"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    item.thread_id = reply_uri("root");
    item.parent_id = reply_uri("parent");
    item.lang = record
        .get("langs")
        .and_then(|langs| langs.get(0))
        .and_then(Value::as_str)
        .map(str::to_owned);
    item.url = AtUri::parse(uri).ok().map(|uri| uri.web_url());
    item
}

/// The replies under a post, from `getPostThread`, by anyone but `me`:
/// the whole tree, newest first.
pub fn thread_replies(thread: &Value, post_id: &str, me: &str) -> Vec<Item> {
    let mut items = Vec::new();
    if let Some(replies) = thread.get("replies").and_then(Value::as_array) {
        collect_replies(replies, post_id, me, &mut items);
    }
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    items
}

fn collect_replies(replies: &[Value], post_id: &str, me: &str, items: &mut Vec<Item>) {
    for reply in replies {
        // Blocked and deleted replies come as other view types without a post.
        let Some(post) = reply.get("post") else {
            continue;
        };
        let (Some(uri), Ok(author)) = (
            post.get("uri").and_then(Value::as_str),
            serde_json::from_value::<ProfileView>(post.get("author").cloned().unwrap_or_default()),
        ) else {
            continue;
        };
        if author.did != me {
            let record = post.get("record").cloned().unwrap_or_default();
            let indexed_at = post
                .get("indexedAt")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let mut item = post_item(ItemKind::Comment, uri, &author, &record, indexed_at);
            item.post_id = Some(post_id.to_owned());
            items.push(item);
        }
        if let Some(nested) = reply.get("replies").and_then(Value::as_array) {
            collect_replies(nested, post_id, me, items);
        }
    }
}
