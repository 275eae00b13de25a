//! Internal comments on a post, with @mentions of members.

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::list_under_post;
use super::load_row;
use crate::auth::Principal;
use crate::db::post_comments::PostCommentRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{PostCommentId, PostId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::{Permission, Role};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{IdempotencyKey, Json, PageParams, Paginated};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// A comment to add.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "@grace@acme.example can you check the price?"}))]
pub struct NewPostComment {
    /// 1–5,000 characters. `@email` of a member mentions them.
    pub body: String,
}

/// An internal comment; never published.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostComment {
    /// Comment id.
    pub id: PostCommentId,
    /// Who wrote it.
    pub author_id: UserId,
    /// The text.
    pub body: String,
    /// Members mentioned with `@email`.
    pub mentions: Vec<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl PostComment {
    fn from_row(row: PostCommentRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            author_id: parse_stored(&row.author_id).map_err(ApiError::internal)?,
            body: row.body,
            mentions: serde_json::from_str(&row.mentions).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
        })
    }
}

/// The `@handles` in a text: what follows `@` up to a space, without
/// trailing punctuation, lowercased.
pub fn mentioned_handles(text: &str) -> Vec<String> {
    let mut handles: Vec<String> = Vec::new();
    for (i, _) in text.match_indices('@') {
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| !c.is_whitespace() && c != '(') {
            continue;
        }
        let rest = &text[i + 1..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let handle = rest[..end]
            .trim_end_matches(['.', ',', ';', ':', '!', '?', ')'])
            .to_lowercase();
        if !handle.is_empty() && !handles.contains(&handle) {
            handles.push(handle);
        }
    }
    handles
}

fn mentioned_members(conn: &mut DbConn, ws: &str, body: &str) -> ApiResult<Vec<String>> {
    let handles = mentioned_handles(body);
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let members = db::memberships::MembershipRow::emails_of(conn, ws, &handles)?;
    Ok(members)
}

/// Comment on a post. Members mentioned by `@email` are recorded.
#[utoipa::path(
    tag = "posts",
    operation_id = "create_post_comment",
    request_body = NewPostComment,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key"),
    ),
    responses(
        (status = 201, description = "Added", body = PostComment,
         headers(("Location" = String, description = "The comment"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/comments")]
pub async fn create_post_comment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    key: IdempotencyKey,
    body: Json<NewPostComment>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let body = body.0;
    let text = body.body.trim().to_owned();
    if text.is_empty() || text.chars().count() > 5_000 {
        return Err(ApiError::invalid_field(
            "body",
            "must be 1–5,000 characters",
        ));
    }
    let base = format!(
        "/v1/workspaces/{}/posts/{post_id}/comments",
        access.workspace_id
    );
    let fingerprint = ("POST", &base, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
        let row = state
            .db
            .write(move |conn| {
                load_row(conn, &ws, &id)?;
                let mentions = mentioned_members(conn, &ws, &text)?;
                let row = PostCommentRow {
                    id: PostCommentId::new().to_string(),
                    post_id: id,
                    workspace_id: ws,
                    author_id: access.user_id.to_string(),
                    body: text,
                    mentions: serde_json::to_string(&mentions).map_err(ApiError::internal)?,
                    created_at: db::now(),
                };
                row.insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("{base}/{}", row.id);
        Created::new(PostComment::from_row(row)?, location)
    })
    .await
}

/// A post's comments, oldest first.
#[utoipa::path(
    tag = "posts",
    operation_id = "list_post_comments",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        PageParams,
    ),
    responses((status = 200, description = "A page of comments", body = Paginated<PostComment>), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}/comments")]
pub async fn list_post_comments(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<PostComment>>> {
    list_under_post(
        &state,
        &principal,
        path.into_inner(),
        params.into_inner(),
        PostCommentRow::list,
        PostComment::from_row,
    )
    .await
}

/// Delete a comment: its author may, and owners may delete any.
#[utoipa::path(
    tag = "posts",
    operation_id = "delete_post_comment",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        ("comment_id" = PostCommentId, Path, description = "Comment id"),
    ),
    responses((status = 204, description = "Deleted"), ActionProblems)
)]
#[delete("/workspaces/{workspace_id}/posts/{post_id}/comments/{comment_id}")]
pub async fn delete_post_comment(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId, PostCommentId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id, comment_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let (ws, id, cid) = (
        access.workspace_id.to_string(),
        post_id.to_string(),
        comment_id.to_string(),
    );
    state
        .db
        .write(move |conn| {
            load_row(conn, &ws, &id)?;
            let comment =
                PostCommentRow::find(conn, &id, &cid)?.ok_or(ApiError::NotFound("comment"))?;
            if comment.author_id != access.user_id.to_string() && access.role != Role::Owner {
                return Err(ApiError::forbidden(
                    "not_comment_author",
                    "only its author or an owner deletes a comment",
                ));
            }
            PostCommentRow::delete(conn, &cid)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
mod tests {
    use super::mentioned_handles;

    #[test]
    fn mentions_are_at_handles_after_a_space() {
        assert_eq!(
            mentioned_handles("@Grace@Acme.example, can you check? cc (@lin@acme.example)."),
            vec!["grace@acme.example", "lin@acme.example"]
        );
        assert!(mentioned_handles("mail me at ada@acme.example").is_empty());
        assert_eq!(mentioned_handles("@a @a"), vec!["a"]);
    }
}
