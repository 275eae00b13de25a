//! Workspace API tokens for servers and scripts.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Principal, tokens};
use crate::db;
use crate::db::api_tokens::ApiTokenRow;
use crate::domain::ids::{ApiTokenId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::http::extract::{IdempotencyKey, Json, Page, PageParams, Paginated};
use crate::http::idempotency::{self, Created};
use crate::http::views::utc;
use crate::state::AppState;

/// An API token (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiToken {
    /// Token id.
    pub id: ApiTokenId,
    /// What it is for.
    pub name: String,
    /// What it may do (never more than its creator may).
    pub permissions: Vec<Permission>,
    /// The member who made it.
    pub created_by: UserId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    fn from_row(row: ApiTokenRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            name: row.name,
            permissions: serde_json::from_str(&row.permissions).map_err(ApiError::internal)?,
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            expires_at: row.expires_at.map(utc),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        })
    }
}

/// A new API token.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "publishing bot", "permissions": ["posts:read", "posts:write"]}))]
pub struct CreateApiToken {
    /// What it is for, 1–100 characters.
    pub name: String,
    /// What it may do; each must be allowed to the caller's role.
    pub permissions: Vec<Permission>,
    /// When it stops working; omit for never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// A new API token with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiToken {
    /// The token.
    #[serde(flatten)]
    pub api_token: ApiToken,
    /// The secret: send as `Authorization: Bearer <token>`. Not shown again.
    pub token: String,
}

/// Create an API token scoped to this workspace.
#[utoipa::path(
    tag = "api-tokens",
    operation_id = "create_api_token",
    request_body = CreateApiToken,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Created; the secret is in `token`", body = CreatedApiToken,
         headers(("Location" = String, description = "The token"))),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage tokens, or an API token tried to make one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Same Idempotency-Key still in progress", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, a permission beyond the caller's role, or Idempotency-Key reused", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workspaces/{workspace_id}/api-tokens")]
pub async fn create_api_token(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<CreateApiToken>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ApiTokensManage)
        .await?;
    principal.user()?;
    let body = body.0;
    let mut errors = Vec::new();
    let name = Name::parse(&body.name).map_err(|m| errors.push(FieldError::new("name", m)));
    if body.permissions.is_empty() {
        errors.push(FieldError::new(
            "permissions",
            "must grant at least one permission",
        ));
    }
    for (i, permission) in body.permissions.iter().enumerate() {
        if !access.can(*permission) {
            errors.push(FieldError::new(
                format!("permissions[{i}]"),
                "is not allowed to your role",
            ));
        }
    }
    if body.expires_at.is_some_and(|at| at <= Utc::now()) {
        errors.push(FieldError::new("expires_at", "must be in the future"));
    }
    let name = match name {
        Ok(name) if errors.is_empty() => name,
        _ => return Err(ApiError::Validation(errors)),
    };
    let mut permissions = body.permissions.clone();
    permissions.sort_by_key(|p| Permission::ALL.iter().position(|q| q == p));
    permissions.dedup();
    let path = format!("/v1/workspaces/{}/api-tokens", access.workspace_id);
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let token = tokens::random_token(tokens::API_TOKEN_PREFIX);
        let row = ApiTokenRow {
            id: ApiTokenId::new().to_string(),
            workspace_id: access.workspace_id.to_string(),
            created_by: access.user_id.to_string(),
            name: name.into_string(),
            token_hash: tokens::digest(&token),
            permissions: serde_json::to_string(&permissions).map_err(ApiError::internal)?,
            expires_at: body.expires_at.map(|at| at.naive_utc()),
            last_used_at: None,
            revoked_at: None,
            created_at: db::now(),
        };
        let row = state
            .db
            .write(move |conn| {
                row.insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        let api_token = ApiToken::from_row(row)?;
        Created::new(CreatedApiToken { api_token, token }, location)
    })
    .await
}

/// The workspace's API tokens, live and revoked.
#[utoipa::path(
    tag = "api-tokens",
    operation_id = "list_api_tokens",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, description = "A page of tokens, oldest first", body = Paginated<ApiToken>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage tokens", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workspaces/{workspace_id}/api-tokens")]
pub async fn list_api_tokens(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<ApiToken>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ApiTokensManage)
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
            ApiTokenRow::list(conn, &ws, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), ApiToken::from_row)
        .map(web::Json)
}

/// Revoke an API token; it stops working at once.
#[utoipa::path(
    tag = "api-tokens",
    operation_id = "delete_api_token",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("api_token_id" = ApiTokenId, Path, description = "Token id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Role may not manage tokens", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or token, or already revoked", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "Internal error", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/workspaces/{workspace_id}/api-tokens/{api_token_id}")]
pub async fn delete_api_token(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ApiTokenId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, token_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ApiTokensManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), token_id.to_string());
    let revoked = state
        .db
        .write(move |conn| ApiTokenRow::revoke(conn, &ws, &id).map_err(ApiError::from))
        .await?;
    if revoked == 0 {
        return Err(ApiError::NotFound("api token"));
    }
    Ok(HttpResponse::NoContent().finish())
}
