//! Metric time series: the series a channel's plugin reports, every sample
//! with its gain, and the hourly and daily roll-ups reports read (see
//! [`crate::domain::metrics`]). Report reads are in [`report`], how
//! collection goes per channel in [`collection`], the same roll-ups summed
//! per campaign and per tag in [`groups`], and the facts ready reports and
//! objectives count (publications, inbox items) in [`facts`].

pub mod collection;
pub mod facts;
pub mod groups;
pub mod report;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConn;
use super::schema::{metric_rollups, metric_samples, metric_series};
use crate::domain::metrics::Period;

/// The subject of an account's series.
pub const ACCOUNT: &str = "account";

/// A series as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = metric_series, treat_none_as_default_value = false)]
pub struct SeriesRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The channel that reports it.
    pub channel_id: String,
    /// The publish target's id, or [`ACCOUNT`].
    pub subject: String,
    /// Plaza's post, for a post's series.
    pub post_id: Option<String>,
    /// The metric's name.
    pub metric: String,
    /// The latest value.
    pub last_value: f64,
    /// When it was read.
    pub last_at: NaiveDateTime,
    /// When the series began.
    pub created_at: NaiveDateTime,
}

/// One value a plugin reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The publish target's id, or [`ACCOUNT`].
    pub subject: String,
    /// Plaza's post, for a post's reading.
    pub post_id: Option<String>,
    /// The metric's name.
    pub metric: String,
    /// The value.
    pub value: f64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = metric_samples, treat_none_as_default_value = false)]
struct SampleRow<'a> {
    series_id: &'a str,
    measured_at: NaiveDateTime,
    value: f64,
    gain: f64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = metric_rollups, treat_none_as_default_value = false)]
struct RollupRow<'a> {
    series_id: &'a str,
    period: &'static str,
    bucket: NaiveDateTime,
    workspace_id: &'a str,
    channel_id: &'a str,
    post_id: Option<&'a str>,
    metric: &'a str,
    gain: f64,
    last_value: f64,
    samples: i32,
}

/// Stores a channel's readings taken at `at` (inside the caller's
/// transaction): each one becomes a sample with its gain over the series'
/// last value, and is added to its hour's, day's, week's and month's
/// roll-ups, and to those of its post's campaign and tags. A reading no newer than its series' last one is dropped.
/// Answers how many were kept.
pub fn record(
    conn: &mut DbConn,
    workspace_id: &str,
    channel_id: &str,
    readings: &[Reading],
    at: NaiveDateTime,
) -> QueryResult<usize> {
    let subjects: Vec<&str> = {
        let mut s: Vec<&str> = readings.iter().map(|r| r.subject.as_str()).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let mut known: HashMap<(String, String), SeriesRow> = HashMap::new();
    for chunk in subjects.chunks(500) {
        for row in metric_series::table
            .filter(metric_series::channel_id.eq(channel_id))
            .filter(metric_series::subject.eq_any(chunk))
            .select(SeriesRow::as_select())
            .load(conn)?
        {
            known.insert((row.subject.clone(), row.metric.clone()), row);
        }
    }

    let mut fresh = Vec::new();
    let mut moved = Vec::new();
    let mut kept: Vec<(String, &Reading, f64)> = Vec::with_capacity(readings.len());
    for reading in readings {
        let key = (reading.subject.clone(), reading.metric.clone());
        match known.get(&key) {
            Some(series) if series.last_at >= at => {}
            Some(series) => {
                kept.push((
                    series.id.clone(),
                    reading,
                    reading.value - series.last_value,
                ));
                moved.push((series.id.clone(), reading.value));
            }
            None => {
                let series = SeriesRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    workspace_id: workspace_id.to_owned(),
                    channel_id: channel_id.to_owned(),
                    subject: reading.subject.clone(),
                    post_id: reading.post_id.clone(),
                    metric: reading.metric.clone(),
                    last_value: reading.value,
                    last_at: at,
                    created_at: at,
                };
                kept.push((series.id.clone(), reading, reading.value));
                known.insert(key, series.clone());
                fresh.push(series);
            }
        }
    }
    insert_series(conn, &fresh)?;
    for (id, value) in &moved {
        diesel::update(metric_series::table.find(id))
            .set((
                metric_series::last_value.eq(value),
                metric_series::last_at.eq(at),
            ))
            .execute(conn)?;
    }

    let samples: Vec<SampleRow<'_>> = kept
        .iter()
        .map(|(id, reading, gain)| SampleRow {
            series_id: id,
            measured_at: at,
            value: reading.value,
            gain: *gain,
        })
        .collect();
    insert_samples(conn, &samples)?;
    for period in Period::ALL {
        let rollups: Vec<RollupRow<'_>> = kept
            .iter()
            .map(|(id, reading, gain)| RollupRow {
                series_id: id,
                period: period.as_str(),
                bucket: period.bucket(at),
                workspace_id,
                channel_id,
                post_id: reading.post_id.as_deref(),
                metric: &reading.metric,
                gain: *gain,
                last_value: reading.value,
                samples: 1,
            })
            .collect();
        for chunk in rollups.chunks(1000) {
            on_engine!(conn, |c| diesel::insert_into(metric_rollups::table)
                .values(chunk)
                .on_conflict((
                    metric_rollups::series_id,
                    metric_rollups::period,
                    metric_rollups::bucket
                ))
                .do_update()
                .set((
                    metric_rollups::gain.eq(metric_rollups::gain + excluded(metric_rollups::gain)),
                    metric_rollups::last_value.eq(excluded(metric_rollups::last_value)),
                    metric_rollups::samples.eq(metric_rollups::samples + 1),
                ))
                .execute(c))?;
        }
    }
    let gains: Vec<groups::Gain<'_>> = kept
        .iter()
        .map(|(_, reading, gain)| groups::Gain {
            post_id: reading.post_id.as_deref(),
            metric: &reading.metric,
            gain: *gain,
        })
        .collect();
    groups::record(conn, workspace_id, channel_id, &gains, at)?;
    Ok(kept.len())
}

fn insert_series(conn: &mut DbConn, rows: &[SeriesRow]) -> QueryResult<()> {
    insert_in_chunks!(conn, metric_series::table, rows)
}

fn insert_samples(conn: &mut DbConn, rows: &[SampleRow<'_>]) -> QueryResult<()> {
    insert_in_chunks!(conn, metric_samples::table, rows)
}

/// The latest values of a post's series, per channel and metric.
pub fn post_latest(
    conn: &mut DbConn,
    workspace_id: &str,
    post_id: &str,
) -> QueryResult<Vec<SeriesRow>> {
    metric_series::table
        .filter(metric_series::workspace_id.eq(workspace_id))
        .filter(metric_series::post_id.eq(post_id))
        .order((metric_series::channel_id, metric_series::metric))
        .select(SeriesRow::as_select())
        .load(conn)
}

/// Forgets samples read before `samples_before` and hourly roll-ups (the
/// series' and the groups') of hours before `hours_before` (daily, weekly
/// and monthly roll-ups stay); answers how many rows went.
pub fn prune(
    conn: &mut DbConn,
    samples_before: NaiveDateTime,
    hours_before: NaiveDateTime,
) -> QueryResult<usize> {
    let samples = diesel::delete(
        metric_samples::table.filter(metric_samples::measured_at.lt(samples_before)),
    )
    .execute(conn)?;
    let hours = diesel::delete(
        metric_rollups::table
            .filter(metric_rollups::period.eq(Period::Hour.as_str()))
            .filter(metric_rollups::bucket.lt(hours_before)),
    )
    .execute(conn)?;
    let group_hours = groups::prune_hours(conn, hours_before)?;
    Ok(samples + hours + group_hours)
}
