//! Measuring an objective's KPI over its period and scope (the formulas
//! are in [`crate::domain::metrics::kpi`]).

use chrono::NaiveDateTime;

use crate::db::DbConn;
use crate::db::inbox_rules::ListeningQueryRow;
use crate::db::metrics::facts as stored;
use crate::domain::metrics::kpi::{Kpi, ScopeKind};
use crate::domain::metrics::{ENGAGEMENTS, Granularity, GroupBy, Measure, stored_names};
use crate::error::ApiResult;
use crate::metrics::inbox_report::{InboxGroupBy, summarise};
use crate::metrics::report::{self, MetricQuery};
use crate::metrics::share_of_voice;

/// Where an objective looks.
#[derive(Debug, Clone)]
pub struct ObjectiveScope {
    /// The workspace.
    pub workspace_id: String,
    /// Workspace, channel or campaign.
    pub kind: ScopeKind,
    /// The channel's or campaign's id.
    pub id: Option<String>,
}

impl ObjectiveScope {
    fn channel(&self) -> Option<&str> {
        (self.kind == ScopeKind::Channel)
            .then_some(self.id.as_deref())
            .flatten()
    }

    fn campaign(&self) -> Option<&str> {
        (self.kind == ScopeKind::Campaign)
            .then_some(self.id.as_deref())
            .flatten()
    }
}

/// The KPI's value over `[from, to)`; `None` when there is nothing to
/// measure it on (no impressions and no followers, no items, no hits).
pub fn measure(
    conn: &mut DbConn,
    kpi: &Kpi,
    scope: &ObjectiveScope,
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> ApiResult<Option<f64>> {
    let metric = |conn: &mut DbConn, name: &str, measure: Measure| {
        let query = MetricQuery {
            workspace_id: scope.workspace_id.clone(),
            metric: name.to_owned(),
            stored: stored_names(name)
                .unwrap_or_default()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            measure,
            granularity: Granularity::Day,
            group_by: GroupBy::None,
            from,
            to,
            channel_ids: scope.channel().map(|c| vec![c.to_owned()]),
            post_id: None,
            campaign_id: scope.campaign().map(str::to_owned),
            tag: None,
            limit: 1,
        };
        report::run(conn, &query).map(|numbers| numbers.overall)
    };
    let ratio = |part: f64, whole: f64| (whole != 0.0).then(|| part / whole);
    Ok(match kpi {
        Kpi::Metric(name) => Some(metric(conn, name, Measure::Change)?.total),
        Kpi::PostsPublished => Some(stored::count_published(
            conn,
            &scope.workspace_id,
            (from, to),
            scope.channel(),
            scope.campaign(),
        )? as f64),
        Kpi::EngagementRate => {
            let engagements = metric(conn, ENGAGEMENTS, Measure::Change)?.total;
            let impressions = metric(conn, "impressions", Measure::Change)?.total;
            if impressions > 0.0 {
                ratio(engagements, impressions)
            } else if scope.kind == ScopeKind::Campaign {
                None
            } else {
                ratio(
                    engagements,
                    metric(conn, "followers", Measure::Total)?.previous_total,
                )
            }
        }
        Kpi::FollowerGrowth => {
            let followers = metric(conn, "followers", Measure::Total)?;
            ratio(
                followers.total - followers.previous_total,
                followers.previous_total,
            )
        }
        Kpi::ResponseTime | Kpi::SentimentRatio => {
            let mut items = stored::inbox_facts(
                conn,
                &scope.workspace_id,
                from,
                to,
                crate::http::reports::MAX_INBOX_ITEMS,
            )?;
            if let Some(channel) = scope.channel() {
                items.retain(|item| item.channel_id == channel);
            }
            let settings = crate::inbox::ingest::settings(conn, &scope.workspace_id)?;
            let summary = summarise(
                &items,
                &settings.business_hours,
                crate::db::now(),
                InboxGroupBy::None,
                (&[], Granularity::Day),
                &Default::default(),
            );
            let mood = summary.overall.sentiment;
            match kpi {
                Kpi::ResponseTime => summary.overall.first_response_median_minutes,
                _ => ratio(mood.positive as f64, (mood.positive + mood.negative) as f64),
            }
        }
        Kpi::ShareOfVoice => {
            let queries = ListeningQueryRow::all(conn, &scope.workspace_id)?;
            let hits = stored::listening_hits(
                conn,
                &scope.workspace_id,
                from,
                to,
                crate::http::reports::MAX_INBOX_ITEMS,
            )?;
            share_of_voice::summarise(&queries, &hits, &[], Granularity::Day).share
        }
    })
}
