//! Metric reports: a metric over time, split into buckets and groups, with
//! the period before for comparison. Grouped scans of the roll-ups of the
//! report's own granularity answer it: the period summed per bucket, the
//! period before summed whole (see [`crate::domain::metrics`] for what the
//! numbers mean). Reports by campaign or tag over all posts read the
//! roll-ups kept per campaign and tag; the rest read the series' own.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;

use crate::db::DbConn;
use crate::db::metrics::groups::Dimension;
use crate::db::metrics::report::{self as stored, GainSum, GroupGain, Scope};
use crate::domain::metrics::{Granularity, GroupBy, Measure, Period, relative_change};
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
fn tally<'a>(
    tallies: &'a mut BTreeMap<Option<String>, Tally>,
    key: &Option<String>,
    width: usize,
) -> &'a mut Tally {
    tallies.entry(key.clone()).or_insert_with(|| Tally {
        values: vec![0.0; width],
        ..Tally::default()
    })
}

/// A gain counted in one group, in one bucket of the period or (`bucket`
/// `None`) over a whole range.
struct Keyed {
    key: Option<String>,
    bucket: Option<NaiveDateTime>,
    gain: f64,
}

/// A report's gains, each in its group: the period's per bucket, the
/// period before's whole, and for totals what came after the period
/// (whole) and the latest values (the level at the period's start is the
/// latest value less every gain since).
#[derive(Default)]
struct Gains {
    previous: Vec<Keyed>,
    current: Vec<Keyed>,
    after: Vec<Keyed>,
    latest: Vec<Keyed>,
}

impl Gains {
    /// Adds them up per group, into buckets at `index`'s positions.
    fn tally(
        &self,
        index: &HashMap<NaiveDateTime, usize>,
        width: usize,
    ) -> BTreeMap<Option<String>, Tally> {
        let mut tallies: BTreeMap<Option<String>, Tally> = BTreeMap::new();
        for g in &self.previous {
            tally(&mut tallies, &g.key, width).previous += g.gain;
        }
        for g in &self.current {
            let t = tally(&mut tallies, &g.key, width);
            t.since_from += g.gain;
            if let Some(value) = g
                .bucket
                .and_then(|b| index.get(&b))
                .and_then(|&i| t.values.get_mut(i))
            {
                *value += g.gain;
            }
        }
        for g in &self.after {
            tally(&mut tallies, &g.key, width).since_from += g.gain;
        }
        for g in &self.latest {
            tally(&mut tallies, &g.key, width).latest += g.gain;
        }
        tallies
    }
}

/// Where a report's gains come from, and what it needs to name its groups.
struct Read {
    /// Per group.
    gains: Gains,
    /// For a report by tag, every gain once (key `None`): a post with two
    /// tags is in two groups, but the whole counts it once.
    whole: Option<Gains>,
    /// The posts met, for their labels.
    posts: HashMap<String, stored::PostFacts>,
}

/// The report's periods: the buckets' range, the period before and the
/// roll-ups read.
#[derive(Clone, Copy)]
struct Span {
    previous_from: NaiveDateTime,
    from: NaiveDateTime,
    to: NaiveDateTime,
    period: Period,
}

/// The groups a series' gains count in: its channel, its post, its post's
/// campaign or each of its post's tags.
fn keys_of(
    group_by: GroupBy,
    sum: &GainSum,
    posts: &HashMap<String, stored::PostFacts>,
) -> Vec<Option<String>> {
    let post = sum.post_id.as_ref().and_then(|id| posts.get(id));
    match group_by {
        GroupBy::None => vec![None],
        GroupBy::Channel => vec![Some(sum.channel_id.clone())],
        GroupBy::Post => vec![sum.post_id.clone()],
        GroupBy::Campaign => vec![post.and_then(|p| p.campaign_id.clone())],
        GroupBy::Tag => match post {
            Some(p) if !p.tags.is_empty() => p.tags.iter().cloned().map(Some).collect(),
            _ => vec![None],
        },
    }
}

/// Series' gains counted in their groups.
fn keyed(sums: &[GainSum], keys: impl Fn(&GainSum) -> Vec<Option<String>>) -> Vec<Keyed> {
    sums.iter()
        .flat_map(|sum| {
            keys(sum).into_iter().map(|key| Keyed {
                key,
                bucket: sum.bucket,
                gain: sum.gain,
            })
        })
        .collect()
}

/// Group roll-ups' gains counted in their groups (all in one with `whole`).
fn keyed_groups(sums: Vec<GroupGain>, whole: bool) -> Vec<Keyed> {
    sums.into_iter()
        .map(|g| Keyed {
            key: (!whole && !g.key.is_empty()).then_some(g.key),
            bucket: g.bucket,
            gain: g.gain,
        })
        .collect()
}

/// The posts behind these sums, for labels and groups.
fn posts_of<'a>(
    conn: &mut DbConn,
    workspace_id: &str,
    sums: impl Iterator<Item = &'a GainSum>,
) -> ApiResult<HashMap<String, stored::PostFacts>> {
    let mut ids: Vec<String> = sums.filter_map(|g| g.post_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(stored::post_facts(conn, workspace_id, &ids)?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect())
}

/// Reads a report from the series' own roll-ups, split per channel, and
/// per post when the groups are posts, campaigns or tags.
fn from_series(conn: &mut DbConn, query: &MetricQuery, span: &Span) -> ApiResult<Read> {
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
    let Span {
        previous_from,
        from,
        to,
        period,
    } = *span;
    // The period before and what came after are only ever summed whole,
    // from the coarsest roll-ups that fit.
    let previous = stored::gains_whole(conn, &scope, period, (previous_from, Some(from)), by_post)?;
    let current = stored::gains(conn, &scope, period, (Some(from), Some(to)), by_post, true)?;
    let (after, latest) = match query.measure {
        Measure::Total => (
            stored::gains_whole(conn, &scope, period, (to, None), by_post)?,
            stored::latest(conn, &scope, by_post)?,
        ),
        Measure::Change => (Vec::new(), Vec::new()),
    };
    let posts = if by_post {
        posts_of(
            conn,
            &query.workspace_id,
            previous.iter().chain(&current).chain(&latest),
        )?
    } else {
        HashMap::new()
    };
    let gains_by = |keys: &dyn Fn(&GainSum) -> Vec<Option<String>>| Gains {
        previous: keyed(&previous, keys),
        current: keyed(&current, keys),
        after: keyed(&after, keys),
        latest: keyed(&latest, keys),
    };
    let gains = gains_by(&|sum| keys_of(query.group_by, sum, &posts));
    let whole = (query.group_by == GroupBy::Tag).then(|| gains_by(&|_| vec![None]));
    Ok(Read {
        gains,
        whole,
        posts,
    })
}

/// Reads a report by campaign or by tag over all the scope's posts from
/// the roll-ups kept per campaign and per tag: one row per group and
/// bucket, not one per post.
fn from_groups(
    conn: &mut DbConn,
    query: &MetricQuery,
    dimension: Dimension,
    span: &Span,
) -> ApiResult<Read> {
    let scope = Scope {
        workspace_id: query.workspace_id.clone(),
        metrics: query.stored.clone(),
        channel_ids: query.channel_ids.clone(),
        post_ids: None,
    };
    let Span {
        previous_from,
        from,
        to,
        period,
    } = *span;
    let mut read = |dimension: Dimension, whole: bool| -> ApiResult<Gains> {
        let previous = stored::group_gains_whole(
            conn,
            &scope,
            dimension,
            period,
            (previous_from, Some(from)),
        )?;
        let current = stored::group_gains(
            conn,
            &scope,
            dimension,
            period,
            (Some(from), Some(to)),
            true,
        )?;
        let after = match query.measure {
            Measure::Total => {
                stored::group_gains_whole(conn, &scope, dimension, period, (to, None))?
            }
            Measure::Change => Vec::new(),
        };
        Ok(Gains {
            previous: keyed_groups(previous, whole),
            current: keyed_groups(current, whole),
            after: keyed_groups(after, whole),
            latest: Vec::new(),
        })
    };
    let mut gains = read(dimension, false)?;
    // Every series is in exactly one campaign group (maybe "none"): their
    // sum is the whole a report by tag needs.
    let mut whole = (dimension == Dimension::Tag)
        .then(|| read(Dimension::Campaign, true))
        .transpose()?;
    let mut posts = HashMap::new();
    if query.measure == Measure::Total {
        // The latest values are one per series: few enough to group here.
        let latest = stored::latest(conn, &scope, true)?;
        posts = posts_of(conn, &query.workspace_id, latest.iter())?;
        gains.latest = keyed(&latest, |sum| keys_of(query.group_by, sum, &posts));
        if let Some(whole) = &mut whole {
            whole.latest = keyed(&latest, |_| vec![None]);
        }
    }
    Ok(Read {
        gains,
        whole,
        posts,
    })
}

/// Answers a query (a read transaction's worth of work).
pub fn run(conn: &mut DbConn, query: &MetricQuery) -> ApiResult<MetricNumbers> {
    let (from, to, buckets) = align(query.granularity, query.from, query.to)?;
    let span = Span {
        previous_from: query.granularity.bucket(from - (to - from)),
        from,
        to,
        period: query.granularity.period(),
    };
    let unfiltered = query.post_id.is_none() && query.campaign_id.is_none() && query.tag.is_none();
    let read = match query.group_by {
        GroupBy::Campaign if unfiltered => from_groups(conn, query, Dimension::Campaign, &span)?,
        GroupBy::Tag if unfiltered => from_groups(conn, query, Dimension::Tag, &span)?,
        _ => from_series(conn, query, &span)?,
    };
    let (channel_names, campaign_names) = stored::names(conn, &query.workspace_id)?;
    let label_of = |key: &Option<String>| -> String {
        match (query.group_by, key) {
            (GroupBy::None, _) => "All".to_owned(),
            (GroupBy::Channel, Some(id)) => {
                channel_names.get(id).cloned().unwrap_or_else(|| id.clone())
            }
            (GroupBy::Post, Some(id)) => read
                .posts
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
    let width = buckets.len();
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
        values: vec![0.0; width],
        ..Tally::default()
    };
    let tallies = read.gains.tally(&index, width);
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
    if let Some(whole) = &read.whole {
        overall = whole
            .tally(&index, width)
            .remove(&None)
            .unwrap_or_else(|| Tally {
                values: vec![0.0; width],
                ..Tally::default()
            });
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
        previous_from: span.previous_from,
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
