//! Collection: a `metrics.collect` job per channel asks its plugin for the
//! account's metrics (daily) and for the metrics of the posts published on
//! it in the last month (often while they are young, then daily; see
//! [`crate::domain::metrics::schedule`]), and stores what comes back as
//! samples. The worker's sweep enqueues a job for every connected channel
//! not looked at for `metrics_collect_secs`; `POST
//! …/channels/{id}/metrics/collect` reads everything now.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::QueryResult;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::channels::ChannelRow;
use crate::db::metrics::collection::{
    CollectionRow, PublishedTarget, due_channels, mark_checked, published_since,
};
use crate::db::metrics::{self as stored, ACCOUNT, Reading};
use crate::db::{self, DbConn};
use crate::domain::metrics::{is_reportable, schedule};
use crate::error::ApiError;
use crate::jobs::{self, ClaimedJob, NewJob, Retry};
use crate::plugins::bindings::{Capabilities, Metric};
use crate::plugins::channels::{fresh_context, note_failure, plugin_for};
use crate::plugins::{CallError, PluginFault};
use crate::state::AppState;
use crate::worker::{JobFailure, JobOutcome};

/// The job kind that collects one channel's metrics.
pub const COLLECT: &str = "metrics.collect";
/// Post ids asked for in one plugin call.
const POSTS_PER_CALL: usize = 25;
/// Channels enqueued per sweep.
const SWEEP_BATCH: i64 = 100;
/// Longest error text kept.
const MAX_ERROR_CHARS: usize = 500;

#[derive(Debug, serde::Deserialize)]
struct CollectPayload {
    channel_id: String,
}

/// Enqueues a collection for every connected channel not looked at for
/// `interval_secs` (a sweep the worker runs before it claims).
pub fn enqueue_due(conn: &mut DbConn, now: NaiveDateTime, interval_secs: u64) -> QueryResult<()> {
    if interval_secs == 0 {
        return Ok(());
    }
    let before = now - Duration::seconds(i64::try_from(interval_secs).unwrap_or(i64::MAX / 2));
    for (channel_id, workspace_id) in due_channels(conn, before, SWEEP_BATCH)? {
        let job = NewJob::new(COLLECT, &serde_json::json!({ "channel_id": channel_id }))
            .in_workspace(workspace_id)
            .unique_key(format!("metrics-collect:{channel_id}"))
            .max_attempts(3)
            .run_at(now);
        jobs::enqueue(conn, &job, now)?;
    }
    Ok(())
}

/// Runs one claimed `metrics.collect` job.
pub async fn handle(state: &AppState, job: &ClaimedJob) -> JobOutcome {
    let payload = job
        .parse_payload::<CollectPayload>()
        .map_err(|err| JobFailure::with(format!("unreadable payload: {err}"), Retry::Never))?;
    let report = match collect(state, &payload.channel_id, false).await {
        Err(ApiError::NotFound(_)) => return Ok(()),
        other => other?,
    };
    match report.rate_limited {
        Some(secs) => Err(JobFailure::with(
            "the platform asked to slow down",
            Retry::After(u64::from(secs)),
        )),
        None => Ok(()),
    }
}

/// What one collection of a channel read.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({"account_read": true, "posts_read": 12, "values_stored": 49, "values_dropped": 0, "error": null}))]
pub struct CollectionReport {
    /// Whether the account's metrics were read.
    pub account_read: bool,
    /// Posts whose metrics were read.
    pub posts_read: usize,
    /// Values stored as samples.
    pub values_stored: usize,
    /// Values dropped: a name outside the vocabulary, a value that is not
    /// a number, a post that was not asked for.
    pub values_dropped: usize,
    /// What went wrong, when something did.
    pub error: Option<String>,
    /// Seconds the platform asked to wait, when it did.
    #[serde(skip)]
    pub rate_limited: Option<u32>,
}

/// Reads a channel's due metrics now (`everything`: every post of the last
/// month and the account, due or not) and stores them.
pub async fn collect(
    state: &AppState,
    channel_id: &str,
    everything: bool,
) -> Result<CollectionReport, ApiError> {
    let id = channel_id.to_owned();
    let now = db::now();
    let loaded = state
        .db
        .read(move |conn| {
            let Some(channel) = ChannelRow::find_any(conn, &id)? else {
                return Ok::<_, ApiError>(None);
            };
            let state = CollectionRow::find(conn, &id)?;
            let targets = published_since(conn, &id, now - schedule::POST_WINDOW)?;
            Ok(Some((channel, state, targets)))
        })
        .await?;
    let Some((channel, previous, targets)) = loaded else {
        return Err(ApiError::NotFound("channel"));
    };
    let mut report = CollectionReport::default();
    if channel.status != "connected" {
        return Ok(report);
    }
    let plugin = plugin_for(state, &channel)?;
    let account_due = plugin.manifest.can(Capabilities::ACCOUNT_METRICS)
        && (everything
            || schedule::account_due(previous.as_ref().and_then(|p| p.account_collected_at), now));
    let due: Vec<PublishedTarget> = if plugin.manifest.can(Capabilities::POST_METRICS) {
        targets
            .into_iter()
            .filter(|t| everything || schedule::post_due(t.published_at, t.checked_at, now))
            .collect()
    } else {
        Vec::new()
    };

    let mut readings = Vec::new();
    let mut checked = Vec::new();
    let mut fault = None;
    if account_due || !due.is_empty() {
        let (context, fresh) = fresh_context(state, &plugin, channel).await?;
        let channel = fresh;
        if account_due {
            match state
                .plugins
                .account_metrics(&plugin, context.clone())
                .await
            {
                Ok(metrics) => {
                    report.account_read = true;
                    for metric in metrics {
                        match account_reading(metric) {
                            Some(reading) => readings.push(reading),
                            None => report.values_dropped += 1,
                        }
                    }
                }
                Err(err) => fault = Some(err),
            }
        }
        for chunk in due.chunks(POSTS_PER_CALL) {
            if fault.is_some() {
                break;
            }
            let ids = chunk.iter().map(|t| t.remote_id.clone()).collect();
            match state
                .plugins
                .post_metrics(&plugin, context.clone(), ids)
                .await
            {
                Ok(metrics) => {
                    let asked: HashMap<&str, &PublishedTarget> =
                        chunk.iter().map(|t| (t.remote_id.as_str(), t)).collect();
                    for metric in metrics {
                        match post_reading(metric, &asked) {
                            Some(reading) => readings.push(reading),
                            None => report.values_dropped += 1,
                        }
                    }
                    report.posts_read += chunk.len();
                    checked.extend(chunk.iter().map(|t| t.target_id.clone()));
                }
                Err(err) => fault = Some(err),
            }
        }
        if let Some(err) = &fault {
            if let CallError::Plugin(PluginFault::RateLimited(secs)) = err {
                report.rate_limited = Some(secs.unwrap_or(60));
            }
            note_failure(state, &channel, err).await?;
            report.error = Some(err.to_string().chars().take(MAX_ERROR_CHARS).collect());
        }
    }

    let failed = report.error.is_some();
    let row = CollectionRow {
        channel_id: channel_id.to_owned(),
        workspace_id: String::new(),
        attempted_at: now,
        succeeded_at: if failed {
            previous.as_ref().and_then(|p| p.succeeded_at)
        } else {
            Some(now)
        },
        account_collected_at: if report.account_read {
            Some(now)
        } else {
            previous.as_ref().and_then(|p| p.account_collected_at)
        },
        error: report.error.clone(),
        failures: if failed {
            previous
                .as_ref()
                .map_or(0, |p| p.failures)
                .saturating_add(1)
        } else {
            0
        },
    };
    let channel_id = channel_id.to_owned();
    report.values_stored = state
        .db
        .write(move |conn| {
            let Some(channel) = ChannelRow::find_any(conn, &channel_id)? else {
                return Ok::<_, ApiError>(0);
            };
            let stored = stored::record(conn, &channel.workspace_id, &channel_id, &readings, now)?;
            mark_checked(conn, &checked, now)?;
            CollectionRow {
                workspace_id: channel.workspace_id,
                ..row
            }
            .save(conn)?;
            Ok(stored)
        })
        .await?;
    Ok(report)
}

fn account_reading(metric: Metric) -> Option<Reading> {
    (metric.post_id.is_none() && is_reportable(&metric.name) && metric.value.is_finite()).then(
        || Reading {
            subject: ACCOUNT.to_owned(),
            post_id: None,
            metric: metric.name,
            value: metric.value,
        },
    )
}

fn post_reading(metric: Metric, asked: &HashMap<&str, &PublishedTarget>) -> Option<Reading> {
    let target = asked.get(metric.post_id.as_deref()?)?;
    (is_reportable(&metric.name) && metric.value.is_finite()).then(|| Reading {
        subject: target.target_id.clone(),
        post_id: Some(target.post_id.clone()),
        metric: metric.name,
        value: metric.value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(remote: &str) -> PublishedTarget {
        PublishedTarget {
            target_id: format!("t-{remote}"),
            post_id: format!("p-{remote}"),
            remote_id: remote.to_owned(),
            published_at: NaiveDateTime::default(),
            checked_at: None,
        }
    }

    fn metric(name: &str, value: f64, post: Option<&str>) -> Metric {
        Metric {
            name: name.to_owned(),
            value,
            post_id: post.map(str::to_owned),
        }
    }

    #[test]
    fn post_values_map_to_the_targets_asked_for_and_nothing_else() {
        let a = target("at://a");
        let asked: HashMap<&str, &PublishedTarget> = [("at://a", &a)].into_iter().collect();
        let kept = post_reading(metric("likes", 3.0, Some("at://a")), &asked).unwrap();
        assert_eq!(kept.subject, "t-at://a");
        assert_eq!(kept.post_id.as_deref(), Some("p-at://a"));
        assert_eq!(kept.value, 3.0);
        for dropped in [
            metric("likes", 3.0, Some("at://other")),
            metric("likes", 3.0, None),
            metric("Likes", 3.0, Some("at://a")),
            metric("likes", f64::NAN, Some("at://a")),
            metric("likes", f64::INFINITY, Some("at://a")),
        ] {
            assert!(
                post_reading(dropped.clone(), &asked).is_none(),
                "{dropped:?}"
            );
        }
    }

    #[test]
    fn account_values_need_a_known_name_and_no_post() {
        assert_eq!(
            account_reading(metric("followers", 10.0, None)).map(|r| r.subject),
            Some(ACCOUNT.to_owned())
        );
        assert!(account_reading(metric("x_online_members", 1.0, None)).is_some());
        assert!(account_reading(metric("followers", 10.0, Some("p"))).is_none());
        assert!(account_reading(metric("fans!", 10.0, None)).is_none());
    }
}
