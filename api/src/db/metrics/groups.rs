//! Roll-ups per campaign and per tag: every series' gains summed by its
//! post's campaign and by each of its post's tags (per channel, metric,
//! period and bucket), so reports by campaign or tag read rows already
//! grouped instead of one per post. They follow the posts: when a post's
//! campaign or tags change, or the post or its campaign is deleted, its
//! gains move to the groups it belongs to now. A series with no post (an
//! account's), a post with no campaign or no tags and a deleted post count
//! under the empty key, as reports name "No campaign" and "Untagged".

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::sum;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConn;
use crate::db::schema::{metric_group_rollups, metric_rollups, posts};
use crate::domain::metrics::Period;

/// How series are grouped ahead of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// By the post's campaign: every series counts once.
    Campaign,
    /// By each of the post's tags: a post with two tags counts in both.
    Tag,
}

impl Dimension {
    /// Both.
    pub const ALL: [Dimension; 2] = [Dimension::Campaign, Dimension::Tag];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Tag => "tag",
        }
    }
}

/// The groups a post's series belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Its campaign.
    pub campaign_id: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
}

impl Membership {
    /// A post's groups from its stored columns (tags as a JSON array).
    pub fn of_post(campaign_id: Option<String>, tags_json: &str) -> Self {
        Self {
            campaign_id,
            tags: serde_json::from_str(tags_json).unwrap_or_default(),
        }
    }

    /// Its keys in one dimension, each once; the empty key for none.
    fn keys(&self, dimension: Dimension) -> Vec<&str> {
        let mut keys: Vec<&str> = match dimension {
            Dimension::Campaign => vec![self.campaign_id.as_deref().unwrap_or_default()],
            Dimension::Tag => self.tags.iter().map(String::as_str).collect(),
        };
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            keys.push("");
        }
        keys
    }
}

/// A group roll-up's identity: dimension, key, channel, metric, period and
/// bucket.
type Slot<'a> = (Dimension, &'a str, &'a str, &'a str, &'a str, NaiveDateTime);

/// A series' (channel, metric, period, bucket), as loaded.
type Bucketed = (String, String, String, NaiveDateTime);

/// Gains and sample counts to add to group roll-ups, summed per slot (one
/// upsert statement may not touch a row twice).
#[derive(Default)]
struct Changes<'a>(HashMap<Slot<'a>, (f64, i32)>);

impl<'a> Changes<'a> {
    fn add(&mut self, slot: Slot<'a>, gain: f64, samples: i32) {
        let sums = self.0.entry(slot).or_default();
        sums.0 += gain;
        sums.1 += samples;
    }

    /// Adds them to the stored roll-ups, creating the missing ones.
    fn apply(self, conn: &mut DbConn, workspace_id: &str) -> QueryResult<()> {
        let rows: Vec<GroupRollupRow<'_>> = self
            .0
            .iter()
            .map(
                |(&(dimension, key, channel, metric, period, bucket), &(gain, samples))| {
                    GroupRollupRow {
                        workspace_id,
                        dimension: dimension.as_str(),
                        group_key: key,
                        channel_id: channel,
                        metric,
                        period,
                        bucket,
                        gain,
                        samples,
                    }
                },
            )
            .collect();
        for chunk in rows.chunks(1000) {
            on_engine!(conn, |c| diesel::insert_into(metric_group_rollups::table)
                .values(chunk)
                .on_conflict((
                    metric_group_rollups::workspace_id,
                    metric_group_rollups::dimension,
                    metric_group_rollups::period,
                    metric_group_rollups::metric,
                    metric_group_rollups::bucket,
                    metric_group_rollups::group_key,
                    metric_group_rollups::channel_id,
                ))
                .do_update()
                .set(
                    (
                        metric_group_rollups::gain
                            .eq(metric_group_rollups::gain + excluded(metric_group_rollups::gain)),
                        metric_group_rollups::samples
                            .eq(metric_group_rollups::samples
                                + excluded(metric_group_rollups::samples)),
                    )
                )
                .execute(c))?;
        }
        Ok(())
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = metric_group_rollups, treat_none_as_default_value = false)]
struct GroupRollupRow<'a> {
    workspace_id: &'a str,
    dimension: &'static str,
    group_key: &'a str,
    channel_id: &'a str,
    metric: &'a str,
    period: &'a str,
    bucket: NaiveDateTime,
    gain: f64,
    samples: i32,
}

/// One kept sample, as the group roll-ups need it.
pub(super) struct Gain<'a> {
    /// Its series' post.
    pub post_id: Option<&'a str>,
    /// Its metric.
    pub metric: &'a str,
    /// Its gain.
    pub gain: f64,
}

/// Adds a channel's samples read at `at` to the group roll-ups of their
/// hour, day, week and month (inside the caller's transaction).
pub(super) fn record(
    conn: &mut DbConn,
    workspace_id: &str,
    channel_id: &str,
    gains: &[Gain<'_>],
    at: NaiveDateTime,
) -> QueryResult<()> {
    let mut post_ids: Vec<&str> = gains.iter().filter_map(|g| g.post_id).collect();
    post_ids.sort_unstable();
    post_ids.dedup();
    let members = memberships(conn, workspace_id, &post_ids)?;
    let none = Membership::default();
    let mut changes = Changes::default();
    for gain in gains {
        let member = gain.post_id.and_then(|p| members.get(p)).unwrap_or(&none);
        for dimension in Dimension::ALL {
            for key in member.keys(dimension) {
                for period in Period::ALL {
                    let slot = (
                        dimension,
                        key,
                        channel_id,
                        gain.metric,
                        period.as_str(),
                        period.bucket(at),
                    );
                    changes.add(slot, gain.gain, 1);
                }
            }
        }
    }
    changes.apply(conn, workspace_id)
}

/// The groups of a workspace's posts, by id (posts not found are left out).
pub fn memberships(
    conn: &mut DbConn,
    workspace_id: &str,
    post_ids: &[&str],
) -> QueryResult<HashMap<String, Membership>> {
    let mut found = HashMap::with_capacity(post_ids.len());
    for chunk in post_ids.chunks(1000) {
        let rows = posts::table
            .filter(posts::workspace_id.eq(workspace_id))
            .filter(posts::id.eq_any(chunk))
            .select((posts::id, posts::campaign_id, posts::tags))
            .load::<(String, Option<String>, String)>(conn)?;
        found.extend(
            rows.into_iter()
                .map(|(id, campaign, tags)| (id, Membership::of_post(campaign, &tags))),
        );
    }
    Ok(found)
}

/// Moves a post's gains from the groups it belonged to (`before`) to the
/// ones it belongs to now (`after`; the default for a deleted post), in
/// every dimension whose keys changed.
pub fn move_post(
    conn: &mut DbConn,
    workspace_id: &str,
    post_id: &str,
    before: &Membership,
    after: &Membership,
) -> QueryResult<()> {
    let moved: Vec<Dimension> = Dimension::ALL
        .into_iter()
        .filter(|&d| before.keys(d) != after.keys(d))
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    let rollups: Vec<(Bucketed, Option<f64>, Option<i64>)> = metric_rollups::table
        .filter(metric_rollups::workspace_id.eq(workspace_id))
        .filter(metric_rollups::post_id.eq(post_id))
        .group_by((
            metric_rollups::channel_id,
            metric_rollups::metric,
            metric_rollups::period,
            metric_rollups::bucket,
        ))
        .select((
            (
                metric_rollups::channel_id,
                metric_rollups::metric,
                metric_rollups::period,
                metric_rollups::bucket,
            ),
            sum(metric_rollups::gain),
            sum(metric_rollups::samples),
        ))
        .load(conn)?;
    let mut changes = Changes::default();
    for ((channel, metric, period, bucket), gain, samples) in &rollups {
        let gain = gain.unwrap_or_default();
        let samples = i32::try_from(samples.unwrap_or_default()).unwrap_or(i32::MAX);
        for &dimension in &moved {
            for key in before.keys(dimension) {
                changes.add(
                    (dimension, key, channel, metric, period, *bucket),
                    -gain,
                    -samples,
                );
            }
            for key in after.keys(dimension) {
                changes.add(
                    (dimension, key, channel, metric, period, *bucket),
                    gain,
                    samples,
                );
            }
        }
    }
    changes.apply(conn, workspace_id)?;
    for dimension in moved {
        forget_empty(conn, workspace_id, dimension, &before.keys(dimension))?;
    }
    Ok(())
}

/// Moves a campaign's gains to the empty key before it is deleted (its
/// posts then have no campaign).
pub fn forget_campaign(
    conn: &mut DbConn,
    workspace_id: &str,
    campaign_id: &str,
) -> QueryResult<()> {
    let dimension = Dimension::Campaign;
    let rows: Vec<(String, String, String, NaiveDateTime, f64, i32)> = metric_group_rollups::table
        .filter(metric_group_rollups::workspace_id.eq(workspace_id))
        .filter(metric_group_rollups::dimension.eq(dimension.as_str()))
        .filter(metric_group_rollups::group_key.eq(campaign_id))
        .select((
            metric_group_rollups::channel_id,
            metric_group_rollups::metric,
            metric_group_rollups::period,
            metric_group_rollups::bucket,
            metric_group_rollups::gain,
            metric_group_rollups::samples,
        ))
        .load(conn)?;
    let mut changes = Changes::default();
    for (channel, metric, period, bucket, gain, samples) in &rows {
        changes.add(
            (dimension, "", channel, metric, period, *bucket),
            *gain,
            *samples,
        );
    }
    changes.apply(conn, workspace_id)?;
    diesel::delete(
        metric_group_rollups::table
            .filter(metric_group_rollups::workspace_id.eq(workspace_id))
            .filter(metric_group_rollups::dimension.eq(dimension.as_str()))
            .filter(metric_group_rollups::group_key.eq(campaign_id)),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes the roll-ups of these keys (each once, as [`Membership::keys`]
/// gives them) that no sample counts in any more.
fn forget_empty(
    conn: &mut DbConn,
    workspace_id: &str,
    dimension: Dimension,
    keys: &[&str],
) -> QueryResult<usize> {
    diesel::delete(
        metric_group_rollups::table
            .filter(metric_group_rollups::workspace_id.eq(workspace_id))
            .filter(metric_group_rollups::dimension.eq(dimension.as_str()))
            .filter(metric_group_rollups::group_key.eq_any(keys))
            .filter(metric_group_rollups::samples.le(0)),
    )
    .execute(conn)
}

/// Forgets hourly group roll-ups of hours before `before`, as the series'
/// own hourly roll-ups are.
pub(super) fn prune_hours(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        metric_group_rollups::table
            .filter(metric_group_rollups::period.eq(Period::Hour.as_str()))
            .filter(metric_group_rollups::bucket.lt(before)),
    )
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_without_campaign_or_tags_counts_under_the_empty_key() {
        let none = Membership::default();
        assert_eq!(none.keys(Dimension::Campaign), vec![""]);
        assert_eq!(none.keys(Dimension::Tag), vec![""]);
        let post = Membership::of_post(Some("c1".into()), r#"["b","a","b"]"#);
        assert_eq!(post.keys(Dimension::Campaign), vec!["c1"]);
        assert_eq!(post.keys(Dimension::Tag), vec!["a", "b"]);
    }
}
