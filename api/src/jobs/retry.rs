//! When a failed job runs again: exponential backoff with full jitter, a
//! platform's "rate limited, come back later", or never.

use std::time::Duration;

use chrono::{NaiveDateTime, SubsecRound, TimeDelta};
use rand::Rng;

/// The first retry waits up to this long.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);

/// No retry waits longer than this because of backoff.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60 * 60);

/// No job is put off further than this, whatever it asked for: a runaway
/// `Retry-After` must not bury a job for years.
pub const MAX_DELAY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// What to do with a job whose attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again after this delay (see [`backoff`]); the attempt counts, so
    /// the job dies once it has used `max_attempts`.
    Backoff(Duration),
    /// The platform answered "rate limited" and asked to wait this many
    /// seconds: the job waits at least that long (and at least a second),
    /// and the attempt is given back, since being throttled is not the job's
    /// fault.
    After(u64),
    /// The failure is permanent (bad credentials, a refused post): dead now.
    Never,
}

impl Retry {
    /// A backoff retry for a job that has made `attempt` attempts, with the
    /// default base and cap.
    pub fn backoff(attempt: u32, jitter: &mut impl Jitter) -> Self {
        Self::Backoff(backoff(attempt, BACKOFF_BASE, BACKOFF_CAP, jitter))
    }
}

/// Where backoff's randomness comes from.
pub trait Jitter {
    /// A duration between zero and `ceiling`, both included.
    fn pick(&mut self, ceiling: Duration) -> Duration;
}

/// Uniform jitter from the thread's random number generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn pick(&mut self, ceiling: Duration) -> Duration {
        let ceiling = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
    }
}

/// Any function of the ceiling is a jitter source (tests pin it).
impl<F: FnMut(Duration) -> Duration> Jitter for F {
    fn pick(&mut self, ceiling: Duration) -> Duration {
        self(ceiling).min(ceiling)
    }
}

/// The wait before the next try of a job that has made `attempt` attempts:
/// "full jitter", a random share of `base * 2^(attempt - 1)`, capped at
/// `cap`, so that jobs failing together do not come back together.
pub fn backoff(attempt: u32, base: Duration, cap: Duration, jitter: &mut impl Jitter) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    let ceiling = base.saturating_mul(1 << doublings).min(cap);
    jitter.pick(ceiling)
}

/// What a failed attempt turns a job into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailedAttempt {
    /// Back to the queue, due at `run_at`, having used `attempts`.
    Requeue {
        /// When it is due again.
        run_at: NaiveDateTime,
        /// Its attempt count from now on.
        attempts: i32,
    },
    /// Out of attempts, or failed for good.
    Dead,
}

/// Decides what becomes of a job that failed its `attempts`-th attempt (of
/// `max_attempts`) at `now`.
pub(crate) fn after_failure(
    attempts: i32,
    max_attempts: i32,
    retry: Retry,
    now: NaiveDateTime,
) -> FailedAttempt {
    match retry {
        Retry::Never => FailedAttempt::Dead,
        Retry::Backoff(_) if attempts >= max_attempts => FailedAttempt::Dead,
        Retry::Backoff(delay) => FailedAttempt::Requeue {
            run_at: later(now, delay),
            attempts,
        },
        Retry::After(secs) => FailedAttempt::Requeue {
            run_at: later(now, Duration::from_secs(secs.max(1))),
            attempts: attempts.saturating_sub(1).max(0),
        },
    }
}

/// `now + delay`, with the delay capped at [`MAX_DELAY`] and the result at
/// the microsecond precision the database keeps.
pub(crate) fn later(now: NaiveDateTime, delay: Duration) -> NaiveDateTime {
    let delay = TimeDelta::from_std(delay.min(MAX_DELAY)).unwrap_or(TimeDelta::zero());
    now.checked_add_signed(delay)
        .unwrap_or(now)
        .trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(ceiling: Duration) -> Duration {
        ceiling
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(100);
        let ceilings: Vec<u64> = (1..=6)
            .map(|attempt| backoff(attempt, base, cap, &mut full).as_secs())
            .collect();
        assert_eq!(ceilings, [10, 20, 40, 80, 100, 100]);
        assert_eq!(backoff(0, base, cap, &mut full), base);
        assert_eq!(backoff(u32::MAX, base, cap, &mut full), cap);
    }

    #[test]
    fn backoff_takes_a_share_of_the_ceiling() {
        let base = Duration::from_secs(10);
        let cap = Duration::from_secs(100);
        let mut half = |ceiling: Duration| ceiling / 2;
        assert_eq!(backoff(3, base, cap, &mut half), Duration::from_secs(20));
        let mut greedy = |ceiling: Duration| ceiling * 10;
        assert_eq!(backoff(3, base, cap, &mut greedy), Duration::from_secs(40));
        for attempt in 1..20 {
            let delay = backoff(attempt, base, cap, &mut RandomJitter);
            assert!(delay <= cap, "{delay:?} over the cap");
        }
    }

    #[test]
    fn failures_requeue_until_attempts_run_out() {
        let now = crate::db::now();
        let delay = Duration::from_secs(45);
        assert_eq!(
            after_failure(2, 3, Retry::Backoff(delay), now),
            FailedAttempt::Requeue {
                run_at: now + TimeDelta::seconds(45),
                attempts: 2
            }
        );
        assert_eq!(
            after_failure(3, 3, Retry::Backoff(delay), now),
            FailedAttempt::Dead
        );
        assert_eq!(after_failure(1, 3, Retry::Never, now), FailedAttempt::Dead);
    }

    #[test]
    fn rate_limits_wait_as_asked_and_give_the_attempt_back() {
        let now = crate::db::now();
        assert_eq!(
            after_failure(3, 3, Retry::After(120), now),
            FailedAttempt::Requeue {
                run_at: now + TimeDelta::seconds(120),
                attempts: 2
            }
        );
        assert_eq!(
            after_failure(1, 3, Retry::After(0), now),
            FailedAttempt::Requeue {
                run_at: now + TimeDelta::seconds(1),
                attempts: 0
            }
        );
    }

    #[test]
    fn delays_are_capped() {
        let now = crate::db::now();
        assert_eq!(
            later(now, Duration::from_secs(u64::MAX)),
            later(now, MAX_DELAY)
        );
        assert_eq!(later(now, Duration::from_nanos(999)), now);
    }
}
