//! The publisher: turns a scheduled post into one publish target per
//! channel and sends each through its plugin, at most once.
//!
//! Scheduling a post enqueues a `publish_post` job due at its time (in the
//! same transaction). A worker claims it, moves the post to `publishing`,
//! creates its targets, and for each one records the intent (`sending`)
//! before the platform call and the outcome after it. A target found in
//! `sending` was interrupted between the two: the plugin is asked whether a
//! post with the target's idempotency key exists (`find-published`); where it
//! cannot tell, the target goes to `needs_review` instead of being sent again.
//! Follow-up parts go after the main part, in order, as replies to it.

pub mod token_refresh;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::activity;
use crate::db::channels::ChannelRow;
use crate::db::media::MediaRow;
use crate::db::posts::{PostChanges, PostRow, PostVariantRow};
use crate::db::publish_targets::{PublishTargetRow, TargetChanges, discard_queued_job};
use crate::db::{DbConn, now as db_now};
use crate::domain::activity::EventType;
use crate::domain::workflow::{PostAction, PostStatus};
use crate::error::ApiError;
use crate::http::posts::content::{PostContent, RenderedVariant};
use crate::http::posts::{check_content, record_transition, stored_status};
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::media::ContentDigest;
use crate::plugins::bindings::{MediaRef, Post as PluginPost};
use crate::plugins::channels::{fresh_context, note_failure, plugin_for};
use crate::plugins::media::AttachedMedia;
use crate::plugins::{CallContext, CallError, LoadedPlugin, PluginFault};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome, faults};

/// The job kind that publishes one post.
pub const PUBLISH_POST: &str = "publish_post";

/// A publish target's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Not sent yet.
    Pending,
    /// The platform call is under way (or was, when a worker died).
    Sending,
    /// On the platform.
    Published,
    /// The platform refused it, or it could not be sent.
    Failed,
    /// A worker died mid-call and the platform cannot tell whether the post
    /// went out: a person should look before anything is sent again.
    NeedsReview,
    /// Taken off by hand: never sent, and left out of the post's status.
    Cancelled,
}

impl TargetStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Published => "published",
            Self::Failed => "failed",
            Self::NeedsReview => "needs_review",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Sending,
            Self::Published,
            Self::Failed,
            Self::NeedsReview,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct PublishPayload {
    post_id: String,
}

fn job_key(post_id: &str) -> String {
    format!("publish:{post_id}")
}

/// Plans the publish job of a post inside the caller's transaction: due at
/// `at`, or none when the post left the schedule.
pub fn plan(
    conn: &mut DbConn,
    workspace_id: &str,
    post_id: &str,
    at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    let key = job_key(post_id);
    discard_queued_job(conn, &key)?;
    if let Some(at) = at {
        let payload = serde_json::json!({ "post_id": post_id });
        let job = NewJob::new(PUBLISH_POST, &payload)
            .in_workspace(workspace_id)
            .unique_key(key)
            .run_at(at);
        jobs::enqueue(conn, &job, db_now())?;
    }
    Ok(())
}

/// Puts a post's failed targets (and, when asked, those in review) back to
/// `pending` for a retry (inside the caller's transaction).
pub fn reopen_targets(
    conn: &mut DbConn,
    post_id: &str,
    include_review: bool,
) -> Result<usize, ApiError> {
    let mut reopened = 0;
    for target in PublishTargetRow::for_posts(conn, &[post_id.to_owned()])? {
        let reopen = match TargetStatus::parse(&target.status) {
            Some(TargetStatus::Failed) => true,
            Some(TargetStatus::NeedsReview) => include_review,
            _ => false,
        };
        if reopen {
            let changes = TargetChanges {
                status: Some(TargetStatus::Pending.as_str().to_owned()),
                error: Some(None),
                ..TargetChanges::default()
            };
            reopened += PublishTargetRow::update(conn, &target.id, &changes)?;
        }
    }
    Ok(reopened)
}

/// Runs one claimed `publish_post` job.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<PublishPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    let final_attempt = job.attempts >= job.max_attempts;
    publish_post(state, &payload.post_id, final_attempt).await
}

/// Publishes one post: every target that is not done, then the post's status.
/// On the job's `final_attempt` a lookup that cannot be answered sends its
/// target to review instead of waiting for another attempt.
async fn publish_post(state: &AppState, post_id: &str, final_attempt: bool) -> JobOutcome {
    let id = post_id.to_owned();
    let started = state.db.write(move |conn| start(conn, &id)).await?;
    let Some((post, content)) = started else {
        return Ok(());
    };
    let rendered = match check_content(state, &post.workspace_id, content).await {
        Ok(checked) => checked.rendered,
        Err(ApiError::Validation(errors)) => {
            let reason = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            fail_open_targets(state, &post, &reason).await?;
            return finish(state, &post).await;
        }
        Err(err) => return Err(err.into()),
    };
    let targets = load_targets(state, &post.id).await?;
    let mut retry_later = None;
    for target in targets {
        let Some(variant) = rendered
            .iter()
            .find(|v| v.channel_id.to_string() == target.channel_id)
        else {
            continue;
        };
        let sent = match TargetStatus::parse(&target.status) {
            Some(TargetStatus::Pending) => send(state, &post, &target, variant).await,
            Some(TargetStatus::Sending) => {
                match reconcile(state, &post, &target, final_attempt).await {
                    Ok(true) => send(state, &post, &target, variant).await,
                    // Found on the platform (its follow-ups may still be
                    // due) or sent to review.
                    Ok(false) => {
                        let target = reload_target(state, &target).await?;
                        finish_follow_ups(state, &post, &target, variant).await
                    }
                    // The platform could not answer now: ask again later,
                    // and go on with the other targets.
                    Err(failure) => Err(failure),
                }
            }
            Some(TargetStatus::Published) => {
                finish_follow_ups(state, &post, &target, variant).await
            }
            _ => continue,
        };
        if let Err(failure) = sent {
            retry_later = Some(failure);
        }
    }
    if let Some(failure) = retry_later {
        return Err(failure);
    }
    finish(state, &post).await
}

/// Moves a due post to `publishing` and makes its targets (one transaction).
/// `None` when the post is no longer due (unscheduled, edited, cancelled).
fn start(conn: &mut DbConn, post_id: &str) -> Result<Option<(PostRow, PostContent)>, ApiError> {
    let Some(post) = PostRow::find_any(conn, post_id)? else {
        return Ok(None);
    };
    let status = stored_status(&post.status)?;
    let post = match status {
        PostStatus::Scheduled => {
            let changes = PostChanges {
                status: Some(PostStatus::Publishing.as_str().to_owned()),
                ..PostChanges::default()
            };
            let updated =
                PostRow::update(conn, &post.workspace_id, &post.id, &changes, post.version)?
                    .ok_or_else(|| ApiError::conflict("concurrent_change", "the post changed"))?;
            record_transition(
                conn,
                &post,
                PostAction::StartPublishing,
                PostStatus::Publishing,
                None,
                None,
            )?;
            updated
        }
        // A worker died after starting: carry on where it stopped.
        PostStatus::Publishing => post,
        _ => return Ok(None),
    };
    let variants = PostVariantRow::for_posts(conn, std::slice::from_ref(&post.id))?;
    let existing = PublishTargetRow::for_posts(conn, std::slice::from_ref(&post.id))?;
    let now = db_now();
    for variant in &variants {
        if existing.iter().any(|t| t.channel_id == variant.channel_id) {
            continue;
        }
        PublishTargetRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace_id: post.workspace_id.clone(),
            post_id: post.id.clone(),
            channel_id: variant.channel_id.clone(),
            status: TargetStatus::Pending.as_str().to_owned(),
            idempotency_key: format!("plaza-{}-{}", post.id, variant.channel_id),
            remote_id: None,
            remote_url: None,
            follow_up_ids: "[]".to_owned(),
            error: None,
            attempts: 0,
            published_at: None,
            created_at: now,
            updated_at: now,
            follow_up_sending: None,
        }
        .insert(conn)?;
    }
    let content = PostContent::from_rows(&post, &variants)?;
    Ok(Some((post, content)))
}

async fn load_targets(state: &AppState, post_id: &str) -> Result<Vec<PublishTargetRow>, ApiError> {
    let id = post_id.to_owned();
    state
        .db
        .read(move |conn| PublishTargetRow::for_posts(conn, &[id]).map_err(ApiError::from))
        .await
}

async fn set_target(state: &AppState, id: &str, changes: TargetChanges) -> Result<(), ApiError> {
    let id = id.to_owned();
    state
        .db
        .write(move |conn| {
            PublishTargetRow::update(conn, &id, &changes)
                .map(drop)
                .map_err(ApiError::from)
        })
        .await
}

async fn fail_open_targets(state: &AppState, post: &PostRow, reason: &str) -> Result<(), ApiError> {
    for target in load_targets(state, &post.id).await? {
        if matches!(
            TargetStatus::parse(&target.status),
            Some(TargetStatus::Pending)
        ) {
            let changes = TargetChanges {
                status: Some(TargetStatus::Failed.as_str().to_owned()),
                error: Some(Some(reason.chars().take(2_000).collect())),
                ..TargetChanges::default()
            };
            set_target(state, &target.id, changes).await?;
        }
    }
    Ok(())
}

/// A target left in `sending`: asks the platform whether it went out.
/// Answers whether it is safe to send it (again). A lookup that failed for
/// a passing reason (rate limit, platform down, timeout) leaves the target
/// in `sending` and fails the attempt, to ask again later; one that cannot
/// succeed, or fails on the job's last attempt, sends the target to review.
async fn reconcile(
    state: &AppState,
    post: &PostRow,
    target: &PublishTargetRow,
    final_attempt: bool,
) -> Result<bool, JobFailure> {
    let channel = load_channel(state, post, target).await?;
    let plugin = plugin_for(state, &channel)?;
    let (context, _) = fresh_context(state, &plugin, channel).await?;
    let found = state
        .plugins
        .find_published(&plugin, context, target.idempotency_key.clone())
        .await;
    let changes = match found {
        Ok(Some(published)) => published_changes(published.remote_id, published.url),
        // The platform has no post under this key: sending is safe.
        Ok(None) => return Ok(true),
        Err(err) if !final_attempt && classify(&err).1.is_some() => {
            let retry = classify(&err).1.and_then(|failure| failure.retry);
            let reason = format!("could not ask the platform about an interrupted call: {err}");
            return Err(match retry {
                Some(retry) => JobFailure::with(reason, retry),
                None => JobFailure::later(reason),
            });
        }
        Err(err) => TargetChanges {
            status: Some(TargetStatus::NeedsReview.as_str().to_owned()),
            error: Some(Some(format!(
                "a worker stopped during the platform call and the platform cannot say whether \
                 the post went out ({err}); check the channel, then retry or cancel"
            ))),
            ..TargetChanges::default()
        },
    };
    set_target(state, &target.id, changes).await?;
    Ok(false)
}

fn published_changes(remote_id: String, url: Option<String>) -> TargetChanges {
    TargetChanges {
        status: Some(TargetStatus::Published.as_str().to_owned()),
        remote_id: Some(Some(remote_id)),
        remote_url: Some(url),
        error: Some(None),
        published_at: Some(Some(db_now())),
        ..TargetChanges::default()
    }
}

async fn load_channel(
    state: &AppState,
    post: &PostRow,
    target: &PublishTargetRow,
) -> Result<ChannelRow, ApiError> {
    let (ws, id) = (post.workspace_id.clone(), target.channel_id.clone());
    state
        .db
        .read(move |conn| ChannelRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("channel")))
        .await
}

/// Sends one target: intent first, then the call, then its outcome.
async fn send(
    state: &AppState,
    post: &PostRow,
    target: &PublishTargetRow,
    variant: &RenderedVariant,
) -> JobOutcome {
    let channel = load_channel(state, post, target).await?;
    if channel.status == "paused" {
        return Err(JobFailure::with(
            format!("channel {} is paused", channel.id),
            Retry::After(300),
        ));
    }
    let plugin = plugin_for(state, &channel)?;
    let (context, channel) = fresh_context(state, &plugin, channel).await?;
    let media = attached_media(state, post, variant).await?;
    set_target(
        state,
        &target.id,
        TargetChanges {
            status: Some(TargetStatus::Sending.as_str().to_owned()),
            attempts: Some(target.attempts + 1),
            ..TargetChanges::default()
        },
    )
    .await?;
    let main = PluginPost {
        text: variant.text.clone(),
        media: media.1.clone(),
        reply_to: None,
        options: variant.options.to_string(),
        idempotency_key: target.idempotency_key.clone(),
    };
    let with_media = |m: &AttachedMedia| CallContext {
        media: Some(m.clone()),
        ..context.clone()
    };
    faults::point(state, faults::PUBLISH_BEFORE_CALL).await;
    let outcome = state
        .plugins
        .publish(&plugin, with_media(&media.0), main)
        .await;
    faults::point(state, faults::PUBLISH_AFTER_CALL).await;
    let published = match outcome {
        Ok(published) => published,
        Err(err) => {
            note_failure(state, &channel, &err).await?;
            let (status, retry) = classify(&err);
            set_target(
                state,
                &target.id,
                TargetChanges {
                    status: Some(status.as_str().to_owned()),
                    error: Some(Some(err.to_string())),
                    ..TargetChanges::default()
                },
            )
            .await?;
            return retry.map_or(Ok(()), Err);
        }
    };
    set_target(
        state,
        &target.id,
        published_changes(published.remote_id.clone(), published.url.clone()),
    )
    .await?;
    let target = reload_target(state, target).await?;
    let call = PartCall {
        state,
        plugin: &plugin,
        context: with_media(&media.0),
        refs: &media.2,
        target: &target,
        variant,
    };
    send_follow_ups(&call, 0, published.remote_id, Vec::new()).await
}

/// What every platform call of one target shares.
struct PartCall<'a> {
    state: &'a AppState,
    plugin: &'a LoadedPlugin,
    context: CallContext,
    refs: &'a HashMap<String, MediaRef>,
    target: &'a PublishTargetRow,
    variant: &'a RenderedVariant,
}

/// Sends the follow-ups a published target still owes (after a crash or a
/// failed attempt), resuming after the last one recorded.
async fn finish_follow_ups(
    state: &AppState,
    post: &PostRow,
    target: &PublishTargetRow,
    variant: &RenderedVariant,
) -> JobOutcome {
    let sent: Vec<String> = serde_json::from_str(&target.follow_up_ids).unwrap_or_default();
    let Some(main) = target.remote_id.clone() else {
        return Ok(());
    };
    if target.status != TargetStatus::Published.as_str() || sent.len() >= variant.follow_ups.len() {
        return Ok(());
    }
    let channel = load_channel(state, post, target).await?;
    let plugin = plugin_for(state, &channel)?;
    let (context, _) = fresh_context(state, &plugin, channel).await?;
    let media = attached_media(state, post, variant).await?;
    let call = PartCall {
        state,
        plugin: &plugin,
        context: CallContext {
            media: Some(media.0.clone()),
            ..context
        },
        refs: &media.2,
        target,
        variant,
    };
    let previous = sent.last().cloned().unwrap_or(main);
    send_follow_ups(&call, sent.len(), previous, sent).await
}

/// Sends follow-ups from `from` on, each a reply to the part before it,
/// recording the intent before each call and the outcome after it. A part
/// whose intent is already recorded (its worker died mid-call) is first
/// looked up by its idempotency key; when the platform cannot tell, the
/// rest of the thread waits for a person instead of risking a duplicate.
async fn send_follow_ups(
    call: &PartCall<'_>,
    from: usize,
    mut previous: String,
    mut sent: Vec<String>,
) -> JobOutcome {
    let (state, target) = (call.state, call.target);
    for (n, part) in call.variant.follow_ups.iter().enumerate().skip(from) {
        let key = format!("{}-{n}", target.idempotency_key);
        let index = i32::try_from(n).unwrap_or(i32::MAX);
        if target.follow_up_sending == Some(index) && n == from {
            let found = state
                .plugins
                .find_published(call.plugin, call.context.clone(), key.clone())
                .await;
            match found {
                Ok(Some(part)) => {
                    previous = part.remote_id.clone();
                    sent.push(part.remote_id);
                    record_follow_ups(state, target, &sent).await?;
                    continue;
                }
                Ok(None) => {}
                Err(err) => {
                    let changes = TargetChanges {
                        error: Some(Some(format!(
                            "a worker stopped while sending follow-up {n} and the platform cannot \
                             say whether it went out ({err}); the rest of the thread was not sent"
                        ))),
                        follow_up_sending: Some(None),
                        ..TargetChanges::default()
                    };
                    set_target(state, &target.id, changes).await?;
                    return Ok(());
                }
            }
        }
        let changes = TargetChanges {
            follow_up_sending: Some(Some(index)),
            ..TargetChanges::default()
        };
        set_target(state, &target.id, changes).await?;
        let post = PluginPost {
            text: part.text.clone(),
            media: media_refs(call.refs, &part.media_ids),
            reply_to: Some(previous.clone()),
            options: call.variant.options.to_string(),
            idempotency_key: key,
        };
        match state
            .plugins
            .publish(call.plugin, call.context.clone(), post)
            .await
        {
            Ok(part) => {
                previous = part.remote_id.clone();
                sent.push(part.remote_id);
                record_follow_ups(state, target, &sent).await?;
            }
            Err(err) => {
                let (status, retry) = classify(&err);
                let error = format!("follow-up {n} failed: {err}");
                // A call that may have gone out keeps its intent for the
                // retry to look up; a refused or throttled one drops it.
                let changes = TargetChanges {
                    error: Some(Some(error)),
                    follow_up_sending: (status != TargetStatus::Sending).then_some(None),
                    ..TargetChanges::default()
                };
                set_target(state, &target.id, changes).await?;
                return retry.map_or(Ok(()), Err);
            }
        }
    }
    Ok(())
}

/// Records the follow-ups sent so far and clears the intent.
async fn record_follow_ups(
    state: &AppState,
    target: &PublishTargetRow,
    sent: &[String],
) -> Result<(), ApiError> {
    let changes = TargetChanges {
        follow_up_ids: Some(serde_json::to_string(sent).unwrap_or_default()),
        follow_up_sending: Some(None),
        error: Some(None),
        ..TargetChanges::default()
    };
    set_target(state, &target.id, changes).await
}

async fn reload_target(
    state: &AppState,
    target: &PublishTargetRow,
) -> Result<PublishTargetRow, ApiError> {
    let (post, id) = (target.post_id.clone(), target.id.clone());
    state
        .db
        .read(move |conn| {
            PublishTargetRow::for_posts(conn, &[post])?
                .into_iter()
                .find(|t| t.id == id)
                .ok_or(ApiError::NotFound("publish target"))
        })
        .await
}

/// What a failed call means for the target, and whether the job retries.
/// A call that timed out or broke off in the host may have reached the
/// platform: the target stays `sending`, so the retry asks the platform
/// (`find-published`) before sending again.
fn classify(err: &CallError) -> (TargetStatus, Option<JobFailure>) {
    let reason = err.to_string();
    match err {
        CallError::Plugin(PluginFault::RateLimited(secs)) => (
            TargetStatus::Pending,
            Some(JobFailure::with(
                reason,
                Retry::After(u64::from(secs.unwrap_or(60))),
            )),
        ),
        CallError::Plugin(PluginFault::Transient(_)) | CallError::Unavailable(_) => {
            (TargetStatus::Pending, Some(JobFailure::later(reason)))
        }
        CallError::TimedOut(_) | CallError::Host(_) => {
            (TargetStatus::Sending, Some(JobFailure::later(reason)))
        }
        _ => (TargetStatus::Failed, None),
    }
}

/// The variant's media as the plugin sees it, with the files it may read.
async fn attached_media(
    state: &AppState,
    post: &PostRow,
    variant: &RenderedVariant,
) -> Result<(AttachedMedia, Vec<MediaRef>, HashMap<String, MediaRef>), ApiError> {
    let mut ids: Vec<String> = variant.media_ids.clone();
    for part in &variant.follow_ups {
        ids.extend(part.media_ids.iter().cloned());
    }
    let ws = post.workspace_id.clone();
    let rows = state
        .db
        .read(move |conn| MediaRow::find_many(conn, &ws, &ids).map_err(ApiError::from))
        .await?;
    let mut files = HashMap::new();
    let mut refs = HashMap::new();
    for row in rows {
        if let Some(digest) = ContentDigest::parse(&row.sha256) {
            files.insert(row.id.clone(), digest);
        }
        refs.insert(
            row.id.clone(),
            MediaRef {
                id: row.id.clone(),
                mime: row.mime_type.clone(),
                size: u64::try_from(row.size_bytes).unwrap_or(0),
                alt_text: row.alt_text.clone(),
            },
        );
    }
    let main = media_refs(&refs, &variant.media_ids);
    Ok((AttachedMedia::new(state.media.clone(), files), main, refs))
}

fn media_refs(refs: &HashMap<String, MediaRef>, ids: &[String]) -> Vec<MediaRef> {
    ids.iter().filter_map(|id| refs.get(id).cloned()).collect()
}

/// The post's status from its targets, once none is waiting to be sent.
async fn finish(state: &AppState, post: &PostRow) -> JobOutcome {
    let id = post.id.clone();
    state
        .db
        .write(move |conn| settle(conn, &id))
        .await
        .map_err(JobFailure::from)
}

/// Inside the caller's transaction: a `publishing` post with no target
/// left to send becomes `published` (every target that was not cancelled
/// went out), `partially_published` or `failed`.
pub fn settle(conn: &mut DbConn, post_id: &str) -> Result<(), ApiError> {
    let Some(post) = PostRow::find_any(conn, post_id)? else {
        return Ok(());
    };
    if stored_status(&post.status)? != PostStatus::Publishing {
        return Ok(());
    }
    let targets: Vec<_> = PublishTargetRow::for_posts(conn, std::slice::from_ref(&post.id))?
        .into_iter()
        .filter_map(|t| TargetStatus::parse(&t.status))
        .filter(|status| *status != TargetStatus::Cancelled)
        .collect();
    if targets
        .iter()
        .any(|s| matches!(s, TargetStatus::Pending | TargetStatus::Sending))
    {
        return Ok(());
    }
    let published = targets
        .iter()
        .filter(|s| **s == TargetStatus::Published)
        .count();
    let (action, to) = if published == targets.len() && published > 0 {
        (PostAction::FinishPublished, PostStatus::Published)
    } else if published > 0 {
        (PostAction::FinishPartially, PostStatus::PartiallyPublished)
    } else {
        (PostAction::FinishFailed, PostStatus::Failed)
    };
    let changes = PostChanges {
        status: Some(to.as_str().to_owned()),
        published_at: (published > 0).then(|| Some(db_now())),
        ..PostChanges::default()
    };
    PostRow::update(conn, &post.workspace_id, &post.id, &changes, post.version)?
        .ok_or_else(|| ApiError::conflict("concurrent_change", "the post changed"))?;
    record_transition(conn, &post, action, to, None, None)?;
    Ok(())
}

/// Inside the caller's transaction: takes one channel off a post's
/// publishing for good. Only a target that is not on the platform and not
/// being sent can go: `pending`, `failed` or `needs_review`.
pub fn cancel_target(
    conn: &mut DbConn,
    post: &PostRow,
    channel_id: &str,
    by: &str,
) -> Result<(), ApiError> {
    let target = PublishTargetRow::for_posts(conn, std::slice::from_ref(&post.id))?
        .into_iter()
        .find(|t| t.channel_id == channel_id)
        .ok_or(ApiError::NotFound("publish target"))?;
    match TargetStatus::parse(&target.status) {
        Some(TargetStatus::Pending | TargetStatus::Failed | TargetStatus::NeedsReview) => {}
        _ => {
            return Err(ApiError::conflict(
                "target_not_cancellable",
                format!(
                    "the target is {}: only pending, failed or needs_review targets can be cancelled",
                    target.status
                ),
            ));
        }
    }
    let changes = TargetChanges {
        status: Some(TargetStatus::Cancelled.as_str().to_owned()),
        error: Some(Some(format!(
            "cancelled by {by}{}",
            target
                .error
                .as_deref()
                .map(|e| format!(" (was: {e})"))
                .unwrap_or_default()
        ))),
        ..TargetChanges::default()
    };
    PublishTargetRow::update(conn, &target.id, &changes)?;
    let data = serde_json::json!({
        "post_id": post.id,
        "channel_id": channel_id,
        "previous_status": target.status,
        "actor_id": by,
    });
    activity::record(
        conn,
        &post.workspace_id,
        EventType::PostTargetCancelled,
        Some(&post.id),
        &data,
    )?;
    settle(conn, &post.id)
}
