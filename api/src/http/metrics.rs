//! Metrics: reports of any metric over time (JSON, CSV and SVG), a post's
//! latest numbers, and how collection goes per channel.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::channels::ChannelRow;
use crate::db::metrics as stored;
use crate::db::metrics::collection::CollectionRow;
use crate::db::metrics::report::names;
use crate::db::posts::PostRow;
use crate::domain::charts::{self, Bar, BarChart, Series, Size, TimeSeriesChart};
use crate::domain::ids::{ChannelId, PostId, WorkspaceId};
use crate::domain::metrics::{Granularity, GroupBy, Measure, stored_names};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::problems::{ActionProblems, ReadProblems};
use crate::http::views::utc;
use crate::metrics::collection::{self, CollectionReport};
use crate::metrics::report::{self, GroupNumbers, MetricNumbers, MetricQuery};
use crate::state::AppState;

/// Groups a report answers by default, and at most.
const DEFAULT_GROUPS: usize = 50;
const MAX_GROUPS: usize = 500;
/// Lines one chart draws: the largest groups.
const CHART_LINES: usize = 8;

/// What a metric report asks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MetricReportQuery {
    /// A metric from the vocabulary (`impressions`, `reach`, `likes`,
    /// `reposts`, `replies`, `quotes`, `clicks`, `saves`, `video_views`,
    /// `followers`, `following`, `posts`), a plugin's own `x_…` metric, or
    /// `engagements` (likes + reposts + replies + quotes + saves). Required.
    #[param(required = true)]
    pub metric: Option<String>,
    /// Start (RFC 3339), aligned down to its bucket. Required.
    #[param(required = true)]
    pub from: Option<DateTime<Utc>>,
    /// End (RFC 3339, exclusive), aligned up to a bucket. Required.
    #[param(required = true)]
    pub to: Option<DateTime<Utc>>,
    /// Bucket size (UTC); default `day`. At most 1,000 buckets.
    pub granularity: Option<Granularity>,
    /// `change` (default): what was won or lost in each bucket; `total`:
    /// the count at each bucket's end.
    pub measure: Option<Measure>,
    /// Split by `channel`, `post`, `campaign` or `tag`; default `none`.
    pub group_by: Option<GroupBy>,
    /// Only these channels: ids separated by commas.
    pub channel_ids: Option<String>,
    /// Only this post.
    pub post_id: Option<PostId>,
    /// Only posts of this campaign.
    pub campaign_id: Option<String>,
    /// Only posts with this tag.
    pub tag: Option<String>,
    /// Most groups answered, largest first (1–500, default 50).
    pub limit: Option<usize>,
    /// For `report.svg`: `line` (default, one line per group over time)
    /// or `bar` (one bar per group's total).
    pub chart: Option<ChartKind>,
}

/// How a report is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// One line per group over time.
    Line,
    /// One bar per group's total.
    Bar,
}

/// One group of a report.
#[derive(Debug, Serialize, ToSchema)]
pub struct MetricGroup {
    /// The channel, post or campaign id or the tag; `null` for the whole
    /// scope, posts without a campaign or tag, or account metrics split by post.
    pub key: Option<String>,
    /// What a person calls it.
    pub label: String,
    /// One value per bucket, in the order of `buckets`.
    pub values: Vec<f64>,
    /// Over the period: the sum of the changes, or the total at its end.
    pub total: f64,
    /// The same over the period before, of the same length.
    pub previous_total: f64,
    /// `(total − previous_total) / |previous_total|`; `null` when the
    /// period before had nothing.
    pub change: Option<f64>,
}

impl From<GroupNumbers> for MetricGroup {
    fn from(g: GroupNumbers) -> Self {
        Self {
            key: g.key,
            label: g.label,
            values: g.values,
            total: g.total,
            previous_total: g.previous_total,
            change: g.change,
        }
    }
}

/// A metric over time.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "metric": "likes", "measure": "change", "granularity": "day", "group_by": "channel",
    "from": "2026-11-01T00:00:00Z", "to": "2026-11-03T00:00:00Z",
    "previous_from": "2026-10-30T00:00:00Z",
    "buckets": ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"],
    "overall": {"key": null, "label": "All", "values": [12.0, 30.0], "total": 42.0, "previous_total": 28.0, "change": 0.5},
    "groups": [{"key": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f", "label": "Bluesky", "values": [12.0, 30.0], "total": 42.0, "previous_total": 28.0, "change": 0.5}],
    "omitted_groups": 0
}))]
pub struct MetricReport {
    /// The metric asked for.
    pub metric: String,
    /// What each number means.
    pub measure: Measure,
    /// Bucket size.
    pub granularity: Granularity,
    /// How it is split.
    pub group_by: GroupBy,
    /// The period's start, aligned to a bucket.
    pub from: DateTime<Utc>,
    /// Its end (exclusive), aligned.
    pub to: DateTime<Utc>,
    /// The start of the period before, compared with.
    pub previous_from: DateTime<Utc>,
    /// Each bucket's start.
    pub buckets: Vec<DateTime<Utc>>,
    /// Every group together (a post in two tags counts once).
    pub overall: MetricGroup,
    /// The groups, largest total first.
    pub groups: Vec<MetricGroup>,
    /// Groups left out by `limit`.
    pub omitted_groups: usize,
}

struct Asked {
    query: MetricQuery,
    chart: ChartKind,
}

fn asked(workspace_id: &WorkspaceId, q: MetricReportQuery) -> ApiResult<Asked> {
    let metric = q
        .metric
        .ok_or_else(|| ApiError::invalid_field("metric", "is required"))?;
    let stored = stored_names(&metric)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "metric",
                "is not a metric of the vocabulary, an x_ metric or engagements",
            )
        })?
        .into_iter()
        .map(str::to_owned)
        .collect();
    let from = q
        .from
        .ok_or_else(|| ApiError::invalid_field("from", "is required"))?;
    let to =
        q.to.ok_or_else(|| ApiError::invalid_field("to", "is required"))?;
    let limit = q.limit.unwrap_or(DEFAULT_GROUPS);
    if !(1..=MAX_GROUPS).contains(&limit) {
        return Err(ApiError::invalid_field(
            "limit",
            format!("must be between 1 and {MAX_GROUPS}"),
        ));
    }
    let channel_ids = q
        .channel_ids
        .map(|list| {
            list.split(',')
                .map(|id| {
                    id.trim()
                        .parse::<ChannelId>()
                        .map(|id| id.to_string())
                        .map_err(|_| ApiError::invalid_field("channel_ids", "holds a malformed id"))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .transpose()?;
    Ok(Asked {
        query: MetricQuery {
            workspace_id: workspace_id.to_string(),
            metric,
            stored,
            measure: q.measure.unwrap_or(Measure::Change),
            granularity: q.granularity.unwrap_or(Granularity::Day),
            group_by: q.group_by.unwrap_or(GroupBy::None),
            from: from.naive_utc(),
            to: to.naive_utc(),
            channel_ids,
            post_id: q.post_id.map(|id| id.to_string()),
            campaign_id: q.campaign_id,
            tag: q.tag,
            limit,
        },
        chart: q.chart.unwrap_or(ChartKind::Line),
    })
}

async fn answer(
    state: &AppState,
    principal: Principal,
    workspace_id: WorkspaceId,
    params: MetricReportQuery,
    permission: Permission,
) -> ApiResult<(Asked, MetricNumbers)> {
    let access = principal.access(state, workspace_id, permission).await?;
    let asked = asked(&access.workspace_id, params)?;
    // Checked before the database is asked, so a bad range is a 422 at once.
    report::align(asked.query.granularity, asked.query.from, asked.query.to)?;
    let query = asked.query.clone();
    let numbers = state.db.read(move |conn| report::run(conn, &query)).await?;
    Ok((asked, numbers))
}

fn to_report(query: &MetricQuery, numbers: MetricNumbers) -> MetricReport {
    MetricReport {
        metric: query.metric.clone(),
        measure: query.measure,
        granularity: query.granularity,
        group_by: query.group_by,
        from: utc(numbers.from),
        to: utc(numbers.to),
        previous_from: utc(numbers.previous_from),
        buckets: numbers.buckets.into_iter().map(utc).collect(),
        overall: numbers.overall.into(),
        groups: numbers.groups.into_iter().map(Into::into).collect(),
        omitted_groups: numbers.omitted_groups,
    }
}

/// A metric over time, split into buckets and optionally into groups
/// (channel, post, campaign, tag), with the period before for comparison.
/// Reads the roll-ups of the report's granularity (hourly ones are kept for
/// `metrics_hourly_retention_days`, the others for good).
#[utoipa::path(
    tag = "metrics",
    operation_id = "get_metric_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), MetricReportQuery),
    responses((status = 200, description = "The report", body = MetricReport), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/metrics/report")]
pub async fn get_metric_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<MetricReportQuery>,
) -> ApiResult<web::Json<MetricReport>> {
    let (asked, numbers) = answer(
        &state,
        principal,
        path.into_inner(),
        params.into_inner(),
        Permission::MetricsRead,
    )
    .await?;
    Ok(web::Json(to_report(&asked.query, numbers)))
}

/// The same report as CSV, one row per group and bucket:
/// `bucket,group_key,group_label,value`.
#[utoipa::path(
    tag = "metrics",
    operation_id = "export_metric_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), MetricReportQuery),
    responses(
        (status = 200, description = "The report as CSV",
         body = String, content_type = "text/csv",
         example = json!("bucket,group_key,group_label,value\n2026-11-01T00:00:00Z,,All,12\n")),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/metrics/report.csv")]
pub async fn export_metric_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<MetricReportQuery>,
) -> ApiResult<HttpResponse> {
    let (asked, numbers) = answer(
        &state,
        principal,
        path.into_inner(),
        params.into_inner(),
        Permission::ReportsExport,
    )
    .await?;
    let csv = report_csv(&numbers).map_err(ApiError::internal)?;
    let name = format!(
        "{}-{}-{}.csv",
        asked.query.metric,
        numbers.from.format("%Y%m%d"),
        numbers.to.format("%Y%m%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .body(csv))
}

fn report_csv(numbers: &MetricNumbers) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(["bucket", "group_key", "group_label", "value"])?;
    let groups: Vec<&GroupNumbers> = if numbers.groups.is_empty() {
        vec![&numbers.overall]
    } else {
        numbers.groups.iter().collect()
    };
    for group in groups {
        for (bucket, value) in numbers.buckets.iter().zip(&group.values) {
            out.write_record([
                utc(*bucket).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                group.key.clone().unwrap_or_default(),
                spreadsheet_safe(&group.label),
                value.to_string(),
            ])?;
        }
    }
    Ok(out.into_inner()?)
}

/// A label that a spreadsheet will not run as a formula.
fn spreadsheet_safe(label: &str) -> String {
    if label.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{label}")
    } else {
        label.to_owned()
    }
}

/// The same report drawn as SVG, for an `<img>`: one line per group (the
/// eight largest) over time, or one bar per group's total (`chart=bar`).
#[utoipa::path(
    tag = "metrics",
    operation_id = "chart_metric_report",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), MetricReportQuery),
    responses(
        (status = 200, description = "The chart", body = String, content_type = "image/svg+xml"),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/metrics/report.svg")]
pub async fn chart_metric_report(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<MetricReportQuery>,
) -> ApiResult<HttpResponse> {
    let (asked, numbers) = answer(
        &state,
        principal,
        path.into_inner(),
        params.into_inner(),
        Permission::MetricsRead,
    )
    .await?;
    let query = &asked.query;
    let measure = match query.measure {
        Measure::Change => "change",
        Measure::Total => "total",
    };
    let title = format!(
        "{} ({measure}), {} to {}",
        query.metric,
        numbers.from.format("%Y-%m-%d"),
        numbers.to.format("%Y-%m-%d")
    );
    let groups: Vec<&GroupNumbers> = if numbers.groups.is_empty() {
        vec![&numbers.overall]
    } else {
        numbers.groups.iter().collect()
    };
    let svg = match asked.chart {
        ChartKind::Line => charts::line(
            &TimeSeriesChart {
                title,
                y_label: Some(query.metric.clone()),
                series: groups
                    .iter()
                    .take(CHART_LINES)
                    .map(|g| Series {
                        name: g.label.clone(),
                        points: numbers
                            .buckets
                            .iter()
                            .map(|b| utc(*b))
                            .zip(g.values.iter().copied())
                            .collect(),
                    })
                    .collect(),
            },
            Size::default(),
        ),
        ChartKind::Bar => charts::bars(
            &BarChart {
                title,
                y_label: Some(query.metric.clone()),
                bars: groups
                    .iter()
                    .map(|g| Bar {
                        label: g.label.clone(),
                        value: g.total,
                    })
                    .collect(),
            },
            Size::default(),
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(svg))
}

/// A post's latest numbers on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostChannelMetrics {
    /// The channel.
    pub channel_id: ChannelId,
    /// Metric name → latest value.
    pub values: BTreeMap<String, f64>,
    /// When the newest of them was read.
    pub measured_at: DateTime<Utc>,
}

/// A post's latest numbers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "post_id": "019a5b8e-1111-7d7a-9c1e-2f4b3a5d6e7f",
    "totals": {"likes": 14.0, "replies": 3.0},
    "channels": [{"channel_id": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f", "values": {"likes": 14.0, "replies": 3.0}, "measured_at": "2026-11-02T10:00:00Z"}]
}))]
pub struct PostMetrics {
    /// The post.
    pub post_id: PostId,
    /// Metric name → the sum over its channels.
    pub totals: BTreeMap<String, f64>,
    /// Per channel it was published on (once read).
    pub channels: Vec<PostChannelMetrics>,
}

/// A post's latest metrics per channel, and their sums.
#[utoipa::path(
    tag = "metrics",
    operation_id = "get_post_metrics",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "The post's numbers", body = PostMetrics), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}/metrics")]
pub async fn get_post_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<web::Json<PostMetrics>> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MetricsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    let series = state
        .db
        .read(move |conn| {
            PostRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("post"))?;
            stored::post_latest(conn, &ws, &id).map_err(ApiError::from)
        })
        .await?;
    let mut totals = BTreeMap::new();
    let mut channels: Vec<PostChannelMetrics> = Vec::new();
    for row in series {
        *totals.entry(row.metric.clone()).or_insert(0.0) += row.last_value;
        let channel_id: ChannelId = row.channel_id.parse().map_err(ApiError::internal)?;
        let at = utc(row.last_at);
        match channels.last_mut() {
            Some(last) if last.channel_id == channel_id => {
                last.values.insert(row.metric, row.last_value);
                last.measured_at = last.measured_at.max(at);
            }
            _ => channels.push(PostChannelMetrics {
                channel_id,
                values: BTreeMap::from([(row.metric, row.last_value)]),
                measured_at: at,
            }),
        }
    }
    Ok(web::Json(PostMetrics {
        post_id,
        totals,
        channels,
    }))
}

/// How collection goes for one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelCollection {
    /// The channel.
    pub channel_id: ChannelId,
    /// Its name.
    pub channel_name: String,
    /// `ok`, `failing` (the last attempt failed) or `never` (not tried yet).
    pub health: CollectionHealth,
    /// The last attempt.
    pub attempted_at: Option<DateTime<Utc>>,
    /// The last attempt that read everything it tried.
    pub succeeded_at: Option<DateTime<Utc>>,
    /// When the account's metrics were last read.
    pub account_collected_at: Option<DateTime<Utc>>,
    /// What went wrong on the last attempt.
    pub error: Option<String>,
    /// Failed attempts in a row.
    pub failures: i32,
}

/// Whether a channel's metrics arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CollectionHealth {
    /// The last attempt read everything.
    Ok,
    /// The last attempt failed.
    Failing,
    /// Not attempted yet.
    Never,
}

/// Every channel's metric collection: when it last ran, when it last
/// worked, and what went wrong.
#[utoipa::path(
    tag = "metrics",
    operation_id = "list_metric_collections",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "One entry per channel", body = Vec<ChannelCollection>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/metrics/collection")]
pub async fn list_metric_collections(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
) -> ApiResult<web::Json<Vec<ChannelCollection>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MetricsRead)
        .await?;
    let ws = access.workspace_id.to_string();
    let (channels, rows) = state
        .db
        .read(move |conn| {
            let (channels, _) = names(conn, &ws)?;
            Ok::<_, ApiError>((channels, CollectionRow::all(conn, &ws)?))
        })
        .await?;
    let mut rows: BTreeMap<String, CollectionRow> = rows
        .into_iter()
        .map(|r| (r.channel_id.clone(), r))
        .collect();
    let mut out = Vec::with_capacity(channels.len());
    let mut channels: Vec<(String, String)> = channels.into_iter().collect();
    channels.sort();
    for (id, name) in channels {
        let row = rows.remove(&id);
        out.push(ChannelCollection {
            channel_id: id.parse().map_err(ApiError::internal)?,
            channel_name: name,
            health: match &row {
                None => CollectionHealth::Never,
                Some(r) if r.error.is_some() => CollectionHealth::Failing,
                Some(_) => CollectionHealth::Ok,
            },
            attempted_at: row.as_ref().map(|r| utc(r.attempted_at)),
            succeeded_at: row.as_ref().and_then(|r| r.succeeded_at).map(utc),
            account_collected_at: row.as_ref().and_then(|r| r.account_collected_at).map(utc),
            failures: row.as_ref().map_or(0, |r| r.failures),
            error: row.and_then(|r| r.error),
        });
    }
    Ok(web::Json(out))
}

/// Read a channel's metrics now: the account's and every post's of the
/// last 30 days, whether due or not. Answers what was read.
#[utoipa::path(
    tag = "metrics",
    operation_id = "collect_channel_metrics",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "What was read", body = CollectionReport),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/{channel_id}/metrics/collect")]
pub async fn collect_channel_metrics(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<web::Json<CollectionReport>> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ChannelsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    let channel = state
        .db
        .read(move |conn| ChannelRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("channel")))
        .await?;
    if channel.status != "connected" {
        return Err(ApiError::conflict(
            "channel_not_connected",
            format!(
                "the channel is {}; only connected channels are read",
                channel.status
            ),
        ));
    }
    Ok(web::Json(
        collection::collect(&state, &channel.id, true).await?,
    ))
}
