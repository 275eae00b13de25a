//! Objectives and KPIs: what a strategist aims for, and how an objective's
//! progress, projection and status are judged.
//!
//! KPIs and their formulas (over the objective's period, in its scope):
//!
//! | KPI | formula |
//! | --- | --- |
//! | `metric:<name>` | the change of a metric (`metric:likes`, `metric:engagements`, `metric:followers`): what was won in the period |
//! | `posts_published` | publications that went out (a post on two channels counts twice) |
//! | `engagement_rate` | engagements ÷ impressions (engagements = likes + reposts + replies + quotes + saves); where the platforms report no impressions, engagements ÷ followers at the period's start |
//! | `follower_growth` | followers won ÷ followers at the period's start |
//! | `response_time` | median first-response time of the inbox items received, in business minutes |
//! | `sentiment_ratio` | positive ÷ (positive + negative) inbox items received |
//! | `share_of_voice` | brand listening hits ÷ (brand + competitor hits) |
//!
//! `metric:` KPIs and `posts_published` add up over time, so their
//! projection to the period's end is the current value scaled by the time
//! left; rates and times are projected as they stand.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::stored_names;

/// How close to the target counts as "at risk" rather than "off track".
pub const RISK_BAND: f64 = 0.1;

/// A number an objective aims at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kpi {
    /// The change of a stored metric, or `engagements`.
    Metric(String),
    /// Publications that went out.
    PostsPublished,
    /// Engagements ÷ impressions.
    EngagementRate,
    /// Followers won ÷ followers at the start.
    FollowerGrowth,
    /// Median first-response time, business minutes.
    ResponseTime,
    /// Positive ÷ (positive + negative) items.
    SentimentRatio,
    /// Brand hits ÷ (brand + competitor) hits.
    ShareOfVoice,
}

/// What an objective covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// The whole workspace.
    Workspace,
    /// One channel.
    Channel,
    /// One campaign's posts.
    Campaign,
}

impl Kpi {
    /// Reads `metric:<name>` or a derived KPI's name.
    pub fn parse(raw: &str) -> Option<Self> {
        if let Some(name) = raw.strip_prefix("metric:") {
            return stored_names(name).map(|_| Self::Metric(name.to_owned()));
        }
        Some(match raw {
            "posts_published" => Self::PostsPublished,
            "engagement_rate" => Self::EngagementRate,
            "follower_growth" => Self::FollowerGrowth,
            "response_time" => Self::ResponseTime,
            "sentiment_ratio" => Self::SentimentRatio,
            "share_of_voice" => Self::ShareOfVoice,
            _ => return None,
        })
    }

    /// As stored and shown.
    pub fn name(&self) -> String {
        match self {
            Self::Metric(name) => format!("metric:{name}"),
            Self::PostsPublished => "posts_published".to_owned(),
            Self::EngagementRate => "engagement_rate".to_owned(),
            Self::FollowerGrowth => "follower_growth".to_owned(),
            Self::ResponseTime => "response_time".to_owned(),
            Self::SentimentRatio => "sentiment_ratio".to_owned(),
            Self::ShareOfVoice => "share_of_voice".to_owned(),
        }
    }

    /// Whether it adds up over time (and so projects by the time left).
    pub fn accumulates(&self) -> bool {
        matches!(self, Self::Metric(_) | Self::PostsPublished)
    }

    /// Whether it can be measured in a scope: the inbox and listening know
    /// channels but not campaigns, and followers belong to accounts.
    pub fn fits(&self, scope: ScopeKind) -> bool {
        match self {
            Self::Metric(_) | Self::PostsPublished | Self::EngagementRate => true,
            Self::FollowerGrowth | Self::ResponseTime | Self::SentimentRatio => {
                scope != ScopeKind::Campaign
            }
            Self::ShareOfVoice => scope == ScopeKind::Workspace,
        }
    }
}

/// Whether the target is a floor or a ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Reach at least the target (likes, growth).
    AtLeast,
    /// Stay at or under the target (response time).
    AtMost,
}

/// Where an objective stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveStatus {
    /// The period has not begun.
    NotStarted,
    /// Nothing to measure yet (no items, no impressions, no followers).
    NoData,
    /// The projection meets the target.
    OnTrack,
    /// The projection misses the target by less than 10 %.
    AtRisk,
    /// The projection misses the target by 10 % or more.
    OffTrack,
    /// The period is over and the target was met.
    Achieved,
    /// The period is over and the target was missed.
    Missed,
}

/// An objective's progress as of some instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The KPI's value so far.
    pub current: Option<f64>,
    /// Its expected value at the period's end.
    pub projected: Option<f64>,
    /// The part of the period gone by, 0–1.
    pub elapsed: f64,
    /// Where it stands.
    pub status: ObjectiveStatus,
}

/// Judges an objective with the KPI's value so far (`current`, measured
/// over `[start, min(now, end))`).
pub fn progress(
    kpi: &Kpi,
    direction: Direction,
    target: f64,
    current: Option<f64>,
    (start, end): (NaiveDateTime, NaiveDateTime),
    now: NaiveDateTime,
) -> Progress {
    let span = (end - start).num_seconds().max(1) as f64;
    let gone = (now.min(end) - start).num_seconds().max(0) as f64;
    let elapsed = (gone / span).clamp(0.0, 1.0);
    if now < start {
        return Progress {
            current: None,
            projected: None,
            elapsed: 0.0,
            status: ObjectiveStatus::NotStarted,
        };
    }
    let projected = current.map(|value| {
        if kpi.accumulates() && elapsed > 0.0 {
            value / elapsed
        } else {
            value
        }
    });
    let meets = |value: f64| match direction {
        Direction::AtLeast => value >= target,
        Direction::AtMost => value <= target,
    };
    let near = |value: f64| {
        let band = target.abs() * RISK_BAND;
        match direction {
            Direction::AtLeast => value >= target - band,
            Direction::AtMost => value <= target + band,
        }
    };
    let status = match (now >= end, current, projected) {
        (true, Some(value), _) if meets(value) => ObjectiveStatus::Achieved,
        (true, Some(_), _) => ObjectiveStatus::Missed,
        (_, None, _) | (false, _, None) => ObjectiveStatus::NoData,
        (false, Some(_), Some(p)) if meets(p) => ObjectiveStatus::OnTrack,
        (false, Some(_), Some(p)) if near(p) => ObjectiveStatus::AtRisk,
        (false, Some(_), Some(_)) => ObjectiveStatus::OffTrack,
    };
    Progress {
        current,
        projected,
        elapsed,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    const NOVEMBER: (&str, &str) = ("2026-11-01 00:00", "2026-12-01 00:00");

    fn judge(
        kpi: &Kpi,
        direction: Direction,
        target: f64,
        current: Option<f64>,
        now: &str,
    ) -> Progress {
        progress(
            kpi,
            direction,
            target,
            current,
            (at(NOVEMBER.0), at(NOVEMBER.1)),
            at(now),
        )
    }

    #[test]
    fn kpis_read_and_name_themselves() {
        for raw in [
            "metric:likes",
            "metric:engagements",
            "metric:x_online_members",
            "posts_published",
            "engagement_rate",
            "follower_growth",
            "response_time",
            "sentiment_ratio",
            "share_of_voice",
        ] {
            assert_eq!(Kpi::parse(raw).map(|k| k.name()), Some(raw.to_owned()));
        }
        for bad in ["metric:fans", "likes", "metric:", "roi"] {
            assert_eq!(Kpi::parse(bad), None, "{bad}");
        }
        assert!(!Kpi::ShareOfVoice.fits(ScopeKind::Channel));
        assert!(!Kpi::ResponseTime.fits(ScopeKind::Campaign));
        assert!(Kpi::EngagementRate.fits(ScopeKind::Campaign));
    }

    #[test]
    fn counts_project_by_the_time_left_and_rates_as_they_stand() {
        let likes = Kpi::Metric("likes".to_owned());
        // A third of the way, 400 of 1,000: on course for 1,200.
        let p = judge(
            &likes,
            Direction::AtLeast,
            1000.0,
            Some(400.0),
            "2026-11-11 00:00",
        );
        assert!((p.elapsed - 1.0 / 3.0).abs() < 1e-9);
        assert!((p.projected.unwrap() - 1200.0).abs() < 1e-6);
        assert_eq!(p.status, ObjectiveStatus::OnTrack);
        // 310 by then projects 930: within 10 %.
        let p = judge(
            &likes,
            Direction::AtLeast,
            1000.0,
            Some(310.0),
            "2026-11-11 00:00",
        );
        assert_eq!(p.status, ObjectiveStatus::AtRisk);
        let p = judge(
            &likes,
            Direction::AtLeast,
            1000.0,
            Some(200.0),
            "2026-11-11 00:00",
        );
        assert_eq!(p.status, ObjectiveStatus::OffTrack);
        // A rate is projected as it stands.
        let p = judge(
            &Kpi::EngagementRate,
            Direction::AtLeast,
            0.05,
            Some(0.046),
            "2026-11-11 00:00",
        );
        assert_eq!(p.projected, Some(0.046));
        assert_eq!(p.status, ObjectiveStatus::AtRisk);
        // A ceiling: 42 minutes against 30 is off track, 32 at risk.
        let rt = Kpi::ResponseTime;
        assert_eq!(
            judge(&rt, Direction::AtMost, 30.0, Some(42.0), "2026-11-20 00:00").status,
            ObjectiveStatus::OffTrack
        );
        assert_eq!(
            judge(&rt, Direction::AtMost, 30.0, Some(32.0), "2026-11-20 00:00").status,
            ObjectiveStatus::AtRisk
        );
        assert_eq!(
            judge(&rt, Direction::AtMost, 30.0, Some(12.0), "2026-11-20 00:00").status,
            ObjectiveStatus::OnTrack
        );
    }

    #[test]
    fn before_after_and_without_data() {
        let likes = Kpi::Metric("likes".to_owned());
        let p = judge(
            &likes,
            Direction::AtLeast,
            10.0,
            Some(0.0),
            "2026-10-20 00:00",
        );
        assert_eq!(p.status, ObjectiveStatus::NotStarted);
        assert_eq!(p.current, None);
        assert_eq!(
            judge(
                &likes,
                Direction::AtLeast,
                10.0,
                Some(12.0),
                "2026-12-05 00:00"
            )
            .status,
            ObjectiveStatus::Achieved
        );
        assert_eq!(
            judge(
                &likes,
                Direction::AtLeast,
                10.0,
                Some(9.0),
                "2026-12-05 00:00"
            )
            .status,
            ObjectiveStatus::Missed
        );
        let p = judge(
            &Kpi::ResponseTime,
            Direction::AtMost,
            30.0,
            None,
            "2026-11-20 00:00",
        );
        assert_eq!(p.status, ObjectiveStatus::NoData);
        assert_eq!(p.elapsed, 19.0 / 30.0);
    }
}
