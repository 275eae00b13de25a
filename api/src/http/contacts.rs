//! Contacts: the community's people, each with identities on one or more
//! platforms (merged and split by hand), the team's notes, tags and lists,
//! their history with the brand, and an advocacy score that ranks the
//! brand's advocates.

use actix_web::http::header;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::contacts::{ContactChanges, ContactOrder, ContactRow, IdentityRow};
use crate::db::inbox::{InboxFilter, InboxItemRow};
use crate::db::inbox_rules::ModerationLogRow;
use crate::db::{self, DbConn};
use crate::domain::advocacy::{self, AdvocacyScore, Interaction};
use crate::domain::ids::{ContactId, ContactIdentityId, WorkspaceId, parse_stored};
use crate::domain::inbox::{ItemKind, parse_label};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{IfMatch, Json, ListQuery, Paginated, etag, present};
use crate::http::problems::{ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// Items of a contact's history the score is computed from.
const SCORED_ITEMS: i64 = 500;

/// An account of a contact on one platform.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactIdentity {
    /// Identity id (for splitting it off).
    pub id: ContactIdentityId,
    /// The plugin id of the platform.
    pub platform: String,
    /// The account's id there.
    pub remote_id: String,
    /// Its handle.
    pub handle: String,
    /// Its display name.
    pub name: Option<String>,
    /// Its followers, as last seen.
    pub followers: Option<i64>,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last seen.
    pub last_seen_at: DateTime<Utc>,
}

/// A person of the community.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-1111-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Ana García",
    "notes": "Runs the Madrid running club",
    "tags": ["runner"],
    "lists": ["ambassadors"],
    "advocate": true,
    "followers": 12000,
    "advocacy": {"score": 18.4, "reach": 4.08, "engagement": 4.51},
    "interactions": 37,
    "identities": [],
    "first_seen_at": "2026-01-03T10:00:00Z",
    "last_seen_at": "2026-03-01T10:00:00Z",
    "updated_at": "2026-03-01T10:00:00Z"
}))]
pub struct Contact {
    /// Contact id.
    pub id: ContactId,
    /// The name the team knows them by.
    pub name: String,
    /// The team's notes.
    pub notes: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Lists they are on (rules can add them and test for them).
    pub lists: Vec<String>,
    /// Marked as an advocate of the brand (rules can test for it).
    pub advocate: bool,
    /// The largest audience among their identities.
    pub followers: Option<i64>,
    /// Reach × positive engagement over time; the list's ranking uses the
    /// score as last computed, one contact's read computes it now.
    pub advocacy: AdvocacyScore,
    /// Inbox items from them.
    pub interactions: i64,
    /// Their accounts.
    pub identities: Vec<ContactIdentity>,
    /// First item.
    pub first_seen_at: DateTime<Utc>,
    /// Latest item.
    pub last_seen_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

fn view(
    row: ContactRow,
    identities: &[IdentityRow],
    advocacy: AdvocacyScore,
) -> ApiResult<Contact> {
    let identities = identities
        .iter()
        .filter(|i| i.contact_id == row.id)
        .map(|i| {
            Ok(ContactIdentity {
                id: parse_stored(&i.id).map_err(ApiError::internal)?,
                platform: i.platform.clone(),
                remote_id: i.remote_id.clone(),
                handle: i.handle.clone(),
                name: i.display_name.clone(),
                followers: i.followers,
                first_seen_at: utc(i.first_seen_at),
                last_seen_at: utc(i.last_seen_at),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Contact {
        id: parse_stored(&row.id).map_err(ApiError::internal)?,
        name: row.display_name,
        notes: row.notes,
        tags: serde_json::from_str(&row.tags).unwrap_or_default(),
        lists: serde_json::from_str(&row.lists).unwrap_or_default(),
        advocate: row.advocate,
        followers: row.followers,
        advocacy,
        interactions: row.interactions,
        identities,
        first_seen_at: utc(row.first_seen_at),
        last_seen_at: utc(row.last_seen_at),
        updated_at: utc(row.updated_at),
    })
}

fn stored_score(row: &ContactRow) -> AdvocacyScore {
    AdvocacyScore {
        score: row.advocacy_score,
        reach: advocacy::reach(row.followers.and_then(|f| u64::try_from(f).ok())),
        engagement: 0.0,
    }
}

/// Computes a contact's advocacy score from its latest items now, and
/// stores it for the ranking.
fn score(conn: &mut DbConn, row: &ContactRow) -> ApiResult<AdvocacyScore> {
    let filter = InboxFilter {
        contact_id: Some(row.id.clone()),
        ..InboxFilter::default()
    };
    let items = InboxItemRow::list(conn, &row.workspace_id, &filter, None, SCORED_ITEMS)?;
    let interactions: Vec<Interaction> = items
        .iter()
        .map(|item| Interaction {
            at: item.received_at.and_utc(),
            sentiment: item.sentiment_score,
            kind: ItemKind::parse(&item.kind).unwrap_or(ItemKind::Mention),
        })
        .collect();
    let followers = row.followers.and_then(|f| u64::try_from(f).ok());
    let computed = advocacy::advocacy_score(followers, &interactions, Utc::now());
    if (computed.score - row.advocacy_score).abs() > f64::EPSILON {
        db::contacts::set_advocacy_score(conn, &row.id, computed.score)?;
    }
    Ok(computed)
}

/// Filters and order of the contact list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactFilters {
    /// `created` (oldest first, the default) or `advocacy` (highest score first).
    pub order: Option<String>,
    /// Only contacts on this list.
    pub list: Option<String>,
    /// `true`: only contacts marked as advocates.
    pub advocates: Option<bool>,
}

/// The workspace's contacts.
#[utoipa::path(
    tag = "contacts",
    operation_id = "list_contacts",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), ContactFilters, crate::http::extract::PageParams),
    responses(
        (status = 200, description = "A page of contacts", body = Paginated<Contact>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: ListQuery<ContactFilters>,
) -> ApiResult<web::Json<Paginated<Contact>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::InboxRead)
        .await?;
    let ListQuery { page, filters } = query;
    let order = match filters.order.as_deref() {
        None | Some("created") => ContactOrder::Created,
        Some("advocacy") => ContactOrder::Advocacy,
        Some(_) => {
            return Err(ApiError::invalid_field(
                "order",
                "must be `created` or `advocacy`",
            ));
        }
    };
    let list = filters
        .list
        .as_deref()
        .map(parse_label)
        .transpose()
        .map_err(|m| ApiError::invalid_field("list", m))?;
    if order == ContactOrder::Advocacy
        && page
            .after
            .as_deref()
            .is_some_and(|a| a.parse::<i64>().is_err())
    {
        return Err(ApiError::invalid_field(
            "cursor",
            "is not a cursor this API returned",
        ));
    }
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let advocates = filters.advocates.unwrap_or(false);
    let (rows, identities) = state
        .db
        .read(move |conn| {
            let rows = ContactRow::list(
                conn,
                &ws,
                order,
                list.as_deref(),
                advocates,
                after.as_deref(),
                fetch,
            )?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let identities = IdentityRow::of_contacts(conn, &ids)?;
            Ok::<_, ApiError>((rows, identities))
        })
        .await?;
    let offset = page
        .after
        .as_deref()
        .and_then(|a| a.parse::<usize>().ok())
        .unwrap_or(0);
    let limit = page.limit as usize;
    page.finish(
        rows,
        |row| match order {
            ContactOrder::Created => row.id.clone(),
            ContactOrder::Advocacy => (offset + limit).to_string(),
        },
        |row| {
            let score = stored_score(&row);
            view(row, &identities, score)
        },
    )
    .map(web::Json)
}

async fn respond(state: &AppState, workspace_id: String, id: String) -> ApiResult<HttpResponse> {
    let (row, identities, advocacy) = state
        .db
        .write(move |conn| {
            let row = load(conn, &workspace_id, &id)?;
            let identities = IdentityRow::of_contacts(conn, std::slice::from_ref(&row.id))?;
            let advocacy = score(conn, &row)?;
            Ok::<_, ApiError>((row, identities, advocacy))
        })
        .await?;
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(view(row, &identities, advocacy)?))
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<ContactRow> {
    ContactRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("contact"))
}

/// One contact, with their identities and their advocacy score as of now.
/// Their items: `GET …/inbox/items?contact_id=`.
#[utoipa::path(
    tag = "contacts",
    operation_id = "get_contact",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("contact_id" = ContactId, Path, description = "Contact id"),
    ),
    responses(
        (status = 200, description = "The contact", body = Contact,
         headers(("ETag" = String, description = "Its version, for If-Match"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ContactId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, contact_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::InboxRead)
        .await?;
    respond(
        &state,
        access.workspace_id.to_string(),
        contact_id.to_string(),
    )
    .await
}

/// Changes to a contact; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"advocate": true, "lists": ["ambassadors"], "notes": "Runs the Madrid running club"}))]
pub struct UpdateContact {
    /// New name (1–200 characters).
    pub name: Option<String>,
    /// New notes (up to 5,000 characters); `null` clears them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// New tags, replacing the old (`a-z 0-9 _ - :`, up to 20).
    pub tags: Option<Vec<String>>,
    /// New lists, replacing the old (same names as tags, up to 20).
    pub lists: Option<Vec<String>>,
    /// Mark or unmark as an advocate.
    pub advocate: Option<bool>,
}

fn labels(values: &[String], field: &str, errors: &mut Vec<FieldError>) -> String {
    let mut clean: Vec<String> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match parse_label(value) {
            Ok(label) if !clean.contains(&label) => clean.push(label),
            Ok(_) => {}
            Err(m) => errors.push(FieldError::new(format!("{field}[{i}]"), m)),
        }
    }
    if clean.len() > 20 {
        errors.push(FieldError::new(field, "at most 20"));
    }
    serde_json::to_string(&clean).unwrap_or_else(|_| "[]".to_owned())
}

/// Change a contact: name, notes, tags, lists, advocate.
#[utoipa::path(
    tag = "contacts",
    operation_id = "update_contact",
    request_body = UpdateContact,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("contact_id" = ContactId, Path, description = "Contact id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The contact as it now is", body = Contact,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/contacts/{contact_id}")]
pub async fn update_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ContactId)>,
    if_match: IfMatch,
    body: Json<UpdateContact>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, contact_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ContactsManage)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    if body
        .name
        .as_ref()
        .is_some_and(|n| n.trim().is_empty() || n.chars().count() > 200)
    {
        errors.push(FieldError::new("name", "must be 1 to 200 characters"));
    }
    if body
        .notes
        .as_ref()
        .is_some_and(|n| n.as_ref().is_some_and(|n| n.chars().count() > 5000))
    {
        errors.push(FieldError::new("notes", "must be at most 5000 characters"));
    }
    let tags = body.tags.as_deref().map(|t| labels(t, "tags", &mut errors));
    let lists = body
        .lists
        .as_deref()
        .map(|l| labels(l, "lists", &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (ws, id) = (access.workspace_id.to_string(), contact_id.to_string());
    let (ws2, id2) = (ws.clone(), id.clone());
    state
        .db
        .write(move |conn| {
            let row = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(row.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let changes = ContactChanges {
                display_name: body.name.map(|n| n.trim().to_owned()),
                notes: body.notes,
                tags,
                lists,
                advocate: body.advocate,
                version: Some(row.version + 1),
                updated_at: Some(db::now()),
                ..ContactChanges::default()
            };
            ContactRow::update(conn, &ws, &id, &changes, Some(row.version))?
                .ok_or(ApiError::PreconditionFailed)
                .map(drop)
        })
        .await?;
    respond(&state, ws2, id2).await
}

/// Another contact to fold into this one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": "019a5b8e-2222-7d7a-9c1e-2f4b3a5d6e7f"}))]
pub struct MergeContact {
    /// The contact merged in (and removed): its identities, items, tags,
    /// lists and notes move to this one.
    pub contact_id: ContactId,
}

/// Merge another contact into this one: the same person on several
/// platforms.
#[utoipa::path(
    tag = "contacts",
    operation_id = "merge_contact",
    request_body = MergeContact,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("contact_id" = ContactId, Path, description = "The contact that stays"),
    ),
    responses(
        (status = 200, description = "The merged contact", body = Contact),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/contacts/{contact_id}/merge")]
pub async fn merge_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ContactId)>,
    body: Json<MergeContact>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, contact_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ContactsManage)
        .await?;
    if body.0.contact_id == contact_id {
        return Err(ApiError::invalid_field(
            "contact_id",
            "is the contact itself",
        ));
    }
    let (ws, keep, gone, user) = (
        access.workspace_id.to_string(),
        contact_id.to_string(),
        body.0.contact_id.to_string(),
        access.user_id.to_string(),
    );
    let (ws2, keep2) = (ws.clone(), keep.clone());
    state
        .db
        .write(move |conn| {
            let kept = load(conn, &ws, &keep)?;
            let merged = ContactRow::find(conn, &ws, &gone)?.ok_or_else(|| {
                ApiError::Validation(vec![FieldError::new(
                    "contact_id",
                    "is not a contact of the workspace",
                )])
            })?;
            let identities = IdentityRow::of_contacts(conn, std::slice::from_ref(&merged.id))?;
            let ids: Vec<String> = identities.iter().map(|i| i.id.clone()).collect();
            IdentityRow::move_to(conn, &ids, &kept.id)?;
            InboxItemRow::move_contact(conn, &merged.id, &kept.id)?;
            let union = |a: &str, b: &str| {
                let mut all: Vec<String> = serde_json::from_str(a).unwrap_or_default();
                for v in serde_json::from_str::<Vec<String>>(b).unwrap_or_default() {
                    if !all.contains(&v) {
                        all.push(v);
                    }
                }
                serde_json::to_string(&all).unwrap_or_else(|_| "[]".to_owned())
            };
            let notes = match (&kept.notes, &merged.notes) {
                (Some(a), Some(b)) => Some(format!("{a}\n\n{b}")),
                (a, b) => a.clone().or_else(|| b.clone()),
            };
            let changes = ContactChanges {
                notes: Some(notes),
                tags: Some(union(&kept.tags, &merged.tags)),
                lists: Some(union(&kept.lists, &merged.lists)),
                advocate: Some(kept.advocate || merged.advocate),
                followers: Some(kept.followers.max(merged.followers)),
                interactions: Some(kept.interactions + merged.interactions),
                first_seen_at: Some(kept.first_seen_at.min(merged.first_seen_at)),
                last_seen_at: Some(kept.last_seen_at.max(merged.last_seen_at)),
                version: Some(kept.version + 1),
                updated_at: Some(db::now()),
                ..ContactChanges::default()
            };
            ContactRow::update(conn, &ws, &kept.id, &changes, None)?;
            ContactRow::delete(conn, &ws, &merged.id)?;
            ModerationLogRow::append(
                conn,
                &[contact_entry(
                    &ws,
                    &kept.id,
                    &user,
                    "contact.merged",
                    &json!({ "merged": merged.id, "identities": ids }),
                )],
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    respond(&state, ws2, keep2).await
}

/// An identity to take out of a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"identity_id": "019a5b8e-3333-7d7a-9c1e-2f4b3a5d6e7f"}))]
pub struct SplitContact {
    /// The identity that becomes a contact of its own, with its items.
    pub identity_id: ContactIdentityId,
}

/// Split an identity off a contact (merged by mistake): it becomes a new
/// contact with the items it wrote. Answers the new contact.
#[utoipa::path(
    tag = "contacts",
    operation_id = "split_contact",
    request_body = SplitContact,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("contact_id" = ContactId, Path, description = "The contact split"),
    ),
    responses(
        (status = 200, description = "The new contact", body = Contact),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/contacts/{contact_id}/split")]
pub async fn split_contact(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ContactId)>,
    body: Json<SplitContact>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, contact_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::ContactsManage)
        .await?;
    let (ws, id, identity_id, user) = (
        access.workspace_id.to_string(),
        contact_id.to_string(),
        body.0.identity_id.to_string(),
        access.user_id.to_string(),
    );
    let ws2 = ws.clone();
    let new_id = state
        .db
        .write(move |conn| {
            let contact = load(conn, &ws, &id)?;
            let identity = IdentityRow::find(conn, &ws, &identity_id)?
                .filter(|i| i.contact_id == contact.id)
                .ok_or_else(|| {
                    ApiError::Validation(vec![FieldError::new(
                        "identity_id",
                        "is not an identity of this contact",
                    )])
                })?;
            let all = IdentityRow::of_contacts(conn, std::slice::from_ref(&contact.id))?;
            if all.len() < 2 {
                return Err(ApiError::conflict(
                    "last_identity",
                    "a contact's only identity cannot be split off",
                ));
            }
            let now = db::now();
            let fresh = ContactRow {
                id: ContactId::new().to_string(),
                workspace_id: ws.clone(),
                display_name: identity
                    .display_name
                    .clone()
                    .unwrap_or_else(|| identity.handle.clone()),
                notes: None,
                tags: "[]".to_owned(),
                lists: "[]".to_owned(),
                advocate: false,
                followers: identity.followers,
                advocacy_score: 0.0,
                interactions: 0,
                first_seen_at: identity.first_seen_at,
                last_seen_at: identity.last_seen_at,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            fresh.insert(conn)?;
            IdentityRow::move_to(conn, std::slice::from_ref(&identity.id), &fresh.id)?;
            let moved = InboxItemRow::move_identity(
                conn,
                &ws,
                &identity.platform,
                &identity.remote_id,
                &fresh.id,
            )?;
            let moved = i64::try_from(moved).unwrap_or(0);
            ContactRow::update(
                conn,
                &ws,
                &fresh.id,
                &ContactChanges {
                    interactions: Some(moved),
                    ..ContactChanges::default()
                },
                None,
            )?;
            ContactRow::update(
                conn,
                &ws,
                &contact.id,
                &ContactChanges {
                    interactions: Some((contact.interactions - moved).max(0)),
                    version: Some(contact.version + 1),
                    updated_at: Some(now),
                    ..ContactChanges::default()
                },
                None,
            )?;
            ModerationLogRow::append(
                conn,
                &[contact_entry(
                    &ws,
                    &contact.id,
                    &user,
                    "contact.split",
                    &json!({ "identity_id": identity.id, "new_contact_id": fresh.id }),
                )],
            )?;
            Ok::<_, ApiError>(fresh.id)
        })
        .await?;
    respond(&state, ws2, new_id).await
}

fn contact_entry(
    workspace_id: &str,
    contact_id: &str,
    user: &str,
    action: &str,
    detail: &serde_json::Value,
) -> ModerationLogRow {
    ModerationLogRow {
        id: uuid::Uuid::now_v7().to_string(),
        workspace_id: workspace_id.to_owned(),
        item_id: None,
        contact_id: Some(contact_id.to_owned()),
        actor_kind: "member".to_owned(),
        actor_id: Some(user.to_owned()),
        rule_version: None,
        action: action.to_owned(),
        detail: detail.to_string(),
        reason: None,
        created_at: db::now(),
    }
}
