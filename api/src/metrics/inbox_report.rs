//! The inbox report: how much came in, how fast the team answered and
//! resolved it (in business time), how often within the SLA, and the mood,
//! per channel, kind or member, with the volume and sentiment over time.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::metrics::facts::InboxFacts;
use crate::domain::business_hours::BusinessHours;
use crate::domain::metrics::Granularity;
use crate::domain::metrics::stats::{quantile, rate};

/// How the inbox report splits its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InboxGroupBy {
    /// One group.
    None,
    /// Per channel.
    Channel,
    /// Per kind (mention, comment, direct message, review, listening hit).
    Kind,
    /// Per assigned member (unassigned items in their own group).
    Assignee,
}

/// Counts of items by sentiment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct SentimentMix {
    /// Positive items.
    pub positive: u64,
    /// Neutral items.
    pub neutral: u64,
    /// Negative items.
    pub negative: u64,
    /// Items with no score.
    pub unscored: u64,
}

impl SentimentMix {
    /// Counts one item with this label (`None` or another word: unscored).
    pub fn add(&mut self, label: Option<&str>) {
        match label {
            Some("positive") => self.positive += 1,
            Some("neutral") => self.neutral += 1,
            Some("negative") => self.negative += 1,
            _ => self.unscored += 1,
        }
    }
}

/// One group's inbox numbers. Times are business minutes (the workspace's
/// business hours; all the clock when it has none).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InboxNumbers {
    /// Channel id, kind or member id; `null` for the whole or the unassigned.
    pub key: Option<String>,
    /// What a person calls it.
    pub label: String,
    /// Items received.
    pub received: u64,
    /// Items answered.
    pub answered: u64,
    /// Items resolved.
    pub resolved: u64,
    /// Median time to the first answer.
    pub first_response_median_minutes: Option<f64>,
    /// 90th percentile of the time to the first answer.
    pub first_response_p90_minutes: Option<f64>,
    /// Median time to resolution.
    pub resolution_median_minutes: Option<f64>,
    /// 90th percentile of the time to resolution.
    pub resolution_p90_minutes: Option<f64>,
    /// Share of items answered by their due time, among those answered or
    /// already overdue (items still within their time are not counted).
    pub first_response_sla_rate: Option<f64>,
    /// The same for resolution.
    pub resolution_sla_rate: Option<f64>,
    /// The mood.
    pub sentiment: SentimentMix,
}

/// Volume and mood in one bucket.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InboxBucket {
    /// The bucket's start.
    pub start: DateTime<Utc>,
    /// Items received.
    pub received: u64,
    /// Their mood.
    pub sentiment: SentimentMix,
}

#[derive(Default)]
struct Tally {
    received: u64,
    answered: u64,
    resolved: u64,
    first_response: Vec<f64>,
    resolution: Vec<f64>,
    first_hits: u64,
    first_judged: u64,
    resolution_hits: u64,
    resolution_judged: u64,
    sentiment: SentimentMix,
}

/// Whether an item met a due time: `Some(true)` done in time, `Some(false)`
/// done late or still open past it, `None` still within it (or no target).
fn met(
    done: Option<NaiveDateTime>,
    due: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Option<bool> {
    match (done, due?) {
        (Some(done), due) => Some(done <= due),
        (None, due) if due < now => Some(false),
        (None, _) => None,
    }
}

impl Tally {
    fn add(&mut self, item: &InboxFacts, hours: &BusinessHours, now: NaiveDateTime) {
        let business_minutes = |from: NaiveDateTime, to: NaiveDateTime| {
            hours
                .elapsed(Utc.from_utc_datetime(&from), Utc.from_utc_datetime(&to))
                .num_seconds() as f64
                / 60.0
        };
        self.received += 1;
        if let Some(at) = item.first_response_at {
            self.answered += 1;
            self.first_response
                .push(business_minutes(item.received_at, at));
        }
        if let Some(at) = item.resolved_at {
            self.resolved += 1;
            self.resolution.push(business_minutes(item.received_at, at));
        }
        if let Some(hit) = met(item.first_response_at, item.first_response_due_at, now) {
            self.first_judged += 1;
            self.first_hits += u64::from(hit);
        }
        if let Some(hit) = met(item.resolved_at, item.resolution_due_at, now) {
            self.resolution_judged += 1;
            self.resolution_hits += u64::from(hit);
        }
        self.sentiment.add(item.sentiment_label.as_deref());
    }

    fn numbers(mut self, key: Option<String>, label: String) -> InboxNumbers {
        let round = |v: Option<f64>| v.map(|m| (m * 10.0).round() / 10.0);
        InboxNumbers {
            key,
            label,
            received: self.received,
            answered: self.answered,
            resolved: self.resolved,
            first_response_median_minutes: round(quantile(&mut self.first_response, 0.5)),
            first_response_p90_minutes: round(quantile(&mut self.first_response, 0.9)),
            resolution_median_minutes: round(quantile(&mut self.resolution, 0.5)),
            resolution_p90_minutes: round(quantile(&mut self.resolution, 0.9)),
            first_response_sla_rate: rate(self.first_hits, self.first_judged),
            resolution_sla_rate: rate(self.resolution_hits, self.resolution_judged),
            sentiment: self.sentiment,
        }
    }
}

/// What the inbox report answers.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxSummary {
    /// Every item together.
    pub overall: InboxNumbers,
    /// Per group, most items first.
    pub groups: Vec<InboxNumbers>,
    /// Volume and mood per bucket.
    pub trend: Vec<InboxBucket>,
}

/// Sums up the items (all received in the report's period) as of `now`.
pub fn summarise(
    items: &[InboxFacts],
    hours: &BusinessHours,
    now: NaiveDateTime,
    group_by: InboxGroupBy,
    buckets: (&[NaiveDateTime], Granularity),
    labels: &HashMap<String, String>,
) -> InboxSummary {
    let (starts, granularity) = buckets;
    let mut overall = Tally::default();
    let mut groups: BTreeMap<Option<String>, Tally> = BTreeMap::new();
    let mut trend: Vec<InboxBucket> = starts
        .iter()
        .map(|start| InboxBucket {
            start: Utc.from_utc_datetime(start),
            received: 0,
            sentiment: SentimentMix::default(),
        })
        .collect();
    let index: HashMap<NaiveDateTime, usize> =
        starts.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    for item in items {
        overall.add(item, hours, now);
        let key = match group_by {
            InboxGroupBy::None => None,
            InboxGroupBy::Channel => Some(item.channel_id.clone()),
            InboxGroupBy::Kind => Some(item.kind.clone()),
            InboxGroupBy::Assignee => item.assignee_id.clone(),
        };
        if group_by != InboxGroupBy::None {
            groups.entry(key).or_default().add(item, hours, now);
        }
        if let Some(bucket) = index
            .get(&granularity.bucket(item.received_at))
            .and_then(|&i| trend.get_mut(i))
        {
            bucket.received += 1;
            bucket.sentiment.add(item.sentiment_label.as_deref());
        }
    }
    let mut groups: Vec<InboxNumbers> = groups
        .into_iter()
        .map(|(key, tally)| {
            let label = match (&key, group_by) {
                (None, InboxGroupBy::Assignee) => "Unassigned".to_owned(),
                (None, _) => "All".to_owned(),
                (Some(k), _) => labels.get(k).cloned().unwrap_or_else(|| k.clone()),
            };
            tally.numbers(key, label)
        })
        .collect();
    groups.sort_by(|a, b| b.received.cmp(&a.received).then(a.label.cmp(&b.label)));
    InboxSummary {
        overall: overall.numbers(None, "All".to_owned()),
        groups,
        trend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn item(
        received: &str,
        answered: Option<&str>,
        due: &str,
        assignee: Option<&str>,
        mood: &str,
    ) -> InboxFacts {
        InboxFacts {
            channel_id: "ch".to_owned(),
            kind: "mention".to_owned(),
            assignee_id: assignee.map(str::to_owned),
            received_at: at(received),
            first_response_at: answered.map(at),
            first_response_due_at: Some(at(due)),
            resolved_at: None,
            resolution_due_at: None,
            sentiment_label: Some(mood.to_owned()),
        }
    }

    #[test]
    fn answers_are_timed_and_judged_against_their_due_time() {
        let items = [
            // 10 minutes, in time.
            item(
                "2026-11-02 10:00",
                Some("2026-11-02 10:10"),
                "2026-11-02 11:00",
                Some("ana"),
                "positive",
            ),
            // 90 minutes, late.
            item(
                "2026-11-02 10:00",
                Some("2026-11-02 11:30"),
                "2026-11-02 11:00",
                Some("ana"),
                "negative",
            ),
            // Unanswered and overdue: a miss.
            item(
                "2026-11-02 12:00",
                None,
                "2026-11-02 13:00",
                None,
                "negative",
            ),
            // Unanswered but not due yet: not judged.
            item(
                "2026-11-02 13:50",
                None,
                "2026-11-02 14:50",
                Some("bo"),
                "neutral",
            ),
        ];
        let days = [at("2026-11-02 00:00")];
        let labels = HashMap::from([("ana".to_owned(), "Ana".to_owned())]);
        let summary = summarise(
            &items,
            &BusinessHours::default(),
            at("2026-11-02 14:00"),
            InboxGroupBy::Assignee,
            (&days, Granularity::Day),
            &labels,
        );
        let all = &summary.overall;
        assert_eq!((all.received, all.answered), (4, 2));
        assert_eq!(all.first_response_median_minutes, Some(50.0));
        assert_eq!(all.first_response_p90_minutes, Some(82.0));
        assert_eq!(all.first_response_sla_rate, Some(1.0 / 3.0));
        assert_eq!(all.resolution_sla_rate, None);
        assert_eq!(
            all.sentiment,
            SentimentMix {
                positive: 1,
                neutral: 1,
                negative: 2,
                unscored: 0
            }
        );
        let labels: Vec<(&str, u64)> = summary
            .groups
            .iter()
            .map(|g| (g.label.as_str(), g.received))
            .collect();
        assert_eq!(labels, [("Ana", 2), ("Unassigned", 1), ("bo", 1)]);
        assert_eq!(summary.groups[0].first_response_sla_rate, Some(0.5));
        assert_eq!(summary.trend[0].received, 4);
        assert_eq!(summary.trend[0].sentiment.negative, 2);
    }
}
