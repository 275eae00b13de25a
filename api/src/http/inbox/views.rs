//! How inbox items and replies look on the wire.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::inbox::{InboxItemRow, InboxReplyRow};
use crate::domain::ids::{ChannelId, ContactId, InboxItemId, InboxReplyId, PostId, parse_stored};
use crate::domain::inbox::{ItemKind, ItemStatus, Priority, ReplyStatus};
use crate::domain::sentiment::SentimentLabel;
use crate::error::{ApiError, ApiResult};
use crate::http::views::utc;

/// Who wrote an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemAuthor {
    /// The account's id on the platform.
    pub remote_id: String,
    /// Its handle.
    pub handle: String,
    /// Its display name.
    pub name: Option<String>,
    /// Its followers when the item arrived.
    pub followers: Option<i64>,
    /// The contact it belongs to.
    pub contact_id: Option<ContactId>,
}

/// The item's sentiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemSentiment {
    /// Compound score, -1 (most negative) to 1 (most positive).
    pub score: f64,
    /// `negative` (≤ -0.05), `neutral` or `positive` (≥ 0.05).
    pub label: SentimentLabel,
}

/// The conversation an item belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemThread {
    /// The conversation's id on the platform: list it with `?thread=`.
    pub remote_id: String,
    /// The item it answers, on the platform.
    pub parent_remote_id: Option<String>,
    /// The brand's post it is about, on the platform.
    pub post_remote_id: Option<String>,
    /// That post in Plaza, when Plaza published it.
    pub post_id: Option<PostId>,
}

/// The SLA clock of an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemSla {
    /// When the first answer is due (business hours).
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// When the team first answered (a reply sent) or resolved it.
    pub first_response_at: Option<DateTime<Utc>>,
    /// When it should be resolved.
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Unanswered past its first-response due time now.
    pub overdue: bool,
}

/// A mention, comment, direct message, review or listening hit.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "kind": "comment",
    "channel_id": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "platform": "mastodon",
    "remote_id": "109876543210",
    "url": "https://social.example/@ana/109876543210",
    "text": "¡Qué mal servicio! Llevo dos semanas esperando",
    "lang": "es",
    "sentiment": {"score": -0.62, "label": "negative"},
    "author": {"remote_id": "42", "handle": "@ana@social.example", "name": "Ana", "followers": 1200, "contact_id": "019a5b8e-1111-7d7a-9c1e-2f4b3a5d6e7f"},
    "thread": {"remote_id": "109876543000", "parent_remote_id": "109876543000", "post_remote_id": "109876543000", "post_id": null},
    "status": "open",
    "priority": "high",
    "assignee_id": null,
    "tags": ["complaint"],
    "listening_query_id": null,
    "source": "poll",
    "created_at": "2026-03-01T09:58:00Z",
    "received_at": "2026-03-01T10:00:00Z",
    "sla": {"first_response_due_at": "2026-03-01T11:00:00Z", "first_response_at": null, "resolution_due_at": "2026-03-02T10:00:00Z", "resolved_at": null, "overdue": false},
    "updated_at": "2026-03-01T10:00:00Z"
}))]
pub struct InboxItem {
    /// Item id.
    pub id: InboxItemId,
    /// What it is.
    pub kind: ItemKind,
    /// The channel it came through.
    pub channel_id: ChannelId,
    /// The channel's plugin.
    pub platform: String,
    /// Its id on the platform.
    pub remote_id: String,
    /// Where it is on the platform.
    pub url: Option<String>,
    /// Its text.
    pub text: String,
    /// ISO 639-1 language: the platform's, else detected.
    pub lang: Option<String>,
    /// Its sentiment.
    pub sentiment: Option<ItemSentiment>,
    /// Who wrote it.
    pub author: ItemAuthor,
    /// Its conversation.
    pub thread: ItemThread,
    /// Where it stands.
    pub status: ItemStatus,
    /// How urgent it is.
    pub priority: Priority,
    /// The member working on it.
    pub assignee_id: Option<String>,
    /// Tags, by people and rules.
    pub tags: Vec<String>,
    /// The listening query that found it.
    pub listening_query_id: Option<String>,
    /// `poll`, `webhook` or `listening`.
    pub source: String,
    /// When it was written on the platform.
    pub created_at: DateTime<Utc>,
    /// When Plaza took it in.
    pub received_at: DateTime<Utc>,
    /// Its SLA clock.
    pub sla: ItemSla,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn stored<T>(parsed: Option<T>, what: &str, raw: &str) -> ApiResult<T> {
    parsed.ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored {what} {raw:?}")))
}

impl InboxItem {
    /// The stored row as sent.
    pub fn from_row(row: InboxItemRow) -> ApiResult<Self> {
        let now = crate::db::now();
        let sentiment = match (row.sentiment_score, row.sentiment_label.as_deref()) {
            (Some(score), Some(label)) => Some(ItemSentiment {
                score,
                label: stored(SentimentLabel::parse(label), "sentiment", label)?,
            }),
            _ => None,
        };
        let overdue = row.first_response_at.is_none()
            && row.first_response_due_at.is_some_and(|due| due < now)
            && !matches!(row.status.as_str(), "resolved" | "spam" | "hidden");
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            kind: stored(ItemKind::parse(&row.kind), "kind", &row.kind)?,
            channel_id: parse_stored(&row.channel_id).map_err(ApiError::internal)?,
            platform: row.platform,
            remote_id: row.remote_id,
            url: row.url,
            text: row.body,
            lang: row.lang,
            sentiment,
            author: ItemAuthor {
                remote_id: row.author_remote_id,
                handle: row.author_handle,
                name: row.author_name,
                followers: row.author_followers,
                contact_id: row.contact_id.as_deref().and_then(|c| parse_stored(c).ok()),
            },
            thread: ItemThread {
                remote_id: row.thread_remote_id,
                parent_remote_id: row.parent_remote_id,
                post_remote_id: row.post_remote_id,
                post_id: row.post_id.as_deref().and_then(|p| parse_stored(p).ok()),
            },
            status: stored(ItemStatus::parse(&row.status), "status", &row.status)?,
            priority: stored(Priority::parse(&row.priority), "priority", &row.priority)?,
            assignee_id: row.assignee_id,
            tags: serde_json::from_str(&row.tags).unwrap_or_default(),
            listening_query_id: row.listening_query_id,
            source: row.source,
            created_at: utc(row.remote_created_at),
            received_at: utc(row.received_at),
            sla: ItemSla {
                first_response_due_at: row.first_response_due_at.map(utc),
                first_response_at: row.first_response_at.map(utc),
                resolution_due_at: row.resolution_due_at.map(utc),
                resolved_at: row.resolved_at.map(utc),
                overdue,
            },
            updated_at: utc(row.updated_at),
        })
    }
}

/// A reply written in Plaza.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-7777-7d7a-9c1e-2f4b3a5d6e7f",
    "item_id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "text": "Hola Ana, lo sentimos mucho. Te escribimos por privado.",
    "saved_reply_id": null,
    "status": "sent",
    "remote_id": "109876543999",
    "remote_url": "https://social.example/@brand/109876543999",
    "error": null,
    "attempts": 1,
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "approved_by": null,
    "created_at": "2026-03-01T10:05:00Z",
    "sent_at": "2026-03-01T10:05:01Z"
}))]
pub struct InboxReply {
    /// Reply id.
    pub id: InboxReplyId,
    /// The item it answers.
    pub item_id: InboxItemId,
    /// The text.
    pub text: String,
    /// The saved reply it was written from.
    pub saved_reply_id: Option<String>,
    /// Where it stands.
    pub status: ReplyStatus,
    /// Its id on the platform, once sent.
    pub remote_id: Option<String>,
    /// Where it is on the platform.
    pub remote_url: Option<String>,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// Sends tried.
    pub attempts: i32,
    /// The member who wrote it, or `rule:<id>` for an automatic reply.
    pub created_by: String,
    /// The member who approved it.
    pub approved_by: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the platform took it.
    pub sent_at: Option<DateTime<Utc>>,
}

impl InboxReply {
    /// The stored row as sent.
    pub fn from_row(row: InboxReplyRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            item_id: parse_stored(&row.item_id).map_err(ApiError::internal)?,
            status: stored(ReplyStatus::parse(&row.status), "reply status", &row.status)?,
            text: row.body,
            saved_reply_id: row.saved_reply_id,
            remote_id: row.remote_id,
            remote_url: row.remote_url,
            error: row.error,
            attempts: row.attempts,
            created_by: row.created_by,
            approved_by: row.approved_by,
            created_at: utc(row.created_at),
            sent_at: row.sent_at.map(utc),
        })
    }
}
