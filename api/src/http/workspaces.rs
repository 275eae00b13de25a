//! Workspaces: create, list, read, rename, delete.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::media::MediaRow;
use crate::db::memberships::MembershipRow;
use crate::db::workspaces::{WorkspaceChanges, WorkspaceRow};
use crate::db::{self, DbConn};
use crate::domain::ids::WorkspaceId;
use crate::domain::roles::{Permission, Role};
use crate::domain::settings::{ApprovalPolicy, TimeZone};
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{IdempotencyKey, IfMatch, Json, Page, PageParams, Paginated, etag};
use crate::http::idempotency::{self, Created};
use crate::http::views::{Workspace, stored_role};
use crate::media::library;
use crate::state::AppState;

/// A new workspace.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Coffee"}))]
pub struct CreateWorkspace {
    /// Display name, 1–100 characters.
    pub name: String,
    /// IANA time zone of the calendar and posting slots (default `UTC`).
    pub time_zone: Option<String>,
    /// Who needs approval (default: community managers, one approval).
    pub approval_policy: Option<ApprovalPolicy>,
}

/// Changes to a workspace; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Acme Coffee EU", "time_zone": "Europe/Madrid"}))]
pub struct UpdateWorkspace {
    /// New display name.
    pub name: Option<String>,
    /// New IANA time zone.
    pub time_zone: Option<String>,
    /// New approval policy.
    pub approval_policy: Option<ApprovalPolicy>,
}

fn parse_time_zone(raw: &str) -> ApiResult<TimeZone> {
    TimeZone::parse(raw).map_err(|m| ApiError::invalid_field("time_zone", m))
}

fn check_policy(policy: &ApprovalPolicy) -> ApiResult<()> {
    policy
        .check()
        .map_err(|m| ApiError::invalid_field("approval_policy.approvals_required", m))
}

fn parse_name(raw: &str) -> ApiResult<Name> {
    Name::parse(raw).map_err(|m| ApiError::invalid_field("name", m))
}

/// Reads a workspace the caller has access to.
fn load(conn: &mut DbConn, id: WorkspaceId) -> ApiResult<WorkspaceRow> {
    WorkspaceRow::find(conn, &id.to_string())?.ok_or(ApiError::NotFound("workspace"))
}

fn with_etag(row: WorkspaceRow, role: Role) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(Workspace::from_row(row, role)?))
}

/// Create a workspace; the caller becomes its owner.
#[utoipa::path(
    tag = "workspaces",
    operation_id = "create_workspace",
    request_body = CreateWorkspace,
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again")),
    responses(
        (status = 201, description = "Created", body = Workspace,
         headers(("Location" = String, description = "The new workspace"), ("ETag" = String, description = "Its version"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Same Idempotency-Key still in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workspaces")]
pub async fn create_workspace(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyKey,
    body: Json<CreateWorkspace>,
) -> ApiResult<HttpResponse> {
    let user = principal.user()?;
    let body = body.0;
    let name = parse_name(&body.name)?;
    let time_zone = body.time_zone.as_deref().map(parse_time_zone).transpose()?;
    let policy = body.approval_policy.clone().unwrap_or_default();
    check_policy(&policy)?;
    let fingerprint = ("POST", "/v1/workspaces", &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let row = state
            .db
            .write(move |conn| {
                let now = db::now();
                let row = WorkspaceRow {
                    id: WorkspaceId::new().to_string(),
                    name: name.into_string(),
                    version: 1,
                    created_by: user.to_string(),
                    created_at: now,
                    updated_at: now,
                    time_zone: time_zone.map_or("UTC", TimeZone::name).to_owned(),
                    approval_roles: serde_json::to_string(&policy.roles)
                        .map_err(ApiError::internal)?,
                    approvals_required: i32::try_from(policy.approvals_required).unwrap_or(1),
                };
                row.insert(conn)?;
                MembershipRow {
                    workspace_id: row.id.clone(),
                    user_id: user.to_string(),
                    role: Role::Owner.as_str().to_owned(),
                    version: 1,
                    created_at: now,
                    updated_at: now,
                }
                .insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("/v1/workspaces/{}", row.id);
        let tag = etag(row.version);
        Created::new(Workspace::from_row(row, Role::Owner)?, location)
            .map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// The workspaces the caller belongs to.
#[utoipa::path(
    tag = "workspaces",
    operation_id = "list_workspaces",
    params(PageParams),
    responses(
        (status = 200, description = "A page of workspaces, by id", body = Paginated<Workspace>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Called with an API token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces")]
pub async fn list_workspaces(
    state: web::Data<AppState>,
    principal: Principal,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<Workspace>>> {
    let user = principal.user()?.to_string();
    let page = Page::from_params(params.into_inner())?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db
        .read(move |conn| {
            WorkspaceRow::list_for_user(conn, &user, after.as_deref(), fetch)
                .map_err(ApiError::from)
        })
        .await?;
    page.finish(
        rows,
        |row| row.workspace.id.clone(),
        |row| Workspace::from_row(row.workspace, stored_role(&row.role)?),
    )
    .map(web::Json)
}

/// One workspace.
#[utoipa::path(
    tag = "workspaces",
    operation_id = "get_workspace",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "The workspace", body = Workspace,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces/{workspace_id}")]
pub async fn get_workspace(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WorkspaceRead)
        .await?;
    let id = access.workspace_id;
    let row = state.db.read(move |conn| load(conn, id)).await?;
    with_etag(row, access.role)
}

/// Rename a workspace.
#[utoipa::path(
    tag = "workspaces",
    operation_id = "update_workspace",
    request_body = UpdateWorkspace,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated", body = Workspace,
         headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not update the workspace", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/workspaces/{workspace_id}")]
pub async fn update_workspace(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    if_match: IfMatch,
    body: Json<UpdateWorkspace>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WorkspaceUpdate)
        .await?;
    let body = body.0;
    let mut changes = WorkspaceChanges {
        name: body
            .name
            .as_deref()
            .map(parse_name)
            .transpose()?
            .map(Name::into_string),
        time_zone: body
            .time_zone
            .as_deref()
            .map(parse_time_zone)
            .transpose()?
            .map(|tz| tz.name().to_owned()),
        ..WorkspaceChanges::default()
    };
    if let Some(policy) = &body.approval_policy {
        check_policy(policy)?;
        changes.approval_roles =
            Some(serde_json::to_string(&policy.roles).map_err(ApiError::internal)?);
        changes.approvals_required = i32::try_from(policy.approvals_required).ok();
    }
    let unchanged =
        changes.name.is_none() && changes.time_zone.is_none() && changes.approval_roles.is_none();
    let id = access.workspace_id;
    let row = state
        .db
        .write(move |conn| {
            let current = load(conn, id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            if unchanged {
                return Ok(current);
            }
            WorkspaceRow::update(conn, &current.id, &changes, Some(current.version))?
                .ok_or(ApiError::PreconditionFailed)
        })
        .await?;
    with_etag(row, access.role)
}

/// Delete a workspace and everything in it.
#[utoipa::path(
    tag = "workspaces",
    operation_id = "delete_workspace",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only owners delete workspaces", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/workspaces/{workspace_id}")]
pub async fn delete_workspace(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WorkspaceDelete)
        .await?;
    let id = access.workspace_id;
    let media = state
        .db
        .write(move |conn| {
            let current = load(conn, id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let media = MediaRow::sha256s_of_workspace(conn, &current.id)?;
            WorkspaceRow::delete(conn, &current.id)?;
            Ok(media)
        })
        .await?;
    // The workspace is gone either way; stored bytes left over are only space.
    if let Err(err) = library::forget_unreferenced(&state, media).await {
        tracing::warn!(error = ?err, workspace_id = %id, "media of a deleted workspace were not all removed");
    }
    Ok(HttpResponse::NoContent().finish())
}
