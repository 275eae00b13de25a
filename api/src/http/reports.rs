//! Ready reports: the inbox (volume, response and resolution times, SLA,
//! sentiment trend; per channel, kind or member), share of voice (brand
//! against competitors in the listening hits) and the best time to post
//! (the workspace's own results by local weekday and hour, also as an SVG
//! heatmap).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::inbox_rules::ListeningQueryRow;
use crate::db::metrics::facts as stored;
use crate::db::metrics::report::names;
use crate::db::workspaces::WorkspaceRow;
use crate::domain::charts::{self, Heatmap, Size};
use crate::domain::ids::WorkspaceId;
use crate::domain::metrics::best_time::BestTime;
use crate::domain::metrics::{Granularity, stored_names};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::problems::ReadProblems;
use crate::http::views::utc;
use crate::metrics::inbox_report::{InboxBucket, InboxGroupBy, InboxNumbers, summarise};
use crate::metrics::report::align;
use crate::metrics::share_of_voice::{self, QueryVoice, VoiceBucket};
use crate::state::AppState;

/// Most items one inbox report reads.
pub const MAX_INBOX_ITEMS: i64 = 200_000;
/// Most publications the best-time report reads.
const MAX_PUBLICATIONS: i64 = 50_000;
/// Longest period the best-time report covers.
const MAX_BEST_TIME_DAYS: i64 = 366;

/// What an inbox report asks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxReportQuery {
    /// Items received from (RFC 3339). Required.
    #[param(required = true)]
    pub from: Option<DateTime<Utc>>,
    /// Items received before (RFC 3339). Required.
    #[param(required = true)]
    pub to: Option<DateTime<Utc>>,
    /// Split by `channel`, `kind` or `assignee`; default `none`.
    pub group_by: Option<InboxGroupBy>,
    /// Buckets of the trend (UTC); default `day`.
    pub granularity: Option<Granularity>,
}

/// The inbox over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxReport {
    /// The period's start, aligned to a bucket.
    pub from: DateTime<Utc>,
    /// Its end (exclusive), aligned.
    pub to: DateTime<Utc>,
    /// Every item together.
    pub overall: InboxNumbers,
    /// Per group, most items first (empty without `group_by`).
    pub groups: Vec<InboxNumbers>,
    /// Volume and sentiment per bucket.
    pub trend: Vec<InboxBucket>,
}

fn required<T>(value: Option<T>, field: &str) -> ApiResult<T> {
    value.ok_or_else(|| ApiError::invalid_field(field, "is required"))
}

/// Volume, first-response and resolution times (median and 90th
/// percentile, in business minutes), SLA hit rates and sentiment of the
/// items received in a period, per channel, kind or assigned member, with
/// volume and sentiment per bucket.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_inbox_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), InboxReportQuery),
    responses((status = 200, description = "The report", body = InboxReport), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/reports/inbox")]
pub async fn get_inbox_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<InboxReportQuery>,
) -> ApiResult<web::Json<InboxReport>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MetricsRead)
        .await?;
    let q = params.into_inner();
    let granularity = q.granularity.unwrap_or(Granularity::Day);
    let (from, to, buckets) = align(
        granularity,
        required(q.from, "from")?.naive_utc(),
        required(q.to, "to")?.naive_utc(),
    )?;
    let group_by = q.group_by.unwrap_or(InboxGroupBy::None);
    let ws = access.workspace_id.to_string();
    let summary = state
        .db
        .read(move |conn| {
            let items = stored::inbox_facts(conn, &ws, from, to, MAX_INBOX_ITEMS + 1)?;
            if items.len() > usize::try_from(MAX_INBOX_ITEMS).unwrap_or(usize::MAX) {
                return Err(ApiError::invalid_field(
                    "from",
                    format!("the period holds more than {MAX_INBOX_ITEMS} items; narrow it"),
                ));
            }
            let settings = crate::inbox::ingest::settings(conn, &ws)?;
            let labels = match group_by {
                InboxGroupBy::Channel => names(conn, &ws)?.0,
                InboxGroupBy::Assignee => stored::member_names(conn, &ws)?,
                InboxGroupBy::Kind | InboxGroupBy::None => Default::default(),
            };
            Ok(summarise(
                &items,
                &settings.business_hours,
                crate::db::now(),
                group_by,
                (buckets.as_slice(), granularity),
                &labels,
            ))
        })
        .await?;
    Ok(web::Json(InboxReport {
        from: utc(from),
        to: utc(to),
        overall: summary.overall,
        groups: summary.groups,
        trend: summary.trend,
    }))
}

/// What a best-time report asks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BestTimeQuery {
    /// Posts published from (RFC 3339); default 90 days ago.
    pub from: Option<DateTime<Utc>>,
    /// Posts published before (RFC 3339); default now. At most a year after `from`.
    pub to: Option<DateTime<Utc>>,
    /// The result compared: `engagements` (default) or any metric.
    pub metric: Option<String>,
    /// Fewest posts a slot needs to be ranked (default 2).
    pub min_posts: Option<u32>,
}

/// One weekday × hour.
#[derive(Debug, Serialize, ToSchema)]
pub struct BestTimeSlot {
    /// 0 Monday … 6 Sunday.
    pub weekday: u8,
    /// Local hour, 0–23.
    pub hour: u8,
    /// Posts published then.
    pub posts: u32,
    /// Their average result.
    pub average: f64,
}

/// Results by the local weekday and hour posts went out.
#[derive(Debug, Serialize, ToSchema)]
pub struct BestTimeReport {
    /// The metric compared.
    pub metric: String,
    /// The workspace's time zone, in which weekdays and hours are read.
    pub time_zone: String,
    /// Start of the period.
    pub from: DateTime<Utc>,
    /// End of the period.
    pub to: DateTime<Utc>,
    /// Publications counted.
    pub posts: u32,
    /// The best slots with enough posts, best first (at most 5).
    pub best: Vec<BestTimeSlot>,
    /// Every slot with at least one post.
    pub slots: Vec<BestTimeSlot>,
}

struct BestTimeAnswer {
    report: BestTimeReport,
    grid: BestTime,
}

async fn best_time(
    state: &AppState,
    principal: Principal,
    workspace_id: WorkspaceId,
    q: BestTimeQuery,
) -> ApiResult<BestTimeAnswer> {
    let access = principal
        .access(state, workspace_id, Permission::MetricsRead)
        .await?;
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - Duration::days(90));
    if to <= from {
        return Err(ApiError::invalid_field("to", "must be after from"));
    }
    if to - from > Duration::days(MAX_BEST_TIME_DAYS) {
        return Err(ApiError::invalid_field(
            "to",
            "must be at most a year after from",
        ));
    }
    let metric = q.metric.unwrap_or_else(|| "engagements".to_owned());
    let metrics: Vec<String> = stored_names(&metric)
        .ok_or_else(|| ApiError::invalid_field("metric", "is not a known metric"))?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let min_posts = q.min_posts.unwrap_or(2);
    let ws = access.workspace_id.to_string();
    let (zone, published, results) = state
        .db
        .read(move |conn| {
            let workspace =
                WorkspaceRow::find(conn, &ws)?.ok_or(ApiError::NotFound("workspace"))?;
            let published = stored::published_between(
                conn,
                &ws,
                from.naive_utc(),
                to.naive_utc(),
                MAX_PUBLICATIONS,
            )?;
            let ids: Vec<String> = published.iter().map(|(id, _)| id.clone()).collect();
            let results = stored::latest_per_target(conn, &ids, &metrics)?;
            Ok::<_, ApiError>((workspace.time_zone(), published, results))
        })
        .await?;
    // Publications never read have no result yet: they would pull averages
    // down as zeros, so they are left out.
    let counted: Vec<(DateTime<Utc>, f64)> = published
        .iter()
        .filter_map(|(id, at)| results.get(id).map(|r| (utc(*at), *r)))
        .collect();
    let grid = BestTime::tally(&counted, &zone);
    let slot =
        |(weekday, hour, s): (u8, u8, crate::domain::metrics::best_time::Slot)| BestTimeSlot {
            weekday,
            hour,
            posts: s.posts,
            average: s.average,
        };
    let report = BestTimeReport {
        metric,
        time_zone: zone.name().to_owned(),
        from,
        to,
        posts: u32::try_from(counted.len()).unwrap_or(u32::MAX),
        best: grid.best(5, min_posts).into_iter().map(slot).collect(),
        slots: grid.best(7 * 24, 1).into_iter().map(slot).collect(),
    };
    Ok(BestTimeAnswer { report, grid })
}

/// The workspace's own posts' average result (engagements by default) by
/// the local weekday and hour they were published, and the best slots.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_best_time_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), BestTimeQuery),
    responses((status = 200, description = "The report", body = BestTimeReport), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/reports/best-time")]
pub async fn get_best_time_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<BestTimeQuery>,
) -> ApiResult<web::Json<BestTimeReport>> {
    let answer = best_time(&state, principal, path.into_inner(), params.into_inner()).await?;
    Ok(web::Json(answer.report))
}

/// The best-time report as an SVG heatmap: weekdays down, hours across.
#[utoipa::path(
    tag = "reports",
    operation_id = "chart_best_time_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), BestTimeQuery),
    responses(
        (status = 200, description = "The heatmap", body = String, content_type = "image/svg+xml"),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/reports/best-time.svg")]
pub async fn chart_best_time_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<BestTimeQuery>,
) -> ApiResult<HttpResponse> {
    let BestTimeAnswer { report, grid } =
        best_time(&state, principal, path.into_inner(), params.into_inner()).await?;
    let heatmap = Heatmap {
        title: format!(
            "Average {} per post by weekday and hour ({})",
            report.metric, report.time_zone
        ),
        rows: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            .map(str::to_owned)
            .to_vec(),
        columns: (0..24).map(|h| format!("{h:02}")).collect(),
        values: grid
            .slots
            .iter()
            .map(|row| {
                row.iter()
                    .map(|s| (s.posts > 0).then_some(s.average))
                    .collect()
            })
            .collect(),
    };
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(charts::heatmap(&heatmap, Size::default())))
}

/// What a share-of-voice report asks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ShareOfVoiceQuery {
    /// Hits received from (RFC 3339). Required.
    #[param(required = true)]
    pub from: Option<DateTime<Utc>>,
    /// Hits received before (RFC 3339). Required.
    #[param(required = true)]
    pub to: Option<DateTime<Utc>>,
    /// Buckets of the trend (UTC); default `day`.
    pub granularity: Option<Granularity>,
}

/// The brand's share of the conversation against its competitors.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShareOfVoiceReport {
    /// The period's start, aligned to a bucket.
    pub from: DateTime<Utc>,
    /// Its end (exclusive), aligned.
    pub to: DateTime<Utc>,
    /// Brand hits ÷ (brand + competitor hits); `null` with no hits.
    pub share: Option<f64>,
    /// Per listening query, most hits first.
    pub queries: Vec<QueryVoice>,
    /// Per bucket.
    pub trend: Vec<VoiceBucket>,
}

/// Share of voice: the listening hits of the period by the subject of the
/// query that found them (`brand` against `competitor`; `topic` queries
/// are listed but not counted), per query with its mood, and per bucket.
#[utoipa::path(
    tag = "reports",
    operation_id = "get_share_of_voice_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), ShareOfVoiceQuery),
    responses((status = 200, description = "The report", body = ShareOfVoiceReport), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/reports/share-of-voice")]
pub async fn get_share_of_voice_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<ShareOfVoiceQuery>,
) -> ApiResult<web::Json<ShareOfVoiceReport>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MetricsRead)
        .await?;
    let q = params.into_inner();
    let granularity = q.granularity.unwrap_or(Granularity::Day);
    let (from, to, buckets) = align(
        granularity,
        required(q.from, "from")?.naive_utc(),
        required(q.to, "to")?.naive_utc(),
    )?;
    let ws = access.workspace_id.to_string();
    let voices = state
        .db
        .read(move |conn| {
            let queries = ListeningQueryRow::all(conn, &ws)?;
            let hits = stored::listening_hits(conn, &ws, from, to, MAX_INBOX_ITEMS)?;
            Ok::<_, ApiError>(share_of_voice::summarise(
                &queries,
                &hits,
                &buckets,
                granularity,
            ))
        })
        .await?;
    Ok(web::Json(ShareOfVoiceReport {
        from: utc(from),
        to: utc(to),
        share: voices.share,
        queries: voices.queries,
        trend: voices.trend,
    }))
}
