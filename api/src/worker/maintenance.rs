//! Housekeeping, as a job like any other: once an hour one worker forgets
//! what no one needs any more, so the tables the queue and the live stream
//! write to every minute do not grow forever.
//!
//! - activity events older than `activity_retention_days` (a stream cannot
//!   resume from before that; webhook deliveries keep their own copy);
//! - finished webhook deliveries (and their attempts) older than that too;
//! - succeeded jobs finished more than a week ago. Dead jobs stay until an
//!   administrator retries them: they are the dead letters;
//! - platform webhook receipts older than `inbox_webhook_replay_hours`;
//! - metric samples older than `metrics_sample_retention_days` and hourly
//!   roll-ups older than `metrics_hourly_retention_days` (daily, weekly
//!   and monthly roll-ups are kept).
//!
//! It also looks for spikes of negative inbox items in the hours that
//! closed last ([`crate::inbox::spikes`]).

use chrono::{NaiveDateTime, TimeDelta};
use diesel::QueryResult;

use super::{JobFailure, JobOutcome};
use crate::db::DbConn;
use crate::db::activity::ActivityRow;
use crate::db::jobs::JobRow;
use crate::db::webhooks::DeliveryRow;
use crate::error::ApiError;
use crate::jobs::{self, ClaimedJob, NewJob};
use crate::state::AppState;

/// The job kind.
pub const PRUNE: &str = "prune";
/// How long succeeded jobs are kept, for looking into what happened.
const KEEP_SUCCEEDED_DAYS: i64 = 7;

/// Plans the next pruning an hour from `now`, unless one is planned (its
/// unique key): a sweep the worker runs before it claims.
pub fn plan(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<()> {
    if JobRow::find_unfinished_by_key(conn, PRUNE)?.is_some() {
        return Ok(());
    }
    let job = NewJob::new(PRUNE, &serde_json::json!({}))
        .unique_key(PRUNE)
        .run_at(now + TimeDelta::hours(1))
        .max_attempts(3);
    jobs::enqueue(conn, &job, now).map(drop)
}

/// Runs one claimed `prune` job.
pub async fn handle(state: &AppState, _job: &ClaimedJob) -> JobOutcome {
    let now = crate::db::now();
    let events_before = now - TimeDelta::days(i64::from(state.config.activity_retention_days));
    let jobs_before = now - TimeDelta::days(KEEP_SUCCEEDED_DAYS);
    let receipts_before = now
        - TimeDelta::hours(i64::try_from(state.config.inbox_webhook_replay_hours).unwrap_or(48));
    let samples_before =
        now - TimeDelta::days(i64::from(state.config.metrics_sample_retention_days));
    let hours_before = now - TimeDelta::days(i64::from(state.config.metrics_hourly_retention_days));
    let (events, deliveries, finished) = state
        .db
        .write(move |conn| {
            let events = ActivityRow::prune(conn, events_before)?;
            let deliveries = DeliveryRow::prune(conn, events_before)?;
            let finished = JobRow::prune_succeeded(conn, jobs_before)?;
            crate::db::inbox::prune_webhook_receipts(conn, receipts_before)?;
            crate::db::metrics::prune(conn, samples_before, hours_before)?;
            crate::inbox::spikes::detect_recent(conn, now)?;
            Ok::<_, ApiError>((events, deliveries, finished))
        })
        .await
        .map_err(JobFailure::from)?;
    tracing::info!(
        events,
        deliveries,
        finished,
        "pruned the activity log, webhook deliveries and finished jobs"
    );
    Ok(())
}
