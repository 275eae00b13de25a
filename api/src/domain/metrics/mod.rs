//! Metrics as reports read them: metric names, time buckets, what a number
//! over a period means, and the collection schedule.
//!
//! Platforms report lifetime counts (a post's likes so far, an account's
//! followers now). Each sample is stored with its **gain** over the sample
//! before it (the first sample's gain is its whole value), so that
//!
//! - the **change** of a metric in a bucket is the sum of the gains in it
//!   (likes won this week, followers won or lost today), and
//! - the **total** at the end of a bucket is the sum of every gain up to
//!   its end, which is the last value each series had by then.
//!
//! Both are plain sums, so a report over millions of points is one grouped
//! scan of the roll-ups.

pub mod best_time;
pub mod kpi;
pub mod schedule;
pub mod stats;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The metric names Plaza understands (the plugin SDK's vocabulary,
/// `sdk/src/metric.rs`); a plugin may add its own as `x_…`.
pub const VOCABULARY: [&str; 12] = [
    "impressions",
    "reach",
    "likes",
    "reposts",
    "replies",
    "quotes",
    "clicks",
    "saves",
    "video_views",
    "followers",
    "following",
    "posts",
];

/// The stored metrics whose sum is `engagements`: every way a person
/// acts on a post (clicks and views are attention, not engagement).
pub const ENGAGEMENT_METRICS: [&str; 5] = ["likes", "reposts", "replies", "quotes", "saves"];

/// The derived metric summing [`ENGAGEMENT_METRICS`].
pub const ENGAGEMENTS: &str = "engagements";

/// Whether a plugin may report a metric by this name.
pub fn is_reportable(name: &str) -> bool {
    VOCABULARY.contains(&name)
        || name.strip_prefix("x_").is_some_and(|rest| {
            !rest.is_empty()
                && rest.len() <= 60
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// The stored metrics a report of `name` adds up: the metric itself, or
/// the parts of a derived one. `None` for a name no plugin may report.
pub fn stored_names(name: &str) -> Option<Vec<&str>> {
    if name == ENGAGEMENTS {
        Some(ENGAGEMENT_METRICS.to_vec())
    } else if is_reportable(name) {
        Some(vec![name])
    } else {
        None
    }
}

/// The roll-up a bucket is read from: every sample is added to the hour,
/// day, week and month it falls in, so a report reads one row per series
/// and bucket whatever its granularity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// Hourly roll-ups (kept for a configured number of days).
    Hour,
    /// Daily roll-ups (UTC days).
    Day,
    /// Weekly roll-ups (weeks starting on Monday, UTC).
    Week,
    /// Monthly roll-ups (calendar months, UTC).
    Month,
}

impl Period {
    /// Every one, in the order samples are rolled up.
    pub const ALL: [Period; 4] = [Period::Hour, Period::Day, Period::Week, Period::Month];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The start of the roll-up bucket `t` falls in.
    pub fn bucket(self, t: NaiveDateTime) -> NaiveDateTime {
        let day = t.date();
        match self {
            Self::Hour => day.and_time(NaiveTime::MIN) + Duration::hours(i64::from(t.hour())),
            Self::Day => day.and_time(NaiveTime::MIN),
            Self::Week => (day - Duration::days(i64::from(day.weekday().num_days_from_monday())))
                .and_time(NaiveTime::MIN),
            Self::Month => NaiveDate::from_ymd_opt(day.year(), day.month(), 1)
                .unwrap_or(day)
                .and_time(NaiveTime::MIN),
        }
    }
}

/// The start of the first `period` bucket at or after `t`.
fn ceil(period: Period, t: NaiveDateTime) -> NaiveDateTime {
    let start = period.bucket(t);
    if start == t {
        return t;
    }
    match period {
        Period::Hour => start + Duration::hours(1),
        Period::Day => start + Duration::days(1),
        Period::Week => start + Duration::weeks(1),
        Period::Month => Granularity::Month.next(start),
    }
}

/// Pieces of roll-ups that add up to exactly `[from, to)` (open-ended
/// when `to` is `None`), reading as few rows as the calendar allows:
/// hours up to the first whole day, days up to the first Monday, whole
/// weeks, then days and hours to the end. `from` and `to` are aligned to
/// `finest`, the report's own period; week and month reports read their
/// own roll-ups whole. A period summed whole (the one before a report,
/// what came after it) needs no finer buckets than these.
pub fn cover(
    from: NaiveDateTime,
    to: Option<NaiveDateTime>,
    finest: Period,
) -> Vec<(Period, NaiveDateTime, Option<NaiveDateTime>)> {
    let ladder: &[Period] = match finest {
        Period::Hour => &[Period::Hour, Period::Day, Period::Week],
        Period::Day => &[Period::Day, Period::Week],
        Period::Week | Period::Month => return vec![(finest, from, to)],
    };
    let mut pieces = Vec::new();
    let mut start = from;
    // A piece of `period` ends at `end` or at the last whole `period`
    // before `to`, whichever comes first.
    let mut take = |period: Period, end: Option<NaiveDateTime>, start: &mut NaiveDateTime| {
        let end = match (end, to.map(|to| period.bucket(to))) {
            (Some(end), Some(limit)) => Some(end.min(limit)),
            (end, None) => end,
            (None, limit) => limit,
        };
        if end.is_none_or(|end| end > *start) {
            pieces.push((period, *start, end));
            if let Some(end) = end {
                *start = end;
            }
        }
    };
    // Up: each step ends where the next, coarser one can start.
    for pair in ladder.windows(2) {
        if let [fine, coarse] = pair {
            take(*fine, Some(ceil(*coarse, start)), &mut start);
        }
    }
    // Whole weeks, then down again to the end.
    let top = ladder.last().copied().unwrap_or(finest);
    let Some(to) = to else {
        take(top, None, &mut start);
        return pieces;
    };
    take(top, Some(top.bucket(to)), &mut start);
    for period in ladder.iter().rev().skip(1) {
        take(*period, Some(period.bucket(to)), &mut start);
    }
    pieces
}

/// How finely a report splits its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Hours (UTC).
    Hour,
    /// Days (UTC).
    Day,
    /// Weeks starting on Monday (UTC).
    Week,
    /// Calendar months (UTC).
    Month,
}

impl Granularity {
    /// The roll-up a report at this granularity reads.
    pub fn period(self) -> Period {
        match self {
            Self::Hour => Period::Hour,
            Self::Day => Period::Day,
            Self::Week => Period::Week,
            Self::Month => Period::Month,
        }
    }

    /// The start of the bucket `t` falls in.
    pub fn bucket(self, t: NaiveDateTime) -> NaiveDateTime {
        self.period().bucket(t)
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(self, start: NaiveDateTime) -> NaiveDateTime {
        match self {
            Self::Hour => start + Duration::hours(1),
            Self::Day => start + Duration::days(1),
            Self::Week => start + Duration::weeks(1),
            Self::Month => start
                .date()
                .checked_add_months(chrono::Months::new(1))
                .map_or(start + Duration::days(31), |d| d.and_time(NaiveTime::MIN)),
        }
    }

    /// The starts of the buckets that cover `[from, to)`, at most `limit`
    /// of them (`None` when there would be more).
    pub fn buckets(
        self,
        from: NaiveDateTime,
        to: NaiveDateTime,
        limit: usize,
    ) -> Option<Vec<NaiveDateTime>> {
        let mut starts = Vec::new();
        let mut start = self.bucket(from);
        while start < to {
            if starts.len() == limit {
                return None;
            }
            starts.push(start);
            start = self.next(start);
        }
        Some(starts)
    }
}

/// What a number over a bucket means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// What was won (or lost) during the bucket: likes received this day,
    /// followers gained this week.
    Change,
    /// The count at the end of the bucket: followers on Sunday night,
    /// likes a post had by then.
    Total,
}

/// How a report splits its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One group: the whole scope.
    None,
    /// Per channel.
    Channel,
    /// Per post (a post published on several channels is one group).
    Post,
    /// Per campaign of the posts (account metrics belong to none).
    Campaign,
    /// Per tag of the posts: a post with two tags counts in both.
    Tag,
}

/// The relative change from `previous` to `current` (0.25 is +25 %);
/// `None` when there was nothing before to compare with.
pub fn relative_change(current: f64, previous: f64) -> Option<f64> {
    (previous != 0.0 && previous.is_finite() && current.is_finite())
        .then(|| (current - previous) / previous.abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn names_come_from_the_sdk_vocabulary_or_start_with_x() {
        let sdk = include_str!("../../../../sdk/src/metric.rs");
        for name in VOCABULARY {
            assert!(
                sdk.contains(&format!("\"{name}\"")),
                "{name} not in the SDK"
            );
        }
        assert!(sdk.contains(&format!("VOCABULARY: [&str; {}]", VOCABULARY.len())));
        for ok in ["likes", "followers", "x_online_members", "x_a1"] {
            assert!(is_reportable(ok), "{ok}");
        }
        for bad in ["", "x_", "Likes", "x_Bad", "engagements", "x_a-b", "likes "] {
            assert!(!is_reportable(bad), "{bad:?}");
        }
        assert_eq!(stored_names("engagements").map(|n| n.len()), Some(5));
        assert_eq!(stored_names("likes"), Some(vec!["likes"]));
        assert_eq!(stored_names("nope"), None);
    }

    #[test]
    fn buckets_start_where_the_calendar_says() {
        let t = at("2026-11-25 17:42:10"); // a Wednesday
        assert_eq!(Granularity::Hour.bucket(t), at("2026-11-25 17:00:00"));
        assert_eq!(Granularity::Day.bucket(t), at("2026-11-25 00:00:00"));
        assert_eq!(Granularity::Week.bucket(t), at("2026-11-23 00:00:00"));
        assert_eq!(Granularity::Month.bucket(t), at("2026-11-01 00:00:00"));
        assert_eq!(
            Granularity::Month.next(at("2026-12-01 00:00:00")),
            at("2027-01-01 00:00:00")
        );
        assert_eq!(Period::Hour.bucket(t), at("2026-11-25 17:00:00"));
        assert_eq!(Period::Day.bucket(t), at("2026-11-25 00:00:00"));
        // A Monday starts its own week; a Sunday belongs to the one before.
        assert_eq!(
            Period::Week.bucket(at("2026-11-23 00:00:00")),
            at("2026-11-23 00:00:00")
        );
        assert_eq!(
            Period::Week.bucket(at("2026-11-22 23:59:59")),
            at("2026-11-16 00:00:00")
        );
        assert_eq!(Period::Month.bucket(t), at("2026-11-01 00:00:00"));
    }

    #[test]
    fn a_range_is_covered_by_the_coarsest_roll_ups_that_fit() {
        use Period::{Day, Hour, Week};
        // Wednesday 10:00 to the Tuesday two weeks and a day later, 15:00.
        let from = at("2026-11-04 10:00:00");
        let to = at("2026-11-24 15:00:00");
        let pieces = cover(from, Some(to), Hour);
        assert_eq!(
            pieces,
            vec![
                (Hour, from, Some(at("2026-11-05 00:00:00"))),
                (
                    Day,
                    at("2026-11-05 00:00:00"),
                    Some(at("2026-11-09 00:00:00"))
                ),
                (
                    Week,
                    at("2026-11-09 00:00:00"),
                    Some(at("2026-11-23 00:00:00"))
                ),
                (
                    Day,
                    at("2026-11-23 00:00:00"),
                    Some(at("2026-11-24 00:00:00"))
                ),
                (Hour, at("2026-11-24 00:00:00"), Some(to)),
            ]
        );
        // Within one day: hours only.
        let short = cover(from, Some(at("2026-11-04 12:00:00")), Hour);
        assert_eq!(short, vec![(Hour, from, Some(at("2026-11-04 12:00:00")))]);
        // Open-ended: up to a Monday, then weeks for ever.
        assert_eq!(
            cover(at("2026-11-20 00:00:00"), None, Day),
            vec![
                (
                    Day,
                    at("2026-11-20 00:00:00"),
                    Some(at("2026-11-23 00:00:00"))
                ),
                (Week, at("2026-11-23 00:00:00"), None),
            ]
        );
        // Aligned on both ends: weeks only; empty: nothing.
        assert_eq!(
            cover(
                at("2026-11-09 00:00:00"),
                Some(at("2026-11-23 00:00:00")),
                Day
            ),
            vec![(
                Week,
                at("2026-11-09 00:00:00"),
                Some(at("2026-11-23 00:00:00"))
            )]
        );
        assert!(cover(from, Some(from), Hour).is_empty());
        // Month reports read months.
        assert_eq!(
            cover(
                at("2026-09-01 00:00:00"),
                Some(at("2026-11-01 00:00:00")),
                Period::Month
            ),
            vec![(
                Period::Month,
                at("2026-09-01 00:00:00"),
                Some(at("2026-11-01 00:00:00"))
            )]
        );
    }

    #[test]
    fn the_pieces_of_any_range_are_contiguous_and_add_up_to_it() {
        let base = at("2026-10-01 00:00:00");
        for (a, b) in [
            (0, 1),
            (5, 30),
            (13, 400),
            (24, 48),
            (30, 2000),
            (100, 5000),
        ] {
            let from = base + Duration::hours(a);
            let to = base + Duration::hours(b);
            for finest in [Period::Hour, Period::Day] {
                let (from, to) = (finest.bucket(from), ceil(finest, to));
                let pieces = cover(from, Some(to), finest);
                let mut at_ = from;
                for (period, start, end) in &pieces {
                    assert_eq!(*start, at_, "{pieces:?}");
                    let end = end.unwrap();
                    assert!(end > *start);
                    assert_eq!(period.bucket(*start), *start, "aligned start");
                    assert_eq!(ceil(*period, end), end, "aligned end");
                    at_ = end;
                }
                assert_eq!(at_, to, "{from} {to}: {pieces:?}");
            }
        }
    }

    #[test]
    fn buckets_cover_the_range_and_stop_at_the_limit() {
        let days = Granularity::Day
            .buckets(at("2026-11-01 12:00:00"), at("2026-11-04 00:00:00"), 100)
            .unwrap();
        assert_eq!(
            days,
            vec![
                at("2026-11-01 00:00:00"),
                at("2026-11-02 00:00:00"),
                at("2026-11-03 00:00:00")
            ]
        );
        let months = Granularity::Month
            .buckets(at("2026-01-31 00:00:00"), at("2026-04-01 00:00:00"), 100)
            .unwrap();
        assert_eq!(months.len(), 3);
        assert_eq!(months[1], at("2026-02-01 00:00:00"));
        assert!(
            Granularity::Hour
                .buckets(at("2026-01-01 00:00:00"), at("2026-02-01 00:00:00"), 100)
                .is_none()
        );
        assert_eq!(
            Granularity::Day.buckets(at("2026-01-02 00:00:00"), at("2026-01-01 00:00:00"), 9),
            Some(vec![])
        );
    }

    #[test]
    fn relative_change_needs_something_to_compare_with() {
        assert_eq!(relative_change(150.0, 100.0), Some(0.5));
        assert_eq!(relative_change(50.0, 100.0), Some(-0.5));
        assert_eq!(relative_change(-5.0, -10.0), Some(0.5));
        assert_eq!(relative_change(10.0, 0.0), None);
    }
}
