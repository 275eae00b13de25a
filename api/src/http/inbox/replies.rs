//! Replies: written by a member (or from a saved reply), approved when the
//! workspace asks for it, and sent through the channel's plugin by the
//! worker.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::views::InboxReply;
use super::{load_item, member_entry};
use crate::activity;
use crate::auth::Principal;
use crate::db::channels::ChannelRow;
use crate::db::inbox::{InboxReplyChanges, InboxReplyRow};
use crate::db::inbox_rules::{ModerationLogRow, SavedReplyRow};
use crate::db::{self, DbConn};
use crate::domain::activity::EventType;
use crate::domain::ids::{InboxItemId, InboxReplyId, SavedReplyId, WorkspaceId};
use crate::domain::inbox::ReplyStatus;
use crate::domain::roles::Permission;
use crate::domain::saved_replies;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::Json;
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::inbox::ingest::settings;
use crate::inbox::replies::{enqueue, new_reply, variables};
use crate::plugins::bindings::Capabilities;
use crate::state::AppState;

/// A reply to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"saved_reply_id": "019a5b8e-5555-7d7a-9c1e-2f4b3a5d6e7f"}))]
pub struct CreateInboxReply {
    /// The text (1–5,000 characters); may use the saved replies' variables.
    pub text: Option<String>,
    /// A saved reply to send, its variables filled for this item; `text`,
    /// when given too, is sent instead (an edited saved reply).
    pub saved_reply_id: Option<SavedReplyId>,
}

fn load_reply(
    conn: &mut DbConn,
    workspace_id: &str,
    item_id: &str,
    id: &str,
) -> ApiResult<InboxReplyRow> {
    InboxReplyRow::find(conn, workspace_id, id)?
        .filter(|reply| reply.item_id == item_id)
        .ok_or(ApiError::NotFound("reply"))
}

/// Answer an item on its platform. The reply is sent by the worker (at
/// most once) or, when the workspace asks approval for the author's role,
/// waits for an approver.
#[utoipa::path(
    tag = "inbox",
    operation_id = "create_inbox_reply",
    request_body = CreateInboxReply,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
    ),
    responses(
        (status = 202, description = "Queued for sending, or waiting for approval", body = InboxReply),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/items/{item_id}/replies")]
pub async fn create_inbox_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
    body: Json<CreateInboxReply>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxReply)
        .await?;
    let body = body.0;
    match (&body.text, body.saved_reply_id) {
        (None, None) => {
            return Err(ApiError::invalid_field(
                "text",
                "give a text or a saved_reply_id",
            ));
        }
        (Some(text), _) => {
            saved_replies::check(text).map_err(|m| ApiError::invalid_field("text", m))?;
        }
        (None, Some(_)) => {}
    }
    let (ws, id, user, role) = (
        access.workspace_id.to_string(),
        item_id.to_string(),
        access.user_id,
        access.role,
    );
    let (item, channel) = state
        .db
        .read({
            let (ws, id) = (ws.clone(), id.clone());
            move |conn| {
                let item = load_item(conn, &ws, &id)?;
                let channel = ChannelRow::find_any(conn, &item.channel_id)?
                    .ok_or(ApiError::NotFound("channel"))?;
                Ok::<_, ApiError>((item, channel))
            }
        })
        .await?;
    let plugin = crate::plugins::channels::plugin_for(&state, &channel)?;
    if !plugin.manifest.can(Capabilities::REPLY) {
        return Err(ApiError::unprocessable(
            "unsupported_by_platform",
            format!("the {} plugin cannot reply", channel.plugin_id),
        ));
    }
    let reply = state
        .db
        .write(move |conn| {
            let saved = match body.saved_reply_id {
                Some(saved) => Some(
                    SavedReplyRow::find(conn, &ws, &saved.to_string())?.ok_or_else(|| {
                        ApiError::Validation(vec![FieldError::new(
                            "saved_reply_id",
                            "is not a saved reply of the workspace",
                        )])
                    })?,
                ),
                None => None,
            };
            let template = body
                .text
                .or_else(|| saved.as_ref().map(|s| s.body.clone()))
                .unwrap_or_default();
            let text = saved_replies::render(&template, &variables(&item, &channel.name));
            let needs_approval = settings(conn, &ws)?.reply_approval_roles.contains(&role);
            let status = if needs_approval {
                ReplyStatus::AwaitingApproval
            } else {
                ReplyStatus::Queued
            };
            let now = db::now();
            let reply = new_reply(
                &item,
                text,
                saved.map(|s| s.id),
                user.to_string(),
                status,
                now,
            );
            reply.insert(conn)?;
            ModerationLogRow::append(
                conn,
                &[member_entry(
                    &item,
                    user,
                    "reply.written",
                    &json!({ "reply_id": reply.id, "status": status }),
                    None,
                )],
            )?;
            if needs_approval {
                activity::record(
                    conn,
                    &ws,
                    EventType::InboxReplyAwaitingApproval,
                    Some(&item.id),
                    &json!({ "item_id": item.id, "reply_id": reply.id, "by": user }),
                )?;
            } else {
                enqueue(conn, &reply, now)?;
            }
            Ok::<_, ApiError>(reply)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(InboxReply::from_row(reply)?))
}

/// The replies written to an item, oldest first.
#[utoipa::path(
    tag = "inbox",
    operation_id = "list_inbox_replies",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
    ),
    responses(
        (status = 200, description = "The replies", body = Vec<InboxReply>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/items/{item_id}/replies")]
pub async fn list_inbox_replies(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
) -> ApiResult<web::Json<Vec<InboxReply>>> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), item_id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let item = load_item(conn, &ws, &id)?;
            Ok::<_, ApiError>(InboxReplyRow::for_item(conn, &item.id)?)
        })
        .await?;
    rows.into_iter()
        .map(InboxReply::from_row)
        .collect::<ApiResult<Vec<_>>>()
        .map(web::Json)
}

/// A decision on a reply that waits for approval.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"approve": false, "reason": "too informal for this customer"}))]
pub struct ReviewInboxReply {
    /// `true` sends it; `false` turns it down.
    pub approve: bool,
    /// Why (up to 500 characters), for the author and the log.
    pub reason: Option<String>,
}

/// Approve (and send) or turn down a reply that waits for approval. Needs
/// `posts:approve`; nobody reviews their own reply.
#[utoipa::path(
    tag = "inbox",
    operation_id = "review_inbox_reply",
    request_body = ReviewInboxReply,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
        ("reply_id" = InboxReplyId, Path, description = "Reply id"),
    ),
    responses(
        (status = 200, description = "The reply as it now is", body = InboxReply),
        WriteProblems,
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/items/{item_id}/replies/{reply_id}/review")]
pub async fn review_inbox_reply(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId, InboxReplyId)>,
    body: Json<ReviewInboxReply>,
) -> ApiResult<web::Json<InboxReply>> {
    let (workspace_id, item_id, reply_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsApprove)
        .await?;
    let body = body.0;
    if body
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::invalid_field(
            "reason",
            "must be at most 500 characters",
        ));
    }
    let (ws, item_id, id, user) = (
        access.workspace_id.to_string(),
        item_id.to_string(),
        reply_id.to_string(),
        access.user_id,
    );
    let row = state
        .db
        .write(move |conn| {
            let item = load_item(conn, &ws, &item_id)?;
            let reply = load_reply(conn, &ws, &item.id, &id)?;
            if reply.status != ReplyStatus::AwaitingApproval.as_str() {
                return Err(ApiError::conflict(
                    "not_awaiting_approval",
                    format!("the reply is {}", reply.status),
                ));
            }
            if reply.created_by == user.to_string() {
                return Err(ApiError::forbidden(
                    "own_reply",
                    "nobody reviews their own reply",
                ));
            }
            let now = db::now();
            let (status, action) = if body.approve {
                (ReplyStatus::Queued, "reply.approved")
            } else {
                (ReplyStatus::Rejected, "reply.rejected")
            };
            let row = InboxReplyRow::update(
                conn,
                &reply.id,
                &InboxReplyChanges {
                    status: Some(status.as_str().to_owned()),
                    approved_by: Some(body.approve.then(|| user.to_string())),
                    error: Some((!body.approve).then(|| body.reason.clone()).flatten()),
                    updated_at: Some(now),
                    ..InboxReplyChanges::default()
                },
            )?
            .ok_or(ApiError::NotFound("reply"))?;
            ModerationLogRow::append(
                conn,
                &[member_entry(
                    &item,
                    user,
                    action,
                    &json!({ "reply_id": reply.id }),
                    body.reason,
                )],
            )?;
            if body.approve {
                enqueue(conn, &row, now)?;
            }
            Ok::<_, ApiError>(row)
        })
        .await?;
    InboxReply::from_row(row).map(web::Json)
}
