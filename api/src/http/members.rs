//! Members of a workspace: list, read, change role, remove.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::DbConn;
use crate::db::memberships::{MemberWithUser, MembershipRow};
use crate::db::workspaces::WorkspaceRow;
use crate::domain::ids::{UserId, WorkspaceId, parse_stored};
use crate::domain::roles::{Permission, Role};
use crate::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{IfMatch, Json, Page, PageParams, Paginated, etag};
use crate::http::views::{stored_role, utc};
use crate::state::AppState;

/// A member of a workspace.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The member's account.
    pub user_id: UserId,
    /// Their email.
    pub email: String,
    /// Their display name.
    pub name: String,
    /// Their role in this workspace.
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
    /// Last change of their role.
    pub updated_at: DateTime<Utc>,
}

impl Member {
    fn from_rows((membership, user): MemberWithUser) -> ApiResult<Self> {
        Ok(Self {
            user_id: parse_stored(&user.id).map_err(ApiError::internal)?,
            email: user.email,
            name: user.name,
            role: stored_role(&membership.role)?,
            joined_at: utc(membership.created_at),
            updated_at: utc(membership.updated_at),
        })
    }
}

/// A new role for a member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "strategist"}))]
pub struct UpdateMember {
    /// The role to hold from now on.
    pub role: Role,
}

fn member_response(rows: MemberWithUser) -> ApiResult<HttpResponse> {
    let tag = etag(rows.0.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(Member::from_rows(rows)?))
}

fn load(conn: &mut DbConn, workspace: &str, user: &str) -> ApiResult<MemberWithUser> {
    MembershipRow::find_with_user(conn, workspace, user)?.ok_or(ApiError::NotFound("member"))
}

fn last_owner() -> ApiError {
    ApiError::conflict(
        "last_owner",
        "a workspace must keep at least one owner; make someone else owner first",
    )
}

/// The members of a workspace.
#[utoipa::path(
    tag = "members",
    operation_id = "list_members",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, description = "A page of members, by account id", body = Paginated<Member>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces/{workspace_id}/members")]
pub async fn list_members(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<Member>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::MembersRead)
        .await?;
    let page = Page::from_params(params.into_inner())?;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            MembershipRow::list(conn, &ws, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |(m, _)| m.user_id.clone(), Member::from_rows)
        .map(web::Json)
}

/// One member.
#[utoipa::path(
    tag = "members",
    operation_id = "get_member",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("user_id" = UserId, Path, description = "The member's account id"),
    ),
    responses(
        (status = 200, description = "The member", body = Member,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces/{workspace_id}/members/{user_id}")]
pub async fn get_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, UserId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, user_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MembersRead)
        .await?;
    let (ws, uid) = (access.workspace_id.to_string(), user_id.to_string());
    let rows = state.db.read(move |conn| load(conn, &ws, &uid)).await?;
    member_response(rows)
}

/// Change a member's role.
///
/// Only owners change roles. A workspace never loses its last owner.
#[utoipa::path(
    tag = "members",
    operation_id = "update_member",
    request_body = UpdateMember,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("user_id" = UserId, Path, description = "The member's account id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated", body = Member,
         headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only owners change roles", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would remove the last owner (`last_owner`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the ETag in If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/workspaces/{workspace_id}/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, UserId)>,
    if_match: IfMatch,
    body: Json<UpdateMember>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, user_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::MembersManage)
        .await?;
    let role = body.0.role;
    let (ws, uid) = (access.workspace_id.to_string(), user_id.to_string());
    let rows = state
        .db
        .write(move |conn| {
            WorkspaceRow::lock(conn, &ws)?;
            let (current, _) = load(conn, &ws, &uid)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            if MembershipRow::set_role(conn, &ws, &uid, role.as_str(), Some(current.version))? == 0
            {
                return Err(ApiError::PreconditionFailed);
            }
            if MembershipRow::count_owners(conn, &ws)? == 0 {
                return Err(last_owner());
            }
            load(conn, &ws, &uid)
        })
        .await?;
    member_response(rows)
}

/// Remove a member, or leave a workspace (any member may remove themselves).
#[utoipa::path(
    tag = "members",
    operation_id = "delete_member",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("user_id" = UserId, Path, description = "The member's account id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only owners remove others", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Would remove the last owner (`last_owner`)", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/workspaces/{workspace_id}/members/{user_id}")]
pub async fn delete_member(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, UserId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, user_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::WorkspaceRead)
        .await?;
    let leaving = access.user_id == user_id && matches!(principal, Principal::User { .. });
    if !leaving && !access.can(Permission::MembersManage) {
        return Err(ApiError::forbidden(
            "permission_denied",
            "only owners remove other members",
        ));
    }
    let (ws, uid) = (access.workspace_id.to_string(), user_id.to_string());
    state
        .db
        .write(move |conn| {
            WorkspaceRow::lock(conn, &ws)?;
            if MembershipRow::delete(conn, &ws, &uid)? == 0 {
                return Err(ApiError::NotFound("member"));
            }
            if MembershipRow::count_owners(conn, &ws)? == 0 {
                return Err(last_owner());
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
