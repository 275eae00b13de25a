//! The approval workflow over HTTP: submit, withdraw, approve, request
//! changes, reopen, schedule, unschedule, cancel, and the history of it all.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::list_under_post;
use super::{load_row, load_view, record_transition, stored_status, with_etag};
use crate::auth::{Principal, WorkspaceAccess};
use crate::db::posts::{PostChanges, PostRow, PostTransitionRow};
use crate::db::workspaces::WorkspaceRow;
use crate::db::{self, DbConn};
use crate::domain::ids::{ChannelId, PostId, PostTransitionId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::domain::workflow::{self, PostAction, PostStatus, Review};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, PageParams, Paginated};
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// Why, for the record.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Please link the product page"}))]
pub struct Reason {
    /// Up to 2,000 characters; required when asking for changes.
    pub reason: Option<String>,
}

/// When to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"scheduled_at": "2026-12-01T09:30:00Z"}))]
pub struct ScheduleRequest {
    /// The moment to publish, in the future (RFC 3339).
    pub scheduled_at: DateTime<Utc>,
}

/// One step of a post's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct PostTransition {
    /// Step id.
    pub id: PostTransitionId,
    /// What was done.
    pub action: PostAction,
    /// Status before.
    pub from_status: PostStatus,
    /// Status after.
    pub to_status: PostStatus,
    /// Who did it; `null` for Plaza itself (the publisher).
    pub actor_id: Option<UserId>,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl PostTransition {
    fn from_row(row: PostTransitionRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            action: PostAction::parse(&row.action).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("stored action {:?}", row.action))
            })?,
            from_status: stored_status(&row.from_status)?,
            to_status: stored_status(&row.to_status)?,
            actor_id: row
                .actor_id
                .as_deref()
                .map(parse_stored)
                .transpose()
                .map_err(ApiError::internal)?,
            reason: row.reason,
            created_at: utc(row.created_at),
        })
    }
}

fn checked_reason(reason: Option<String>, required: bool) -> ApiResult<Option<String>> {
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    match &reason {
        None if required => Err(ApiError::invalid_field("reason", "is required")),
        Some(r) if r.chars().count() > 2_000 => Err(ApiError::invalid_field(
            "reason",
            "must be at most 2,000 characters",
        )),
        _ => Ok(reason),
    }
}

/// Moves a post by one action inside a transaction, recording the step.
pub fn apply(
    conn: &mut DbConn,
    access: &WorkspaceAccess,
    id: &str,
    action: PostAction,
    reason: Option<String>,
    scheduled_at: Option<NaiveDateTime>,
) -> ApiResult<PostRow> {
    let ws = access.workspace_id.to_string();
    let current = load_row(conn, &ws, id)?;
    let workspace = WorkspaceRow::find(conn, &ws)?.ok_or(ApiError::NotFound("workspace"))?;
    let policy = workspace.approval_policy().map_err(ApiError::internal)?;
    let from = stored_status(&current.status)?;
    let mut review = Review {
        needs_approval: policy.needs_approval(access.role),
        approvals: 0,
        required: u32::try_from(current.approvals_required).unwrap_or(1),
    };
    let refuse =
        |err: workflow::NotAllowed| ApiError::conflict("invalid_transition", err.to_string());
    if action == PostAction::Approve {
        workflow::next(
            from,
            action,
            Review {
                approvals: u32::MAX,
                ..review
            },
        )
        .map_err(refuse)?;
        if current.author_id == access.user_id.to_string() {
            return Err(ApiError::forbidden(
                "self_approval",
                "nobody approves their own post; ask another reviewer",
            ));
        }
        let given =
            db::posts::approve(conn, id, current.review_round, &access.user_id.to_string())?;
        review.approvals = u32::try_from(given).unwrap_or(u32::MAX);
    }
    let to = workflow::next(from, action, review).map_err(refuse)?;
    let mut changes = PostChanges::default();
    if to != from {
        changes.status = Some(to.as_str().to_owned());
    }
    match (action, to) {
        (PostAction::Submit, PostStatus::InReview) => {
            changes.review_round = Some(current.review_round + 1);
            changes.approvals_required = i32::try_from(policy.approvals_required).ok();
        }
        (PostAction::Submit, _) => changes.approvals_required = Some(0),
        (PostAction::Schedule, _) => changes.scheduled_at = Some(scheduled_at),
        (PostAction::Unschedule | PostAction::Cancel, _) => changes.scheduled_at = Some(None),
        _ => {}
    }
    let reason = match (action, to) {
        (PostAction::Submit, PostStatus::Approved) => reason.or_else(|| {
            Some(format!(
                "approval not required for {}",
                access.role.as_str()
            ))
        }),
        _ => reason,
    };
    let updated = PostRow::update(conn, &ws, id, &changes, current.version)?.ok_or_else(|| {
        ApiError::conflict("concurrent_change", "the post changed meanwhile; retry")
    })?;
    record_transition(conn, &current, action, to, Some(&access.user_id), reason)?;
    // The publish job follows the schedule, in this same transaction.
    match action {
        PostAction::Schedule => crate::publishing::plan(conn, &ws, id, scheduled_at)?,
        PostAction::Unschedule | PostAction::Cancel => {
            crate::publishing::plan(conn, &ws, id, None)?;
        }
        _ => {}
    }
    Ok(updated)
}

async fn act(
    state: &AppState,
    principal: &Principal,
    path: (WorkspaceId, PostId),
    permission: Permission,
    action: PostAction,
    reason: Option<String>,
) -> ApiResult<HttpResponse> {
    let access = principal.access(state, path.0, permission).await?;
    let id = path.1.to_string();
    let post = state
        .db
        .write(move |conn| {
            let row = apply(conn, &access, &id, action, reason, None)?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}

/// Submit a draft for approval. Where the submitter's role needs no
/// approval (by default strategists and owners), it is approved at once.
#[utoipa::path(
    tag = "posts",
    operation_id = "submit_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Submitted (`in_review`) or approved", body = super::Post), ActionProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/submit")]
pub async fn submit_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsWrite,
        PostAction::Submit,
        None,
    )
    .await
}

/// Take a post back out of review to keep working on it.
#[utoipa::path(
    tag = "posts",
    operation_id = "withdraw_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Back to draft", body = super::Post), ActionProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/withdraw")]
pub async fn withdraw_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsWrite,
        PostAction::Withdraw,
        None,
    )
    .await
}

/// Approve a post in review. It is approved once enough distinct
/// reviewers (the workspace's `approvals_required`) have approved; nobody
/// approves their own post.
#[utoipa::path(
    tag = "posts",
    operation_id = "approve_post",
    request_body = Reason,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Approval recorded; `approved` once enough", body = super::Post), WriteProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/approve")]
pub async fn approve_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<Reason>,
) -> ApiResult<HttpResponse> {
    let reason = checked_reason(body.0.reason, false)?;
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsApprove,
        PostAction::Approve,
        reason,
    )
    .await
}

/// Send a post in review back to its author with what to change.
#[utoipa::path(
    tag = "posts",
    operation_id = "request_post_changes",
    request_body = Reason,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Changes requested", body = super::Post), WriteProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/request-changes")]
pub async fn request_post_changes(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<Reason>,
) -> ApiResult<HttpResponse> {
    let reason = checked_reason(body.0.reason, true)?;
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsApprove,
        PostAction::RequestChanges,
        reason,
    )
    .await
}

/// Start working again on a post whose changes were requested.
#[utoipa::path(
    tag = "posts",
    operation_id = "reopen_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Back to draft", body = super::Post), ActionProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/reopen")]
pub async fn reopen_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsWrite,
        PostAction::Reopen,
        None,
    )
    .await
}

/// The earliest a post may be scheduled, from now.
const MIN_LEAD_SECS: i64 = 60;

/// Schedules an approved post (or moves a scheduled one) after checking
/// it once more against every channel's platform.
pub async fn schedule_at(
    state: &AppState,
    access: WorkspaceAccess,
    id: String,
    at: DateTime<Utc>,
) -> ApiResult<super::Post> {
    if at < Utc::now() + chrono::Duration::seconds(MIN_LEAD_SECS) {
        return Err(ApiError::invalid_field(
            "scheduled_at",
            "must be at least a minute in the future",
        ));
    }
    let ws = access.workspace_id.to_string();
    let content = {
        let (ws, id) = (ws.clone(), id.clone());
        state
            .db
            .read(move |conn| {
                let row = load_row(conn, &ws, &id)?;
                let variants =
                    db::posts::PostVariantRow::for_posts(conn, std::slice::from_ref(&row.id))?;
                super::PostContent::from_rows(&row, &variants)
            })
            .await?
    };
    super::check_content(state, &ws, content).await?;
    let at = chrono::SubsecRound::trunc_subsecs(at.naive_utc(), 6);
    state
        .db
        .write(move |conn| {
            let row = apply(conn, &access, &id, PostAction::Schedule, None, Some(at))?;
            load_view(conn, &row)
        })
        .await
}

/// Give an approved post its publishing time (or move a scheduled one).
/// The post is checked once more against every channel first.
#[utoipa::path(
    tag = "posts",
    operation_id = "schedule_post",
    request_body = ScheduleRequest,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Scheduled", body = super::Post), WriteProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/schedule")]
pub async fn schedule_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<ScheduleRequest>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsSchedule)
        .await?;
    let post = schedule_at(&state, access, post_id.to_string(), body.0.scheduled_at).await?;
    Ok(with_etag(post))
}

/// Take a scheduled post off the schedule, keeping its approval.
#[utoipa::path(
    tag = "posts",
    operation_id = "unschedule_post",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Back to approved", body = super::Post), ActionProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/unschedule")]
pub async fn unschedule_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsSchedule,
        PostAction::Unschedule,
        None,
    )
    .await
}

/// Cancel a scheduled post for good.
#[utoipa::path(
    tag = "posts",
    operation_id = "cancel_post",
    request_body = Reason,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Cancelled", body = super::Post), WriteProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/cancel")]
pub async fn cancel_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<Reason>,
) -> ApiResult<HttpResponse> {
    let reason = checked_reason(body.0.reason, false)?;
    act(
        &state,
        &principal,
        path.into_inner(),
        Permission::PostsSchedule,
        PostAction::Cancel,
        reason,
    )
    .await
}

/// Which targets a retry sends again.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"include_needs_review": false}))]
pub struct RetryRequest {
    /// Also resend targets in `needs_review`: only after checking on the
    /// platform that the post did not go out.
    #[serde(default)]
    pub include_needs_review: bool,
}

/// Send a failed or partially published post's failed targets again, now.
/// Published targets are never resent; `needs_review` ones only when asked.
#[utoipa::path(
    tag = "posts",
    operation_id = "retry_post",
    request_body = RetryRequest,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses((status = 200, description = "Publishing again", body = super::Post), WriteProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/retry")]
pub async fn retry_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<RetryRequest>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsSchedule)
        .await?;
    let include_review = body.0.include_needs_review;
    let id = post_id.to_string();
    let post = state
        .db
        .write(move |conn| {
            let row = apply(conn, &access, &id, PostAction::Retry, None, None)?;
            crate::publishing::reopen_targets(conn, &row.id, include_review)?;
            crate::publishing::plan(conn, &row.workspace_id, &row.id, Some(db::now()))?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}

/// Take one channel off a post's publishing for good: a target that is
/// `pending` (waiting for a retry), `failed` or `needs_review` is never sent
/// and no longer counts in the post's status. A post still publishing
/// finishes once its other targets have.
#[utoipa::path(
    tag = "posts",
    operation_id = "cancel_post_target",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        ("channel_id" = ChannelId, Path, description = "The target's channel"),
    ),
    responses((status = 200, description = "The post, with the target cancelled", body = super::Post), ActionProblems)
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/targets/{channel_id}/cancel")]
pub async fn cancel_post_target(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId, ChannelId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsSchedule)
        .await?;
    let (ws, id, channel) = (
        access.workspace_id.to_string(),
        post_id.to_string(),
        channel_id.to_string(),
    );
    let by = access.user_id.to_string();
    let post = state
        .db
        .write(move |conn| {
            let row = load_row(conn, &ws, &id)?;
            crate::publishing::cancel_target(conn, &row, &channel, &by)?;
            let row = load_row(conn, &ws, &id)?;
            load_view(conn, &row)
        })
        .await?;
    Ok(with_etag(post))
}

/// Who moved the post through the workflow, when and why; oldest first.
#[utoipa::path(
    tag = "posts",
    operation_id = "list_post_history",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
        PageParams,
    ),
    responses((status = 200, description = "A page of steps", body = Paginated<PostTransition>), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/posts/{post_id}/history")]
pub async fn list_post_history(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    params: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<PostTransition>>> {
    list_under_post(
        &state,
        &principal,
        path.into_inner(),
        params.into_inner(),
        PostTransitionRow::list,
        PostTransition::from_row,
    )
    .await
}
