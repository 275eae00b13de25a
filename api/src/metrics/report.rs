//! Metric reports: a metric over time, split into buckets and groups, with
//! the period before for comparison. Grouped scans of the roll-ups of the
//! report's own granularity answer it: the period summed per bucket, the
//! period before summed whole (see [`crate::domain::metrics`] for what the
//! numbers mean).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use crate::db::DbConn;
use crate::db::metrics::report::{self as stored, GainSum, Scope};
use crate::domain::metrics::{Granularity, GroupBy, Measure, relative_change};
use crate::domain::text::excerpt;
use crate::error::{ApiError, ApiResult};

/// Most buckets one report may have.
pub const MAX_BUCKETS: usize = 1000;

/// A question about one metric over time.
#[derive(Debug, Clone)]
pub struct MetricQuery {
    /// The workspace.
    pub workspace_id: String,
    /// A metric name or `engagements`.
    pub metric: String,
    /// The stored metrics it adds up.
    pub stored: Vec<String>,
    /// Change in each bucket, or the total at its end.
    pub measure: Measure,
    /// Bucket size.
    pub granularity: Granularity,
    /// How to split.
    pub group_by: GroupBy,
    /// Start (aligned down to a bucket).
    pub from: NaiveDateTime,
    /// End, exclusive (aligned up to a bucket).
    pub to: NaiveDateTime,
    /// Only these channels.
    pub channel_ids: Option<Vec<String>>,
    /// Only this post.
    pub post_id: Option<String>,
    /// Only this campaign's posts.
    pub campaign_id: Option<String>,
    /// Only posts with this tag.
    pub tag: Option<String>,
    /// Most groups answered (the largest first); the rest are counted.
    pub limit: usize,
}

/// One group's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupNumbers {
    /// Channel, post, campaign or tag; `None` for "all", "no campaign", …
    pub key: Option<String>,
    /// What a person calls it.
    pub label: String,
    /// One value per bucket.
    pub values: Vec<f64>,
    /// Over the whole period: the sum of the changes, or the total at its end.
    pub total: f64,
    /// The same over the period before (of the same length).
    pub previous_total: f64,
    /// Relative change from `previous_total`.
    pub change: Option<f64>,
}

/// A report's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricNumbers {
    /// The period's start, aligned.
    pub from: NaiveDateTime,
    /// Its end, aligned.
    pub to: NaiveDateTime,
    /// The period before's start.
    pub previous_from: NaiveDateTime,
    /// The buckets' starts.
    pub buckets: Vec<NaiveDateTime>,
    /// The groups, largest total first.
    pub groups: Vec<GroupNumbers>,
    /// Groups left out by the limit.
    pub omitted_groups: usize,
    /// Every group together.
    pub overall: GroupNumbers,
}

/// Aligns a requested range to buckets, checking it.
pub fn align(
    granularity: Granularity,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> ApiResult<(NaiveDateTime, NaiveDateTime, Vec<NaiveDateTime>)> {
    if to <= from {
        return Err(ApiError::invalid_field("to", "must be after from"));
    }
    let from = granularity.bucket(from);
    let buckets = granularity.buckets(from, to, MAX_BUCKETS).ok_or_else(|| {
        ApiError::invalid_field(
            "granularity",
            format!("the range holds more than {MAX_BUCKETS} buckets; narrow it or coarsen"),
        )
    })?;
    let to = buckets.last().map_or(from, |&last| granularity.next(last));
    Ok((from, to, buckets))
}

/// One group's sums while a report is added up: gains per bucket of the
/// period, the gains of the period before, and (for totals) the gains
/// since the period's start and every gain there ever was.
#[derive(Default)]
struct Tally {
    values: Vec<f64>,
    previous: f64,
    since_from: f64,
    latest: f64,
}

/// The tally of a group, started with `width` empty buckets.
fn tally(
    tallies: &mut BTreeMap<Option<String>, Tally>,
    key: Option<String>,
    width: usize,
) -> &mut Tally {
    tallies.entry(key).or_insert_with(|| Tally {
        values: vec![0.0; width],
        ..Tally::default()
    })
}

/// Answers a query (a read transaction's worth of work).
pub fn run(conn: &mut DbConn, query: &MetricQuery) -> ApiResult<MetricNumbers> {
    let (from, to, buckets) = align(query.granularity, query.from, query.to)?;
    let previous_from = query.granularity.bucket(from - (to - from));
    let post_ids = match (&query.post_id, &query.campaign_id, &query.tag) {
        (None, None, None) => None,
        (post, campaign, tag) => {
            let mut ids = stored::post_ids_matching(
                conn,
                &query.workspace_id,
                campaign.as_deref(),
                tag.as_deref(),
            )?;
            if let Some(post) = post {
                ids.retain(|id| id == post);
            }
            Some(ids)
        }
    };
    let scope = Scope {
        workspace_id: query.workspace_id.clone(),
        metrics: query.stored.clone(),
        channel_ids: query.channel_ids.clone(),
        post_ids,
    };
    let by_post = matches!(
        query.group_by,
        GroupBy::Post | GroupBy::Campaign | GroupBy::Tag
    );
    let period = query.granularity.period();
    // The period before is only ever summed whole, and so is what came
    // after the period (totals need it: the level at the period's start is
    // the latest value less every gain since); both read the coarsest
    // roll-ups that fit.
    let previous = stored::gains_whole(conn, &scope, period, (previous_from, Some(from)), by_post)?;
    let current = stored::gains(conn, &scope, period, (Some(from), Some(to)), by_post, true)?;
    let (after, latest) = match query.measure {
        Measure::Total => (
            stored::gains_whole(conn, &scope, period, (to, None), by_post)?,
            stored::latest(conn, &scope, by_post)?,
        ),
        Measure::Change => (Vec::new(), Vec::new()),
    };

    let (channel_names, campaign_names) = stored::names(conn, &query.workspace_id)?;
    let post_ids: Vec<String> = if by_post {
        let mut ids: Vec<String> = previous
            .iter()
            .chain(&current)
            .chain(&latest)
            .filter_map(|g| g.post_id.clone())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    } else {
        Vec::new()
    };
    let posts: HashMap<String, stored::PostFacts> =
        stored::post_facts(conn, &query.workspace_id, &post_ids)?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
    let keys_of = |sum: &GainSum| -> Vec<Option<String>> {
        let post = sum.post_id.as_ref().and_then(|id| posts.get(id));
        match query.group_by {
            GroupBy::None => vec![None],
            GroupBy::Channel => vec![Some(sum.channel_id.clone())],
            GroupBy::Post => vec![sum.post_id.clone()],
            GroupBy::Campaign => vec![post.and_then(|p| p.campaign_id.clone())],
            GroupBy::Tag => match post {
                Some(p) if !p.tags.is_empty() => p.tags.iter().cloned().map(Some).collect(),
                _ => vec![None],
            },
        }
    };
    let label_of = |key: &Option<String>| -> String {
        match (query.group_by, key) {
            (GroupBy::None, _) => "All".to_owned(),
            (GroupBy::Channel, Some(id)) => {
                channel_names.get(id).cloned().unwrap_or_else(|| id.clone())
            }
            (GroupBy::Post, Some(id)) => posts
                .get(id)
                .map_or_else(|| id.clone(), |p| label_of_post(&p.body)),
            (GroupBy::Post, None) => "The accounts themselves".to_owned(),
            (GroupBy::Campaign, Some(id)) => campaign_names
                .get(id)
                .cloned()
                .unwrap_or_else(|| id.clone()),
            (GroupBy::Campaign, None) => "No campaign".to_owned(),
            (GroupBy::Tag, Some(tag)) => tag.clone(),
            (GroupBy::Tag, None) => "Untagged".to_owned(),
            (GroupBy::Channel, None) => "Unknown channel".to_owned(),
        }
    };

    let index: HashMap<NaiveDateTime, usize> = buckets
        .iter()
        .enumerate()
        .map(|(i, start)| (*start, i))
        .collect();
    let mut tallies: BTreeMap<Option<String>, Tally> = BTreeMap::new();
    let width = buckets.len();
    for sum in &previous {
        for key in keys_of(sum) {
            tally(&mut tallies, key, width).previous += sum.gain;
        }
    }
    for sum in &current {
        let at = sum.bucket.and_then(|b| index.get(&b).copied());
        for key in keys_of(sum) {
            let t = tally(&mut tallies, key, width);
            t.since_from += sum.gain;
            if let Some(value) = at.and_then(|i| t.values.get_mut(i)) {
                *value += sum.gain;
            }
        }
    }
    for sum in &after {
        for key in keys_of(sum) {
            tally(&mut tallies, key, width).since_from += sum.gain;
        }
    }
    for sum in &latest {
        for key in keys_of(sum) {
            tally(&mut tallies, key, width).latest += sum.gain;
        }
    }

    let numbers = |key: Option<String>, t: Tally| -> GroupNumbers {
        let (values, total, previous_total) = match query.measure {
            Measure::Change => {
                let total = t.values.iter().sum();
                (t.values, total, t.previous)
            }
            Measure::Total => {
                let at_from = t.latest - t.since_from;
                let mut level = at_from;
                let values: Vec<f64> = t
                    .values
                    .iter()
                    .map(|gain| {
                        level += gain;
                        level
                    })
                    .collect();
                (values, level, at_from)
            }
        };
        GroupNumbers {
            label: label_of(&key),
            key,
            values,
            total,
            previous_total,
            change: relative_change(total, previous_total),
        }
    };

    let mut overall = Tally {
        values: vec![0.0; buckets.len()],
        ..Tally::default()
    };
    let mut groups = Vec::with_capacity(tallies.len());
    for (key, t) in tallies {
        for (sum, v) in overall.values.iter_mut().zip(&t.values) {
            *sum += v;
        }
        overall.previous += t.previous;
        overall.since_from += t.since_from;
        overall.latest += t.latest;
        groups.push(numbers(key, t));
    }
    if query.group_by == GroupBy::Tag {
        // A post with two tags is in two groups: the whole counts it once.
        overall = Tally {
            values: vec![0.0; buckets.len()],
            ..Tally::default()
        };
        overall.previous = previous.iter().map(|s| s.gain).sum();
        for sum in &current {
            overall.since_from += sum.gain;
            if let Some(value) = sum
                .bucket
                .and_then(|b| index.get(&b))
                .and_then(|&i| overall.values.get_mut(i))
            {
                *value += sum.gain;
            }
        }
        overall.since_from += after.iter().map(|s| s.gain).sum::<f64>();
        overall.latest = latest.iter().map(|s| s.gain).sum();
    }
    let mut overall = numbers(None, overall);
    overall.label = "All".to_owned();
    groups.sort_by(|a, b| {
        b.total
            .abs()
            .total_cmp(&a.total.abs())
            .then_with(|| a.label.cmp(&b.label))
    });
    let omitted_groups = groups.len().saturating_sub(query.limit);
    groups.truncate(query.limit);
    Ok(MetricNumbers {
        from,
        to,
        previous_from,
        buckets,
        groups,
        omitted_groups,
        overall,
    })
}

/// The first line of a post, cut short, as its label.
fn label_of_post(body: &str) -> String {
    excerpt(body.lines().next().unwrap_or_default().trim(), 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn ranges_align_to_whole_buckets() {
        let (from, to, buckets) = align(
            Granularity::Day,
            at("2026-11-01 10:00"),
            at("2026-11-03 01:00"),
        )
        .unwrap();
        assert_eq!(from, at("2026-11-01 00:00"));
        assert_eq!(to, at("2026-11-04 00:00"));
        assert_eq!(buckets.len(), 3);
        assert!(
            align(
                Granularity::Day,
                at("2026-11-02 00:00"),
                at("2026-11-01 00:00")
            )
            .is_err()
        );
        assert!(
            align(
                Granularity::Hour,
                at("2026-01-01 00:00"),
                at("2026-12-01 00:00")
            )
            .is_err()
        );
    }
}
