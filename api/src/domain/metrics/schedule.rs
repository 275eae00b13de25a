//! When metrics are read: a post often while it is young and its numbers
//! move, then less and less, and not after a month; an account daily.

use chrono::{Duration, NaiveDateTime};

/// Posts older than this are no longer read.
pub const POST_WINDOW: Duration = Duration::days(30);

/// How often an account's metrics are read.
pub const ACCOUNT_INTERVAL: Duration = Duration::hours(24);

/// How long to wait between two reads of a post published `age` ago;
/// `None` once it is too old to read.
pub fn post_interval(age: Duration) -> Option<Duration> {
    if age < Duration::hours(6) {
        Some(Duration::minutes(30))
    } else if age < Duration::hours(48) {
        Some(Duration::hours(3))
    } else if age < POST_WINDOW {
        Some(Duration::hours(24))
    } else {
        None
    }
}

/// Whether a post published at `published_at` and last read at `checked_at`
/// is due at `now`.
pub fn post_due(
    published_at: NaiveDateTime,
    checked_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> bool {
    let Some(interval) = post_interval(now - published_at) else {
        return false;
    };
    checked_at.is_none_or(|checked| now - checked >= early(interval))
}

/// Whether an account last read at `collected_at` is due at `now`.
pub fn account_due(collected_at: Option<NaiveDateTime>, now: NaiveDateTime) -> bool {
    collected_at.is_none_or(|collected| now - collected >= early(ACCOUNT_INTERVAL))
}

/// A tenth of an interval early still counts as on time: the sweep that
/// finds due work runs every few minutes, and a read that waited for the
/// next sweep would drift later each time.
fn early(interval: Duration) -> Duration {
    interval - interval / 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn young_posts_are_read_often_old_ones_rarely_then_never() {
        let published = at("2026-11-01 12:00");
        let cases = [
            // (now, last read, due)
            ("2026-11-01 12:10", None, true),
            ("2026-11-01 12:20", Some("2026-11-01 12:00"), false),
            ("2026-11-01 12:28", Some("2026-11-01 12:00"), true),
            ("2026-11-02 00:00", Some("2026-11-01 22:00"), false),
            ("2026-11-02 00:00", Some("2026-11-01 21:00"), true),
            ("2026-11-05 12:00", Some("2026-11-05 00:00"), false),
            ("2026-11-05 12:00", Some("2026-11-04 12:00"), true),
            ("2026-12-01 12:00", Some("2026-11-20 12:00"), false),
            ("2026-12-01 12:00", None, false),
        ];
        for (now, checked, due) in cases {
            assert_eq!(
                post_due(published, checked.map(at), at(now)),
                due,
                "now {now}, checked {checked:?}"
            );
        }
    }

    #[test]
    fn accounts_are_read_daily() {
        let now = at("2026-11-02 12:00");
        assert!(account_due(None, now));
        assert!(!account_due(Some(at("2026-11-02 00:00")), now));
        assert!(account_due(Some(at("2026-11-01 12:00")), now));
        assert!(account_due(Some(at("2026-11-01 14:00")), now));
        assert!(!account_due(Some(at("2026-11-01 15:00")), now));
    }
}
