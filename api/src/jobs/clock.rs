//! The queue's notion of "now", injectable so that tests move time instead
//! of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SubsecRound};

/// Tells the time the queue works by (UTC, microseconds, as stored).
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> NaiveDateTime;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        crate::db::now()
    }
}

/// A clock that stands still until told to move: for tests.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    /// A clock showing `start` (truncated to microseconds).
    pub fn at(start: NaiveDateTime) -> Self {
        Self {
            micros: AtomicI64::new(start.and_utc().timestamp_micros()),
        }
    }

    /// A clock showing the real time at its creation.
    pub fn starting_now() -> Self {
        Self::at(crate::db::now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        // The closure always answers Some, so the update cannot fail.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: NaiveDateTime) {
        self.micros
            .store(to.and_utc().timestamp_micros(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NaiveDateTime {
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst))
            .map(|now| now.naive_utc().trunc_subsecs(6))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let start = crate::db::now();
        let clock = ManualClock::at(start);
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), start + chrono::TimeDelta::seconds(90));
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn a_manual_clock_keeps_microseconds() {
        let clock = ManualClock::starting_now();
        clock.advance(Duration::from_nanos(1_500));
        assert_eq!(clock.now().and_utc().timestamp_subsec_nanos() % 1_000, 0);
    }
}
