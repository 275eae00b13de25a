//! What metric reports read: summed gains of the roll-ups (the series' own,
//! or those per campaign and tag) and latest values of the series in a
//! scope, and the posts, channels and campaigns that name the groups.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::sum;
use diesel::prelude::*;

use super::groups::Dimension;
use crate::db::DbConn;
use crate::db::schema::{
    campaigns, channels, metric_group_rollups, metric_rollups, metric_series, posts,
};
use crate::domain::metrics::{self, Period};

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
    /// The bucket's start; `None` for a sum over a whole range or a
    /// series' whole life.
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

/// Runs a query over the roll-ups of one period in a range, grouped by
/// the given column (or columns) with their gains summed: rows of
/// `(column, sum)` or `((columns), sum)`.
macro_rules! summed {
    ($conn:expr, $scope:expr, $period:expr, $range:expr, $group:expr) => {{
        let (from, to) = $range;
        rollups_in!(
            metric_rollups::table
                .group_by($group)
                .select(($group, sum(metric_rollups::gain))),
            $scope,
            $period,
            from,
            to
        )
        .load($conn)?
    }};
}

/// A (channel, post) group key as loaded.
type ChannelPost = (String, Option<String>);
/// A (channel, post, bucket) group key as loaded.
type PostBucket = (String, Option<String>, NaiveDateTime);

/// The scope's gains from `period`'s roll-ups in `[from, to)` (open ends
/// where `None`), summed per channel, and per post with `by_post`, and per
/// bucket with `by_bucket` (else over the whole range, `bucket` `None`).
pub fn gains(
    conn: &mut DbConn,
    scope: &Scope,
    period: Period,
    range: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    by_post: bool,
    by_bucket: bool,
) -> QueryResult<Vec<GainSum>> {
    let row = |channel_id, post_id, bucket, gain: Option<f64>| GainSum {
        channel_id,
        post_id,
        bucket,
        gain: gain.unwrap_or_default(),
    };
    Ok(match (by_post, by_bucket) {
        (true, true) => {
            let rows: Vec<(PostBucket, Option<f64>)> = summed!(
                conn,
                scope,
                period,
                range,
                (
                    metric_rollups::channel_id,
                    metric_rollups::post_id,
                    metric_rollups::bucket
                )
            );
            rows.into_iter()
                .map(|((channel, post, bucket), gain)| row(channel, post, Some(bucket), gain))
                .collect()
        }
        (true, false) => {
            let rows: Vec<(ChannelPost, Option<f64>)> = summed!(
                conn,
                scope,
                period,
                range,
                (metric_rollups::channel_id, metric_rollups::post_id)
            );
            rows.into_iter()
                .map(|((channel, post), gain)| row(channel, post, None, gain))
                .collect()
        }
        (false, true) => {
            let rows: Vec<((String, NaiveDateTime), Option<f64>)> = summed!(
                conn,
                scope,
                period,
                range,
                (metric_rollups::channel_id, metric_rollups::bucket)
            );
            rows.into_iter()
                .map(|((channel, bucket), gain)| row(channel, None, Some(bucket), gain))
                .collect()
        }
        (false, false) => {
            let rows: Vec<(String, Option<f64>)> =
                summed!(conn, scope, period, range, metric_rollups::channel_id);
            rows.into_iter()
                .map(|(channel, gain)| row(channel, None, None, gain))
                .collect()
        }
    })
}

/// The scope's gains in `[from, to)` (open-ended when `to` is `None`)
/// summed whole per channel (and post, with `by_post`), read from the
/// coarsest roll-ups that cover the range exactly (see
/// [`metrics::cover`]); `from` and `to` are aligned to `finest`.
pub fn gains_whole(
    conn: &mut DbConn,
    scope: &Scope,
    finest: Period,
    (from, to): (NaiveDateTime, Option<NaiveDateTime>),
    by_post: bool,
) -> QueryResult<Vec<GainSum>> {
    let mut sums: HashMap<(String, Option<String>), f64> = HashMap::new();
    for (period, start, end) in metrics::cover(from, to, finest) {
        for piece in gains(conn, scope, period, (Some(start), end), by_post, false)? {
            *sums.entry((piece.channel_id, piece.post_id)).or_default() += piece.gain;
        }
    }
    Ok(sums
        .into_iter()
        .map(|((channel_id, post_id), gain)| GainSum {
            channel_id,
            post_id,
            bucket: None,
            gain,
        })
        .collect())
}

/// Summed gains of one campaign or tag (`""` for none) in one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupGain {
    /// The campaign's id or the tag.
    pub key: String,
    /// The bucket's start; `None` for a sum over a whole range.
    pub bucket: Option<NaiveDateTime>,
    /// The sum.
    pub gain: f64,
}

/// Runs a query over the group roll-ups of one dimension and period in a
/// range, in a scope's workspace, metrics and channels, grouped by the
/// given column (or columns) with their gains summed.
macro_rules! group_summed {
    ($conn:expr, $scope:expr, $dimension:expr, $period:expr, $range:expr, $group:expr) => {{
        let scope: &Scope = $scope;
        let (from, to): (Option<NaiveDateTime>, Option<NaiveDateTime>) = $range;
        let mut query = metric_group_rollups::table
            .group_by($group)
            .select(($group, sum(metric_group_rollups::gain)))
            .into_boxed()
            .filter(metric_group_rollups::workspace_id.eq(&scope.workspace_id))
            .filter(metric_group_rollups::dimension.eq($dimension.as_str()))
            .filter(metric_group_rollups::period.eq($period.as_str()))
            .filter(metric_group_rollups::metric.eq_any(&scope.metrics));
        if let Some(channels) = &scope.channel_ids {
            query = query.filter(metric_group_rollups::channel_id.eq_any(channels));
        }
        if let Some(from) = from {
            query = query.filter(metric_group_rollups::bucket.ge(from));
        }
        if let Some(to) = to {
            query = query.filter(metric_group_rollups::bucket.lt(to));
        }
        query.load($conn)?
    }};
}

/// The scope's gains from `period`'s roll-ups per campaign or tag in
/// `[from, to)` (open ends where `None`), summed per key, and per bucket
/// with `by_bucket`. The scope's posts are not looked at: these roll-ups
/// answer reports over all of them.
pub fn group_gains(
    conn: &mut DbConn,
    scope: &Scope,
    dimension: Dimension,
    period: Period,
    range: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    by_bucket: bool,
) -> QueryResult<Vec<GroupGain>> {
    Ok(if by_bucket {
        let rows: Vec<((String, NaiveDateTime), Option<f64>)> = group_summed!(
            conn,
            scope,
            dimension,
            period,
            range,
            (
                metric_group_rollups::group_key,
                metric_group_rollups::bucket
            )
        );
        rows.into_iter()
            .map(|((key, bucket), gain)| GroupGain {
                key,
                bucket: Some(bucket),
                gain: gain.unwrap_or_default(),
            })
            .collect()
    } else {
        let rows: Vec<(String, Option<f64>)> = group_summed!(
            conn,
            scope,
            dimension,
            period,
            range,
            metric_group_rollups::group_key
        );
        rows.into_iter()
            .map(|(key, gain)| GroupGain {
                key,
                bucket: None,
                gain: gain.unwrap_or_default(),
            })
            .collect()
    })
}

/// [`group_gains`] in `[from, to)` summed whole per key, read from the
/// coarsest roll-ups that cover the range (as [`gains_whole`]).
pub fn group_gains_whole(
    conn: &mut DbConn,
    scope: &Scope,
    dimension: Dimension,
    finest: Period,
    (from, to): (NaiveDateTime, Option<NaiveDateTime>),
) -> QueryResult<Vec<GroupGain>> {
    let mut sums: HashMap<String, f64> = HashMap::new();
    for (period, start, end) in metrics::cover(from, to, finest) {
        for piece in group_gains(conn, scope, dimension, period, (Some(start), end), false)? {
            *sums.entry(piece.key).or_default() += piece.gain;
        }
    }
    Ok(sums
        .into_iter()
        .map(|(key, gain)| GroupGain {
            key,
            bucket: None,
            gain,
        })
        .collect())
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
                .like(format!("%{}%", crate::db::inbox::like_escape(&json)))
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

/// A post's tags, each once.
fn tags_of(stored: &str) -> Vec<String> {
    let mut tags: Vec<String> = serde_json::from_str(stored).unwrap_or_default();
    tags.sort_unstable();
    tags.dedup();
    tags
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
