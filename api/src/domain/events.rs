//! Events: what, when (in which time zone), where, and for how many people.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Utc};
use chrono_tz::Tz;
use url::Url;

use super::Violation;
use super::text::{Line, Prose};

/// Most characters a title may have.
pub const TITLE_MAX_CHARS: usize = 200;
/// Most characters a description may have.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
/// Most characters a place may have.
pub const PLACE_MAX_CHARS: usize = 500;
/// Most characters an online URL may have.
pub const URL_MAX_CHARS: usize = 2048;
/// Seats an event may offer, at most.
pub const MAX_CAPACITY: i64 = 1_000_000;
/// Years an event may happen in: four digits, so timestamps sort as text on
/// SQLite the way they sort as times.
const YEARS: RangeInclusive<i32> = 1970..=9999;

/// An event as a client describes it, before any rule is checked.
#[derive(Debug, Clone)]
pub struct EventDraft {
    /// What it is called.
    pub title: String,
    /// What happens there.
    pub description: Option<String>,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// When it ends.
    pub ends_at: DateTime<Utc>,
    /// The IANA time zone it happens in.
    pub time_zone: String,
    /// Where to join online.
    pub online_url: Option<String>,
    /// Where to go in person.
    pub place: Option<String>,
    /// Seats, if limited.
    pub capacity: Option<i64>,
    /// Whether people may queue once it is full.
    pub waitlist: bool,
}

/// An event that keeps every rule.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPlan {
    /// What it is called.
    pub title: String,
    /// What happens there.
    pub description: Option<String>,
    /// When it starts, to the microsecond.
    pub starts_at: DateTime<Utc>,
    /// When it ends, to the microsecond; after `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// The time zone it happens in.
    pub time_zone: Tz,
    /// An `http` or `https` URL to join online.
    pub online_url: Option<String>,
    /// Where to go in person.
    pub place: Option<String>,
    /// Seats, if limited: 1 to [`MAX_CAPACITY`].
    pub capacity: Option<i32>,
    /// Whether people may queue once it is full.
    pub waitlist: bool,
}

impl EventDraft {
    /// Checks every rule at once, naming each field that breaks one.
    pub fn check(self) -> Result<EventPlan, Vec<Violation>> {
        let mut violations = Vec::new();
        let title = Line::parse(&self.title, TITLE_MAX_CHARS)
            .map(Line::into_string)
            .map_err(|m| violations.push(Violation::new("title", m)))
            .ok();
        let description = Prose::parse_optional(self.description.as_deref(), DESCRIPTION_MAX_CHARS)
            .map_err(|m| violations.push(Violation::new("description", m)))
            .ok()
            .flatten()
            .map(Prose::into_string);
        let starts_at = self.starts_at.trunc_subsecs(6);
        let ends_at = self.ends_at.trunc_subsecs(6);
        for (field, at) in [("starts_at", starts_at), ("ends_at", ends_at)] {
            if !YEARS.contains(&at.year()) {
                violations.push(Violation::new(field, "must be in a year from 1970 to 9999"));
            }
        }
        if ends_at <= starts_at {
            violations.push(Violation::new("ends_at", "must be after starts_at"));
        }
        let time_zone = parse_time_zone(&self.time_zone)
            .map_err(|m| violations.push(Violation::new("time_zone", m)))
            .ok();
        let online_url = self.online_url.as_deref().and_then(|raw| {
            parse_online_url(raw)
                .map_err(|m| violations.push(Violation::new("online_url", m)))
                .ok()
        });
        let place = Prose::parse_optional(self.place.as_deref(), PLACE_MAX_CHARS)
            .map_err(|m| violations.push(Violation::new("place", m)))
            .ok()
            .flatten()
            .map(Prose::into_string);
        if self.online_url.is_none() && self.place.as_deref().is_none_or(|p| p.trim().is_empty()) {
            violations.push(Violation::new(
                "place",
                "give a place, an online_url, or both",
            ));
        }
        let capacity = self.capacity.and_then(|seats| {
            parse_capacity(seats)
                .map_err(|m| violations.push(Violation::new("capacity", m)))
                .ok()
        });
        match (title, time_zone) {
            (Some(title), Some(time_zone)) if violations.is_empty() => Ok(EventPlan {
                title,
                description,
                starts_at,
                ends_at,
                time_zone,
                online_url,
                place,
                capacity,
                waitlist: self.waitlist,
            }),
            _ => Err(violations),
        }
    }
}

/// Reads an IANA time zone name (`Europe/Paris`, `America/New_York`, `UTC`).
pub fn parse_time_zone(raw: &str) -> Result<Tz, &'static str> {
    raw.trim()
        .parse::<Tz>()
        .map_err(|_| "must be an IANA time zone name such as Europe/Paris")
}

/// Reads the URL where people join online: absolute `http` or `https`, with a
/// host and no credentials in it.
pub fn parse_online_url(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if raw.chars().count() > URL_MAX_CHARS {
        return Err("must be at most 2048 characters");
    }
    let url = Url::parse(raw).map_err(|_| "must be an absolute http or https URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password");
    }
    Ok(url.into())
}

/// Reads a number of seats: 1 to [`MAX_CAPACITY`].
pub fn parse_capacity(seats: i64) -> Result<i32, &'static str> {
    if !(1..=MAX_CAPACITY).contains(&seats) {
        return Err("must be between 1 and 1000000");
    }
    i32::try_from(seats).map_err(|_| "must be between 1 and 1000000")
}

/// `at` as a wall-clock time in `zone`, RFC 3339 with the zone's offset
/// (`2026-12-01T19:00:00+01:00`).
pub fn local_time(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn draft() -> EventDraft {
        EventDraft {
            title: "Community meetup".to_owned(),
            description: None,
            starts_at: at("2026-12-01T18:00:00Z"),
            ends_at: at("2026-12-01T20:00:00Z"),
            time_zone: "Europe/Paris".to_owned(),
            online_url: None,
            place: Some("Le Comptoir, 12 rue de la Paix".to_owned()),
            capacity: Some(40),
            waitlist: true,
        }
    }

    fn fields(draft: EventDraft) -> Vec<&'static str> {
        draft
            .check()
            .err()
            .unwrap_or_default()
            .iter()
            .map(|v| v.field)
            .collect()
    }

    #[test]
    fn a_valid_draft_becomes_a_plan() {
        let plan = draft().check();
        assert_eq!(
            plan.as_ref().map(|p| p.time_zone),
            Ok(chrono_tz::Europe::Paris)
        );
        assert_eq!(plan.map(|p| p.capacity), Ok(Some(40)));
    }

    #[test]
    fn every_broken_rule_is_named() {
        let cases: Vec<(EventDraft, Vec<&str>)> = vec![
            (
                EventDraft {
                    ends_at: at("2026-12-01T17:00:00Z"),
                    ..draft()
                },
                vec!["ends_at"],
            ),
            (
                EventDraft {
                    ends_at: at("2026-12-01T18:00:00Z"),
                    ..draft()
                },
                vec!["ends_at"],
            ),
            (
                EventDraft {
                    time_zone: "Mars/Olympus_Mons".to_owned(),
                    ..draft()
                },
                vec!["time_zone"],
            ),
            (
                EventDraft {
                    online_url: Some("javascript:alert(1)".to_owned()),
                    ..draft()
                },
                vec!["online_url"],
            ),
            (
                EventDraft {
                    online_url: None,
                    place: Some("   ".to_owned()),
                    ..draft()
                },
                vec!["place"],
            ),
            (
                EventDraft {
                    capacity: Some(0),
                    title: String::new(),
                    ..draft()
                },
                vec!["title", "capacity"],
            ),
            (
                EventDraft {
                    starts_at: at("1969-12-31T23:00:00Z"),
                    ..draft()
                },
                vec!["starts_at"],
            ),
            (
                EventDraft {
                    ends_at: at("2026-11-01T00:00:00Z"),
                    time_zone: "Paris".to_owned(),
                    online_url: Some("ftp://files.example.com".to_owned()),
                    ..draft()
                },
                vec!["ends_at", "time_zone", "online_url"],
            ),
        ];
        for (draft, expected) in cases {
            assert_eq!(fields(draft), expected);
        }
    }

    #[test]
    fn online_only_events_need_no_place() {
        let online = EventDraft {
            place: None,
            online_url: Some("https://meet.example.com/abc".to_owned()),
            ..draft()
        };
        assert!(online.check().is_ok());
    }

    #[test]
    fn time_zones_are_iana_names() {
        for good in ["Europe/Paris", "America/New_York", "UTC", "Asia/Kolkata"] {
            assert!(parse_time_zone(good).is_ok(), "{good}");
        }
        for bad in ["", "CEST+2", "europe/paris", "Europe/Atlantis", "+01:00"] {
            assert!(parse_time_zone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn online_urls_are_http_or_https_only() {
        let cases = [
            (
                "https://meet.example.com/abc",
                Ok("https://meet.example.com/abc"),
            ),
            (" http://example.com ", Ok("http://example.com/")),
            ("javascript:alert(1)", Err("must be an http or https URL")),
            ("ftp://example.com/x", Err("must be an http or https URL")),
            ("data:text/html,hi", Err("must be an http or https URL")),
            (
                "/relative/path",
                Err("must be an absolute http or https URL"),
            ),
            (
                "https://user:pw@example.com",
                Err("must not contain a user name or password"),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                parse_online_url(raw).as_deref(),
                expected.as_ref().map(|s| *s),
                "{raw}"
            );
        }
        let long = format!("https://example.com/{}", "a".repeat(URL_MAX_CHARS));
        assert!(parse_online_url(&long).is_err());
    }

    #[test]
    fn capacity_is_a_positive_bounded_number() {
        for (seats, ok) in [(1, true), (MAX_CAPACITY, true), (0, false), (-3, false)] {
            assert_eq!(parse_capacity(seats).is_ok(), ok, "{seats}");
        }
        assert!(parse_capacity(MAX_CAPACITY + 1).is_err());
    }

    #[test]
    fn local_times_carry_the_zones_offset() {
        let cases = [
            (
                "2026-12-01T18:00:00Z",
                "Europe/Paris",
                "2026-12-01T19:00:00+01:00",
            ),
            (
                "2026-07-01T18:00:00Z",
                "Europe/Paris",
                "2026-07-01T20:00:00+02:00",
            ),
            (
                "2026-12-01T18:00:00Z",
                "America/New_York",
                "2026-12-01T13:00:00-05:00",
            ),
            ("2026-12-01T18:00:00Z", "UTC", "2026-12-01T18:00:00+00:00"),
        ];
        for (utc, zone, local) in cases {
            let zone = parse_time_zone(zone).unwrap_or(Tz::UTC);
            assert_eq!(local_time(at(utc), zone), local);
        }
    }

    #[test]
    fn times_keep_microseconds_only() {
        let plan = EventDraft {
            starts_at: at("2026-12-01T18:00:00.123456789Z"),
            ..draft()
        }
        .check();
        assert_eq!(
            plan.map(|p| p.starts_at),
            Ok(at("2026-12-01T18:00:00.123456Z"))
        );
    }
}
