//! The advocacy score: who speaks for the brand, how often, how warmly, and
//! to how many people.
//!
//! `score = reach × engagement`, where
//!
//! - `reach = 1 + log10(1 + followers)` (1 for an unknown audience, so that
//!   warmth still counts; 5 for 10,000 followers);
//! - `engagement = Σ weight(kind) × warmth(sentiment) × ½^(age / 30 days)`
//!   over the contact's interactions: `warmth` is the sentiment score when
//!   positive, `0.1` for a neutral or unknown one (showing up counts a
//!   little), and `1.5 ×` the score when negative (so a critic's score
//!   falls, and the sum may go below zero); `weight` is 1 for mentions and
//!   reviews (spoken to everyone), 0.8 for comments and listening hits, 0.5
//!   for direct messages (heard by the brand alone).
//!
//! Recent words count most: an interaction loses half its weight every 30
//! days.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::inbox::ItemKind;

/// Days after which an interaction counts half.
pub const HALF_LIFE_DAYS: f64 = 30.0;

/// A contact's advocacy score and its two factors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct AdvocacyScore {
    /// `reach × engagement`; higher is a stronger advocate, below zero a critic.
    pub score: f64,
    /// `1 + log10(1 + followers)`.
    pub reach: f64,
    /// Positive engagement over time, decayed with a 30-day half-life.
    pub engagement: f64,
}

/// One interaction of a contact with the brand.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    /// When it arrived.
    pub at: DateTime<Utc>,
    /// Its sentiment, -1..1, when scored.
    pub sentiment: Option<f64>,
    /// What it was.
    pub kind: ItemKind,
}

/// The reach factor of an audience.
pub fn reach(followers: Option<u64>) -> f64 {
    1.0 + (1.0 + followers.unwrap_or(0) as f64).log10()
}

fn weight(kind: ItemKind) -> f64 {
    match kind {
        ItemKind::Mention | ItemKind::Review => 1.0,
        ItemKind::Comment | ItemKind::ListeningHit => 0.8,
        ItemKind::DirectMessage => 0.5,
    }
}

fn warmth(sentiment: Option<f64>) -> f64 {
    match sentiment {
        Some(score) if score >= 0.05 => score.min(1.0),
        Some(score) if score <= -0.05 => 1.5 * score.max(-1.0),
        _ => 0.1,
    }
}

/// The score of a contact with `followers` and `interactions`, as of `now`.
pub fn advocacy_score(
    followers: Option<u64>,
    interactions: &[Interaction],
    now: DateTime<Utc>,
) -> AdvocacyScore {
    let engagement: f64 = interactions
        .iter()
        .map(|i| {
            let age_days = ((now - i.at).num_seconds().max(0) as f64) / 86_400.0;
            weight(i.kind) * warmth(i.sentiment) * 0.5_f64.powf(age_days / HALF_LIFE_DAYS)
        })
        .sum();
    let reach = reach(followers);
    AdvocacyScore {
        score: reach * engagement,
        reach,
        engagement,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn said(days_ago: i64, sentiment: f64, now: DateTime<Utc>) -> Interaction {
        Interaction {
            at: now - Duration::days(days_ago),
            sentiment: Some(sentiment),
            kind: ItemKind::Mention,
        }
    }

    #[test]
    fn a_bigger_audience_ranks_higher_at_equal_warmth() {
        let now = Utc::now();
        let words = [said(1, 0.8, now), said(3, 0.6, now)];
        let small = advocacy_score(Some(100), &words, now);
        let big = advocacy_score(Some(100_000), &words, now);
        assert!(big.score > small.score);
        assert_eq!(small.engagement, big.engagement);
        assert!((reach(Some(9_999)) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn recent_praise_beats_old_praise_and_criticism_lowers() {
        let now = Utc::now();
        let recent = advocacy_score(Some(1000), &[said(1, 0.8, now)], now);
        let old = advocacy_score(Some(1000), &[said(90, 0.8, now)], now);
        assert!(recent.score > 4.0 * old.score, "three half-lives apart");
        let mixed = advocacy_score(Some(1000), &[said(1, 0.8, now), said(1, -0.8, now)], now);
        assert!(mixed.score < 0.0, "criticism weighs more than praise");
    }

    #[test]
    fn no_interactions_score_zero() {
        let score = advocacy_score(Some(5000), &[], Utc::now());
        assert_eq!(score.score, 0.0);
        assert_eq!(score.reach, reach(Some(5000)));
    }
}
