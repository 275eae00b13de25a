//! Saved replies: answers written once, with `{{variables}}` filled for
//! each item they answer.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::inbox_rules::SavedReplyRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{SavedReplyId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::domain::saved_replies;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IfMatch, Json, ListQuery, Paginated, etag};
use crate::http::inbox::log::NoFilters;
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// A saved reply.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-5555-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Shipping delay",
    "text": "Hola {{author.first_name}}, sentimos el retraso. Te escribimos por privado.",
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-02-01T10:00:00Z",
    "updated_at": "2026-02-01T10:00:00Z"
}))]
pub struct SavedReply {
    /// Saved reply id.
    pub id: SavedReplyId,
    /// What the team calls it.
    pub name: String,
    /// The text; variables: `{{author.name}}`, `{{author.first_name}}`,
    /// `{{author.handle}}`, `{{channel.name}}`, `{{item.url}}`.
    pub text: String,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl SavedReply {
    fn from_row(row: SavedReplyRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            name: row.name,
            text: row.body,
            created_by: row.created_by,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new saved reply, or the changes to one (absent fields stay).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Shipping delay", "text": "Hola {{author.first_name}}, sentimos el retraso."}))]
pub struct SavedReplyInput {
    /// 1–100 characters (required to create).
    pub name: Option<String>,
    /// 1–5,000 characters, with known variables only (required to create).
    pub text: Option<String>,
}

fn check(input: &SavedReplyInput, creating: bool) -> ApiResult<()> {
    let mut errors = Vec::new();
    match &input.name {
        Some(name) if name.trim().is_empty() || name.chars().count() > 100 => {
            errors.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        None if creating => errors.push(FieldError::new("name", "is required")),
        _ => {}
    }
    match &input.text {
        Some(text) => {
            if let Err(m) = saved_replies::check(text) {
                errors.push(FieldError::new("text", m));
            }
        }
        None if creating => errors.push(FieldError::new("text", "is required")),
        None => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<SavedReplyRow> {
    SavedReplyRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("saved reply"))
}

fn respond(row: SavedReplyRow, created: bool) -> ApiResult<HttpResponse> {
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    if created {
        response.insert_header((
            header::LOCATION,
            format!(
                "/v1/workspaces/{}/saved-replies/{}",
                row.workspace_id, row.id
            ),
        ));
    }
    Ok(response
        .insert_header((header::ETAG, etag(row.version)))
        .json(SavedReply::from_row(row)?))
}

/// Write a saved reply.
#[utoipa::path(
    tag = "saved-replies",
    operation_id = "create_saved_reply",
    request_body = SavedReplyInput,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 201, description = "Saved", body = SavedReply,
         headers(("Location" = String, description = "The saved reply"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/saved-replies")]
pub async fn create_saved_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<SavedReplyInput>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::SavedRepliesManage)
        .await?;
    let body = body.0;
    check(&body, true)?;
    let now = db::now();
    let row = SavedReplyRow {
        id: SavedReplyId::new().to_string(),
        workspace_id: access.workspace_id.to_string(),
        name: body.name.unwrap_or_default().trim().to_owned(),
        body: body.text.unwrap_or_default(),
        version: 1,
        created_by: access.user_id.to_string(),
        created_at: now,
        updated_at: now,
    };
    let row = state
        .db
        .write(move |conn| {
            row.insert(conn)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    respond(row, true)
}

/// The workspace's saved replies, oldest first.
#[utoipa::path(
    tag = "saved-replies",
    operation_id = "list_saved_replies",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), crate::http::extract::PageParams),
    responses(
        (status = 200, description = "A page of saved replies", body = Paginated<SavedReply>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/saved-replies")]
pub async fn list_saved_replies(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<NoFilters>,
) -> ApiResult<web::Json<Paginated<SavedReply>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let page = query.page;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            SavedReplyRow::list(conn, &ws, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), SavedReply::from_row)
        .map(web::Json)
}

/// One saved reply.
#[utoipa::path(
    tag = "saved-replies",
    operation_id = "get_saved_reply",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("saved_reply_id" = SavedReplyId, Path, description = "Saved reply id"),
    ),
    responses(
        (status = 200, description = "The saved reply", body = SavedReply,
         headers(("ETag" = String, description = "Its version, for If-Match"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/saved-replies/{saved_reply_id}")]
pub async fn get_saved_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, SavedReplyId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), id.to_string());
    let row = state.db.read(move |conn| load(conn, &ws, &id)).await?;
    respond(row, false)
}

/// Change a saved reply.
#[utoipa::path(
    tag = "saved-replies",
    operation_id = "update_saved_reply",
    request_body = SavedReplyInput,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("saved_reply_id" = SavedReplyId, Path, description = "Saved reply id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The saved reply as it now is", body = SavedReply,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/saved-replies/{saved_reply_id}")]
pub async fn update_saved_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, SavedReplyId)>,
    if_match: IfMatch,
    body: Json<SavedReplyInput>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::SavedRepliesManage)
        .await?;
    let body = body.0;
    check(&body, false)?;
    let (ws, id) = (access.workspace_id.to_string(), id.to_string());
    let row = state
        .db
        .write(move |conn| {
            let mut row = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(row.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let expected = row.version;
            if let Some(name) = body.name {
                row.name = name.trim().to_owned();
            }
            if let Some(text) = body.text {
                row.body = text;
            }
            row.version += 1;
            row.updated_at = db::now();
            if !row.save(conn, Some(expected))? {
                return Err(ApiError::PreconditionFailed);
            }
            Ok(row)
        })
        .await?;
    respond(row, false)
}

/// Remove a saved reply. Rules that send it skip it from then on (and
/// say so in the moderation log).
#[utoipa::path(
    tag = "saved-replies",
    operation_id = "delete_saved_reply",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("saved_reply_id" = SavedReplyId, Path, description = "Saved reply id"),
    ),
    responses((status = 204, description = "Removed"), ActionProblems)
)]
#[delete("/workspaces/{workspace_id}/saved-replies/{saved_reply_id}")]
pub async fn delete_saved_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, SavedReplyId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::SavedRepliesManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), id.to_string());
    state
        .db
        .write(move |conn| {
            if SavedReplyRow::delete(conn, &ws, &id)? {
                Ok(())
            } else {
                Err(ApiError::NotFound("saved reply"))
            }
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
