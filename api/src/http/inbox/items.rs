//! Inbox items: the filtered list, one item, changes by people (one item
//! or in bulk), and polling a channel now.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::views::InboxItem;
use super::{load_item, member_entry};
use crate::activity;
use crate::auth::{Principal, WorkspaceAccess};
use crate::db::channels::ChannelRow;
use crate::db::inbox::{InboxFilter, InboxItemChanges, InboxItemRow, next_rotation};
use crate::db::inbox_rules::ModerationLogRow;
use crate::db::memberships::MembershipRow;
use crate::db::{self, DbConn};
use crate::domain::activity::EventType;
use crate::domain::ids::{ChannelId, ContactId, InboxItemId, PostId, UserId, WorkspaceId};
use crate::domain::inbox::{ItemKind, ItemStatus, Priority, parse_label};
use crate::domain::roles::Permission;
use crate::domain::sentiment::SentimentLabel;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IfMatch, Json, ListQuery, Paginated, etag, present};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::inbox::polling::{self, PollReport};
use crate::state::AppState;

/// Filters of the inbox list. Lists are comma-separated (`status=open,pending`).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxFilters {
    /// Statuses, comma-separated: `open`, `pending`, `resolved`, `spam`, `hidden`.
    pub status: Option<String>,
    /// Kinds, comma-separated: `mention`, `comment`, `direct_message`, `review`, `listening_hit`.
    pub kind: Option<String>,
    /// Priorities, comma-separated: `low`, `normal`, `high`, `urgent`.
    pub priority: Option<String>,
    /// Only from this channel.
    pub channel_id: Option<ChannelId>,
    /// Only from this platform (plugin id).
    pub platform: Option<String>,
    /// A member's id, `me`, or `none` for unassigned items.
    pub assignee: Option<String>,
    /// Only items with this tag.
    pub tag: Option<String>,
    /// Only from this contact.
    pub contact_id: Option<ContactId>,
    /// Only this conversation (`thread.remote_id` of an item).
    pub thread: Option<String>,
    /// Only with this sentiment.
    pub sentiment: Option<SentimentLabel>,
    /// Only in this language (ISO 639-1).
    pub lang: Option<String>,
    /// Only found by this listening query.
    pub listening_query_id: Option<String>,
    /// Only about this Plaza post.
    pub post_id: Option<PostId>,
    /// Only items whose text contains this (case-insensitive), 1–200 characters.
    pub q: Option<String>,
    /// Received at or after (RFC 3339).
    pub received_from: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub received_until: Option<DateTime<Utc>>,
    /// `true`: only items unanswered past their first-response due time.
    pub overdue: Option<bool>,
}

fn list_of<T>(
    raw: Option<&str>,
    field: &str,
    parse: impl Fn(&str) -> Option<T>,
    errors: &mut Vec<FieldError>,
) -> Vec<T> {
    let Some(raw) = raw else {
        return Vec::new();
    };
    let mut values = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match parse(part) {
            Some(value) => values.push(value),
            None => errors.push(FieldError::new(
                field,
                format!("`{part}` is not one of the values"),
            )),
        }
    }
    values
}

impl InboxFilters {
    /// The storage filter, for the caller `me`.
    fn to_filter(&self, me: UserId) -> ApiResult<InboxFilter> {
        let mut errors = Vec::new();
        let statuses = list_of(
            self.status.as_deref(),
            "status",
            ItemStatus::parse,
            &mut errors,
        );
        let kinds = list_of(self.kind.as_deref(), "kind", ItemKind::parse, &mut errors);
        let priorities = list_of(
            self.priority.as_deref(),
            "priority",
            Priority::parse,
            &mut errors,
        );
        let assignee_id = match self.assignee.as_deref() {
            None => None,
            Some("none") => Some(None),
            Some("me") => Some(Some(me.to_string())),
            Some(raw) => match raw.parse::<UserId>() {
                Ok(user) => Some(Some(user.to_string())),
                Err(_) => {
                    errors.push(FieldError::new(
                        "assignee",
                        "must be a member id, `me` or `none`",
                    ));
                    None
                }
            },
        };
        let tag = match self.tag.as_deref().map(parse_label) {
            Some(Ok(tag)) => Some(tag),
            Some(Err(m)) => {
                errors.push(FieldError::new("tag", m));
                None
            }
            None => None,
        };
        if self
            .q
            .as_deref()
            .is_some_and(|q| q.trim().is_empty() || q.chars().count() > 200)
        {
            errors.push(FieldError::new("q", "must be 1 to 200 characters"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(InboxFilter {
            statuses: statuses.iter().map(|s| s.as_str().to_owned()).collect(),
            kinds: kinds.iter().map(|k| k.as_str().to_owned()).collect(),
            priorities: priorities.iter().map(|p| p.as_str().to_owned()).collect(),
            channel_id: self.channel_id.map(|c| c.to_string()),
            platform: self.platform.clone(),
            assignee_id,
            tag,
            contact_id: self.contact_id.map(|c| c.to_string()),
            thread_remote_id: self.thread.clone(),
            sentiment: self.sentiment.map(|s| s.as_str().to_owned()),
            lang: self.lang.clone(),
            listening_query_id: self.listening_query_id.clone(),
            post_id: self.post_id.map(|p| p.to_string()),
            text: self.q.as_ref().map(|q| q.trim().to_owned()),
            received_from: self.received_from.map(|at| at.naive_utc()),
            received_until: self.received_until.map(|at| at.naive_utc()),
            overdue_at: self.overdue.filter(|o| *o).map(|_| db::now()),
        })
    }
}

/// The inbox: items newest first, filtered by any field and by text.
#[utoipa::path(
    tag = "inbox",
    operation_id = "list_inbox_items",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), InboxFilters, crate::http::extract::PageParams),
    responses(
        (status = 200, description = "A page of items, newest first", body = Paginated<InboxItem>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/items")]
pub async fn list_inbox_items(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<InboxFilters>,
) -> ApiResult<web::Json<Paginated<InboxItem>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let ListQuery { page, filters } = query;
    let filter = filters.to_filter(access.user_id)?;
    let (ws, before, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            InboxItemRow::list(conn, &ws, &filter, before.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), InboxItem::from_row)
        .map(web::Json)
}

/// One inbox item.
#[utoipa::path(
    tag = "inbox",
    operation_id = "get_inbox_item",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
    ),
    responses(
        (status = 200, description = "The item", body = InboxItem,
         headers(("ETag" = String, description = "Its version, for If-Match"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/inbox/items/{item_id}")]
pub async fn get_inbox_item(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), item_id.to_string());
    let row = state.db.read(move |conn| load_item(conn, &ws, &id)).await?;
    with_etag(row)
}

fn with_etag(row: InboxItemRow) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(InboxItem::from_row(row)?))
}

/// Changes to an item; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "pending", "priority": "high", "assignee_id": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f", "tags": ["complaint", "shipping"], "reason": "waiting for the warehouse"}))]
pub struct UpdateInboxItem {
    /// New status. `spam` and `hidden` need `inbox:moderate` (and hide
    /// nothing on the platform: use the moderation operation for that).
    pub status: Option<ItemStatus>,
    /// New priority.
    pub priority: Option<Priority>,
    /// A member to assign it to (`inbox:assign`); `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<Option<UserId>>,
    /// The item's tags, replacing the old ones (`a-z 0-9 _ - :`, up to 20).
    pub tags: Option<Vec<String>>,
    /// Why, for the moderation log (up to 500 characters).
    pub reason: Option<String>,
}

/// Tags an item may carry at most.
const MAX_TAGS: usize = 20;

/// A checked set of changes: what to write and what to record.
struct Planned {
    status: Option<ItemStatus>,
    priority: Option<Priority>,
    assignee: Option<Option<UserId>>,
    tags: Option<Vec<String>>,
    reason: Option<String>,
}

fn check_tags(tags: &[String], field: &str, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut clean = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        match parse_label(tag) {
            Ok(tag) if !clean.contains(&tag) => clean.push(tag),
            Ok(_) => {}
            Err(m) => errors.push(FieldError::new(format!("{field}[{i}]"), m)),
        }
    }
    if clean.len() > MAX_TAGS {
        errors.push(FieldError::new(field, format!("at most {MAX_TAGS} tags")));
    }
    clean
}

fn check_reason(reason: Option<&String>, errors: &mut Vec<FieldError>) {
    if reason.is_some_and(|r| r.chars().count() > 500) {
        errors.push(FieldError::new("reason", "must be at most 500 characters"));
    }
}

/// The permission each change needs.
fn authorize(access: &WorkspaceAccess, plan: &Planned) -> ApiResult<()> {
    let mut needed = Vec::new();
    if plan
        .status
        .is_some_and(|s| matches!(s, ItemStatus::Spam | ItemStatus::Hidden))
    {
        needed.push(Permission::InboxModerate);
    }
    if plan.status.is_some() || plan.priority.is_some() || plan.tags.is_some() {
        needed.push(Permission::InboxReply);
    }
    if plan.assignee.is_some() {
        needed.push(Permission::InboxAssign);
    }
    match needed.into_iter().find(|p| !access.can(*p)) {
        Some(missing) => Err(ApiError::forbidden(
            "missing_permission",
            format!(
                "this change needs the `{}` permission",
                serde_json::to_value(missing)
                    .unwrap_or_default()
                    .as_str()
                    .unwrap_or_default()
            ),
        )),
        None => Ok(()),
    }
}

fn check_assignee(
    conn: &mut DbConn,
    workspace_id: &str,
    assignee: Option<Option<UserId>>,
) -> ApiResult<()> {
    if let Some(Some(user)) = assignee
        && MembershipRow::find(conn, workspace_id, &user.to_string())?.is_none()
    {
        return Err(ApiError::invalid_field(
            "assignee_id",
            "is not a member of the workspace",
        ));
    }
    Ok(())
}

/// Applies a checked plan to one item inside a transaction: the row, its
/// log entries and its events.
fn apply(
    conn: &mut DbConn,
    item: &InboxItemRow,
    plan: &Planned,
    user: UserId,
) -> ApiResult<InboxItemRow> {
    let now = db::now();
    let mut changes = InboxItemChanges {
        version: Some(item.version + 1),
        updated_at: Some(now),
        ..InboxItemChanges::default()
    };
    let mut log = Vec::new();
    let mut events = Vec::new();
    if let Some(status) = plan.status.filter(|s| s.as_str() != item.status) {
        changes.status = Some(status.as_str().to_owned());
        if status == ItemStatus::Resolved {
            changes.resolved_at = Some(Some(now));
            if item.first_response_at.is_none() {
                changes.first_response_at = Some(Some(now));
            }
        } else if item.resolved_at.is_some() {
            changes.resolved_at = Some(None);
        }
        log.push(member_entry(
            item,
            user,
            "status.set",
            &json!({ "from": item.status, "to": status }),
            plan.reason.clone(),
        ));
    }
    if let Some(priority) = plan.priority.filter(|p| p.as_str() != item.priority) {
        changes.priority = Some(priority.as_str().to_owned());
        log.push(member_entry(
            item,
            user,
            "priority.set",
            &json!({ "from": item.priority, "to": priority }),
            plan.reason.clone(),
        ));
    }
    if let Some(tags) = &plan.tags {
        let json = serde_json::to_string(tags).map_err(ApiError::internal)?;
        if json != item.tags {
            changes.tags = Some(json);
            log.push(member_entry(item, user, "tags.set", &json!({ "from": serde_json::from_str::<serde_json::Value>(&item.tags).unwrap_or_default(), "to": tags }), plan.reason.clone()));
        }
    }
    let mut assigned = false;
    if let Some(assignee) = plan.assignee {
        let new = assignee.map(|u| u.to_string());
        if new != item.assignee_id {
            changes.assignee_id = Some(new.clone());
            assigned = true;
            log.push(member_entry(
                item,
                user,
                "assignee.set",
                &json!({ "from": item.assignee_id, "to": new }),
                plan.reason.clone(),
            ));
        }
    }
    if log.is_empty() {
        return Ok(item.clone());
    }
    let row = InboxItemRow::update(
        conn,
        &item.workspace_id,
        &item.id,
        &changes,
        Some(item.version),
    )?
    .ok_or(ApiError::PreconditionFailed)?;
    let updated_fields: Vec<&str> = log
        .iter()
        .map(|e| e.action.trim_end_matches(".set"))
        .collect();
    if updated_fields.iter().any(|f| *f != "assignee") {
        events.push((EventType::InboxItemUpdated, json!({ "item_id": row.id, "changed": updated_fields, "by": user, "item": crate::inbox::ingest::summary(&row) })));
    }
    if assigned {
        events.push((
            EventType::InboxItemAssigned,
            json!({ "item_id": row.id, "assignee_id": row.assignee_id, "by": user }),
        ));
    }
    ModerationLogRow::append(conn, &log)?;
    let events: Vec<_> = events
        .into_iter()
        .map(|(t, d)| (t, Some(row.id.as_str()), d))
        .collect();
    activity::record_many(conn, &row.workspace_id, &events)?;
    Ok(row)
}

/// Change an item: status, priority, assignee, tags. Each change is
/// recorded in the moderation log with who made it and why.
#[utoipa::path(
    tag = "inbox",
    operation_id = "update_inbox_item",
    request_body = UpdateInboxItem,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("item_id" = InboxItemId, Path, description = "Item id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The item as it now is", body = InboxItem,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/inbox/items/{item_id}")]
pub async fn update_inbox_item(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, InboxItemId)>,
    if_match: IfMatch,
    body: Json<UpdateInboxItem>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, item_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    let tags = body
        .tags
        .as_deref()
        .map(|t| check_tags(t, "tags", &mut errors));
    check_reason(body.reason.as_ref(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let plan = Planned {
        status: body.status,
        priority: body.priority,
        assignee: body.assignee_id,
        tags,
        reason: body.reason,
    };
    authorize(&access, &plan)?;
    let (ws, id, user) = (
        access.workspace_id.to_string(),
        item_id.to_string(),
        access.user_id,
    );
    let row = state
        .db
        .write(move |conn| {
            let item = load_item(conn, &ws, &id)?;
            if !if_match.allows(&etag(item.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            check_assignee(conn, &ws, plan.assignee)?;
            apply(conn, &item, &plan, user)
        })
        .await?;
    with_etag(row)
}

/// Changes applied to many items at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "item_ids": ["019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f"],
    "status": "resolved",
    "add_tags": ["handled"],
    "reason": "answered in the FAQ post"
}))]
pub struct BulkUpdateInboxItems {
    /// The items (1–500).
    pub item_ids: Vec<InboxItemId>,
    /// New status for all.
    pub status: Option<ItemStatus>,
    /// New priority for all.
    pub priority: Option<Priority>,
    /// Assign all to this member; `null` unassigns.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assignee_id: Option<Option<UserId>>,
    /// Share the items among these members in turn (round robin, the turn
    /// kept across calls); not with `assignee_id`.
    pub round_robin: Option<Vec<UserId>>,
    /// Tags to add.
    #[serde(default)]
    pub add_tags: Vec<String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// Why, for the moderation log.
    pub reason: Option<String>,
}

/// What a bulk change did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOutcome {
    /// Items changed (or already as asked).
    pub updated: Vec<InboxItemId>,
    /// Ids that are not items of the workspace.
    pub not_found: Vec<InboxItemId>,
}

/// Most items one bulk change takes.
const MAX_BULK: usize = 500;

/// Change many items at once: status, priority, assignee (one member or
/// round robin among several) and tags. All or nothing.
#[utoipa::path(
    tag = "inbox",
    operation_id = "bulk_update_inbox_items",
    request_body = BulkUpdateInboxItems,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "What changed", body = BulkOutcome),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/inbox/bulk-updates")]
pub async fn bulk_update_inbox_items(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<BulkUpdateInboxItems>,
) -> ApiResult<web::Json<BulkOutcome>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    if body.item_ids.is_empty() || body.item_ids.len() > MAX_BULK {
        errors.push(FieldError::new(
            "item_ids",
            format!("must hold 1 to {MAX_BULK} ids"),
        ));
    }
    let add = check_tags(&body.add_tags, "add_tags", &mut errors);
    let remove = check_tags(&body.remove_tags, "remove_tags", &mut errors);
    check_reason(body.reason.as_ref(), &mut errors);
    let mut pool: Vec<UserId> = body.round_robin.clone().unwrap_or_default();
    pool.sort();
    pool.dedup();
    if body.round_robin.is_some() && (pool.is_empty() || body.assignee_id.is_some()) {
        errors.push(FieldError::new(
            "round_robin",
            "must name at least one member, and not with assignee_id",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let retag = !add.is_empty() || !remove.is_empty();
    let probe = Planned {
        status: body.status,
        priority: body.priority,
        assignee: body.assignee_id.or_else(|| pool.first().map(|u| Some(*u))),
        tags: retag.then(Vec::new),
        reason: None,
    };
    authorize(&access, &probe)?;
    let (ws, user) = (access.workspace_id.to_string(), access.user_id);
    let ids: Vec<String> = body.item_ids.iter().map(ToString::to_string).collect();
    let outcome = state
        .db
        .write(move |conn| {
            check_assignee(conn, &ws, body.assignee_id)?;
            for member in &pool {
                check_assignee(conn, &ws, Some(Some(*member)))?;
            }
            let items = InboxItemRow::find_many(conn, &ws, &ids)?;
            let mut updated = Vec::new();
            let pool_key = pool
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",");
            for item in items {
                let tags = retag.then(|| {
                    let mut tags: Vec<String> =
                        serde_json::from_str(&item.tags).unwrap_or_default();
                    tags.retain(|t| !remove.contains(t));
                    for tag in &add {
                        if !tags.contains(tag) {
                            tags.push(tag.clone());
                        }
                    }
                    tags
                });
                let assignee = if pool.is_empty() {
                    body.assignee_id
                } else {
                    let turn = next_rotation(conn, &ws, &pool_key)?;
                    let len = i64::try_from(pool.len()).unwrap_or(1);
                    pool.get(usize::try_from(turn.rem_euclid(len)).unwrap_or(0))
                        .map(|u| Some(*u))
                };
                let plan = Planned {
                    status: body.status,
                    priority: body.priority,
                    assignee,
                    tags,
                    reason: body.reason.clone(),
                };
                let row = apply(conn, &item, &plan, user)?;
                updated.push(
                    crate::domain::ids::parse_stored::<InboxItemId>(&row.id)
                        .map_err(ApiError::internal)?,
                );
            }
            let not_found = body
                .item_ids
                .iter()
                .filter(|id| !updated.contains(id))
                .copied()
                .collect();
            Ok::<_, ApiError>(BulkOutcome { updated, not_found })
        })
        .await?;
    Ok(web::Json(outcome))
}

/// Read a channel's mentions, comments, messages and listening queries
/// now, instead of waiting for the next poll. Answers what was found.
#[utoipa::path(
    tag = "inbox",
    operation_id = "poll_channel_inbox",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses(
        (status = 200, description = "What the poll found, stream by stream", body = PollReport),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/{channel_id}/inbox/poll")]
pub async fn poll_channel_inbox(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<web::Json<PollReport>> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxReply)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), channel_id.to_string());
    let channel = state
        .db
        .read(move |conn| ChannelRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("channel")))
        .await?;
    if channel.status != "connected" {
        return Err(ApiError::conflict(
            "channel_not_connected",
            format!(
                "the channel is {}; only connected channels are read",
                channel.status
            ),
        ));
    }
    Ok(web::Json(polling::poll(&state, &channel.id).await?))
}
