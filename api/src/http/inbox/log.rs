//! The moderation log: who did what to which item or contact, when and
//! why — members, rules (with the rule's version) and the system.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::load_item;
use crate::auth::Principal;
use crate::db::inbox_rules::{LogFilter, ModerationLogRow};
use crate::domain::ids::{ContactId, InboxItemId, WorkspaceId};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{ListQuery, Paginated};
use crate::http::problems::ReadProblems;
use crate::http::views::utc;
use crate::state::AppState;

/// One entry of the moderation log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-8888-7d7a-9c1e-2f4b3a5d6e7f",
    "item_id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "contact_id": null,
    "actor": {"kind": "rule", "id": "019a5b8e-9999-7d7a-9c1e-2f4b3a5d6e7f", "rule_version": 3},
    "action": "rule.set_status",
    "detail": {"type": "set_status", "status": "spam"},
    "reason": null,
    "created_at": "2026-03-01T10:00:00Z"
}))]
pub struct LogEntry {
    /// Entry id.
    pub id: String,
    /// The item acted on.
    pub item_id: Option<String>,
    /// The contact acted on.
    pub contact_id: Option<String>,
    /// Who acted.
    pub actor: LogActor,
    /// What was done: `status.set`, `priority.set`, `tags.set`,
    /// `assignee.set`, `reply.written`, `reply.approved`, `reply.rejected`,
    /// `reply.sent`, `reply.failed`, `platform.<action>`,
    /// `platform.<action>.failed`, `rule.<action type>`, `contact.merged`,
    /// `contact.split`.
    pub action: String,
    /// Details of the action (its shape depends on it).
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// Why, in the actor's words.
    pub reason: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Who acted.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogActor {
    /// `member`, `rule` or `system`.
    pub kind: String,
    /// The member's or the rule's id.
    pub id: Option<String>,
    /// The rule's version that acted.
    pub rule_version: Option<i32>,
}

impl LogEntry {
    fn from_row(row: ModerationLogRow) -> ApiResult<Self> {
        Ok(Self {
            detail: serde_json::from_str(&row.detail).unwrap_or_default(),
            id: row.id,
            item_id: row.item_id,
            contact_id: row.contact_id,
            actor: LogActor {
                kind: row.actor_kind,
                id: row.actor_id,
                rule_version: row.rule_version,
            },
            action: row.action,
            reason: row.reason,
            created_at: utc(row.created_at),
        })
    }
}

/// Filters of the moderation log.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogFilters {
    /// Only about this item.
    pub item_id: Option<InboxItemId>,
    /// Only about this contact.
    pub contact_id: Option<ContactId>,
    /// Only by this member or rule.
    pub actor_id: Option<String>,
    /// Only this action.
    pub action: Option<String>,
}

/// The workspace's moderation log, newest first (`audit:read`).
#[utoipa::path(
    tag = "inbox",
    operation_id = "list_moderation_log",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), LogFilters, crate::http::extract::PageParams),
    responses(
        (status = 200, description = "A page of entries, newest first", body = Paginated<LogEntry>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/log")]
pub async fn list_moderation_log(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<LogFilters>,
) -> ApiResult<web::Json<Paginated<LogEntry>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::AuditRead)
        .await?;
    let ListQuery { page, filters } = query;
    let filter = LogFilter {
        item_id: filters.item_id.map(|i| i.to_string()),
        contact_id: filters.contact_id.map(|c| c.to_string()),
        actor_id: filters.actor_id,
        action: filters.action,
    };
    let (ws, before, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            ModerationLogRow::list(conn, &ws, &filter, before.as_deref(), fetch)
                .map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), LogEntry::from_row)
        .map(web::Json)
}

/// One item's history in the moderation log, newest first.
#[utoipa::path(
    tag = "inbox",
    operation_id = "list_inbox_item_log",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
        crate::http::extract::PageParams,
    ),
    responses(
        (status = 200, description = "A page of entries, newest first", body = Paginated<LogEntry>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/items/{item_id}/log")]
pub async fn list_inbox_item_log(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
    query: ListQuery<NoFilters>,
) -> ApiResult<web::Json<Paginated<LogEntry>>> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let page = query.page;
    let (ws, id, before, fetch) = (
        access.workspace_id.to_string(),
        item_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            let item = load_item(conn, &ws, &id)?;
            let filter = LogFilter {
                item_id: Some(item.id),
                ..LogFilter::default()
            };
            Ok::<_, ApiError>(ModerationLogRow::list(
                conn,
                &ws,
                &filter,
                before.as_deref(),
                fetch,
            )?)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), LogEntry::from_row)
        .map(web::Json)
}

/// No filters: only paging.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFilters {}
