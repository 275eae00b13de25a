//! Objectives: what the strategist aims for — a KPI, a target, a period
//! and a scope — with progress, a projection to the period's end and a
//! status computed whenever one is read.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::metrics::report::names;
use crate::db::objectives::ObjectiveRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{ObjectiveId, WorkspaceId, parse_stored};
use crate::domain::metrics::kpi::{Direction, Kpi, ObjectiveStatus, ScopeKind, progress};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IdempotencyKey, IfMatch, Json, Page, PageParams, Paginated, etag};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::metrics::objectives::{ObjectiveScope, measure};
use crate::state::AppState;

/// Most objectives a workspace may have.
const MAX_OBJECTIVES: i64 = 500;
/// Longest period of an objective, in days.
const MAX_PERIOD_DAYS: i64 = 732;

/// The KPI formulas, as the API reference shows them.
const KPI_DOC: &str = "`metric:<name>`: the change of a metric over the period (`metric:likes`, `metric:engagements`, `metric:followers`); `posts_published`: publications that went out; `engagement_rate`: engagements (likes + reposts + replies + quotes + saves) ÷ impressions, or ÷ followers at the period's start where no impressions are reported; `follower_growth`: followers won ÷ followers at the start; `response_time`: median first-response time of the inbox items received, in business minutes; `sentiment_ratio`: positive ÷ (positive + negative) inbox items; `share_of_voice`: brand listening hits ÷ (brand + competitor hits).";

/// An objective's progress, as of when it was read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectiveProgress {
    /// The KPI so far (`null` before the period or with nothing to measure).
    pub current: Option<f64>,
    /// Its projection to the period's end: counts scaled by the time left,
    /// rates and times as they stand.
    pub projected: Option<f64>,
    /// The part of the period gone by, 0–1.
    pub elapsed: f64,
    /// Where it stands: within 10 % of the target is `at_risk`.
    pub status: ObjectiveStatus,
    /// When this was computed.
    pub measured_at: DateTime<Utc>,
}

/// An objective.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-7777-7d7a-9c1e-2f4b3a5d6e7f", "name": "Answer fast in November",
    "kpi": "response_time", "target": 30.0, "direction": "at_most",
    "starts_on": "2026-11-01", "ends_on": "2026-11-30", "scope": "workspace", "scope_id": null,
    "progress": {"current": 24.5, "projected": 24.5, "elapsed": 0.8, "status": "on_track", "measured_at": "2026-11-25T10:00:00Z"},
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-10-30T09:00:00Z", "updated_at": "2026-10-30T09:00:00Z"
}))]
pub struct Objective {
    /// Objective id.
    pub id: ObjectiveId,
    /// What the team calls it.
    pub name: String,
    /// The KPI measured.
    pub kpi: String,
    /// The number aimed at.
    pub target: f64,
    /// Whether the target is a floor or a ceiling.
    pub direction: Direction,
    /// First day (UTC).
    pub starts_on: NaiveDate,
    /// Last day (UTC), included.
    pub ends_on: NaiveDate,
    /// What it covers.
    pub scope: ScopeKind,
    /// The channel's or campaign's id.
    pub scope_id: Option<String>,
    /// Where it stands now.
    pub progress: ObjectiveProgress,
    /// Who set it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A new objective, or changes to one (absent fields stay).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Answer fast in November", "kpi": "response_time", "target": 30, "starts_on": "2026-11-01", "ends_on": "2026-11-30"}))]
pub struct ObjectiveInput {
    /// 1–100 characters (required to create).
    pub name: Option<String>,
    /// The KPI (required to create). `metric:<name>`: the change of a
    /// metric over the period (`metric:likes`, `metric:engagements`,
    /// `metric:followers`); `posts_published`: publications that went out;
    /// `engagement_rate`: engagements (likes + reposts + replies + quotes +
    /// saves) ÷ impressions, or ÷ followers at the period's start where no
    /// impressions are reported; `follower_growth`: followers won ÷
    /// followers at the start; `response_time`: median first-response time
    /// of the inbox items received, in business minutes;
    /// `sentiment_ratio`: positive ÷ (positive + negative) inbox items;
    /// `share_of_voice`: brand listening hits ÷ (brand + competitor hits).
    pub kpi: Option<String>,
    /// The number aimed at (required to create); rates as fractions (0.05
    /// is 5 %).
    pub target: Option<f64>,
    /// Default `at_most` for `response_time`, else `at_least`.
    pub direction: Option<Direction>,
    /// First day (UTC; required to create).
    pub starts_on: Option<NaiveDate>,
    /// Last day (UTC, included; required to create); at most two years on.
    pub ends_on: Option<NaiveDate>,
    /// Default `workspace`. `share_of_voice` is workspace-wide; inbox KPIs
    /// and follower growth cannot be scoped to a campaign.
    pub scope: Option<ScopeKind>,
    /// The channel's or campaign's id (with those scopes).
    pub scope_id: Option<String>,
}

fn stored_enum<T: serde::de::DeserializeOwned>(raw: &str) -> ApiResult<T> {
    serde_json::from_value(serde_json::Value::String(raw.to_owned())).map_err(ApiError::internal)
}

/// Checks a row as it would be stored, against the workspace's channels
/// and campaigns.
fn check(conn: &mut DbConn, row: &ObjectiveRow) -> ApiResult<()> {
    let mut errors = Vec::new();
    let name = row.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.push(FieldError::new("name", "must be 1 to 100 characters"));
    }
    let kpi = Kpi::parse(&row.kpi);
    if kpi.is_none() {
        errors.push(FieldError::new("kpi", format!("is not a KPI: {KPI_DOC}")));
    }
    if !row.target.is_finite() {
        errors.push(FieldError::new("target", "must be a number"));
    }
    if row.ends_on < row.starts_on {
        errors.push(FieldError::new("ends_on", "must not be before starts_on"));
    } else if row.ends_on - row.starts_on > Duration::days(MAX_PERIOD_DAYS) {
        errors.push(FieldError::new(
            "ends_on",
            "must be at most two years after starts_on",
        ));
    }
    let scope: ScopeKind = stored_enum(&row.scope)?;
    if let Some(kpi) = &kpi
        && !kpi.fits(scope)
    {
        errors.push(FieldError::new(
            "scope",
            format!("{} cannot be measured for a {}", kpi.name(), row.scope),
        ));
    }
    let (channels, campaigns) = names(conn, &row.workspace_id)?;
    match (scope, &row.scope_id) {
        (ScopeKind::Workspace, None) => {}
        (ScopeKind::Workspace, Some(_)) => {
            errors.push(FieldError::new(
                "scope_id",
                "is only for channel or campaign scopes",
            ));
        }
        (_, None) => errors.push(FieldError::new("scope_id", "is required for this scope")),
        (ScopeKind::Channel, Some(id)) if !channels.contains_key(id) => {
            errors.push(FieldError::new(
                "scope_id",
                "is not a channel of the workspace",
            ));
        }
        (ScopeKind::Campaign, Some(id)) if !campaigns.contains_key(id) => {
            errors.push(FieldError::new(
                "scope_id",
                "is not a campaign of the workspace",
            ));
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Applies input to a row (all of it, for a new one).
fn apply(row: &mut ObjectiveRow, input: ObjectiveInput) {
    if let Some(name) = input.name {
        row.name = name.trim().to_owned();
    }
    if let Some(kpi) = input.kpi {
        row.kpi = kpi;
    }
    if let Some(target) = input.target {
        row.target = target;
    }
    if let Some(direction) = input.direction {
        row.direction = direction_name(direction).to_owned();
    }
    if let Some(starts_on) = input.starts_on {
        row.starts_on = starts_on;
    }
    if let Some(ends_on) = input.ends_on {
        row.ends_on = ends_on;
    }
    if let Some(scope) = input.scope {
        row.scope = scope_name(scope).to_owned();
        if scope == ScopeKind::Workspace {
            row.scope_id = None;
        }
    }
    if input.scope_id.is_some() {
        row.scope_id = input.scope_id;
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::AtLeast => "at_least",
        Direction::AtMost => "at_most",
    }
}

fn scope_name(scope: ScopeKind) -> &'static str {
    match scope {
        ScopeKind::Workspace => "workspace",
        ScopeKind::Channel => "channel",
        ScopeKind::Campaign => "campaign",
    }
}

/// Measures and judges a stored objective now.
fn view(conn: &mut DbConn, row: ObjectiveRow) -> ApiResult<Objective> {
    let kpi = Kpi::parse(&row.kpi)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored KPI {:?}", row.kpi)))?;
    let direction: Direction = stored_enum(&row.direction)?;
    let scope: ScopeKind = stored_enum(&row.scope)?;
    let now = db::now();
    let start = row.starts_on.and_time(NaiveTime::MIN);
    let end = (row.ends_on + Duration::days(1)).and_time(NaiveTime::MIN);
    let current = if now > start {
        let objective_scope = ObjectiveScope {
            workspace_id: row.workspace_id.clone(),
            kind: scope,
            id: row.scope_id.clone(),
        };
        measure(conn, &kpi, &objective_scope, (start, now.min(end)))?
    } else {
        None
    };
    let judged = progress(&kpi, direction, row.target, current, (start, end), now);
    Ok(Objective {
        id: parse_stored(&row.id).map_err(ApiError::internal)?,
        name: row.name,
        kpi: row.kpi,
        target: row.target,
        direction,
        starts_on: row.starts_on,
        ends_on: row.ends_on,
        scope,
        scope_id: row.scope_id,
        progress: ObjectiveProgress {
            current: judged.current,
            projected: judged.projected,
            elapsed: judged.elapsed,
            status: judged.status,
            measured_at: utc(now),
        },
        created_by: row.created_by,
        created_at: utc(row.created_at),
        updated_at: utc(row.updated_at),
    })
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<ObjectiveRow> {
    ObjectiveRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("objective"))
}

fn with_etag(version: i64, objective: Objective) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(objective)
}

/// Set an objective. Its progress is measured whenever it is read.
#[utoipa::path(
    tag = "objectives",
    operation_id = "create_objective",
    request_body = ObjectiveInput,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Set", body = Objective,
         headers(("Location" = String, description = "The objective"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/objectives")]
pub async fn create_objective(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<ObjectiveInput>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ObjectivesManage)
        .await?;
    let input = body.0;
    let mut missing = Vec::new();
    for (field, absent) in [
        ("name", input.name.is_none()),
        ("kpi", input.kpi.is_none()),
        ("target", input.target.is_none()),
        ("starts_on", input.starts_on.is_none()),
        ("ends_on", input.ends_on.is_none()),
    ] {
        if absent {
            missing.push(FieldError::new(field, "is required"));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::Validation(missing));
    }
    let path = format!("/v1/workspaces/{}/objectives", access.workspace_id);
    let fingerprint = ("POST", &path, &input);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let now = db::now();
        let direction = match input.kpi.as_deref() {
            Some("response_time") => Direction::AtMost,
            _ => Direction::AtLeast,
        };
        let mut row = ObjectiveRow {
            id: ObjectiveId::new().to_string(),
            workspace_id: access.workspace_id.to_string(),
            name: String::new(),
            kpi: String::new(),
            target: 0.0,
            direction: direction_name(direction).to_owned(),
            starts_on: now.date(),
            ends_on: now.date(),
            scope: scope_name(ScopeKind::Workspace).to_owned(),
            scope_id: None,
            created_by: access.user_id.to_string(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        apply(&mut row, input.clone());
        let objective = state
            .db
            .write(move |conn| {
                check(conn, &row)?;
                if ObjectiveRow::count(conn, &row.workspace_id)? >= MAX_OBJECTIVES {
                    return Err(ApiError::conflict(
                        "too_many_objectives",
                        format!("a workspace has at most {MAX_OBJECTIVES} objectives"),
                    ));
                }
                row.insert(conn)?;
                view(conn, row)
            })
            .await?;
        let location = format!("{path}/{}", objective.id);
        Created::new(objective, location).map(|c| c.header(&header::ETAG, etag(1)))
    })
    .await
}

/// The workspace's objectives, oldest first, each with its progress now.
#[utoipa::path(
    tag = "objectives",
    operation_id = "list_objectives",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, description = "A page of objectives", body = Paginated<Objective>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/objectives")]
pub async fn list_objectives(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<Objective>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MetricsRead)
        .await?;
    let page = Page::from_params(params.into_inner())?;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let objectives = state
        .db
        .read(move |conn| {
            let rows = ObjectiveRow::page(conn, &ws, after.as_deref(), fetch)?;
            rows.into_iter()
                .map(|row| {
                    let id = row.id.clone();
                    view(conn, row).map(|o| (id, o))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .await?;
    page.finish(objectives, |(id, _)| id.clone(), |(_, o)| Ok(o))
        .map(web::Json)
}

/// One objective, with its progress now.
#[utoipa::path(
    tag = "objectives",
    operation_id = "get_objective",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("objective_id" = ObjectiveId, Path, description = "Objective id"),
    ),
    responses(
        (status = 200, description = "The objective", body = Objective,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/objectives/{objective_id}")]
pub async fn get_objective(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ObjectiveId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, objective_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MetricsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), objective_id.to_string());
    let (version, objective) = state
        .db
        .read(move |conn| {
            let row = load(conn, &ws, &id)?;
            Ok::<_, ApiError>((row.version, view(conn, row)?))
        })
        .await?;
    Ok(with_etag(version, objective))
}

/// Change an objective: name, KPI, target, direction, period or scope.
#[utoipa::path(
    tag = "objectives",
    operation_id = "update_objective",
    request_body = ObjectiveInput,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("objective_id" = ObjectiveId, Path, description = "Objective id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The objective as it now is", body = Objective,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/objectives/{objective_id}")]
pub async fn update_objective(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ObjectiveId)>,
    if_match: IfMatch,
    body: Json<ObjectiveInput>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, objective_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ObjectivesManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), objective_id.to_string());
    let input = body.0;
    let (version, objective) = state
        .db
        .write(move |conn| {
            let mut row = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(row.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let was = row.version;
            apply(&mut row, input);
            check(conn, &row)?;
            row.version = was + 1;
            row.updated_at = db::now();
            if !row.save(conn, was)? {
                return Err(ApiError::PreconditionFailed);
            }
            Ok((row.version, view(conn, row)?))
        })
        .await?;
    Ok(with_etag(version, objective))
}

/// Remove an objective.
#[utoipa::path(
    tag = "objectives",
    operation_id = "delete_objective",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("objective_id" = ObjectiveId, Path, description = "Objective id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; fails with 412 if it changed since"),
    ),
    responses((status = 204, description = "Removed"), ActionProblems, StaleProblem)
)]
#[delete("/workspaces/{workspace_id}/objectives/{objective_id}")]
pub async fn delete_objective(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ObjectiveId)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (workspace_id, objective_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ObjectivesManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), objective_id.to_string());
    state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            ObjectiveRow::delete(conn, &ws, &id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
