//! Replies written in Plaza and sent through the channel's plugin by an
//! `inbox.send_reply` job: at most once, with an idempotency key the plugin
//! passes on, and `needs_review` when a send was interrupted and the
//! platform cannot be asked whether it went out.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde_json::json;

use crate::activity;
use crate::db::channels::ChannelRow;
use crate::db::inbox::{InboxItemChanges, InboxItemRow, InboxReplyChanges, InboxReplyRow};
use crate::db::inbox_rules::{ModerationLogRow, SavedReplyRow};
use crate::db::{self, DbConn};
use crate::domain::activity::EventType;
use crate::domain::inbox::ReplyStatus;
use crate::domain::rules::RuleRef;
use crate::domain::saved_replies::{self, Variables};
use crate::error::ApiError;
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::plugins::bindings::Post as PluginPost;
use crate::plugins::channels::{fresh_context, note_failure, plugin_for};
use crate::plugins::{CallError, PluginFault};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

/// The job kind that sends one reply.
pub const SEND_REPLY: &str = "inbox.send_reply";
/// Sends tried before a reply is given up as failed.
const MAX_ATTEMPTS: i32 = 5;

#[derive(Debug, serde::Deserialize)]
struct SendPayload {
    reply_id: String,
}

/// Enqueues the send of a queued reply (inside the caller's transaction).
pub fn enqueue(conn: &mut DbConn, reply: &InboxReplyRow, now: NaiveDateTime) -> QueryResult<()> {
    let job = NewJob::new(SEND_REPLY, &json!({ "reply_id": reply.id }))
        .in_workspace(reply.workspace_id.clone())
        .unique_key(format!("inbox-reply:{}", reply.id))
        .max_attempts(MAX_ATTEMPTS)
        .run_at(now);
    jobs::enqueue(conn, &job, now).map(drop)
}

/// The variables a saved reply fills for an item.
pub fn variables<'a>(item: &'a InboxItemRow, channel_name: &'a str) -> Variables<'a> {
    Variables {
        author_name: item.author_name.as_deref().unwrap_or(&item.author_handle),
        author_handle: &item.author_handle,
        channel_name,
        item_url: item.url.as_deref().unwrap_or_default(),
    }
}

/// Queues the reply a rule's `auto_reply` asked for; a saved reply deleted
/// since the rule was written is logged and skipped.
pub fn queue_automatic(
    conn: &mut DbConn,
    item: &InboxItemRow,
    saved_reply_id: uuid::Uuid,
    rule: RuleRef,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let saved = SavedReplyRow::find(conn, &item.workspace_id, &saved_reply_id.to_string())?;
    let channel = ChannelRow::find_any(conn, &item.channel_id)?;
    let (Some(saved), Some(channel)) = (saved, channel) else {
        return ModerationLogRow::append(
            conn,
            &[ModerationLogRow {
                id: uuid::Uuid::now_v7().to_string(),
                workspace_id: item.workspace_id.clone(),
                item_id: Some(item.id.clone()),
                contact_id: item.contact_id.clone(),
                actor_kind: "rule".to_owned(),
                actor_id: Some(rule.id.to_string()),
                rule_version: i32::try_from(rule.version).ok(),
                action: "reply.skipped".to_owned(),
                detail: json!({ "saved_reply_id": saved_reply_id }).to_string(),
                reason: Some("the saved reply no longer exists".to_owned()),
                created_at: now,
            }],
        );
    };
    let body = saved_replies::render(&saved.body, &variables(item, &channel.name));
    let reply = new_reply(
        item,
        body,
        Some(saved.id),
        format!("rule:{}", rule.id),
        ReplyStatus::Queued,
        now,
    );
    reply.insert(conn)?;
    enqueue(conn, &reply, now)
}

/// A new reply row for `item`.
pub fn new_reply(
    item: &InboxItemRow,
    body: String,
    saved_reply_id: Option<String>,
    created_by: String,
    status: ReplyStatus,
    now: NaiveDateTime,
) -> InboxReplyRow {
    let id = uuid::Uuid::now_v7().to_string();
    InboxReplyRow {
        idempotency_key: format!("plaza-reply-{id}"),
        id,
        workspace_id: item.workspace_id.clone(),
        item_id: item.id.clone(),
        body,
        saved_reply_id,
        status: status.as_str().to_owned(),
        remote_id: None,
        remote_url: None,
        error: None,
        attempts: 0,
        created_by,
        approved_by: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
    }
}

/// Runs one `inbox.send_reply` job.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<SendPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    send(state, &payload.reply_id, job.attempts >= job.max_attempts).await
}

async fn send(state: &AppState, reply_id: &str, final_attempt: bool) -> JobOutcome {
    let id = reply_id.to_owned();
    let loaded = state
        .db
        .write(move |conn| {
            let Some(reply) = InboxReplyRow::find_by_id(conn, &id)? else {
                return Ok(None);
            };
            let status = ReplyStatus::parse(&reply.status);
            if status == Some(ReplyStatus::Sending) {
                // The last attempt stopped during the platform call: it may
                // have gone out. Sending again could answer twice.
                let reply = settle(
                    conn,
                    &reply,
                    ReplyStatus::NeedsReview,
                    Some("a worker stopped while sending this reply and the platform cannot say whether it went out; check the conversation, then send it again by hand if it is missing"),
                    None,
                )?;
                return Ok::<_, ApiError>(Some((reply, None)));
            }
            if status != Some(ReplyStatus::Queued) {
                return Ok(None);
            }
            let item = InboxItemRow::find(conn, &reply.workspace_id, &reply.item_id)?
                .ok_or(ApiError::NotFound("inbox item"))?;
            let channel = ChannelRow::find_any(conn, &item.channel_id)?
                .ok_or(ApiError::NotFound("channel"))?;
            let reply = InboxReplyRow::update(
                conn,
                &reply.id,
                &InboxReplyChanges {
                    status: Some(ReplyStatus::Sending.as_str().to_owned()),
                    attempts: Some(reply.attempts + 1),
                    updated_at: Some(db::now()),
                    ..InboxReplyChanges::default()
                },
            )?
            .ok_or(ApiError::NotFound("reply"))?;
            Ok(Some((reply, Some((item, channel)))))
        })
        .await?;
    let Some((reply, Some((item, channel)))) = loaded else {
        return Ok(());
    };
    let plugin = plugin_for(state, &channel)?;
    let (context, _) = fresh_context(state, &plugin, channel.clone()).await?;
    let post = PluginPost {
        text: reply.body.clone(),
        media: Vec::new(),
        reply_to: Some(item.remote_id.clone()),
        options: "{}".to_owned(),
        idempotency_key: reply.idempotency_key.clone(),
    };
    let outcome = state
        .plugins
        .reply(&plugin, context, item.remote_id.clone(), post)
        .await;
    let (status, error, published, failure) = match outcome {
        Ok(published) => (ReplyStatus::Sent, None, Some(published), None),
        Err(err) => {
            note_failure(state, &channel, &err).await?;
            match retryable(&err).filter(|_| !final_attempt) {
                Some(failure) => (
                    ReplyStatus::Queued,
                    Some(err.to_string()),
                    None,
                    Some(failure),
                ),
                None => (ReplyStatus::Failed, Some(err.to_string()), None, None),
            }
        }
    };
    state
        .db
        .write(move |conn| {
            settle(
                conn,
                &reply,
                status,
                error.as_deref(),
                published.map(|p| (p.remote_id, p.url)),
            )
            .map(drop)
        })
        .await?;
    failure.map_or(Ok(()), Err)
}

/// The retry a failed send deserves, when it is worth another try.
pub fn retryable(err: &CallError) -> Option<JobFailure> {
    match err {
        CallError::Plugin(PluginFault::RateLimited(secs)) => Some(JobFailure::with(
            err.to_string(),
            Retry::After(u64::from(secs.unwrap_or(60))),
        )),
        CallError::Plugin(PluginFault::Transient(_)) | CallError::Unavailable(_) => {
            Some(JobFailure::later(err.to_string()))
        }
        _ => None,
    }
}

/// Records where a reply ended up, and what that means for its item: the
/// first reply sent is the item's first response.
fn settle(
    conn: &mut DbConn,
    reply: &InboxReplyRow,
    status: ReplyStatus,
    error: Option<&str>,
    published: Option<(String, Option<String>)>,
) -> Result<InboxReplyRow, ApiError> {
    let now = db::now();
    let sent = status == ReplyStatus::Sent;
    let (remote_id, remote_url) = published.map_or((None, None), |(id, url)| (Some(id), url));
    let changes = InboxReplyChanges {
        status: Some(status.as_str().to_owned()),
        remote_id: Some(remote_id.clone()),
        remote_url: Some(remote_url.clone()),
        error: Some(error.map(str::to_owned)),
        updated_at: Some(now),
        sent_at: Some(sent.then_some(now)),
        ..InboxReplyChanges::default()
    };
    let row =
        InboxReplyRow::update(conn, &reply.id, &changes)?.ok_or(ApiError::NotFound("reply"))?;
    if status == ReplyStatus::Queued {
        return Ok(row);
    }
    let item = InboxItemRow::find(conn, &reply.workspace_id, &reply.item_id)?;
    if sent
        && let Some(item) = &item
        && item.first_response_at.is_none()
    {
        InboxItemRow::update(
            conn,
            &item.workspace_id,
            &item.id,
            &InboxItemChanges {
                first_response_at: Some(Some(now)),
                version: Some(item.version + 1),
                updated_at: Some(now),
                ..InboxItemChanges::default()
            },
            None,
        )?;
    }
    let (event, action) = if sent {
        (EventType::InboxReplySent, "reply.sent")
    } else {
        (EventType::InboxReplyFailed, "reply.failed")
    };
    ModerationLogRow::append(
        conn,
        &[ModerationLogRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: reply.workspace_id.clone(),
            item_id: Some(reply.item_id.clone()),
            contact_id: item.as_ref().and_then(|i| i.contact_id.clone()),
            actor_kind: "system".to_owned(),
            actor_id: None,
            rule_version: None,
            action: action.to_owned(),
            detail: json!({ "reply_id": reply.id, "status": status, "remote_id": remote_id, "remote_url": remote_url }).to_string(),
            reason: error.map(str::to_owned),
            created_at: now,
        }],
    )?;
    activity::record(
        conn,
        &reply.workspace_id,
        event,
        Some(&reply.item_id),
        &json!({ "item_id": reply.item_id, "reply_id": reply.id, "status": status, "remote_id": remote_id, "remote_url": remote_url, "error": error }),
    )?;
    Ok(row)
}
