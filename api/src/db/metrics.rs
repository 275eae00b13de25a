//! Metric time series: the series a channel's plugin reports, every sample
//! with its gain, the hourly and daily roll-ups reports read, and how
//! collection goes per channel (see [`crate::domain::metrics`]).

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::sum;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::DbConn;
use super::schema::{
    campaigns, channels, inbox_items, memberships, metric_collections, metric_rollups,
    metric_samples, metric_series, post_metric_checks, posts, publish_targets, users,
};
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
#[diesel(table_name = metric_samples)]
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
/// last value, and is added to its hour's and day's roll-ups. A reading no
/// newer than its series' last one is dropped. Answers how many were kept.
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
    Ok(kept.len())
}

fn insert_series(conn: &mut DbConn, rows: &[SeriesRow]) -> QueryResult<()> {
    insert_in_chunks!(conn, metric_series::table, rows)
}

fn insert_samples(conn: &mut DbConn, rows: &[SampleRow<'_>]) -> QueryResult<()> {
    insert_in_chunks!(conn, metric_samples::table, rows)
}

/// What a report adds up: one workspace's metrics, optionally narrowed to
/// channels and posts (a campaign's or a tag's posts are looked up first).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The workspace.
    pub workspace_id: String,
    /// Stored metric names (a derived metric's parts).
    pub metrics: Vec<String>,
    /// Only these channels, when set.
    pub channel_ids: Option<Vec<String>>,
    /// Only these posts, when set (account metrics then drop out).
    pub post_ids: Option<Vec<String>>,
}

/// Summed gains of one channel (and one post, when split by post) in one
/// bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct GainSum {
    /// The channel.
    pub channel_id: String,
    /// The post; `None` for account metrics or when not split by post.
    pub post_id: Option<String>,
    /// The bucket's start; `None` for a series' whole life.
    pub bucket: Option<NaiveDateTime>,
    /// The sum.
    pub gain: f64,
}

/// Boxes a grouped query over `$table` and applies a scope's filters.
/// (Diesel groups a query before it is boxed; filters may follow.)
macro_rules! in_scope {
    ($query:expr, $table:ident, $scope:expr) => {{
        let scope: &Scope = $scope;
        let mut query = $query
            .into_boxed()
            .filter($table::workspace_id.eq(&scope.workspace_id))
            .filter($table::metric.eq_any(&scope.metrics));
        if let Some(channels) = &scope.channel_ids {
            query = query.filter($table::channel_id.eq_any(channels));
        }
        if let Some(posts) = &scope.post_ids {
            query = query.filter($table::post_id.eq_any(posts));
        }
        query
    }};
}

/// The roll-ups of one period in `[from, to)` (open ends where `None`),
/// grouped and selected by `$query`, in a scope.
macro_rules! rollups_in {
    ($query:expr, $scope:expr, $period:expr, $from:expr, $to:expr) => {{
        let mut query = in_scope!($query, metric_rollups, $scope)
            .filter(metric_rollups::period.eq($period.as_str()));
        if let Some(from) = $from {
            query = query.filter(metric_rollups::bucket.ge(from));
        }
        if let Some(to) = $to {
            query = query.filter(metric_rollups::bucket.lt(to));
        }
        query
    }};
}

/// The scope's gains from `period`'s roll-ups in `[from, to)` (open ends
/// where `None`), summed per channel (and post, with `by_post`) and bucket.
pub fn gains(
    conn: &mut DbConn,
    scope: &Scope,
    period: Period,
    from: Option<NaiveDateTime>,
    to: Option<NaiveDateTime>,
    by_post: bool,
) -> QueryResult<Vec<GainSum>> {
    if by_post {
        let rows = rollups_in!(
            metric_rollups::table
                .group_by((
                    metric_rollups::channel_id,
                    metric_rollups::post_id,
                    metric_rollups::bucket,
                ))
                .select((
                    metric_rollups::channel_id,
                    metric_rollups::post_id,
                    metric_rollups::bucket,
                    sum(metric_rollups::gain),
                )),
            scope,
            period,
            from,
            to
        )
        .load::<(String, Option<String>, NaiveDateTime, Option<f64>)>(conn)?;
        Ok(rows
            .into_iter()
            .map(|(channel_id, post_id, bucket, gain)| GainSum {
                channel_id,
                post_id,
                bucket: Some(bucket),
                gain: gain.unwrap_or_default(),
            })
            .collect())
    } else {
        let rows = rollups_in!(
            metric_rollups::table
                .group_by((metric_rollups::channel_id, metric_rollups::bucket))
                .select((
                    metric_rollups::channel_id,
                    metric_rollups::bucket,
                    sum(metric_rollups::gain),
                )),
            scope,
            period,
            from,
            to
        )
        .load::<(String, NaiveDateTime, Option<f64>)>(conn)?;
        Ok(rows
            .into_iter()
            .map(|(channel_id, bucket, gain)| GainSum {
                channel_id,
                post_id: None,
                bucket: Some(bucket),
                gain: gain.unwrap_or_default(),
            })
            .collect())
    }
}

/// The scope's latest values, summed per channel (and post, with
/// `by_post`): every gain there ever was.
pub fn latest(conn: &mut DbConn, scope: &Scope, by_post: bool) -> QueryResult<Vec<GainSum>> {
    if by_post {
        let rows = in_scope!(
            metric_series::table
                .group_by((metric_series::channel_id, metric_series::post_id))
                .select((
                    metric_series::channel_id,
                    metric_series::post_id,
                    sum(metric_series::last_value),
                )),
            metric_series,
            scope
        )
        .load::<(String, Option<String>, Option<f64>)>(conn)?;
        Ok(rows
            .into_iter()
            .map(|(channel_id, post_id, gain)| GainSum {
                channel_id,
                post_id,
                bucket: None,
                gain: gain.unwrap_or_default(),
            })
            .collect())
    } else {
        let rows = in_scope!(
            metric_series::table
                .group_by(metric_series::channel_id)
                .select((metric_series::channel_id, sum(metric_series::last_value))),
            metric_series,
            scope
        )
        .load::<(String, Option<f64>)>(conn)?;
        Ok(rows
            .into_iter()
            .map(|(channel_id, gain)| GainSum {
                channel_id,
                post_id: None,
                bucket: None,
                gain: gain.unwrap_or_default(),
            })
            .collect())
    }
}

/// The ids of a workspace's posts in a campaign and/or carrying a tag.
pub fn post_ids_matching(
    conn: &mut DbConn,
    workspace_id: &str,
    campaign_id: Option<&str>,
    tag: Option<&str>,
) -> QueryResult<Vec<String>> {
    let mut query = posts::table
        .filter(posts::workspace_id.eq(workspace_id))
        .select((posts::id, posts::tags))
        .into_boxed();
    if let Some(campaign) = campaign_id {
        query = query.filter(posts::campaign_id.eq(campaign));
    }
    if let Some(tag) = tag {
        // A pre-filter on the stored JSON text (the tag as a JSON string);
        // the exact check is below.
        let json = serde_json::to_string(tag).unwrap_or_default();
        query = query.filter(
            posts::tags
                .like(format!("%{}%", super::inbox::like_escape(&json)))
                .escape('\\'),
        );
    }
    let rows = query.load::<(String, String)>(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, tags)| tag.is_none_or(|t| tags_of(tags).iter().any(|have| have == t)))
        .map(|(id, _)| id)
        .collect())
}

/// A post's tags, campaign and the first words of its text, for labels
/// and for grouping by campaign or tag.
#[derive(Debug, Clone)]
pub struct PostFacts {
    /// The post.
    pub id: String,
    /// Its campaign.
    pub campaign_id: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its text.
    pub body: String,
}

/// What reports need to know of these posts.
pub fn post_facts(
    conn: &mut DbConn,
    workspace_id: &str,
    ids: &[String],
) -> QueryResult<Vec<PostFacts>> {
    let mut facts = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let rows = posts::table
            .filter(posts::workspace_id.eq(workspace_id))
            .filter(posts::id.eq_any(chunk))
            .select((posts::id, posts::campaign_id, posts::tags, posts::body))
            .load::<(String, Option<String>, String, String)>(conn)?;
        facts.extend(
            rows.into_iter()
                .map(|(id, campaign_id, tags, body)| PostFacts {
                    id,
                    campaign_id,
                    tags: tags_of(&tags),
                    body,
                }),
        );
    }
    Ok(facts)
}

fn tags_of(stored: &str) -> Vec<String> {
    serde_json::from_str(stored).unwrap_or_default()
}

/// Names of a workspace's channels and campaigns, by id, for labels.
pub fn names(
    conn: &mut DbConn,
    workspace_id: &str,
) -> QueryResult<(HashMap<String, String>, HashMap<String, String>)> {
    let channels = channels::table
        .filter(channels::workspace_id.eq(workspace_id))
        .select((channels::id, channels::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let campaigns = campaigns::table
        .filter(campaigns::workspace_id.eq(workspace_id))
        .select((campaigns::id, campaigns::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    Ok((channels, campaigns))
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

/// A published post as collection sees it.
#[derive(Debug, Clone, Queryable)]
pub struct PublishedTarget {
    /// The publish target.
    pub target_id: String,
    /// Plaza's post.
    pub post_id: String,
    /// The platform's id of the post.
    pub remote_id: String,
    /// When it was published.
    pub published_at: NaiveDateTime,
    /// When its metrics were last read.
    pub checked_at: Option<NaiveDateTime>,
}

/// A channel's posts published since `since`, with when each was last read.
pub fn published_since(
    conn: &mut DbConn,
    channel_id: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<PublishedTarget>> {
    publish_targets::table
        .left_join(post_metric_checks::table)
        .filter(publish_targets::channel_id.eq(channel_id))
        .filter(publish_targets::published_at.ge(since))
        .filter(publish_targets::remote_id.is_not_null())
        .order(publish_targets::published_at.desc())
        .select((
            publish_targets::id,
            publish_targets::post_id,
            publish_targets::remote_id.assume_not_null(),
            publish_targets::published_at.assume_not_null(),
            post_metric_checks::checked_at.nullable(),
        ))
        .load(conn)
}

/// Notes that these targets' metrics were read at `at`.
pub fn mark_checked(
    conn: &mut DbConn,
    target_ids: &[String],
    at: NaiveDateTime,
) -> QueryResult<()> {
    for chunk in target_ids.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                (
                    post_metric_checks::target_id.eq(id),
                    post_metric_checks::checked_at.eq(at),
                )
            })
            .collect();
        on_engine!(conn, |c| diesel::insert_into(post_metric_checks::table)
            .values(&rows)
            .on_conflict(post_metric_checks::target_id)
            .do_update()
            .set(post_metric_checks::checked_at.eq(at))
            .execute(c))?;
    }
    Ok(())
}

/// How collection goes for one channel.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = metric_collections, treat_none_as_default_value = false)]
pub struct CollectionRow {
    /// The channel.
    pub channel_id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// The last attempt.
    pub attempted_at: NaiveDateTime,
    /// The last attempt that read everything it tried.
    pub succeeded_at: Option<NaiveDateTime>,
    /// When the account's metrics were last read.
    pub account_collected_at: Option<NaiveDateTime>,
    /// What went wrong last time, if it did.
    pub error: Option<String>,
    /// Failed attempts in a row.
    pub failures: i32,
}

impl CollectionRow {
    /// A channel's collection state.
    pub fn find(conn: &mut DbConn, channel_id: &str) -> QueryResult<Option<Self>> {
        metric_collections::table
            .find(channel_id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every channel's of a workspace.
    pub fn all(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<Self>> {
        metric_collections::table
            .filter(metric_collections::workspace_id.eq(workspace_id))
            .order(metric_collections::channel_id)
            .select(Self::as_select())
            .load(conn)
    }

    /// Stores it (insert or replace).
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        on_engine!(conn, |c| diesel::insert_into(metric_collections::table)
            .values(self)
            .on_conflict(metric_collections::channel_id)
            .do_update()
            .set((
                metric_collections::attempted_at.eq(excluded(metric_collections::attempted_at)),
                metric_collections::succeeded_at.eq(excluded(metric_collections::succeeded_at)),
                metric_collections::account_collected_at
                    .eq(excluded(metric_collections::account_collected_at)),
                metric_collections::error.eq(excluded(metric_collections::error)),
                metric_collections::failures.eq(excluded(metric_collections::failures)),
            ))
            .execute(c))
        .map(drop)
    }
}

/// Connected channels whose collection was not attempted since `before`
/// (channel id, workspace id), at most `limit`.
pub fn due_channels(
    conn: &mut DbConn,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let attempted_since = metric_collections::table
        .filter(metric_collections::channel_id.eq(channels::id))
        .filter(metric_collections::attempted_at.ge(before));
    channels::table
        .filter(channels::status.eq("connected"))
        .filter(diesel::dsl::not(diesel::dsl::exists(attempted_since)))
        .order(channels::id.asc())
        .limit(limit)
        .select((channels::id, channels::workspace_id))
        .load(conn)
}

/// A workspace's publications in `[from, to)`: (target id, published at),
/// at most `limit`, newest first.
pub fn published_between(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    publish_targets::table
        .filter(publish_targets::workspace_id.eq(workspace_id))
        .filter(publish_targets::published_at.ge(from))
        .filter(publish_targets::published_at.lt(to))
        .filter(publish_targets::remote_id.is_not_null())
        .order(publish_targets::published_at.desc())
        .limit(limit)
        .select((
            publish_targets::id,
            publish_targets::published_at.assume_not_null(),
        ))
        .load(conn)
}

/// The latest values of `metrics` summed per publication, for these
/// publish targets (those never read are absent).
pub fn latest_per_target(
    conn: &mut DbConn,
    target_ids: &[String],
    metrics: &[String],
) -> QueryResult<HashMap<String, f64>> {
    let mut sums = HashMap::with_capacity(target_ids.len());
    for chunk in target_ids.chunks(1000) {
        let rows = metric_series::table
            .filter(metric_series::subject.eq_any(chunk))
            .filter(metric_series::metric.eq_any(metrics))
            .group_by(metric_series::subject)
            .select((metric_series::subject, sum(metric_series::last_value)))
            .load::<(String, Option<f64>)>(conn)?;
        sums.extend(rows.into_iter().map(|(id, v)| (id, v.unwrap_or_default())));
    }
    Ok(sums)
}

/// How many publications went out in `[from, to)`, optionally only on one
/// channel or of one campaign's posts.
pub fn count_published(
    conn: &mut DbConn,
    workspace_id: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    channel_id: Option<&str>,
    campaign_id: Option<&str>,
) -> QueryResult<i64> {
    let mut query = publish_targets::table
        .inner_join(posts::table.on(posts::id.eq(publish_targets::post_id)))
        .filter(publish_targets::workspace_id.eq(workspace_id))
        .filter(publish_targets::published_at.ge(from))
        .filter(publish_targets::published_at.lt(to))
        .filter(publish_targets::remote_id.is_not_null())
        .into_boxed();
    if let Some(channel) = channel_id {
        query = query.filter(publish_targets::channel_id.eq(channel));
    }
    if let Some(campaign) = campaign_id {
        query = query.filter(posts::campaign_id.eq(campaign));
    }
    query.count().get_result(conn)
}

/// An inbox item as the inbox report reads it.
#[derive(Debug, Clone, Queryable)]
pub struct InboxFacts {
    /// Its channel.
    pub channel_id: String,
    /// Mention, comment, …
    pub kind: String,
    /// Who it is assigned to.
    pub assignee_id: Option<String>,
    /// When it arrived.
    pub received_at: NaiveDateTime,
    /// When the team first answered.
    pub first_response_at: Option<NaiveDateTime>,
    /// When an answer was due.
    pub first_response_due_at: Option<NaiveDateTime>,
    /// When it was resolved.
    pub resolved_at: Option<NaiveDateTime>,
    /// When resolution was due.
    pub resolution_due_at: Option<NaiveDateTime>,
    /// `positive`, `neutral` or `negative`.
    pub sentiment_label: Option<String>,
}

/// A workspace's inbox items received in `[from, to)`, at most `limit`.
pub fn inbox_facts(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<InboxFacts>> {
    inbox_items::table
        .filter(inbox_items::workspace_id.eq(workspace_id))
        .filter(inbox_items::received_at.ge(from))
        .filter(inbox_items::received_at.lt(to))
        .order(inbox_items::received_at.asc())
        .limit(limit)
        .select((
            inbox_items::channel_id,
            inbox_items::kind,
            inbox_items::assignee_id,
            inbox_items::received_at,
            inbox_items::first_response_at,
            inbox_items::first_response_due_at,
            inbox_items::resolved_at,
            inbox_items::resolution_due_at,
            inbox_items::sentiment_label,
        ))
        .load(conn)
}

/// A workspace's listening hits received in `[from, to)`: (query id,
/// received at, sentiment label), at most `limit`.
pub fn listening_hits(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDateTime, Option<String>)>> {
    inbox_items::table
        .filter(inbox_items::workspace_id.eq(workspace_id))
        .filter(inbox_items::received_at.ge(from))
        .filter(inbox_items::received_at.lt(to))
        .filter(inbox_items::listening_query_id.is_not_null())
        .limit(limit)
        .select((
            inbox_items::listening_query_id.assume_not_null(),
            inbox_items::received_at,
            inbox_items::sentiment_label,
        ))
        .load(conn)
}

/// Names of a workspace's members, by user id.
pub fn member_names(conn: &mut DbConn, workspace_id: &str) -> QueryResult<HashMap<String, String>> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::workspace_id.eq(workspace_id))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}

/// Forgets samples read before `samples_before` and hourly roll-ups of
/// hours before `hours_before` (daily roll-ups stay); answers how many
/// rows went.
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
    Ok(samples + hours)
}
