//! Registrations: who holds a seat, who waits for one, who came.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Most characters a registration's note may have.
pub const NOTE_MAX_CHARS: usize = 1000;

/// Where a registration stands.
///
/// ```text
/// registered ──► cancelled | attended | no_show
/// waitlisted ──► cancelled            (promoted to registered when a seat frees)
/// attended ◄──► no_show               (correcting the check-in)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationStatus {
    /// Holds a seat.
    Registered,
    /// Waits for a seat; the longest waiting is promoted first.
    Waitlisted,
    /// Gave up their seat or place in the queue.
    Cancelled,
    /// Came.
    Attended,
    /// Held a seat and did not come.
    NoShow,
}

impl RegistrationStatus {
    /// Every status.
    pub const ALL: [RegistrationStatus; 5] = [
        RegistrationStatus::Registered,
        RegistrationStatus::Waitlisted,
        RegistrationStatus::Cancelled,
        RegistrationStatus::Attended,
        RegistrationStatus::NoShow,
    ];

    /// The statuses that occupy a seat.
    pub const SEAT_HOLDERS: [RegistrationStatus; 3] = [
        RegistrationStatus::Registered,
        RegistrationStatus::Attended,
        RegistrationStatus::NoShow,
    ];

    /// The name stored in the database and used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Waitlisted => "waitlisted",
            Self::Cancelled => "cancelled",
            Self::Attended => "attended",
            Self::NoShow => "no_show",
        }
    }

    /// Reads a status name.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Whether a registration in this status occupies a seat.
    pub fn holds_seat(self) -> bool {
        Self::SEAT_HOLDERS.contains(&self)
    }

    /// Whether a member may move a registration from this status to `next`.
    /// Staying in the same status is always allowed (and changes nothing).
    pub fn can_become(self, next: Self) -> bool {
        use RegistrationStatus as S;
        self == next
            || matches!(
                (self, next),
                (S::Registered, S::Cancelled | S::Attended | S::NoShow)
                    | (S::Waitlisted, S::Cancelled)
                    | (S::Attended, S::NoShow)
                    | (S::NoShow, S::Attended)
            )
    }
}

/// How many registrations of an event are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegistrationCounts {
    /// Holding a seat, not yet checked in.
    pub registered: i64,
    /// Waiting for a seat.
    pub waitlisted: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// Came.
    pub attended: i64,
    /// Held a seat and did not come.
    pub no_show: i64,
}

impl RegistrationCounts {
    /// Adds `count` registrations in `status`.
    pub fn add(&mut self, status: RegistrationStatus, count: i64) {
        let slot = match status {
            RegistrationStatus::Registered => &mut self.registered,
            RegistrationStatus::Waitlisted => &mut self.waitlisted,
            RegistrationStatus::Cancelled => &mut self.cancelled,
            RegistrationStatus::Attended => &mut self.attended,
            RegistrationStatus::NoShow => &mut self.no_show,
        };
        *slot += count;
    }

    /// Seats occupied: registered, attended and no-show.
    pub fn seats_taken(&self) -> i64 {
        self.registered + self.attended + self.no_show
    }
}

/// Why a registration was refused: every seat is taken and the event keeps
/// no waitlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventFull;

/// The status a new registration gets: a seat while any is free, else a
/// place on the waitlist if the event keeps one.
pub fn admit(
    capacity: Option<i32>,
    seats_taken: i64,
    waitlist: bool,
) -> Result<RegistrationStatus, EventFull> {
    match seats_left(capacity, seats_taken) {
        Some(0) if waitlist => Ok(RegistrationStatus::Waitlisted),
        Some(0) => Err(EventFull),
        _ => Ok(RegistrationStatus::Registered),
    }
}

/// Free seats; `None` when seats are unlimited.
pub fn seats_left(capacity: Option<i32>, seats_taken: i64) -> Option<i64> {
    capacity.map(|seats| (i64::from(seats) - seats_taken).max(0))
}

/// How many of the `waiting` people to promote now that `seats_taken` of
/// `capacity` seats are taken.
pub fn seats_to_fill(capacity: Option<i32>, seats_taken: i64, waiting: i64) -> i64 {
    seats_left(capacity, seats_taken).map_or(waiting, |free| free.min(waiting))
}

/// Whether `capacity` still seats everyone who holds a seat.
pub fn capacity_fits(capacity: Option<i32>, seats_taken: i64) -> bool {
    capacity.is_none_or(|seats| i64::from(seats) >= seats_taken)
}

#[cfg(test)]
mod tests {
    use super::RegistrationStatus as S;
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for status in S::ALL {
            assert_eq!(S::parse(status.as_str()), Some(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::Value::from(status.as_str()))
            );
        }
        assert_eq!(S::parse("confirmed"), None);
    }

    #[test]
    fn transitions_follow_the_diagram() {
        let allowed = [
            (S::Registered, S::Cancelled),
            (S::Registered, S::Attended),
            (S::Registered, S::NoShow),
            (S::Waitlisted, S::Cancelled),
            (S::Attended, S::NoShow),
            (S::NoShow, S::Attended),
        ];
        for from in S::ALL {
            for to in S::ALL {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn seats_are_held_by_registered_attended_and_no_show() {
        let holders: Vec<S> = S::ALL.into_iter().filter(|s| s.holds_seat()).collect();
        assert_eq!(holders, vec![S::Registered, S::Attended, S::NoShow]);
    }

    #[test]
    fn counts_add_up_to_the_seats_taken() {
        let mut counts = RegistrationCounts::default();
        for (status, n) in [
            (S::Registered, 3),
            (S::Waitlisted, 2),
            (S::Cancelled, 4),
            (S::Attended, 5),
            (S::NoShow, 1),
            (S::Registered, 1),
        ] {
            counts.add(status, n);
        }
        assert_eq!(counts.registered, 4);
        assert_eq!(counts.seats_taken(), 10);
    }

    #[test]
    fn admission_fills_seats_then_the_waitlist() {
        let cases = [
            (None, 1_000, false, Ok(S::Registered)),
            (Some(2), 0, false, Ok(S::Registered)),
            (Some(2), 1, false, Ok(S::Registered)),
            (Some(2), 2, false, Err(EventFull)),
            (Some(2), 2, true, Ok(S::Waitlisted)),
            (Some(2), 5, true, Ok(S::Waitlisted)),
            (Some(2), 1, true, Ok(S::Registered)),
        ];
        for (capacity, taken, waitlist, expected) in cases {
            assert_eq!(
                admit(capacity, taken, waitlist),
                expected,
                "{capacity:?} {taken} {waitlist}"
            );
        }
    }

    #[test]
    fn promotion_fills_only_free_seats() {
        let cases = [
            (Some(10), 9, 3, 1),
            (Some(10), 10, 3, 0),
            (Some(10), 12, 3, 0),
            (Some(10), 5, 3, 3),
            (None, 50, 4, 4),
            (Some(1), 0, 0, 0),
        ];
        for (capacity, taken, waiting, expected) in cases {
            assert_eq!(seats_to_fill(capacity, taken, waiting), expected);
        }
    }

    #[test]
    fn capacity_cannot_drop_below_the_seats_taken() {
        let cases = [
            (Some(5), 5, true),
            (Some(5), 4, true),
            (Some(4), 5, false),
            (None, 500, true),
        ];
        for (capacity, taken, fits) in cases {
            assert_eq!(capacity_fits(capacity, taken), fits);
        }
        assert_eq!(seats_left(Some(4), 5), Some(0));
        assert_eq!(seats_left(None, 5), None);
    }
}
