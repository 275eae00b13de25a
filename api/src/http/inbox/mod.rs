//! The inbox over HTTP: items and their changes ([`items`]), replies
//! ([`replies`]), platform moderation ([`moderation`]), the moderation log
//! ([`log`]), settings and alerts ([`settings`]), rules ([`rules`]) and
//! saved replies ([`saved_replies`]).

pub mod items;
pub mod log;
pub mod moderation;
pub mod replies;
pub mod rules;
pub mod saved_replies;
pub mod settings;
pub mod views;

use crate::db::DbConn;
use crate::db::inbox::InboxItemRow;
use crate::db::inbox_rules::ModerationLogRow;
use crate::domain::ids::UserId;
use crate::error::{ApiError, ApiResult};

/// An item of the workspace, or 404.
pub(crate) fn load_item(
    conn: &mut DbConn,
    workspace_id: &str,
    id: &str,
) -> ApiResult<InboxItemRow> {
    InboxItemRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("inbox item"))
}

/// A moderation-log entry for something a member did.
pub(crate) fn member_entry(
    item: &InboxItemRow,
    user_id: UserId,
    action: &str,
    detail: &serde_json::Value,
    reason: Option<String>,
) -> ModerationLogRow {
    ModerationLogRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: item.workspace_id.clone(),
        item_id: Some(item.id.clone()),
        contact_id: item.contact_id.clone(),
        actor_kind: "member".to_owned(),
        actor_id: Some(user_id.to_string()),
        rule_version: None,
        action: action.to_owned(),
        detail: detail.to_string(),
        reason,
        created_at: crate::db::now(),
    }
}
