//! Where ticks go on a time axis: whole hours, days or months (UTC), by the
//! span and the room there is.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};

/// Room one time label needs, tick to tick, in pixels: "14:00", "Nov 24",
/// "Nov 2026" at 12 px with a gap.
const HOUR_LABEL_PX: f64 = 56.0;
const DAY_LABEL_PX: f64 = 64.0;
const MONTH_LABEL_PX: f64 = 84.0;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// What a time axis counts in, chosen from the span it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeUnit {
    /// Under two days: "14:00".
    Hours,
    /// Under 90 days: "Nov 24".
    Days,
    /// Longer: "Nov 2026".
    Months,
}

impl TimeUnit {
    /// The unit for an axis spanning `span`.
    pub(super) fn for_span(span: TimeDelta) -> Self {
        if span < TimeDelta::hours(48) {
            Self::Hours
        } else if span < TimeDelta::days(90) {
            Self::Days
        } else {
            Self::Months
        }
    }

    /// An instant as precisely as this unit needs, for summaries and
    /// tooltips.
    pub(super) fn instant(self, at: DateTime<Utc>) -> String {
        match self {
            Self::Hours => at.format("%Y-%m-%d %H:%M").to_string(),
            Self::Days | Self::Months => at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// One labelled mark on a time axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TimeTick {
    /// Where it is.
    pub(super) at: DateTime<Utc>,
    /// "14:00", "Nov 24" or "Nov 2026".
    pub(super) label: String,
    /// The day under an hour label, where a day starts and on the first
    /// tick, so an hour axis still says which day it is.
    pub(super) date: Option<String>,
}

/// Ticks from `start` to `end` (UTC) on an axis `width_px` wide: whole hours,
/// days or months by the span, spaced so that labels do not overlap.
pub(super) fn time_ticks(start: DateTime<Utc>, end: DateTime<Utc>, width_px: f64) -> Vec<TimeTick> {
    let unit = TimeUnit::for_span(end - start);
    let (from, to) = (start.timestamp(), end.timestamp());
    let span_secs = (to - from).max(0) as f64;
    let ticks: Vec<TimeTick> = match unit {
        TimeUnit::Hours => {
            let step = pick_step(
                &[1, 2, 3, 6, 12, 24],
                span_secs / 3600.0,
                width_px,
                HOUR_LABEL_PX,
            );
            let step = step * HOUR;
            // Multiples of a divisor of 24 hours since the epoch fall on the same hours each day.
            stepped(from.div_euclid(step) * step, from, to, step)
                .enumerate()
                .filter_map(|(i, at)| hour_tick(at, i == 0))
                .collect()
        }
        TimeUnit::Days => {
            let step = pick_step(
                &[1, 2, 7, 14, 28],
                span_secs / 86_400.0,
                width_px,
                DAY_LABEL_PX,
            );
            stepped(from.div_euclid(DAY) * DAY, from, to, DAY)
                .filter(|at| day_is_aligned(at.div_euclid(DAY), step))
                .filter_map(day_tick)
                .collect()
        }
        TimeUnit::Months => {
            let step = pick_step(
                &[1, 2, 3, 6, 12, 24, 60, 120],
                span_secs / (30.44 * 86_400.0),
                width_px,
                MONTH_LABEL_PX,
            );
            let first = month_index(start) + i64::from(!is_month_start(start));
            let first = first + (step - first.rem_euclid(step)) % step;
            let last = month_index(end);
            (0..)
                .map(|i| first + i * step)
                .take_while(|month| *month <= last)
                .filter_map(month_tick)
                .collect()
        }
    };
    if ticks.is_empty() {
        // A span shorter than one step still gets its start labelled.
        match unit {
            TimeUnit::Hours => hour_tick(from, true),
            TimeUnit::Days => day_tick(from),
            TimeUnit::Months => labelled(from, "%b %Y"),
        }
        .into_iter()
        .collect()
    } else {
        ticks
    }
}

/// The first step (in units) whose ticks fit on the axis; a wider one when
/// none of the usual ones does.
fn pick_step(steps: &[i64], span_units: f64, width_px: f64, label_px: f64) -> i64 {
    let room = (width_px / label_px).floor().max(2.0);
    let fits = |step: i64| (span_units / step as f64).floor() + 1.0 <= room;
    if let Some(step) = steps.iter().copied().find(|step| fits(*step)) {
        return step;
    }
    let mut step = steps.last().copied().unwrap_or(1);
    for _ in 0..64 {
        if fits(step) {
            break;
        }
        step = step.saturating_mul(2);
    }
    step
}

/// Seconds from `first` by `step`, those within `from..=to`.
fn stepped(first: i64, from: i64, to: i64, step: i64) -> impl Iterator<Item = i64> {
    (0..)
        .map(move |i: i64| first.saturating_add(i.saturating_mul(step)))
        .skip_while(move |at| *at < from)
        .take_while(move |at| *at <= to)
}

/// Whether day number `day` (since 1970-01-01) carries a tick every `step`
/// days: weekly steps fall on Mondays so the ticks read as weeks.
fn day_is_aligned(day: i64, step: i64) -> bool {
    match step {
        1 => true,
        2 => day.rem_euclid(2) == 0,
        // 1970-01-01 was a Thursday: day + 3 counts from a Monday.
        _ => {
            let from_monday = day + 3;
            from_monday.rem_euclid(7) == 0
                && from_monday.div_euclid(7).rem_euclid((step / 7).max(1)) == 0
        }
    }
}

fn hour_tick(at: i64, first: bool) -> Option<TimeTick> {
    let mut tick = labelled(at, "%H:%M")?;
    if first || tick.at.hour() == 0 {
        tick.date = Some(tick.at.format("%b %-d").to_string());
    }
    Some(tick)
}

fn day_tick(at: i64) -> Option<TimeTick> {
    labelled(at, "%b %-d")
}

fn month_tick(month: i64) -> Option<TimeTick> {
    let year = i32::try_from(month.div_euclid(12)).ok()?;
    let month = u32::try_from(month.rem_euclid(12) + 1).ok()?;
    let at = NaiveDate::from_ymd_opt(year, month, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    labelled(at.timestamp(), "%b %Y")
}

fn labelled(at: i64, format: &str) -> Option<TimeTick> {
    let at = DateTime::from_timestamp(at, 0)?;
    Some(TimeTick {
        at,
        label: at.format(format).to_string(),
        date: None,
    })
}

fn month_index(at: DateTime<Utc>) -> i64 {
    i64::from(at.year()) * 12 + i64::from(at.month0())
}

fn is_month_start(at: DateTime<Utc>) -> bool {
    at.day() == 1 && at.num_seconds_from_midnight() == 0 && at.nanosecond() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    type Labels = Vec<(String, Option<String>)>;

    fn labels(from: &str, to: &str, width: f64) -> Labels {
        time_ticks(at(from), at(to), width)
            .into_iter()
            .map(|tick| (tick.label, tick.date))
            .collect()
    }

    fn plain(labels: &[&str]) -> Labels {
        labels.iter().map(|l| ((*l).to_owned(), None)).collect()
    }

    #[test]
    fn time_ticks_follow_the_span() {
        let hours = labels("2026-11-24T08:00:00Z", "2026-11-25T08:00:00Z", 700.0);
        let expected: Labels = [
            ("09:00", Some("Nov 24")),
            ("12:00", None),
            ("15:00", None),
            ("18:00", None),
            ("21:00", None),
            ("00:00", Some("Nov 25")),
            ("03:00", None),
            ("06:00", None),
        ]
        .iter()
        .map(|(l, d)| ((*l).to_owned(), d.map(str::to_owned)))
        .collect();
        assert_eq!(hours, expected);

        let cases: [(&str, &str, f64, &[&str]); 5] = [
            (
                "2026-11-01T00:00:00Z",
                "2026-11-07T00:00:00Z",
                700.0,
                &[
                    "Nov 1", "Nov 2", "Nov 3", "Nov 4", "Nov 5", "Nov 6", "Nov 7",
                ],
            ),
            // 30 days do not fit daily or every other day in 600 px: Mondays.
            (
                "2026-11-01T00:00:00Z",
                "2026-12-01T00:00:00Z",
                600.0,
                &["Nov 2", "Nov 9", "Nov 16", "Nov 23", "Nov 30"],
            ),
            (
                "2026-01-15T00:00:00Z",
                "2026-12-15T00:00:00Z",
                700.0,
                &["Mar 2026", "May 2026", "Jul 2026", "Sep 2026", "Nov 2026"],
            ),
            (
                "2020-06-01T00:00:00Z",
                "2026-06-01T00:00:00Z",
                700.0,
                &[
                    "Jan 2021", "Jan 2022", "Jan 2023", "Jan 2024", "Jan 2025", "Jan 2026",
                ],
            ),
            // Less than an hour: no whole hour inside, so the start is labelled.
            (
                "2026-11-24T08:10:00Z",
                "2026-11-24T08:40:00Z",
                700.0,
                &["08:10"],
            ),
        ];
        for (from, to, width, expected) in cases {
            let got: Vec<String> = labels(from, to, width)
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            assert_eq!(got, expected, "{from}..{to} on {width} px");
        }
        assert_eq!(
            labels("2026-11-01T00:00:00Z", "2026-11-03T12:00:00Z", 150.0),
            plain(&["Nov 1", "Nov 3"]),
            "every other day when daily labels would collide"
        );
    }

    #[test]
    fn time_ticks_survive_the_calendar_edges() {
        let ticks = time_ticks(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 700.0);
        assert!(!ticks.is_empty() && ticks.len() <= 9, "{}", ticks.len());
        assert!(ticks.windows(2).all(|w| w[0].at < w[1].at));
    }
}
