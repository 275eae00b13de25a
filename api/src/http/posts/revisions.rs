//! Every saved edit of a post, and restoring one.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::content::PostContent;
use super::list_under_post;
use super::{check_content, load_row, load_view, save_content, with_etag};
use crate::auth::Principal;
use crate::db::posts::PostRevisionRow;
use crate::domain::ids::{PostId, PostRevisionId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{IfMatch, PageParams, Paginated, etag};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem};
use crate::http::views::utc;
use crate::state::AppState;

/// A post's content as it was after one edit.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostRevision {
    /// Revision id.
    pub id: PostRevisionId,
    /// The post's version this content had.
    pub version: i64,
    /// Who saved it.
    pub author_id: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The content.
    pub content: PostContent,
}

impl PostRevision {
    fn from_row(row: &PostRevisionRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            version: row.version,
            author_id: row
                .author_id
                .as_deref()
                .map(parse_stored)
                .transpose()
                .map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            content: serde_json::from_str(&row.content).map_err(ApiError::internal)?,
        })
    }
}

/// A post's revisions, newest first.
#[utoipa::path(
    tag = "posts",
    operation_id = "list_post_revisions",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        PageParams,
    ),
    responses((status = 200, description = "A page of revisions", body = Paginated<PostRevision>), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}/revisions")]
pub async fn list_post_revisions(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<PostRevision>>> {
    list_under_post(
        &state,
        &principal,
        path.into_inner(),
        params.into_inner(),
        PostRevisionRow::list,
        |row| PostRevision::from_row(&row),
    )
    .await
}

/// Restore a revision: its content becomes the post's content again, as a
/// new edit (and a new revision), under the same rules as any edit.
#[utoipa::path(
    tag = "posts",
    operation_id = "restore_post_revision",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        ("revision_id" = PostRevisionId, Path, description = "Revision id"),
        ("If-Match" = Option<String>, Header, description = "The post's ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Restored", body = super::Post),
        (status = 422, description = "The old content no longer passes the checks (a channel was removed...)", body = crate::error::Problem, content_type = "application/problem+json"),
        ActionProblems,
        StaleProblem,
    )
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/revisions/{revision_id}/restore")]
pub async fn restore_post_revision(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId, PostRevisionId)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id, revision_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsWrite)
        .await?;
    let (ws, id, rev) = (
        access.workspace_id.to_string(),
        post_id.to_string(),
        revision_id.to_string(),
    );
    let (content, version) = {
        let (ws, id) = (ws.clone(), id.clone());
        state
            .db
            .read(move |conn| {
                let post = load_row(conn, &ws, &id)?;
                let revision = PostRevisionRow::find(conn, &id, &rev)?
                    .ok_or(ApiError::NotFound("revision"))?;
                let content: PostContent =
                    serde_json::from_str(&revision.content).map_err(ApiError::internal)?;
                Ok::<_, ApiError>((content, post.version))
            })
            .await?
    };
    if !if_match.allows(&etag(version)) {
        return Err(ApiError::PreconditionFailed);
    }
    let checked = check_content(&state, &ws, content).await?;
    let post = state
        .db
        .write(move |conn| {
            let row = save_content(conn, &access, &id, Some(version), &checked)?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}
