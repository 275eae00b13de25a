//! The SLA clock: when the team works, and how much of that time an item
//! may wait for its first answer and for its resolution.
//!
//! Opening hours are weekly periods in the workspace's time zone, with
//! holidays off; an empty week means always open. Time is counted period by
//! period (never minute by minute), in UTC instants built from local wall
//! clock times, so daylight-saving changes land where the zone puts them: a
//! period starting in a skipped hour starts when the clock resumes.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone as _,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::inbox::Priority;
use super::posting_slots::{Weekday, hh_mm};

/// Days looked ahead for open time before giving up (a year of holidays).
const SEARCH_DAYS: i64 = 400;
/// Most periods a week may have.
const MAX_PERIODS: usize = 70;
/// Most holidays listed.
const MAX_HOLIDAYS: usize = 400;

/// One opening period of a weekday, in local time. A period cannot cross
/// midnight: write two (`22:00–23:59` and `00:00–06:00` the next day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"weekday": "monday", "opens": "09:00", "closes": "18:00"}))]
pub struct OpeningPeriod {
    /// The day.
    pub weekday: Weekday,
    /// When it opens, `HH:MM`.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, example = "09:00")]
    pub opens: NaiveTime,
    /// When it closes, `HH:MM`, after `opens`.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, example = "18:00")]
    pub closes: NaiveTime,
}

/// When the team works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({
    "time_zone": "Europe/Madrid",
    "open": [
        {"weekday": "monday", "opens": "09:00", "closes": "14:00"},
        {"weekday": "monday", "opens": "15:00", "closes": "18:00"}
    ],
    "holidays": ["2026-12-25"]
}))]
pub struct BusinessHours {
    /// IANA time zone of the periods and holidays.
    pub time_zone: String,
    /// Weekly opening periods (several a day allowed; overlaps merge).
    /// Empty: always open.
    pub open: Vec<OpeningPeriod>,
    /// Local dates the team does not work.
    #[schema(value_type = Vec<String>, example = json!(["2026-12-25"]))]
    pub holidays: Vec<NaiveDate>,
}

impl Default for BusinessHours {
    fn default() -> Self {
        Self {
            time_zone: "UTC".to_owned(),
            open: Vec::new(),
            holidays: Vec::new(),
        }
    }
}

/// Minutes per priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityMinutes {
    /// For `low`.
    pub low: u32,
    /// For `normal`.
    pub normal: u32,
    /// For `high`.
    pub high: u32,
    /// For `urgent`.
    pub urgent: u32,
}

impl PriorityMinutes {
    fn of(&self, priority: Priority) -> u32 {
        match priority {
            Priority::Low => self.low,
            Priority::Normal => self.normal,
            Priority::High => self.high,
            Priority::Urgent => self.urgent,
        }
    }
}

/// How fast the team answers and resolves, in business minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaTargets {
    /// Until the first answer (default 1440 / 240 / 60 / 30 for low,
    /// normal, high, urgent).
    pub first_response_minutes: PriorityMinutes,
    /// Until resolution (default 4320 / 1440 / 480 / 240).
    pub resolution_minutes: PriorityMinutes,
}

impl Default for SlaTargets {
    fn default() -> Self {
        Self {
            first_response_minutes: PriorityMinutes {
                low: 1440,
                normal: 240,
                high: 60,
                urgent: 30,
            },
            resolution_minutes: PriorityMinutes {
                low: 4320,
                normal: 1440,
                high: 480,
                urgent: 240,
            },
        }
    }
}

impl SlaTargets {
    /// When an item received at `at` needs its first answer.
    pub fn first_response_due(
        &self,
        hours: &BusinessHours,
        at: DateTime<Utc>,
        priority: Priority,
    ) -> DateTime<Utc> {
        hours.add(
            at,
            Duration::minutes(i64::from(self.first_response_minutes.of(priority))),
        )
    }

    /// When an item received at `at` should be resolved.
    pub fn resolution_due(
        &self,
        hours: &BusinessHours,
        at: DateTime<Utc>,
        priority: Priority,
    ) -> DateTime<Utc> {
        hours.add(
            at,
            Duration::minutes(i64::from(self.resolution_minutes.of(priority))),
        )
    }
}

/// The UTC instant of a local wall-clock time; a time the zone skips (a
/// daylight-saving gap) becomes the first instant after the gap.
fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
        LocalResult::None => {
            let mut later = local;
            for _ in 0..4 * 60 {
                later += Duration::minutes(1);
                if let Some(at) = zone.from_local_datetime(&later).earliest() {
                    return at.with_timezone(&Utc);
                }
            }
            local.and_utc()
        }
    }
}

impl BusinessHours {
    /// Checks the zone, the periods and the holidays; answers (field, message) per fault.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut faults = Vec::new();
        if self.time_zone.parse::<Tz>().is_err() {
            faults.push((
                "time_zone".to_owned(),
                "must be an IANA time zone such as Europe/Madrid".to_owned(),
            ));
        }
        if self.open.len() > MAX_PERIODS {
            faults.push((
                "open".to_owned(),
                format!("must have at most {MAX_PERIODS} periods"),
            ));
        }
        for (i, period) in self.open.iter().enumerate() {
            if period.closes <= period.opens {
                faults.push((
                    format!("open[{i}].closes"),
                    "must be after opens (a period cannot cross midnight: write two)".to_owned(),
                ));
            }
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            faults.push((
                "holidays".to_owned(),
                format!("must list at most {MAX_HOLIDAYS} dates"),
            ));
        }
        if faults.is_empty() {
            Ok(())
        } else {
            Err(faults)
        }
    }

    fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    fn always_open(&self) -> bool {
        self.open.iter().all(|p| p.closes <= p.opens)
    }

    /// The open intervals (UTC, sorted, merged) of one local date.
    fn open_on(&self, zone: Tz, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let weekday = Weekday::of(date.weekday());
        let mut intervals: Vec<(DateTime<Utc>, DateTime<Utc>)> = self
            .open
            .iter()
            .filter(|p| p.weekday == weekday && p.closes > p.opens)
            .map(|p| {
                (
                    instant(zone, date.and_time(p.opens)),
                    instant(zone, date.and_time(p.closes)),
                )
            })
            .filter(|(a, b)| b > a)
            .collect();
        intervals.sort();
        let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(intervals.len());
        for (start, end) in intervals {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }

    /// The local date `at` falls on, one day back (a period of the day
    /// before may still be open in UTC terms).
    fn first_date(&self, zone: Tz, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&zone)
            .date_naive()
            .pred_opt()
            .unwrap_or(NaiveDate::MIN)
    }

    /// The instant at which `business` of open time has passed since
    /// `start` (counting from the next opening when `start` is outside
    /// hours). With no open time in the next 400 days, `start + business`.
    pub fn add(&self, start: DateTime<Utc>, business: Duration) -> DateTime<Utc> {
        if self.always_open() || business <= Duration::zero() {
            return start + business.max(Duration::zero());
        }
        let zone = self.zone();
        let mut remaining = business;
        let mut date = self.first_date(zone, start);
        for _ in 0..SEARCH_DAYS {
            for (open, close) in self.open_on(zone, date) {
                if close <= start {
                    continue;
                }
                let from = open.max(start);
                let available = close - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        start + business
    }

    /// Open time between two instants (zero when `to` is not after `from`).
    pub fn elapsed(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        if self.always_open() {
            return to - from;
        }
        let zone = self.zone();
        let mut total = Duration::zero();
        let mut date = self.first_date(zone, from);
        let last = to.with_timezone(&zone).date_naive();
        while date <= last {
            for (open, close) in self.open_on(zone, date) {
                let (a, b) = (open.max(from), close.min(to));
                if b > a {
                    total += b - a;
                }
            }
            let Some(next) = date.succ_opt() else { break };
            date = next;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn madrid_office() -> BusinessHours {
        let day = |weekday, opens: &str, closes: &str| OpeningPeriod {
            weekday,
            opens: NaiveTime::parse_from_str(opens, "%H:%M").unwrap(),
            closes: NaiveTime::parse_from_str(closes, "%H:%M").unwrap(),
        };
        let mut open = Vec::new();
        for weekday in [
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
        ] {
            open.push(day(weekday, "09:00", "14:00"));
            open.push(day(weekday, "15:00", "18:00"));
        }
        BusinessHours {
            time_zone: "Europe/Madrid".to_owned(),
            open,
            holidays: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
        }
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn time_counts_only_in_open_periods() {
        let hours = madrid_office();
        // Monday 2026-03-02, 13:30 in Madrid (12:30 UTC): 30 min before lunch,
        // then from 15:00.
        let due = hours.add(utc("2026-03-02T12:30:00Z"), Duration::minutes(60));
        assert_eq!(due, utc("2026-03-02T14:30:00Z"));
        // Friday 17:30 local: 30 min left, the rest on Monday.
        let due = hours.add(utc("2026-03-06T16:30:00Z"), Duration::minutes(90));
        assert_eq!(due, utc("2026-03-09T09:00:00Z"));
        // Saturday: counting starts on Monday at 09:00 local.
        let due = hours.add(utc("2026-03-07T10:00:00Z"), Duration::minutes(30));
        assert_eq!(due, utc("2026-03-09T08:30:00Z"));
    }

    #[test]
    fn holidays_and_daylight_saving_are_respected() {
        let hours = madrid_office();
        // Thursday 24 Dec 17:00 local (16:00 UTC); Christmas off: Saturday,
        // Sunday too: due Monday 28th 10:00 local.
        let due = hours.add(utc("2026-12-24T16:00:00Z"), Duration::minutes(120));
        assert_eq!(due, utc("2026-12-28T09:00:00Z"));
        // Across the spring change (29 March 2026): Friday 17:00 CET
        // (16:00 UTC), one hour left on Friday, the second from Monday 09:00
        // CEST (07:00 UTC).
        let due = hours.add(utc("2026-03-27T16:00:00Z"), Duration::minutes(120));
        assert_eq!(due, utc("2026-03-30T08:00:00Z"));
    }

    #[test]
    fn a_period_in_a_skipped_hour_starts_when_the_clock_resumes() {
        let hours = BusinessHours {
            time_zone: "Europe/Madrid".to_owned(),
            open: vec![OpeningPeriod {
                weekday: Weekday::Sunday,
                opens: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
                closes: NaiveTime::from_hms_opt(5, 0, 0).unwrap(),
            }],
            holidays: Vec::new(),
        };
        // 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let due = hours.add(utc("2026-03-29T00:00:00Z"), Duration::minutes(10));
        assert_eq!(due, utc("2026-03-29T01:10:00Z"));
    }

    #[test]
    fn elapsed_undoes_add() {
        let hours = madrid_office();
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for _ in 0..300 {
            let start =
                utc("2026-01-01T00:00:00Z") + Duration::minutes((next() % (365 * 24 * 60)) as i64);
            let business = Duration::minutes((next() % 5000) as i64 + 1);
            let due = hours.add(start, business);
            assert_eq!(hours.elapsed(start, due), business, "{start} + {business}");
        }
    }

    #[test]
    fn always_open_and_empty_spans() {
        let always = BusinessHours::default();
        let at = utc("2026-03-07T10:00:00Z");
        assert_eq!(
            always.add(at, Duration::minutes(30)),
            at + Duration::minutes(30)
        );
        assert_eq!(
            always.elapsed(at, at - Duration::hours(1)),
            Duration::zero()
        );
        let closed = BusinessHours {
            holidays: Vec::new(),
            ..madrid_office()
        };
        assert_eq!(
            closed.elapsed(utc("2026-03-07T00:00:00Z"), utc("2026-03-08T23:00:00Z")),
            Duration::zero(),
            "a weekend"
        );
    }

    #[test]
    fn due_times_follow_priority() {
        let targets = SlaTargets::default();
        let hours = BusinessHours::default();
        let at = utc("2026-03-02T10:00:00Z");
        assert_eq!(
            targets.first_response_due(&hours, at, Priority::Urgent),
            at + Duration::minutes(30)
        );
        assert_eq!(
            targets.resolution_due(&hours, at, Priority::Low),
            at + Duration::minutes(4320)
        );
    }

    #[test]
    fn bad_hours_are_named() {
        let mut hours = madrid_office();
        hours.time_zone = "Mars/Olympus".to_owned();
        if let Some(first) = hours.open.first_mut() {
            first.closes = first.opens;
        }
        let faults = hours.validate().unwrap_err();
        let fields: Vec<&str> = faults.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["time_zone", "open[0].closes"]);
        assert!(madrid_office().validate().is_ok());
    }
}
