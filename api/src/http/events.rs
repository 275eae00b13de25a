//! Events: the meetups, webinars and launches a community team runs, with
//! limited seats and, if wanted, a waitlist.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::campaigns::CampaignRow;
use crate::db::events::{EventChanges, EventFilter, EventRow};
use crate::db::registrations::RegistrationRow;
use crate::db::{self, DbConn};
use crate::domain::events::{EventDraft, local_time, parse_time_zone};
use crate::domain::ids::{CampaignId, EventId, UserId, WorkspaceId, parse_stored};
use crate::domain::registrations::{RegistrationCounts, capacity_fits, seats_left};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{
    IdempotencyKey, IfMatch, Json, Page, PageParams, Paginated, etag, present,
};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// An event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "campaign_id": "019a5b8e-1111-7d7a-9c1e-2f4b3a5d6e7f",
    "title": "Community meetup: winter edition",
    "description": "Talks, coffee and a preview of what ships next.",
    "starts_at": "2026-12-01T18:00:00Z",
    "ends_at": "2026-12-01T20:30:00Z",
    "time_zone": "Europe/Paris",
    "local_starts_at": "2026-12-01T19:00:00+01:00",
    "local_ends_at": "2026-12-01T21:30:00+01:00",
    "online_url": "https://meet.example.com/winter",
    "place": "Le Comptoir, 12 rue de la Paix, Paris",
    "capacity": 40,
    "waitlist": true,
    "seats_left": 3,
    "registrations": {"registered": 35, "waitlisted": 0, "cancelled": 4, "attended": 2, "no_show": 0},
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-11-01T10:00:00Z",
    "updated_at": "2026-11-01T10:00:00Z"
}))]
pub struct Event {
    /// Event id.
    pub id: EventId,
    /// The campaign it is part of, if any.
    pub campaign_id: Option<CampaignId>,
    /// What it is called.
    pub title: String,
    /// What happens there.
    pub description: Option<String>,
    /// When it starts (UTC).
    pub starts_at: DateTime<Utc>,
    /// When it ends (UTC); after `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// The IANA time zone it happens in.
    pub time_zone: String,
    /// `starts_at` on the wall clocks of `time_zone`, with their offset.
    #[schema(format = DateTime)]
    pub local_starts_at: String,
    /// `ends_at` on the wall clocks of `time_zone`, with their offset.
    #[schema(format = DateTime)]
    pub local_ends_at: String,
    /// Where to join online (`http` or `https`).
    pub online_url: Option<String>,
    /// Where to go in person.
    pub place: Option<String>,
    /// Seats; `null` for unlimited.
    pub capacity: Option<i32>,
    /// Whether people may join a waitlist once every seat is taken.
    pub waitlist: bool,
    /// Free seats; `null` when seats are unlimited.
    pub seats_left: Option<i64>,
    /// Registrations by status. Registered, attended and no-show hold seats.
    pub registrations: RegistrationCounts,
    /// The member who made it.
    pub created_by: UserId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Event {
    fn from_row(row: EventRow, registrations: RegistrationCounts) -> ApiResult<Self> {
        let zone = parse_time_zone(&row.time_zone).map_err(|_| {
            ApiError::internal(anyhow::anyhow!("stored time zone {:?}", row.time_zone))
        })?;
        let (starts_at, ends_at) = (utc(row.starts_at), utc(row.ends_at));
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            campaign_id: row
                .campaign_id
                .as_deref()
                .map(parse_stored)
                .transpose()
                .map_err(ApiError::internal)?,
            title: row.title,
            description: row.description,
            starts_at,
            ends_at,
            time_zone: row.time_zone,
            local_starts_at: local_time(starts_at, zone),
            local_ends_at: local_time(ends_at, zone),
            online_url: row.online_url,
            place: row.place,
            capacity: row.capacity,
            waitlist: row.waitlist != 0,
            seats_left: seats_left(row.capacity, registrations.seats_taken()),
            registrations,
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new event. Give a `place`, an `online_url`, or both.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Community meetup: winter edition",
    "description": "Talks, coffee and a preview of what ships next.",
    "starts_at": "2026-12-01T18:00:00Z",
    "ends_at": "2026-12-01T20:30:00Z",
    "time_zone": "Europe/Paris",
    "place": "Le Comptoir, 12 rue de la Paix, Paris",
    "online_url": "https://meet.example.com/winter",
    "capacity": 40,
    "waitlist": true
}))]
pub struct CreateEvent {
    /// What it is called, 1–200 characters on one line.
    pub title: String,
    /// What happens there, up to 10,000 characters.
    pub description: Option<String>,
    /// When it starts: RFC 3339; any offset is converted to UTC.
    pub starts_at: DateTime<Utc>,
    /// When it ends; after `starts_at`.
    pub ends_at: DateTime<Utc>,
    /// The IANA time zone it happens in (`Europe/Paris`), for local times.
    pub time_zone: String,
    /// Where to join online: an absolute `http` or `https` URL.
    pub online_url: Option<String>,
    /// Where to go in person, up to 500 characters.
    pub place: Option<String>,
    /// Seats, 1 to 1,000,000; omit for unlimited.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<i64>,
    /// Whether people may join a waitlist once every seat is taken
    /// (otherwise they are refused with 409 `event_full`).
    #[serde(default)]
    pub waitlist: bool,
    /// The campaign it is part of: one of this workspace's.
    pub campaign_id: Option<CampaignId>,
}

impl CreateEvent {
    fn draft(&self) -> EventDraft {
        EventDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            time_zone: self.time_zone.clone(),
            online_url: self.online_url.clone(),
            place: self.place.clone(),
            capacity: self.capacity,
            waitlist: self.waitlist,
        }
    }
}

/// Changes to an event; absent fields stay as they are, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"capacity": 60, "ends_at": "2026-12-01T21:00:00Z"}))]
pub struct UpdateEvent {
    /// New title.
    pub title: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New start.
    pub starts_at: Option<DateTime<Utc>>,
    /// New end.
    pub ends_at: Option<DateTime<Utc>>,
    /// New IANA time zone.
    pub time_zone: Option<String>,
    /// New online URL; `null` removes it (a place must remain).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub online_url: Option<Option<String>>,
    /// New place; `null` removes it (an online URL must remain).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub place: Option<Option<String>>,
    /// New number of seats, never below the seats taken (409); `null` for
    /// unlimited. Added seats go to the waitlist, longest waiting first.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    pub capacity: Option<Option<i64>>,
    /// Whether a full event takes a waitlist from now on.
    pub waitlist: Option<bool>,
    /// The campaign it is part of; `null` takes it out of its campaign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<CampaignId>)]
    pub campaign_id: Option<Option<CampaignId>>,
}

impl UpdateEvent {
    fn apply(&self, mut draft: EventDraft) -> EventDraft {
        if let Some(title) = &self.title {
            draft.title.clone_from(title);
        }
        if let Some(description) = &self.description {
            draft.description.clone_from(description);
        }
        if let Some(starts_at) = self.starts_at {
            draft.starts_at = starts_at;
        }
        if let Some(ends_at) = self.ends_at {
            draft.ends_at = ends_at;
        }
        if let Some(time_zone) = &self.time_zone {
            draft.time_zone.clone_from(time_zone);
        }
        if let Some(online_url) = &self.online_url {
            draft.online_url.clone_from(online_url);
        }
        if let Some(place) = &self.place {
            draft.place.clone_from(place);
        }
        if let Some(capacity) = self.capacity {
            draft.capacity = capacity;
        }
        if let Some(waitlist) = self.waitlist {
            draft.waitlist = waitlist;
        }
        draft
    }
}

/// Filters and paging of `list_events`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Only events still running after this time (`ends_at > from`), RFC 3339
    /// (percent-encode a `+` offset as `%2B`).
    #[param(value_type = Option<DateTime<Utc>>, example = "2026-12-01T00:00:00Z")]
    pub from: Option<String>,
    /// Only events starting before this time (`starts_at < to`). With `from`,
    /// every event overlapping `[from, to)`.
    #[param(value_type = Option<DateTime<Utc>>, example = "2027-01-01T00:00:00Z")]
    pub to: Option<String>,
    /// Only events of this campaign.
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<String>,
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
}

fn parse_instant(raw: &str) -> Result<NaiveDateTime, &'static str> {
    DateTime::parse_from_rfc3339(raw)
        .map(|at| at.naive_utc())
        .map_err(|_| "must be an RFC 3339 time such as 2026-12-01T00:00:00Z")
}

impl EventQuery {
    fn filter(&self) -> ApiResult<EventFilter> {
        let mut errors = Vec::new();
        let mut instant = |field: &'static str, raw: Option<&str>| {
            raw.and_then(|raw| {
                parse_instant(raw)
                    .map_err(|m| errors.push(FieldError::new(field, m)))
                    .ok()
            })
        };
        let from = instant("from", self.from.as_deref());
        let to = instant("to", self.to.as_deref());
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            errors.push(FieldError::new("to", "must be after from"));
        }
        let campaign_id = self.campaign_id.as_deref().and_then(|raw| {
            raw.parse::<CampaignId>()
                .map(|id| id.to_string())
                .map_err(|_| errors.push(FieldError::new("campaign_id", "must be a campaign id")))
                .ok()
        });
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(EventFilter {
            from,
            to,
            campaign_id,
        })
    }
}

/// Reads an event of the workspace.
pub(crate) fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<EventRow> {
    EventRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("event"))
}

/// Locks an event of the workspace and reads it (see [`EventRow::lock`]).
pub(crate) fn lock(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<EventRow> {
    if EventRow::lock(conn, workspace_id, id)? == 0 {
        return Err(ApiError::NotFound("event"));
    }
    load(conn, workspace_id, id)
}

/// The stored campaign id, after checking the campaign is the workspace's.
fn campaign_of(
    conn: &mut DbConn,
    workspace_id: &str,
    campaign_id: Option<CampaignId>,
) -> ApiResult<Result<Option<String>, FieldError>> {
    let Some(id) = campaign_id.map(|id| id.to_string()) else {
        return Ok(Ok(None));
    };
    Ok(match CampaignRow::find(conn, workspace_id, &id)? {
        Some(_) => Ok(Some(id)),
        None => Err(FieldError::new(
            "campaign_id",
            "is not a campaign of this workspace",
        )),
    })
}

/// Checks a draft and its campaign together, naming every invalid field.
fn checked(
    conn: &mut DbConn,
    workspace_id: &str,
    draft: EventDraft,
    campaign_id: Option<CampaignId>,
) -> ApiResult<EventChanges> {
    let plan = draft.check();
    let campaign = campaign_of(conn, workspace_id, campaign_id)?;
    match (plan, campaign) {
        (Ok(plan), Ok(campaign)) => Ok(EventChanges::from_plan(plan, campaign)),
        (plan, campaign) => {
            let mut errors: Vec<FieldError> = plan
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(FieldError::from)
                .collect();
            errors.extend(campaign.err());
            Err(ApiError::Validation(errors))
        }
    }
}

fn with_etag(row: EventRow, counts: RegistrationCounts) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(Event::from_row(row, counts)?))
}

/// Create an event.
#[utoipa::path(
    tag = "events",
    operation_id = "create_event",
    request_body = CreateEvent,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Created", body = Event,
         headers(("Location" = String, description = "The new event"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/community-events")]
pub async fn create_event(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<CreateEvent>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::CampaignsManage)
        .await?;
    let body = body.0;
    let path = format!("/v1/workspaces/{}/community-events", access.workspace_id);
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let (ws, user) = (access.workspace_id.to_string(), access.user_id.to_string());
        let (draft, campaign_id) = (body.draft(), body.campaign_id);
        let row = state
            .db
            .write(move |conn| {
                let fields = checked(conn, &ws, draft, campaign_id)?;
                let row = EventRow::new(EventId::new().to_string(), ws, user, fields, db::now());
                row.insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        let tag = etag(row.version);
        Created::new(
            Event::from_row(row, RegistrationCounts::default())?,
            location,
        )
        .map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// The workspace's events, by start time.
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), EventQuery),
    responses(
        (status = 200, description = "A page of events, by start time", body = Paginated<Event>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/community-events")]
pub async fn list_events(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: web::Query<EventQuery>,
) -> ApiResult<web::Json<Paginated<Event>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsRead)
        .await?;
    let query = query.into_inner();
    let filter = query.filter()?;
    let page = Page::from_params(PageParams {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after = page
        .after
        .as_deref()
        .map(|key| {
            EventRow::parse_cursor_key(key).ok_or_else(|| {
                ApiError::invalid_field("cursor", "is not a cursor this API returned")
            })
        })
        .transpose()?;
    let (ws, fetch) = (access.workspace_id.to_string(), page.fetch());
    let (rows, mut counts) = state
        .db
        .read(move |conn| {
            let rows = EventRow::list(conn, &ws, &filter, after, fetch)?;
            let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
            let counts = RegistrationRow::counts_for(conn, &ids)?;
            Ok::<_, ApiError>((rows, counts))
        })
        .await?;
    page.finish(rows, EventRow::cursor_key, |row| {
        let tally = counts.remove(&row.id).unwrap_or_default();
        Event::from_row(row, tally)
    })
    .map(web::Json)
}

/// One event, with its registration counts.
#[utoipa::path(
    tag = "events",
    operation_id = "get_event",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
    ),
    responses(
        (status = 200, description = "The event", body = Event,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/community-events/{event_id}")]
pub async fn get_event(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), event_id.to_string());
    let (row, counts) = state
        .db
        .read(move |conn| {
            let row = load(conn, &ws, &id)?;
            let counts = RegistrationRow::counts(conn, &id)?;
            Ok::<_, ApiError>((row, counts))
        })
        .await?;
    with_etag(row, counts)
}

/// Change an event. Capacity never drops below the seats taken (409
/// `capacity_below_registrations`); added seats go to the waitlist.
#[utoipa::path(
    tag = "events",
    operation_id = "update_event",
    request_body = UpdateEvent,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated (or unchanged, when nothing differs)", body = Event,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/community-events/{event_id}")]
pub async fn update_event(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
    if_match: IfMatch,
    body: Json<UpdateEvent>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let patch = body.0;
    let (ws, id) = (access.workspace_id.to_string(), event_id.to_string());
    let (row, counts) = state
        .db
        .write(move |conn| {
            let current = lock(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let campaign_id = match patch.campaign_id {
                Some(campaign_id) => campaign_id,
                None => current
                    .campaign_id
                    .as_deref()
                    .map(parse_stored)
                    .transpose()
                    .map_err(ApiError::internal)?,
            };
            let changes = checked(conn, &ws, patch.apply(current.draft()), campaign_id)?;
            if changes == current.changes() {
                let counts = RegistrationRow::counts(conn, &id)?;
                return Ok((current, counts));
            }
            let taken = RegistrationRow::counts(conn, &id)?.seats_taken();
            if !capacity_fits(changes.capacity, taken) {
                return Err(ApiError::conflict(
                    "capacity_below_registrations",
                    format!(
                        "{taken} seats are taken; cancel registrations before lowering capacity below that"
                    ),
                ));
            }
            let row = EventRow::update(conn, &current.id, current.version, &changes)?
                .ok_or(ApiError::PreconditionFailed)?;
            RegistrationRow::fill_free_seats(conn, &id, row.capacity)?;
            let counts = RegistrationRow::counts(conn, &id)?;
            Ok((row, counts))
        })
        .await?;
    with_etag(row, counts)
}

/// Delete an event and its registrations.
#[utoipa::path(
    tag = "events",
    operation_id = "delete_event",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ActionProblems,
        StaleProblem,
    )
)]
#[delete("/workspaces/{workspace_id}/community-events/{event_id}")]
pub async fn delete_event(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), event_id.to_string());
    state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            EventRow::delete(conn, &ws, &id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
