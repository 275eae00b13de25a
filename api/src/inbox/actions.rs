//! Acting on the platform for the team: hide, unhide, delete, block, mute
//! and report through the channel's plugin. A member's action runs at once
//! (the answer says whether the platform took it); a rule's runs as an
//! `inbox.platform_action` job after the item is stored.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::db::channels::ChannelRow;
use crate::db::inbox::InboxItemRow;
use crate::db::inbox_rules::ModerationLogRow;
use crate::db::{self, DbConn};
use crate::domain::inbox::ModerationAction;
use crate::error::ApiError;
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::plugins::CallError;
use crate::plugins::bindings::Moderation;
use crate::plugins::channels::{fresh_context, note_failure, plugin_for};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

use super::replies::retryable;

/// The job kind that runs a rule's platform action.
pub const PLATFORM_ACTION: &str = "inbox.platform_action";

#[derive(Debug, Serialize, Deserialize)]
struct ActionPayload {
    workspace_id: String,
    item_id: String,
    action: ModerationAction,
}

/// The contract's name for an action.
pub fn binding(action: ModerationAction) -> Moderation {
    match action {
        ModerationAction::Hide => Moderation::Hide,
        ModerationAction::Unhide => Moderation::Unhide,
        ModerationAction::Delete => Moderation::Delete,
        ModerationAction::BlockAuthor => Moderation::BlockAuthor,
        ModerationAction::MuteAuthor => Moderation::MuteAuthor,
        ModerationAction::Report => Moderation::Report,
    }
}

/// Queues hiding an item on the platform (a rule set it `hidden`).
pub fn queue_hide(conn: &mut DbConn, item: &InboxItemRow, now: NaiveDateTime) -> QueryResult<()> {
    let payload = ActionPayload {
        workspace_id: item.workspace_id.clone(),
        item_id: item.id.clone(),
        action: ModerationAction::Hide,
    };
    let job = NewJob::new(PLATFORM_ACTION, &json!(payload))
        .in_workspace(item.workspace_id.clone())
        .unique_key(format!("inbox-action:{}:hide", item.id))
        .max_attempts(5)
        .run_at(now);
    jobs::enqueue(conn, &job, now).map(drop)
}

/// Runs `action` on the item's platform; the error says why not.
pub async fn on_platform(
    state: &AppState,
    item: &InboxItemRow,
    action: ModerationAction,
) -> Result<(), PlatformRefusal> {
    let channel_id = item.channel_id.clone();
    let channel = state
        .db
        .read(move |conn| {
            ChannelRow::find_any(conn, &channel_id)?.ok_or(ApiError::NotFound("channel"))
        })
        .await
        .map_err(PlatformRefusal::Api)?;
    let plugin = plugin_for(state, &channel).map_err(PlatformRefusal::Api)?;
    let (context, channel) = fresh_context(state, &plugin, channel)
        .await
        .map_err(PlatformRefusal::Api)?;
    let done = state
        .plugins
        .moderate(&plugin, context, item.remote_id.clone(), binding(action))
        .await;
    if let Err(err) = done {
        note_failure(state, &channel, &err)
            .await
            .map_err(PlatformRefusal::Api)?;
        return Err(PlatformRefusal::Call(err));
    }
    Ok(())
}

/// Why a platform action did not happen.
#[derive(Debug)]
pub enum PlatformRefusal {
    /// Plaza could not make the call (channel gone, plugin unavailable).
    Api(ApiError),
    /// The plugin or the platform refused.
    Call(CallError),
}

impl From<PlatformRefusal> for ApiError {
    fn from(refusal: PlatformRefusal) -> Self {
        match refusal {
            PlatformRefusal::Api(err) => err,
            PlatformRefusal::Call(err) => ApiError::platform(&err),
        }
    }
}

/// Runs one `inbox.platform_action` job; the outcome goes to the log.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<ActionPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    let (ws, id) = (payload.workspace_id.clone(), payload.item_id.clone());
    let Some(item) = state
        .db
        .read(move |conn| InboxItemRow::find(conn, &ws, &id).map_err(ApiError::from))
        .await?
    else {
        return Ok(());
    };
    let outcome = on_platform(state, &item, payload.action).await;
    let final_attempt = job.attempts >= job.max_attempts;
    let (failure, error) = match outcome {
        Ok(()) => (None, None),
        Err(PlatformRefusal::Call(err)) => match retryable(&err).filter(|_| !final_attempt) {
            Some(failure) => return Err(failure),
            None => (None, Some(err.to_string())),
        },
        Err(PlatformRefusal::Api(err)) => (None, Some(err.to_string())),
    };
    let entry = ModerationLogRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: item.workspace_id.clone(),
        item_id: Some(item.id.clone()),
        contact_id: item.contact_id.clone(),
        actor_kind: "system".to_owned(),
        actor_id: None,
        rule_version: None,
        action: format!(
            "platform.{}{}",
            payload.action.as_str(),
            if error.is_some() { ".failed" } else { "" }
        ),
        detail: json!({ "channel_id": item.channel_id, "remote_id": item.remote_id }).to_string(),
        reason: error,
        created_at: db::now(),
    };
    state
        .db
        .write(move |conn| ModerationLogRow::append(conn, &[entry]).map_err(ApiError::from))
        .await?;
    failure.map_or(Ok(()), Err)
}
