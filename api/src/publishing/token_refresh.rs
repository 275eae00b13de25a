//! Background token refresh: OAuth2 tokens about to expire are refreshed by
//! a `refresh_token` job, one per channel at a time (its unique key), so two
//! workers never spend the same refresh token.

use chrono::{Duration, NaiveDateTime};

use diesel::QueryResult;

use crate::db::DbConn;
use crate::db::channels::ChannelRow;
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::plugins::channels::{REFRESH_MARGIN_SECS, fresh_context, plugin_for};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

#[derive(Debug, serde::Deserialize)]
struct RefreshPayload {
    channel_id: String,
}

/// The job kind that refreshes one channel's tokens.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// Channels looked at per tick.
const BATCH: i64 = 50;

/// Enqueues a refresh for every channel whose token expires within the
/// margin (a sweep the worker runs before it claims); a channel already
/// waiting for one keeps its job.
pub fn enqueue_expiring(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
    let before = now + Duration::seconds(REFRESH_MARGIN_SECS);
    for channel in ChannelRow::expiring(conn, before, BATCH)? {
        let payload = serde_json::json!({ "channel_id": channel.id });
        let job = NewJob::new(REFRESH_TOKEN, &payload)
            .in_workspace(channel.workspace_id.clone())
            .unique_key(format!("refresh:{}", channel.id))
            .run_at(now)
            .max_attempts(3);
        jobs::enqueue(conn, &job, now)?;
    }
    Ok(())
}

/// Runs one claimed `refresh_token` job.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<RefreshPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    refresh(state, &payload.channel_id)
        .await
        .map_err(JobFailure::later)
}

/// Refreshes one channel's tokens if they are still about to expire; a
/// refused refresh marks the channel `needs_reconnect` (in `fresh_context`)
/// and is not retried.
async fn refresh(state: &AppState, channel_id: &str) -> Result<(), String> {
    let id = channel_id.to_owned();
    let channel = state
        .db
        .read(move |conn| ChannelRow::find_any(conn, &id).map_err(crate::error::ApiError::from))
        .await
        .map_err(|e| e.to_string())?;
    let Some(channel) = channel else {
        return Ok(());
    };
    let plugin = plugin_for(state, &channel).map_err(|e| e.to_string())?;
    match fresh_context(state, &plugin, channel).await {
        Err(crate::error::ApiError::Platform {
            code: "credentials_rejected",
            ..
        })
        | Ok(_) => Ok(()),
        Err(err) => Err(err.to_string()),
    }
}
