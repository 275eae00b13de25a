//! Sentiment scoring of short social-media texts (Spanish and English).
//!
//! The scorer sits behind [`SentimentScorer`] so a model can replace the
//! lexicon approach later without touching callers.

mod lexicon;
mod scorer;

pub use scorer::LexiconScorer;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Compound score at or above which a text is positive (VADER's threshold).
pub const POSITIVE_THRESHOLD: f64 = 0.05;
/// Compound score at or below which a text is negative (VADER's threshold).
pub const NEGATIVE_THRESHOLD: f64 = -0.05;

/// Coarse polarity of a text, derived from its compound score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// The author expresses displeasure (compound ≤ -0.05).
    Negative,
    /// No clear polarity (compound strictly between -0.05 and 0.05).
    Neutral,
    /// The author expresses pleasure (compound ≥ 0.05).
    Positive,
}

impl SentimentLabel {
    /// The wire/database spelling of the label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negative => "negative",
            Self::Neutral => "neutral",
            Self::Positive => "positive",
        }
    }

    /// Parses the wire/database spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "negative" => Some(Self::Negative),
            "neutral" => Some(Self::Neutral),
            "positive" => Some(Self::Positive),
            _ => None,
        }
    }

    /// Labels a compound score with VADER's thresholds.
    pub fn from_score(score: f64) -> Self {
        if score >= POSITIVE_THRESHOLD {
            Self::Positive
        } else if score <= NEGATIVE_THRESHOLD {
            Self::Negative
        } else {
            Self::Neutral
        }
    }
}

/// The sentiment of one text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub struct Sentiment {
    /// Compound score in -1..=1 (negative to positive), VADER-normalized.
    pub score: f64,
    /// Polarity label derived from `score`.
    pub label: SentimentLabel,
}

impl Sentiment {
    /// Builds a sentiment from a compound score, labelling it.
    pub fn from_score(score: f64) -> Self {
        Self {
            score,
            label: SentimentLabel::from_score(score),
        }
    }
}

/// Anything that can score the sentiment of a text; `language` is an ISO 639-1 hint.
pub trait SentimentScorer: Send + Sync + std::fmt::Debug {
    /// Scores `text`; `language` `None` or unknown means "use every lexicon".
    fn score(&self, text: &str, language: Option<&str>) -> Sentiment;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_round_trips_and_thresholds() {
        for label in [
            SentimentLabel::Negative,
            SentimentLabel::Neutral,
            SentimentLabel::Positive,
        ] {
            assert_eq!(SentimentLabel::parse(label.as_str()), Some(label));
        }
        assert_eq!(SentimentLabel::parse("meh"), None);
        assert_eq!(SentimentLabel::from_score(0.05), SentimentLabel::Positive);
        assert_eq!(SentimentLabel::from_score(-0.05), SentimentLabel::Negative);
        assert_eq!(SentimentLabel::from_score(0.049), SentimentLabel::Neutral);
        let json = serde_json::to_string(&Sentiment::from_score(-0.5)).unwrap();
        assert_eq!(json, r#"{"score":-0.5,"label":"negative"}"#);
    }
}

#[cfg(test)]
mod scorer_tests;

#[cfg(test)]
mod accuracy_tests;
