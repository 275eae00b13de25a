//! The inbox's settings (business hours, SLA targets, the spike policy,
//! reply approval) and the crisis alerts the spike detector raised.

use actix_web::{get, post, put, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::inbox_rules::AlertRow;
use crate::db::{self, workspaces};
use crate::domain::ids::{AlertId, WorkspaceId};
use crate::domain::inbox_settings::InboxSettings;
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{Json, ListQuery, Paginated};
use crate::http::inbox::log::NoFilters;
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::inbox::ingest::settings;
use crate::state::AppState;

/// The workspace's inbox settings.
#[utoipa::path(
    tag = "inbox",
    operation_id = "get_inbox_settings",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The settings (defaults until set)", body = InboxSettings),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/settings")]
pub async fn get_inbox_settings(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
) -> ApiResult<web::Json<InboxSettings>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let ws = access.workspace_id.to_string();
    let settings = state
        .db
        .read(move |conn| settings(conn, &ws).map_err(ApiError::from))
        .await?;
    Ok(web::Json(settings))
}

/// Replace the workspace's inbox settings. New items get SLA due times
/// from the new settings; items already in the inbox keep theirs.
#[utoipa::path(
    tag = "inbox",
    operation_id = "put_inbox_settings",
    request_body = InboxSettings,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The settings as stored", body = InboxSettings),
        WriteProblems,
    )
)]
#[put("/workspaces/{workspace_id}/inbox/settings")]
pub async fn put_inbox_settings(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<InboxSettings>,
) -> ApiResult<web::Json<InboxSettings>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WorkspaceUpdate)
        .await?;
    let settings = body.0;
    let mut errors: Vec<FieldError> = Vec::new();
    if let Err(violations) = settings.business_hours.validate() {
        errors.extend(
            violations.into_iter().map(|(field, message)| {
                FieldError::new(format!("business_hours.{field}"), message)
            }),
        );
    }
    if let Err(violations) = settings.spike_policy.validate() {
        errors.extend(
            violations
                .into_iter()
                .map(|(field, message)| FieldError::new(format!("spike_policy.{field}"), message)),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let json = serde_json::to_string(&settings).map_err(ApiError::internal)?;
    let ws = access.workspace_id.to_string();
    state
        .db
        .write(move |conn| workspaces::set_inbox_settings(conn, &ws, &json).map_err(ApiError::from))
        .await?;
    Ok(web::Json(settings))
}

/// A spike of negative items in one hour.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-aaaa-7d7a-9c1e-2f4b3a5d6e7f",
    "hour_start": "2026-03-01T10:00:00Z",
    "observed": 48,
    "expected": 6.2,
    "z_score": 9.4,
    "item_ids": ["019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f"],
    "created_at": "2026-03-01T11:01:00Z",
    "acknowledged_at": null,
    "acknowledged_by": null
}))]
pub struct InboxAlert {
    /// Alert id.
    pub id: AlertId,
    /// The hour that spiked (UTC).
    pub hour_start: DateTime<Utc>,
    /// Negative items in that hour.
    pub observed: i64,
    /// What the recent baseline expected.
    pub expected: f64,
    /// How many deviations above the baseline.
    pub z_score: f64,
    /// The hour's negative items that drove it (the latest 50).
    pub item_ids: Vec<String>,
    /// When it was raised.
    pub created_at: DateTime<Utc>,
    /// When someone took note of it.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who.
    pub acknowledged_by: Option<String>,
}

impl InboxAlert {
    fn from_row(row: AlertRow) -> ApiResult<Self> {
        Ok(Self {
            id: crate::domain::ids::parse_stored(&row.id).map_err(ApiError::internal)?,
            hour_start: utc(row.hour_start),
            observed: row.observed,
            expected: row.expected,
            z_score: row.z_score,
            item_ids: serde_json::from_str(&row.item_ids).unwrap_or_default(),
            created_at: utc(row.created_at),
            acknowledged_at: row.acknowledged_at.map(utc),
            acknowledged_by: row.acknowledged_by,
        })
    }
}

/// Crisis alerts, newest first.
#[utoipa::path(
    tag = "inbox",
    operation_id = "list_inbox_alerts",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), crate::http::extract::PageParams),
    responses(
        (status = 200, description = "A page of alerts, newest first", body = Paginated<InboxAlert>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/alerts")]
pub async fn list_inbox_alerts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<NoFilters>,
) -> ApiResult<web::Json<Paginated<InboxAlert>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let page = query.page;
    let (ws, before, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            AlertRow::list(conn, &ws, before.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), InboxAlert::from_row)
        .map(web::Json)
}

/// Take note of an alert.
#[utoipa::path(
    tag = "inbox",
    operation_id = "acknowledge_inbox_alert",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("alert_id" = AlertId, Path, description = "Alert id"),
    ),
    responses(
        (status = 200, description = "The alert, acknowledged", body = InboxAlert),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/alerts/{alert_id}/acknowledge")]
pub async fn acknowledge_inbox_alert(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, AlertId)>,
) -> ApiResult<web::Json<InboxAlert>> {
    let (workspace_id, alert_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxReply)
        .await?;
    let (ws, id, user) = (
        access.workspace_id.to_string(),
        alert_id.to_string(),
        access.user_id.to_string(),
    );
    let row = state
        .db
        .write(move |conn| {
            AlertRow::acknowledge(conn, &ws, &id, &user, db::now())?
                .ok_or(ApiError::NotFound("alert"))
        })
        .await?;
    InboxAlert::from_row(row).map(web::Json)
}
