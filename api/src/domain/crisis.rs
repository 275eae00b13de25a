//! Spike detection for crisis alerts: is the last hour's count of negative
//! items far above what the recent hours led us to expect?
//!
//! The baseline is an exponentially weighted moving average (EWMA) of the
//! hourly counts before the last hour, with an EWMA of the squared
//! deviations as its variance. Each hour moves the mean by `alpha` of its
//! surprise, so the baseline follows a slow change (a campaign that grows
//! the audience) while one burst stands out. The last hour is a spike when
//!
//! `z = (observed − expected) / deviation ≥ threshold` and `observed ≥ min_count`,
//!
//! where `deviation = max(√variance, √expected, 1)`: counts are Poisson-like,
//! so a quiet baseline with no variance at all still expects noise of about
//! √mean, and never less than one item. Daily and weekly seasonality (a
//! Monday-morning rush) is not modelled: a workspace with strong rhythms
//! should raise its threshold.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// When an hour counts as a spike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[schema(example = json!({"alpha": 0.1, "threshold": 3.0, "min_count": 10, "warmup_hours": 24}))]
pub struct SpikePolicy {
    /// EWMA smoothing, 0.01–1: the weight of each new hour in the baseline.
    pub alpha: f64,
    /// Deviations above the baseline that make a spike (1–20).
    pub threshold: f64,
    /// Fewest negative items in the hour for an alert: tiny volumes never alert.
    pub min_count: u64,
    /// Hours of history needed before anything alerts (1–720).
    pub warmup_hours: usize,
}

impl Default for SpikePolicy {
    fn default() -> Self {
        Self {
            alpha: 0.1,
            threshold: 3.0,
            min_count: 10,
            warmup_hours: 24,
        }
    }
}

impl SpikePolicy {
    /// Checks the ranges; answers (field, message) for each broken one.
    pub fn validate(&self) -> Result<(), Vec<(String, String)>> {
        let mut errors = Vec::new();
        if !(0.01..=1.0).contains(&self.alpha) {
            errors.push(("alpha".to_owned(), "must be between 0.01 and 1".to_owned()));
        }
        if !(1.0..=20.0).contains(&self.threshold) {
            errors.push((
                "threshold".to_owned(),
                "must be between 1 and 20".to_owned(),
            ));
        }
        if !(1..=720).contains(&self.warmup_hours) {
            errors.push((
                "warmup_hours".to_owned(),
                "must be between 1 and 720".to_owned(),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// How the last hour compares with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct SpikeAssessment {
    /// The baseline's expected count for the hour.
    pub expected: f64,
    /// The deviation the z-score divides by.
    pub deviation: f64,
    /// How many deviations above the baseline the hour is.
    pub z_score: f64,
    /// The hour's count.
    pub observed: u64,
    /// Whether it is a spike under the policy.
    pub is_spike: bool,
}

/// Judges the last of `hourly` (oldest first; the last is the hour just
/// closed) against the hours before it.
pub fn assess(policy: &SpikePolicy, hourly: &[u64]) -> SpikeAssessment {
    let Some((&observed, history)) = hourly.split_last() else {
        return SpikeAssessment {
            expected: 0.0,
            deviation: 1.0,
            z_score: 0.0,
            observed: 0,
            is_spike: false,
        };
    };
    let alpha = policy.alpha.clamp(0.01, 1.0);
    let mut values = history.iter().map(|&c| c as f64);
    let mut mean = values.next().unwrap_or(0.0);
    let mut variance = 0.0;
    for value in values {
        let surprise = value - mean;
        mean += alpha * surprise;
        variance = (1.0 - alpha) * (variance + alpha * surprise * surprise);
    }
    let deviation = variance.sqrt().max(mean.sqrt()).max(1.0);
    let z_score = (observed as f64 - mean) / deviation;
    SpikeAssessment {
        expected: mean,
        deviation,
        z_score,
        observed,
        is_spike: history.len() >= policy.warmup_hours
            && observed >= policy.min_count
            && z_score >= policy.threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_last(history: &[u64], last: u64) -> Vec<u64> {
        let mut all = history.to_vec();
        all.push(last);
        all
    }

    #[test]
    fn a_burst_over_a_quiet_baseline_is_a_spike() {
        let history: Vec<u64> = (0..48).map(|h| 1 + h % 3).collect();
        let verdict = assess(&SpikePolicy::default(), &with_last(&history, 40));
        assert!(verdict.is_spike, "{verdict:?}");
        assert!(
            verdict.expected > 1.0 && verdict.expected < 3.0,
            "{verdict:?}"
        );
        assert!(verdict.z_score > 10.0);
    }

    #[test]
    fn a_usual_hour_and_slow_growth_are_not() {
        let history: Vec<u64> = (0..48).map(|h| 10 + h % 5).collect();
        assert!(!assess(&SpikePolicy::default(), &with_last(&history, 14)).is_spike);
        let growing: Vec<u64> = (0..72).map(|h| 10 + h / 2).collect();
        assert!(!assess(&SpikePolicy::default(), &with_last(&growing, 47)).is_spike);
    }

    #[test]
    fn small_volumes_and_short_histories_never_alert() {
        let quiet = vec![0; 48];
        let verdict = assess(&SpikePolicy::default(), &with_last(&quiet, 9));
        assert!(!verdict.is_spike, "below min_count: {verdict:?}");
        assert!(verdict.z_score > 3.0, "it is unusual, only small");
        let short = vec![1; 10];
        assert!(!assess(&SpikePolicy::default(), &with_last(&short, 50)).is_spike);
    }

    #[test]
    fn flat_and_empty_inputs_stay_finite() {
        let zeros = vec![0; 30];
        let verdict = assess(&SpikePolicy::default(), &zeros);
        assert!(verdict.z_score.is_finite() && verdict.expected.is_finite());
        assert_eq!(verdict.deviation, 1.0);
        assert!(!assess(&SpikePolicy::default(), &[]).is_spike);
    }

    #[test]
    fn policies_out_of_range_are_refused() {
        let bad = SpikePolicy {
            alpha: 0.0,
            threshold: 50.0,
            min_count: 0,
            warmup_hours: 0,
        };
        assert_eq!(bad.validate().unwrap_err().len(), 3);
        assert!(SpikePolicy::default().validate().is_ok());
    }
}
