//! Moderation on the platform: hide, unhide, delete, block or mute the
//! author, report. The plugin acts first; only what the platform took is
//! recorded, with the item's new status.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::views::InboxItem;
use super::{load_item, member_entry};
use crate::activity;
use crate::auth::Principal;
use crate::db;
use crate::db::inbox::{InboxItemChanges, InboxItemRow};
use crate::db::inbox_rules::ModerationLogRow;
use crate::domain::activity::EventType;
use crate::domain::ids::{InboxItemId, WorkspaceId};
use crate::domain::inbox::{ItemStatus, ModerationAction};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json, etag};
use crate::http::problems::WriteProblems;
use crate::inbox::actions::on_platform;
use crate::state::AppState;

/// A moderation action.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "hide", "reason": "insults another member"}))]
pub struct ModerateInboxItem {
    /// What to do on the platform.
    pub action: ModerationAction,
    /// Why (up to 500 characters), for the moderation log.
    pub reason: Option<String>,
}

/// The status an item takes after an action on the platform, if it changes.
fn status_after(action: ModerationAction) -> Option<ItemStatus> {
    match action {
        ModerationAction::Hide | ModerationAction::Delete => Some(ItemStatus::Hidden),
        ModerationAction::Unhide => Some(ItemStatus::Open),
        ModerationAction::Report => Some(ItemStatus::Spam),
        ModerationAction::BlockAuthor | ModerationAction::MuteAuthor => None,
    }
}

/// Act on an item on its platform through the channel's plugin. Answers
/// 422 `unsupported_by_platform` when the platform cannot, and the
/// platform's refusal as it gave it; nothing is recorded then.
#[utoipa::path(
    tag = "inbox",
    operation_id = "moderate_inbox_item",
    request_body = ModerateInboxItem,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
    ),
    responses(
        (status = 200, description = "Done on the platform; the item as it now is", body = InboxItem),
        (status = 503, description = "The platform or the plugin is unavailable: try again later", body = crate::error::Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/items/{item_id}/moderation")]
pub async fn moderate_inbox_item(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
    body: Json<ModerateInboxItem>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxModerate)
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
    let (ws, id, user) = (
        access.workspace_id.to_string(),
        item_id.to_string(),
        access.user_id,
    );
    let item = state
        .db
        .read({
            let (ws, id) = (ws.clone(), id.clone());
            move |conn| load_item(conn, &ws, &id)
        })
        .await?;
    on_platform(&state, &item, body.action).await?;
    let row = state
        .db
        .write(move |conn| {
            let item = load_item(conn, &ws, &id)?;
            let now = db::now();
            let status = status_after(body.action).filter(|s| s.as_str() != item.status);
            let row = match status {
                Some(status) => InboxItemRow::update(
                    conn,
                    &ws,
                    &id,
                    &InboxItemChanges {
                        status: Some(status.as_str().to_owned()),
                        version: Some(item.version + 1),
                        updated_at: Some(now),
                        ..InboxItemChanges::default()
                    },
                    None,
                )?
                .ok_or(ApiError::NotFound("inbox item"))?,
                None => item.clone(),
            };
            let action = format!("platform.{}", body.action.as_str());
            ModerationLogRow::append(
                conn,
                &[member_entry(&item, user, &action, &json!({ "remote_id": item.remote_id, "status": status }), body.reason.clone())],
            )?;
            activity::record(
                conn,
                &ws,
                EventType::InboxItemModerated,
                Some(&item.id),
                &json!({ "item_id": item.id, "action": body.action, "by": user, "reason": body.reason, "status": row.status }),
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(row.version)))
        .json(InboxItem::from_row(row)?))
}
