//! A channel's weekly posting schedule and the queue's "next free slot".

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A day of the week.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// The day of a chrono weekday.
    pub fn of(day: chrono::Weekday) -> Self {
        match day {
            chrono::Weekday::Mon => Self::Monday,
            chrono::Weekday::Tue => Self::Tuesday,
            chrono::Weekday::Wed => Self::Wednesday,
            chrono::Weekday::Thu => Self::Thursday,
            chrono::Weekday::Fri => Self::Friday,
            chrono::Weekday::Sat => Self::Saturday,
            chrono::Weekday::Sun => Self::Sunday,
        }
    }
}

/// One weekly slot, in the workspace's time zone.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"weekday": "tuesday", "time": "09:30"}))]
pub struct PostingSlot {
    /// The day.
    pub weekday: Weekday,
    /// Local wall-clock time, `HH:MM`.
    #[serde(with = "hh_mm")]
    #[schema(value_type = String, example = "09:30")]
    pub time: NaiveTime,
}

pub(crate) mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        NaiveTime::parse_from_str(&raw, "%H:%M")
            .map_err(|_| serde::de::Error::custom("must be a time of day as HH:MM"))
    }
}

/// Most slots a channel may have in a week.
pub const MAX_SLOTS: usize = 168;

/// Sorts and de-duplicates a schedule; refuses one that is too long.
pub fn normalise(slots: Vec<PostingSlot>) -> Result<Vec<PostingSlot>, &'static str> {
    let set: BTreeSet<PostingSlot> = slots.into_iter().collect();
    if set.len() > MAX_SLOTS {
        return Err("must have at most 168 slots a week");
    }
    Ok(set.into_iter().collect())
}

/// The slot instants after `after`, in order, for `weeks` weeks ahead.
/// A local time that does not exist (a daylight-saving gap) is skipped; an
/// ambiguous one (the hour repeated in autumn) takes its first occurrence.
pub fn upcoming(
    slots: &[PostingSlot],
    tz: Tz,
    after: DateTime<Utc>,
    weeks: u32,
) -> Vec<DateTime<Utc>> {
    let start = after.with_timezone(&tz).date_naive();
    let mut instants = Vec::new();
    for offset in 0..=i64::from(weeks) * 7 {
        let day = start + Duration::days(offset);
        let weekday = Weekday::of(day.weekday());
        for slot in slots.iter().filter(|s| s.weekday == weekday) {
            let local = day.and_time(slot.time);
            let instant = match tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                LocalResult::None => continue,
            };
            if instant > after {
                instants.push(instant);
            }
        }
    }
    instants.sort();
    instants
}

/// The first slot after `after` that no other post holds.
pub fn next_free(
    slots: &[PostingSlot],
    tz: Tz,
    after: DateTime<Utc>,
    taken: &BTreeSet<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    upcoming(slots, tz, after, 52)
        .into_iter()
        .find(|instant| !taken.contains(instant))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(weekday: Weekday, hh: u32, mm: u32) -> PostingSlot {
        PostingSlot {
            weekday,
            time: NaiveTime::from_hms_opt(hh, mm, 0).unwrap(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn slots_are_local_times_in_the_workspace_zone() {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        // Monday 2026-11-23, 08:00 UTC = 09:00 in Madrid.
        let slots = [slot(Weekday::Monday, 10, 0), slot(Weekday::Tuesday, 9, 30)];
        let next = upcoming(&slots, tz, at("2026-11-23T08:00:00Z"), 1);
        assert_eq!(next[0], at("2026-11-23T09:00:00Z"));
        assert_eq!(next[1], at("2026-11-24T08:30:00Z"));
    }

    #[test]
    fn the_next_free_slot_skips_taken_ones() {
        let tz = Tz::UTC;
        let slots = [slot(Weekday::Monday, 10, 0), slot(Weekday::Monday, 15, 0)];
        let mut taken = BTreeSet::new();
        taken.insert(at("2026-11-23T10:00:00Z"));
        assert_eq!(
            next_free(&slots, tz, at("2026-11-23T08:00:00Z"), &taken),
            Some(at("2026-11-23T15:00:00Z"))
        );
        taken.insert(at("2026-11-23T15:00:00Z"));
        assert_eq!(
            next_free(&slots, tz, at("2026-11-23T08:00:00Z"), &taken),
            Some(at("2026-11-30T10:00:00Z"))
        );
        assert_eq!(next_free(&[], tz, at("2026-11-23T08:00:00Z"), &taken), None);
    }

    #[test]
    fn daylight_saving_gaps_are_skipped() {
        let tz: Tz = "Europe/Madrid".parse().unwrap();
        // 2027-03-28 02:30 does not exist in Madrid.
        let slots = [slot(Weekday::Sunday, 2, 30)];
        let next = upcoming(&slots, tz, at("2027-03-27T00:00:00Z"), 2);
        assert_eq!(next, vec![at("2027-04-04T00:30:00Z")]);
    }

    #[test]
    fn schedules_are_sorted_and_deduplicated() {
        let slots = normalise(vec![
            slot(Weekday::Friday, 9, 0),
            slot(Weekday::Monday, 9, 0),
            slot(Weekday::Friday, 9, 0),
        ])
        .unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(slots[0].weekday, Weekday::Monday);
        let serialised = serde_json::to_value(slots[0]).unwrap();
        assert_eq!(
            serialised,
            serde_json::json!({"weekday": "monday", "time": "09:00"})
        );
    }
}
