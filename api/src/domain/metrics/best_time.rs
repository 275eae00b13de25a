//! Best time to post: how well the workspace's own posts did by the local
//! weekday and hour they went out.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};

/// One weekday × hour of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Slot {
    /// Posts published then.
    pub posts: u32,
    /// Their average result (engagements per post, …); 0 with no posts.
    pub average: f64,
}

/// Results by local weekday (Monday first) and hour.
#[derive(Debug, Clone, PartialEq)]
pub struct BestTime {
    /// `slots[weekday][hour]`.
    pub slots: [[Slot; 24]; 7],
}

impl BestTime {
    /// Tallies publications (when, result) in the time zone `zone`.
    pub fn tally<Tz: TimeZone>(publications: &[(DateTime<Utc>, f64)], zone: &Tz) -> Self {
        let mut sums = [[(0u32, 0.0f64); 24]; 7];
        for (at, result) in publications {
            let local = at.with_timezone(zone);
            let (day, hour) = (
                local.weekday().num_days_from_monday() as usize,
                local.hour() as usize,
            );
            if let Some(cell) = sums.get_mut(day).and_then(|row| row.get_mut(hour)) {
                cell.0 += 1;
                cell.1 += result;
            }
        }
        let mut slots = [[Slot::default(); 24]; 7];
        for (row, sums) in slots.iter_mut().zip(&sums) {
            for (slot, &(posts, total)) in row.iter_mut().zip(sums) {
                *slot = Slot {
                    posts,
                    average: if posts == 0 {
                        0.0
                    } else {
                        total / f64::from(posts)
                    },
                };
            }
        }
        Self { slots }
    }

    /// The best `n` slots with at least `min_posts` posts, best first:
    /// (weekday from Monday = 0, hour, slot).
    pub fn best(&self, n: usize, min_posts: u32) -> Vec<(u8, u8, Slot)> {
        let mut ranked: Vec<(u8, u8, Slot)> = Vec::new();
        for (day, row) in (0u8..).zip(&self.slots) {
            for (hour, slot) in (0u8..).zip(row) {
                if slot.posts >= min_posts.max(1) {
                    ranked.push((day, hour, *slot));
                }
            }
        }
        ranked.sort_by(|a, b| {
            b.2.average
                .total_cmp(&a.2.average)
                .then(b.2.posts.cmp(&a.2.posts))
                .then((a.0, a.1).cmp(&(b.0, b.1)))
        });
        ranked.truncate(n);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn posts_fall_in_their_local_slot_and_the_best_need_enough_posts() {
        let madrid = chrono_tz::Europe::Madrid;
        let grid = BestTime::tally(
            &[
                // Monday 2026-11-23 09:30 in Madrid (UTC+1).
                (utc("2026-11-23T08:30:00Z"), 10.0),
                (utc("2026-11-30T08:10:00Z"), 30.0),
                // Sunday 23:30 UTC is Monday 00:30 in Madrid.
                (utc("2026-11-22T23:30:00Z"), 100.0),
                (utc("2026-11-25T17:00:00Z"), 5.0),
                (utc("2026-11-25T17:20:00Z"), 7.0),
            ],
            &madrid,
        );
        assert_eq!(
            grid.slots[0][9],
            Slot {
                posts: 2,
                average: 20.0
            }
        );
        assert_eq!(grid.slots[0][0].posts, 1);
        assert_eq!(
            grid.slots[2][18],
            Slot {
                posts: 2,
                average: 6.0
            }
        );
        let best = grid.best(5, 2);
        assert_eq!(
            best.iter().map(|(d, h, _)| (*d, *h)).collect::<Vec<_>>(),
            [(0, 9), (2, 18)],
            "the lone 100 needs a second post to count"
        );
        assert_eq!(grid.best(1, 1)[0].2.average, 100.0);
    }
}
