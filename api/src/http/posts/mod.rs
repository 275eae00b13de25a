//! Posts: one message with a variant per target channel, its workflow,
//! revisions, internal comments and bulk import.

pub mod comments;
pub mod content;
pub mod import;
pub mod lookups;
pub mod revisions;
pub mod workflow;

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::activity;
use crate::auth::{Principal, WorkspaceAccess};
use crate::db::post_comments::PostCommentRow;
use crate::db::posts::{
    PostChanges, PostFilter, PostRevisionRow, PostRow, PostTransitionRow, PostVariantRow,
};
use crate::db::publish_targets::PublishTargetRow;
use crate::db::workspaces::WorkspaceRow;
use crate::db::{self, DbConn};
use crate::domain::activity::EventType;
use crate::domain::ids::{
    ChannelId, PostId, PostRevisionId, PostTransitionId, UserId, WorkspaceId, parse_stored,
};
use crate::domain::roles::Permission;
use crate::domain::workflow::{PostAction, PostStatus, Review, next as next_status};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{
    IdempotencyKey, IfMatch, Json, ListQuery, Page, PageParams, Paginated, etag,
};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;
use content::{Checked, Facts, PostChangesInput, PostContent, RenderedVariant, to_json};

/// Approvals of the current review round.
#[derive(Debug, Serialize, ToSchema)]
pub struct Approvals {
    /// Distinct approvals this round needs.
    pub required: i32,
    /// Who approved, first first.
    pub given: Vec<UserId>,
}

/// What the publisher did on one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublishTarget {
    /// The channel.
    pub channel_id: ChannelId,
    /// Where it stands.
    pub status: crate::publishing::TargetStatus,
    /// The platform's id of the post.
    pub remote_id: Option<String>,
    /// Where people see it.
    pub remote_url: Option<String>,
    /// Remote ids of the follow-up parts, in order.
    pub follow_up_ids: Vec<String>,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// Platform calls made for it.
    pub attempts: i32,
    /// When it went out.
    pub published_at: Option<DateTime<Utc>>,
}

impl PublishTarget {
    fn from_row(row: &PublishTargetRow) -> ApiResult<Self> {
        Ok(Self {
            channel_id: parse_stored(&row.channel_id).map_err(ApiError::internal)?,
            status: crate::publishing::TargetStatus::parse(&row.status).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("stored target status {:?}", row.status))
            })?,
            remote_id: row.remote_id.clone(),
            remote_url: row.remote_url.clone(),
            follow_up_ids: serde_json::from_str(&row.follow_up_ids).map_err(ApiError::internal)?,
            error: row.error.clone(),
            attempts: row.attempts,
            published_at: row.published_at.map(utc),
        })
    }
}

/// A post.
#[derive(Debug, Serialize, ToSchema)]
pub struct Post {
    /// Post id.
    pub id: PostId,
    /// Where it is in the workflow.
    pub status: PostStatus,
    /// Who wrote it.
    pub author_id: UserId,
    /// What it says, on every channel.
    #[serde(flatten)]
    pub content: PostContent,
    /// When it goes out (scheduled posts).
    pub scheduled_at: Option<DateTime<Utc>>,
    /// When it went out.
    pub published_at: Option<DateTime<Utc>>,
    /// Review state.
    pub approvals: Approvals,
    /// Per channel, what the publisher did (empty until it starts).
    pub targets: Vec<PublishTarget>,
    /// Version (also the `ETag`).
    pub version: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Post {
    /// The view of a stored post.
    pub fn from_rows(
        row: &PostRow,
        variants: &[PostVariantRow],
        approvers: &[String],
        targets: &[PublishTargetRow],
    ) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            status: stored_status(&row.status)?,
            author_id: parse_stored(&row.author_id).map_err(ApiError::internal)?,
            content: PostContent::from_rows(row, variants)?,
            scheduled_at: row.scheduled_at.map(utc),
            published_at: row.published_at.map(utc),
            approvals: Approvals {
                required: row.approvals_required,
                given: approvers
                    .iter()
                    .map(|id| parse_stored(id).map_err(ApiError::internal))
                    .collect::<ApiResult<_>>()?,
            },
            targets: targets
                .iter()
                .filter(|t| t.post_id == row.id)
                .map(PublishTarget::from_row)
                .collect::<ApiResult<_>>()?,
            version: row.version,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A status read back from the database.
pub fn stored_status(raw: &str) -> ApiResult<PostStatus> {
    PostStatus::parse(raw)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored post status {raw:?}")))
}

/// Reads a post of a workspace.
pub fn load_row(conn: &mut DbConn, ws: &str, id: &str) -> ApiResult<PostRow> {
    PostRow::find(conn, ws, id)?.ok_or(ApiError::NotFound("post"))
}

/// Reads a post with its variants and approvals.
pub fn load_view(conn: &mut DbConn, row: &PostRow) -> ApiResult<Post> {
    let variants = PostVariantRow::for_posts(conn, std::slice::from_ref(&row.id))?;
    let approvers = db::posts::approvers(conn, &row.id, row.review_round)?;
    let targets = PublishTargetRow::for_posts(conn, std::slice::from_ref(&row.id))?;
    Post::from_rows(row, &variants, &approvers, &targets)
}

/// A post as a response, with its `ETag`.
pub fn with_etag(post: Post) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(post.version)))
        .json(post)
}

/// A query for a page of rows under a post: (post id, after, limit).
pub type PageOf<R> = fn(&mut DbConn, &str, Option<&str>, i64) -> diesel::QueryResult<Vec<R>>;

/// Lists something kept under a post (history, revisions, comments) a page
/// at a time, after checking the caller may read the post.
pub async fn list_under_post<R, V>(
    state: &AppState,
    principal: &Principal,
    path: (WorkspaceId, PostId),
    params: PageParams,
    list: PageOf<R>,
    view: fn(R) -> ApiResult<V>,
) -> ApiResult<web::Json<Paginated<V>>>
where
    R: HasId + Send + 'static,
{
    let access = principal
        .access(state, path.0, Permission::PostsRead)
        .await?;
    let page = Page::from_params(params)?;
    let (ws, id, after, fetch) = (
        access.workspace_id.to_string(),
        path.1.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            load_row(conn, &ws, &id)?;
            list(conn, &id, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id().to_owned(), view)
        .map(web::Json)
}

/// A stored row's id, the key its list pages by.
pub trait HasId {
    /// The id.
    fn id(&self) -> &str;
}

impl HasId for PostTransitionRow {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for PostRevisionRow {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for PostCommentRow {
    fn id(&self) -> &str {
        &self.id
    }
}

/// Checks content against the workspace and the platforms.
pub async fn check_content(state: &AppState, ws: &str, content: PostContent) -> ApiResult<Checked> {
    let ws = ws.to_owned();
    let probe = content.clone();
    let facts = state
        .db
        .read(move |conn| Facts::load(conn, &ws, &probe))
        .await?;
    content::check(state, content, &facts)
}

/// Records a workflow step.
pub fn record_transition(
    conn: &mut DbConn,
    row: &PostRow,
    action: PostAction,
    to: PostStatus,
    actor: Option<&UserId>,
    reason: Option<String>,
) -> ApiResult<()> {
    let transition = PostTransitionRow {
        id: PostTransitionId::new().to_string(),
        post_id: row.id.clone(),
        workspace_id: row.workspace_id.clone(),
        action: action.as_str().to_owned(),
        from_status: row.status.clone(),
        to_status: to.as_str().to_owned(),
        actor_id: actor.map(ToString::to_string),
        reason,
        created_at: db::now(),
    };
    transition.insert(conn)?;
    let Some(event) = EventType::for_post_step(action, to) else {
        return Ok(());
    };
    let mut data = serde_json::json!({
        "post_id": row.id,
        "status": to.as_str(),
        "previous_status": row.status,
        "actor_id": transition.actor_id,
        "reason": transition.reason,
    });
    if let Some(fields) = data.as_object_mut()
        && matches!(
            to,
            PostStatus::Published | PostStatus::PartiallyPublished | PostStatus::Failed
        )
    {
        let targets = PublishTargetRow::for_posts(conn, std::slice::from_ref(&row.id))?;
        let targets = targets
            .iter()
            .map(|t| {
                serde_json::json!({
                    "channel_id": t.channel_id,
                    "status": t.status,
                    "remote_id": t.remote_id,
                    "remote_url": t.remote_url,
                    "error": t.error,
                })
            })
            .collect();
        fields.insert("targets".to_owned(), serde_json::Value::Array(targets));
    }
    activity::record(conn, &row.workspace_id, event, Some(&row.id), &data)?;
    Ok(())
}

/// Records a revision of the content a post has at `version`.
pub fn record_revision(
    conn: &mut DbConn,
    post: &PostRow,
    content: &PostContent,
    author: &UserId,
) -> ApiResult<()> {
    PostRevisionRow {
        id: PostRevisionId::new().to_string(),
        post_id: post.id.clone(),
        workspace_id: post.workspace_id.clone(),
        version: post.version,
        content: to_json(content)?,
        author_id: Some(author.to_string()),
        created_at: db::now(),
    }
    .insert(conn)?;
    Ok(())
}

/// Creates a draft from checked content (one transaction).
pub fn insert_post(
    conn: &mut DbConn,
    access: &WorkspaceAccess,
    checked: &Checked,
) -> ApiResult<PostRow> {
    let now = db::now();
    let content = &checked.content;
    let row = PostRow {
        id: PostId::new().to_string(),
        workspace_id: access.workspace_id.to_string(),
        author_id: access.user_id.to_string(),
        body: content.body.clone(),
        tags: to_json(&content.tags)?,
        media_ids: to_json(&content.media_ids)?,
        campaign_id: content.campaign_id.clone(),
        event_id: content.event_id.clone(),
        utm: content.utm.as_ref().map(to_json).transpose()?,
        status: PostStatus::Draft.as_str().to_owned(),
        scheduled_at: None,
        published_at: None,
        review_round: 0,
        approvals_required: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    row.insert(conn)?;
    PostVariantRow::replace(
        conn,
        &row.id,
        &content.variant_rows(&row.id, &row.workspace_id)?,
    )?;
    record_revision(conn, &row, content, &access.user_id)?;
    Ok(row)
}

/// Saves new content over a post (one transaction): checks the version,
/// moves the workflow (editing approved content sends it back to review for
/// people who need approval), replaces the variants and keeps a revision.
pub fn save_content(
    conn: &mut DbConn,
    access: &WorkspaceAccess,
    id: &str,
    expected: Option<i64>,
    checked: &Checked,
) -> ApiResult<PostRow> {
    let ws = access.workspace_id.to_string();
    let current = load_row(conn, &ws, id)?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let workspace = WorkspaceRow::find(conn, &ws)?.ok_or(ApiError::NotFound("workspace"))?;
    let policy = workspace.approval_policy().map_err(ApiError::internal)?;
    let from = stored_status(&current.status)?;
    if from == PostStatus::InReview {
        return Err(ApiError::conflict(
            "post_in_review",
            "a post in review cannot be edited; withdraw it first",
        ));
    }
    let review = Review {
        needs_approval: policy.needs_approval(access.role),
        ..Review::NONE
    };
    let to = next_status(from, PostAction::Edit, review)
        .map_err(|err| ApiError::conflict("invalid_transition", err.to_string()))?;
    let content = &checked.content;
    let mut changes = PostChanges {
        body: Some(content.body.clone()),
        tags: Some(to_json(&content.tags)?),
        media_ids: Some(to_json(&content.media_ids)?),
        campaign_id: Some(content.campaign_id.clone()),
        event_id: Some(content.event_id.clone()),
        utm: Some(content.utm.as_ref().map(to_json).transpose()?),
        ..PostChanges::default()
    };
    if to != from {
        changes.status = Some(to.as_str().to_owned());
    }
    if to == PostStatus::InReview {
        changes.review_round = Some(current.review_round + 1);
        changes.approvals_required = i32::try_from(policy.approvals_required).ok();
        changes.scheduled_at = Some(None);
    }
    let updated = PostRow::update(conn, &ws, id, &changes, current.version)?
        .ok_or(ApiError::PreconditionFailed)?;
    PostVariantRow::replace(conn, id, &content.variant_rows(id, &ws)?)?;
    record_revision(conn, &updated, content, &access.user_id)?;
    if from == PostStatus::Scheduled && to != PostStatus::Scheduled {
        crate::publishing::plan(conn, &ws, id, None)?;
    }
    if to != from {
        let reason = (to == PostStatus::InReview)
            .then(|| "approved content changed; it needs review again".to_owned());
        record_transition(
            conn,
            &current,
            PostAction::Edit,
            to,
            Some(&access.user_id),
            reason,
        )?;
    }
    Ok(updated)
}

/// Filters of the post list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PostFilters {
    /// Only posts in this status.
    pub status: Option<PostStatus>,
    /// Only posts of this campaign.
    pub campaign_id: Option<String>,
    /// Only posts promoting this event.
    pub event_id: Option<String>,
    /// Only posts with a variant for this channel.
    pub channel_id: Option<ChannelId>,
    /// Only posts with this tag.
    pub tag: Option<String>,
}

impl PostFilters {
    /// The storage filter.
    pub fn to_filter(&self) -> PostFilter {
        PostFilter {
            status: self.status.map(|s| s.as_str().to_owned()),
            campaign_id: self.campaign_id.clone(),
            event_id: self.event_id.clone(),
            channel_id: self.channel_id.map(|c| c.to_string()),
            tag: self.tag.clone(),
        }
    }
}

/// Draft a post. Every variant is checked against its channel's platform
/// (length, media, options) before it is kept.
#[utoipa::path(
    tag = "posts",
    operation_id = "create_post",
    request_body = PostContent,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Drafted", body = Post,
         headers(("Location" = String, description = "The post"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/posts")]
pub async fn create_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<PostContent>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsWrite)
        .await?;
    let body = body.0;
    let base = format!("/v1/workspaces/{}/posts", access.workspace_id);
    let fingerprint = ("POST", base.clone(), body.clone());
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let ws = access.workspace_id.to_string();
        let checked = check_content(&state, &ws, body).await?;
        let post = state
            .db
            .write(move |conn| {
                let row = insert_post(conn, &access, &checked)?;
                load_view(conn, &row)
            })
            .await?;
        let location = format!("{base}/{}", post.id);
        let tag = etag(post.version);
        Created::new(post, location).map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// The workspace's posts, oldest first.
#[utoipa::path(
    tag = "posts",
    operation_id = "list_posts",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PostFilters, PageParams),
    responses(
        (status = 200, description = "A page of posts", body = Paginated<Post>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/posts")]
pub async fn list_posts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<PostFilters>,
) -> ApiResult<web::Json<Paginated<Post>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsRead)
        .await?;
    let ListQuery { page, filters } = query;
    let filter = filters.to_filter();
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let (rows, variants, approvals, targets) = state
        .db
        .read(move |conn| {
            let rows = PostRow::list(conn, &ws, &filter, after.as_deref(), fetch)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let variants = PostVariantRow::for_posts(conn, &ids)?;
            let targets = PublishTargetRow::for_posts(conn, &ids)?;
            let approvals = db::posts::approvers_of(conn, &rows)?;
            Ok::<_, ApiError>((rows, variants, approvals, targets))
        })
        .await?;
    page.finish(
        rows,
        |row| row.id.clone(),
        |row| {
            let given = approvals.get(&row.id).map_or(&[][..], Vec::as_slice);
            Post::from_rows(&row, &variants, given, &targets)
        },
    )
    .map(web::Json)
}

/// One post.
#[utoipa::path(
    tag = "posts",
    operation_id = "get_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses(
        (status = 200, description = "The post", body = Post,
         headers(("ETag" = String, description = "Its version"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}")]
pub async fn get_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    let post = state
        .db
        .read(move |conn| {
            let row = load_row(conn, &ws, &id)?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}

/// Edit a post. Every edit is kept as a revision. Editing approved or
/// scheduled content sends it back to review when the editor's role needs
/// approval; a post in review must be withdrawn first.
#[utoipa::path(
    tag = "posts",
    operation_id = "update_post",
    request_body = PostChangesInput,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated", body = Post,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/posts/{post_id}")]
pub async fn update_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    if_match: IfMatch,
    body: Json<PostChangesInput>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsWrite)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    let current = {
        let (ws, id) = (ws.clone(), id.clone());
        state
            .db
            .read(move |conn| {
                let row = load_row(conn, &ws, &id)?;
                let variants = PostVariantRow::for_posts(conn, std::slice::from_ref(&row.id))?;
                Ok::<_, ApiError>((PostContent::from_rows(&row, &variants)?, row.version))
            })
            .await?
    };
    if !if_match.allows(&etag(current.1)) {
        return Err(ApiError::PreconditionFailed);
    }
    let checked = check_content(&state, &ws, current.0.with(body.0)).await?;
    let version = current.1;
    let post = state
        .db
        .write(move |conn| {
            let row = save_content(conn, &access, &id, Some(version), &checked)?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}

/// Delete a post that has not gone out and is not on the schedule.
#[utoipa::path(
    tag = "posts",
    operation_id = "delete_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ActionProblems,
    )
)]
#[delete("/workspaces/{workspace_id}/posts/{post_id}")]
pub async fn delete_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsWrite)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    state
        .db
        .write(move |conn| {
            let row = load_row(conn, &ws, &id)?;
            let status = stored_status(&row.status)?;
            if matches!(
                status,
                PostStatus::Scheduled
                    | PostStatus::Publishing
                    | PostStatus::Published
                    | PostStatus::PartiallyPublished
            ) {
                return Err(ApiError::conflict(
                    "post_not_deletable",
                    format!("a {status} post cannot be deleted; unschedule or cancel it first"),
                ));
            }
            PostRow::delete(conn, &ws, &id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What each channel will receive, and whether it passes every check now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostPreview {
    /// Per channel, after UTM tagging.
    pub variants: Vec<RenderedVariant>,
    /// Problems that would stop scheduling, each under its field (empty when ready).
    pub problems: Vec<crate::error::FieldError>,
}

/// Preview a post as each channel will receive it (links tagged with UTM
/// parameters), with the problems that would stop it being scheduled.
#[utoipa::path(
    tag = "posts",
    operation_id = "preview_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses(
        (status = 200, description = "The preview", body = PostPreview),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}/preview")]
pub async fn preview_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<web::Json<PostPreview>> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    let content = {
        let ws = ws.clone();
        state
            .db
            .read(move |conn| {
                let row = load_row(conn, &ws, &id)?;
                let variants = PostVariantRow::for_posts(conn, std::slice::from_ref(&row.id))?;
                PostContent::from_rows(&row, &variants)
            })
            .await?
    };
    Ok(web::Json(match check_content(&state, &ws, content).await {
        Ok(checked) => PostPreview {
            variants: checked.rendered,
            problems: Vec::new(),
        },
        Err(ApiError::Validation(problems)) => PostPreview {
            variants: Vec::new(),
            problems,
        },
        Err(err) => return Err(err),
    }))
}
