//! Registrations for events: sign people up (or onto the waitlist), check
//! them in, cancel, and export the list as CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::registrations::RegistrationRow;
use crate::db::{self, DbConn, is_unique_violation};
use crate::domain::email::Email;
use crate::domain::ids::{EventId, RegistrationId, WorkspaceId, parse_stored};
use crate::domain::registrations::{EventFull, NOTE_MAX_CHARS, RegistrationStatus, admit};
use crate::domain::roles::Permission;
use crate::domain::spreadsheet::safe_cell;
use crate::domain::text::{Name, Prose};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::events::{load as load_event, lock as lock_event};
use crate::http::extract::{IdempotencyKey, Json, Page, PageParams, Paginated};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// One person's registration for an event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-7777-7d7a-9c1e-2f4b3a5d6e7f",
    "event_id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "note": "Vegetarian",
    "status": "registered",
    "created_at": "2026-11-02T09:30:00Z",
    "updated_at": "2026-11-02T09:30:00Z"
}))]
pub struct Registration {
    /// Registration id.
    pub id: RegistrationId,
    /// The event.
    pub event_id: EventId,
    /// The person's name.
    pub name: String,
    /// Their email (lower-cased); one registration per email per event.
    pub email: String,
    /// Anything noted about them.
    pub note: Option<String>,
    /// Where the registration stands.
    pub status: RegistrationStatus,
    /// When they registered; the waitlist is served in this order.
    pub created_at: DateTime<Utc>,
    /// Last change of status.
    pub updated_at: DateTime<Utc>,
}

impl Registration {
    fn from_row(row: RegistrationRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            event_id: parse_stored(&row.event_id).map_err(ApiError::internal)?,
            status: RegistrationStatus::parse(&row.status).ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("stored status {:?}", row.status))
            })?,
            name: row.name,
            email: row.email,
            note: row.note,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new registration. It holds a seat if one is free, else joins the
/// waitlist if the event keeps one, else is refused (409 `event_full`).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada Lovelace", "email": "ada@example.com", "note": "Vegetarian"}))]
pub struct CreateRegistration {
    /// The person's name, 1–100 characters.
    pub name: String,
    /// Their email; a second registration with it answers 409 `already_registered`.
    pub email: String,
    /// Anything to note, up to 1,000 characters.
    pub note: Option<String>,
}

/// A new status for a registration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "attended"}))]
pub struct UpdateRegistration {
    /// `registered` may become `cancelled`, `attended` or `no_show`;
    /// `waitlisted` may become `cancelled`; `attended` and `no_show` may be
    /// swapped. Others answer 409 `invalid_transition`. Cancelling a seat
    /// gives it to the longest-waiting person on the waitlist.
    pub status: RegistrationStatus,
}

/// Filters and paging of `list_registrations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegistrationQuery {
    /// Only registrations in this status.
    #[param(value_type = Option<RegistrationStatus>)]
    pub status: Option<String>,
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
}

fn load(
    conn: &mut DbConn,
    workspace_id: &str,
    event_id: &str,
    id: &str,
) -> ApiResult<RegistrationRow> {
    RegistrationRow::find(conn, workspace_id, event_id, id)?
        .ok_or(ApiError::NotFound("registration"))
}

fn stored_status(row: &RegistrationRow) -> ApiResult<RegistrationStatus> {
    RegistrationStatus::parse(&row.status)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored status {:?}", row.status)))
}

fn already_registered() -> ApiError {
    ApiError::conflict(
        "already_registered",
        "this email is already registered for this event",
    )
}

/// Register someone for an event.
#[utoipa::path(
    tag = "events",
    operation_id = "create_registration",
    request_body = CreateRegistration,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Registered, or waitlisted when the event is full and keeps a waitlist", body = Registration,
         headers(("Location" = String, description = "The new registration"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/community-events/{event_id}/registrations")]
pub async fn create_registration(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
    key: IdempotencyKey,
    body: Json<CreateRegistration>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    let name = Name::parse(&body.name).map_err(|m| errors.push(FieldError::new("name", m)));
    let email = Email::parse(&body.email).map_err(|m| errors.push(FieldError::new("email", m)));
    let note = Prose::parse_optional(body.note.as_deref(), NOTE_MAX_CHARS)
        .map_err(|m| errors.push(FieldError::new("note", m)));
    let (Ok(name), Ok(email), Ok(note)) = (name, email, note) else {
        return Err(ApiError::Validation(errors));
    };
    let path = format!(
        "/v1/workspaces/{}/community-events/{event_id}/registrations",
        access.workspace_id
    );
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let (ws, event) = (access.workspace_id.to_string(), event_id.to_string());
        let row = state
            .db
            .write(move |conn| {
                let event = lock_event(conn, &ws, &event)?;
                if RegistrationRow::find_by_email(conn, &event.id, email.as_str())?.is_some() {
                    return Err(already_registered());
                }
                let taken = RegistrationRow::counts(conn, &event.id)?.seats_taken();
                let status =
                    admit(event.capacity, taken, event.waitlist != 0).map_err(|EventFull| {
                        ApiError::conflict(
                            "event_full",
                            "every seat is taken and the event keeps no waitlist",
                        )
                    })?;
                let now = db::now();
                let row = RegistrationRow {
                    id: RegistrationId::new().to_string(),
                    workspace_id: ws,
                    event_id: event.id,
                    name: name.into_string(),
                    email: email.as_str().to_owned(),
                    note: note.map(Prose::into_string),
                    status: status.as_str().to_owned(),
                    created_at: now,
                    updated_at: now,
                };
                match row.insert(conn) {
                    Ok(()) => Ok(row),
                    Err(err) if is_unique_violation(&err) => Err(already_registered()),
                    Err(err) => Err(err.into()),
                }
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        Created::new(Registration::from_row(row)?, location)
    })
    .await
}

/// An event's registrations, oldest first.
#[utoipa::path(
    tag = "events",
    operation_id = "list_registrations",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        RegistrationQuery,
    ),
    responses(
        (status = 200, description = "A page of registrations, in registration order", body = Paginated<Registration>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/community-events/{event_id}/registrations")]
pub async fn list_registrations(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
    query: web::Query<RegistrationQuery>,
) -> ApiResult<web::Json<Paginated<Registration>>> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let query = query.into_inner();
    let status = query
        .status
        .as_deref()
        .map(|raw| {
            RegistrationStatus::parse(raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    "must be one of registered, waitlisted, cancelled, attended, no_show",
                )
            })
        })
        .transpose()?;
    let page = Page::from_params(PageParams {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let (ws, event, after, fetch) = (
        access.workspace_id.to_string(),
        event_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            let event = load_event(conn, &ws, &event)?;
            RegistrationRow::list(conn, &event.id, status, after.as_deref(), fetch)
                .map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), Registration::from_row)
        .map(web::Json)
}

/// One registration.
#[utoipa::path(
    tag = "events",
    operation_id = "get_registration",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("registration_id" = RegistrationId, Path, description = "Registration id"),
    ),
    responses(
        (status = 200, description = "The registration", body = Registration),
        ReadProblems,
    )
)]
#[get(
    "/workspaces/{workspace_id}/community-events/{event_id}/registrations/{registration_id:[0-9a-fA-F-]+}"
)]
pub async fn get_registration(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId, RegistrationId)>,
) -> ApiResult<web::Json<Registration>> {
    let (workspace_id, event_id, registration_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let (ws, event, id) = (
        access.workspace_id.to_string(),
        event_id.to_string(),
        registration_id.to_string(),
    );
    let row = state
        .db
        .read(move |conn| load(conn, &ws, &event, &id))
        .await?;
    Registration::from_row(row).map(web::Json)
}

/// Check someone in, mark a no-show, or cancel. Cancelling a seat gives it
/// to the longest-waiting person on the waitlist.
#[utoipa::path(
    tag = "events",
    operation_id = "update_registration",
    request_body = UpdateRegistration,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("registration_id" = RegistrationId, Path, description = "Registration id"),
    ),
    responses(
        (status = 200, description = "The registration in its new status", body = Registration),
        WriteProblems,
    )
)]
#[patch(
    "/workspaces/{workspace_id}/community-events/{event_id}/registrations/{registration_id:[0-9a-fA-F-]+}"
)]
pub async fn update_registration(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId, RegistrationId)>,
    body: Json<UpdateRegistration>,
) -> ApiResult<web::Json<Registration>> {
    let (workspace_id, event_id, registration_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let next = body.0.status;
    let (ws, event, id) = (
        access.workspace_id.to_string(),
        event_id.to_string(),
        registration_id.to_string(),
    );
    let row = state
        .db
        .write(move |conn| {
            let event = lock_event(conn, &ws, &event)?;
            let current = load(conn, &ws, &event.id, &id)?;
            let status = stored_status(&current)?;
            if !status.can_become(next) {
                return Err(ApiError::conflict(
                    "invalid_transition",
                    format!(
                        "a {} registration cannot become {}",
                        status.as_str(),
                        next.as_str()
                    ),
                ));
            }
            if status == next {
                return Ok(current);
            }
            let row = RegistrationRow::set_status(conn, &id, next)?;
            if status.holds_seat() && !next.holds_seat() {
                RegistrationRow::fill_free_seats(conn, &event.id, event.capacity)?;
            }
            Ok(row)
        })
        .await?;
    Registration::from_row(row).map(web::Json)
}

/// Delete a registration (erase the person's data). A seat it held goes to
/// the longest-waiting person on the waitlist.
#[utoipa::path(
    tag = "events",
    operation_id = "delete_registration",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
        ("registration_id" = RegistrationId, Path, description = "Registration id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ActionProblems,
    )
)]
#[delete(
    "/workspaces/{workspace_id}/community-events/{event_id}/registrations/{registration_id:[0-9a-fA-F-]+}"
)]
pub async fn delete_registration(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId, RegistrationId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id, registration_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let (ws, event, id) = (
        access.workspace_id.to_string(),
        event_id.to_string(),
        registration_id.to_string(),
    );
    state
        .db
        .write(move |conn| {
            let event = lock_event(conn, &ws, &event)?;
            let current = load(conn, &ws, &event.id, &id)?;
            RegistrationRow::delete(conn, &id)?;
            if stored_status(&current)?.holds_seat() {
                RegistrationRow::fill_free_seats(conn, &event.id, event.capacity)?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The columns of a registrations export, in order.
const EXPORT_HEADER: [&str; 7] = [
    "id",
    "name",
    "email",
    "status",
    "note",
    "registered_at",
    "updated_at",
];

/// Every registration as CSV (RFC 4180, UTF-8, a header row). Text that a
/// spreadsheet would run as a formula is prefixed with `'`.
fn export_csv(rows: &[RegistrationRow]) -> ApiResult<Vec<u8>> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(EXPORT_HEADER)
        .map_err(ApiError::internal)?;
    let time = |at| utc(at).to_rfc3339_opts(SecondsFormat::Secs, true);
    for row in rows {
        out.write_record([
            row.id.as_str(),
            &safe_cell(&row.name),
            &safe_cell(&row.email),
            row.status.as_str(),
            &safe_cell(row.note.as_deref().unwrap_or_default()),
            &time(row.created_at),
            &time(row.updated_at),
        ])
        .map_err(ApiError::internal)?;
    }
    out.into_inner()
        .map_err(|err| ApiError::internal(err.into_error()))
}

/// An event's registrations as a CSV file, for a spreadsheet or a badge
/// printer.
#[utoipa::path(
    tag = "events",
    operation_id = "export_registrations",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("event_id" = EventId, Path, description = "Event id"),
    ),
    responses(
        (status = 200, description = "Every registration in registration order, with a header row: \
            id, name, email, status, note, registered_at, updated_at. Cells starting with `=`, `+`, `-`, `@`, \
            tab or carriage return are prefixed with `'` so spreadsheets show them as text.",
         body = String, content_type = "text/csv",
         headers(("Content-Disposition" = String, description = "`attachment` with a file name"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/community-events/{event_id}/registrations/export")]
pub async fn export_registrations(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, EventId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, event_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let (ws, event) = (access.workspace_id.to_string(), event_id.to_string());
    let rows = state
        .db
        .read(move |conn| {
            let event = load_event(conn, &ws, &event)?;
            RegistrationRow::all(conn, &event.id).map_err(ApiError::from)
        })
        .await?;
    let body = export_csv(&rows)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"registrations-{event_id}.csv\""),
        ))
        .body(body))
}
