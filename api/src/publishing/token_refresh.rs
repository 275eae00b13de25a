//! Background token refresh: OAuth2 tokens about to expire are refreshed by
//! a `refresh_token` job, one per channel at a time (its unique key), so two
//! workers never spend the same refresh token.

use chrono::{Duration, NaiveDateTime};

use crate::db::channels::ChannelRow;
use crate::db::now as db_now;
use crate::jobs::{self, ClaimedJob, NewJob, RandomJitter, Retry};
use crate::plugins::channels::{REFRESH_MARGIN_SECS, fresh_context, plugin_for};
use crate::state::AppState;

#[derive(Debug, serde::Deserialize)]
struct RefreshPayload {
    channel_id: String,
}

/// The job kind that refreshes one channel's tokens.
pub const REFRESH_TOKEN: &str = "refresh_token";
/// Channels looked at per tick.
const BATCH: i64 = 50;

/// Enqueues a refresh for every channel whose token expires within the
/// margin, then runs the refresh jobs that are due; answers how many ran.
pub async fn refresh_expiring(
    state: &AppState,
    worker: &str,
    now: NaiveDateTime,
) -> anyhow::Result<usize> {
    let db = state.db.clone();
    let owner = worker.to_owned();
    let claimed = actix_web::web::block(move || -> anyhow::Result<Vec<ClaimedJob>> {
        let mut conn = db.write_conn()?;
        let before = now + Duration::seconds(REFRESH_MARGIN_SECS);
        for channel in ChannelRow::expiring(&mut conn, before, BATCH)? {
            let payload = serde_json::json!({ "channel_id": channel.id });
            let job = NewJob::new(REFRESH_TOKEN, &payload)
                .in_workspace(channel.workspace_id.clone())
                .unique_key(format!("refresh:{}", channel.id))
                .run_at(now)
                .max_attempts(3);
            jobs::enqueue(&mut conn, &job, now)?;
        }
        Ok(jobs::claim(
            &mut conn,
            &owner,
            &[REFRESH_TOKEN],
            8,
            super::LEASE,
            now,
        )?)
    })
    .await??;
    let ran = claimed.len();
    for job in claimed {
        let outcome = match job.parse_payload::<RefreshPayload>() {
            Ok(payload) => refresh(state, &payload.channel_id).await,
            Err(err) => Err(err.to_string()),
        };
        let db = state.db.clone();
        actix_web::web::block(move || -> anyhow::Result<()> {
            let mut conn = db.write_conn()?;
            match outcome {
                Ok(()) => jobs::complete(&mut conn, &job, db_now())?,
                Err(reason) => {
                    let retry =
                        Retry::backoff(u32::try_from(job.attempts).unwrap_or(1), &mut RandomJitter);
                    jobs::fail(&mut conn, &job, &reason, retry, db_now())?
                }
            };
            Ok(())
        })
        .await??;
    }
    Ok(ran)
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
