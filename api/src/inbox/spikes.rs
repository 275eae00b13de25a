//! Crisis alerts: with the hourly housekeeping, for each workspace that
//! received items in the hour just closed, the hourly count of negative
//! items is compared with its recent baseline ([`crate::domain::crisis`]); a spike raises an
//! alert with the items that drove it, and an `inbox.spike_detected` event.

use chrono::{Duration, DurationRound, NaiveDateTime, Timelike};
use diesel::QueryResult;
use serde_json::json;

use crate::activity;
use crate::db::inbox::InboxItemRow;
use crate::db::inbox_rules::AlertRow;
use crate::db::{self, DbConn};
use crate::domain::activity::EventType;
use crate::domain::crisis;

use super::ingest::settings;

/// Hours of history the baseline is computed from.
const HISTORY_HOURS: i64 = 7 * 24;
/// Items named in an alert (the most recent of the hour).
const MAX_ALERT_ITEMS: usize = 50;

/// The start of the hour `at` falls in.
pub fn hour_of(at: NaiveDateTime) -> NaiveDateTime {
    at.duration_trunc(Duration::hours(1))
        .unwrap_or_else(|_| at.with_minute(0).unwrap_or(at))
}

/// Looks at the hours that closed last: the hourly housekeeping calls
/// this, and looks two hours back so that an hour is never skipped when a
/// run comes late (an hour already judged raises no second alert).
pub fn detect_recent(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<AlertRow>> {
    let last = hour_of(now) - Duration::hours(1);
    let mut raised = detect(conn, last - Duration::hours(1))?;
    raised.extend(detect(conn, last)?);
    Ok(raised)
}

/// Looks at every workspace active in the hour starting at `hour`;
/// answers the alerts raised.
pub fn detect(conn: &mut DbConn, hour: NaiveDateTime) -> QueryResult<Vec<AlertRow>> {
    let until = hour + Duration::hours(1);
    let mut raised = Vec::new();
    for workspace_id in InboxItemRow::active_workspaces(conn, hour, until)? {
        if let Some(alert) = detect_in(conn, &workspace_id, hour)? {
            raised.push(alert);
        }
    }
    Ok(raised)
}

/// Looks for a spike in one workspace in the hour starting at `hour`.
pub fn detect_in(
    conn: &mut DbConn,
    workspace_id: &str,
    hour: NaiveDateTime,
) -> QueryResult<Option<AlertRow>> {
    let policy = settings(conn, workspace_id)?.spike_policy;
    let from = hour - Duration::hours(HISTORY_HOURS);
    let until = hour + Duration::hours(1);
    let negatives = InboxItemRow::negative_since(conn, workspace_id, from, until)?;
    let buckets = usize::try_from(HISTORY_HOURS + 1).unwrap_or(169);
    let mut counts = vec![0_u64; buckets];
    let mut in_hour = Vec::new();
    for (received_at, id) in negatives {
        let index = usize::try_from((received_at - from).num_hours()).unwrap_or(0);
        if let Some(count) = counts.get_mut(index) {
            *count += 1;
        }
        if received_at >= hour {
            in_hour.push(id);
        }
    }
    // History starts with the workspace's first item: leading empty hours
    // are not a quiet baseline, only no data.
    let first = counts.iter().position(|c| *c > 0).unwrap_or(counts.len());
    let history = counts.get(first..).unwrap_or_default();
    let assessment = crisis::assess(&policy, history);
    if !assessment.is_spike {
        return Ok(None);
    }
    in_hour.reverse();
    in_hour.truncate(MAX_ALERT_ITEMS);
    let alert = AlertRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: workspace_id.to_owned(),
        hour_start: hour,
        observed: i64::try_from(assessment.observed).unwrap_or(i64::MAX),
        expected: assessment.expected,
        z_score: assessment.z_score,
        item_ids: serde_json::to_string(&in_hour).unwrap_or_else(|_| "[]".to_owned()),
        created_at: db::now(),
        acknowledged_at: None,
        acknowledged_by: None,
    };
    if !alert.insert_new(conn)? {
        return Ok(None);
    }
    activity::record(
        conn,
        workspace_id,
        EventType::InboxSpikeDetected,
        Some(&alert.id),
        &json!({
            "alert_id": alert.id,
            "hour_start": hour.and_utc(),
            "observed": assessment.observed,
            "expected": assessment.expected,
            "z_score": assessment.z_score,
            "item_ids": in_hour,
        }),
    )?;
    Ok(Some(alert))
}
