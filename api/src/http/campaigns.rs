//! Campaigns: dated, budgeted work towards one objective. Events (and,
//! later, posts) belong to them and carry their UTM values.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::campaigns::{CampaignChanges, CampaignFilter, CampaignRow};
use crate::db::events::EventRow;
use crate::db::{self, DbConn};
use crate::domain::campaigns::{CampaignDraft, CampaignStatus, UtmDraft, parse_date};
use crate::domain::ids::{CampaignId, UserId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{
    IdempotencyKey, IfMatch, Json, Page, PageParams, Paginated, etag, present,
};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// A budget: an amount in the currency's minor unit, and the currency.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 250000, "currency": "EUR"}))]
pub struct Budget {
    /// Whole minor units: cents for EUR (2,500.00 EUR is `250000`), yen for
    /// JPY. Never negative; never a float.
    #[schema(minimum = 0)]
    pub amount_minor: i64,
    /// A circulating ISO 4217 currency code; any case in, upper case out.
    pub currency: String,
}

/// The UTM values links in the campaign's posts carry by default.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"source": "newsletter", "medium": "email", "campaign": "spring-launch"}))]
pub struct UtmDefaults {
    /// `utm_source`: who sends the visit (`newsletter`, `linkedin`).
    pub source: Option<String>,
    /// `utm_medium`: how (`email`, `social`, `cpc`).
    pub medium: Option<String>,
    /// `utm_campaign`. When a campaign is created (or its `utm` replaced)
    /// without one, a slug of its name: "Spring Launch" → `spring-launch`.
    /// Renaming the campaign later keeps it, so published links stay grouped.
    pub campaign: Option<String>,
    /// `utm_term`: a paid keyword.
    pub term: Option<String>,
    /// `utm_content`: which link or creative.
    pub content: Option<String>,
}

impl UtmDefaults {
    fn into_draft(self) -> UtmDraft {
        UtmDraft {
            source: self.source,
            medium: self.medium,
            campaign: self.campaign,
            term: self.term,
            content: self.content,
        }
    }
}

/// A campaign.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "name": "Spring Launch",
    "objective": "1,000 trial sign-ups from social",
    "starts_on": "2026-03-01",
    "ends_on": "2026-03-31",
    "status": "planned",
    "budget": {"amount_minor": 250000, "currency": "EUR"},
    "utm": {"source": "newsletter", "medium": "email", "campaign": "spring-launch", "term": null, "content": null},
    "event_count": 2,
    "archived_at": null,
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-02-01T10:00:00Z",
    "updated_at": "2026-02-01T10:00:00Z"
}))]
pub struct Campaign {
    /// Campaign id.
    pub id: CampaignId,
    /// Display name.
    pub name: String,
    /// What it is for, in the team's words.
    pub objective: Option<String>,
    /// First day (a calendar date; the campaign runs whole days).
    pub starts_on: NaiveDate,
    /// Last day, inclusive; never before `starts_on`.
    pub ends_on: NaiveDate,
    /// Computed from the dates and today's date (UTC) unless archived.
    pub status: CampaignStatus,
    /// The budget, if one is set.
    pub budget: Option<Budget>,
    /// Default UTM values; `campaign` is always set.
    pub utm: UtmDefaults,
    /// How many events belong to it (list them with `list_events?campaign_id=`).
    pub event_count: i64,
    /// When it was archived, if it is.
    pub archived_at: Option<DateTime<Utc>>,
    /// The member who made it.
    pub created_by: UserId,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    fn from_row(row: CampaignRow, event_count: i64, today: NaiveDate) -> ApiResult<Self> {
        let budget =
            row.budget_amount_minor
                .zip(row.budget_currency)
                .map(|(amount_minor, currency)| Budget {
                    amount_minor,
                    currency,
                });
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            status: CampaignStatus::of(
                row.starts_on,
                row.ends_on,
                row.archived_at.is_some(),
                today,
            ),
            name: row.name,
            objective: row.objective,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            budget,
            utm: UtmDefaults {
                source: row.utm_source,
                medium: row.utm_medium,
                campaign: Some(row.utm_campaign),
                term: row.utm_term,
                content: row.utm_content,
            },
            event_count,
            archived_at: row.archived_at.map(utc),
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new campaign.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Spring Launch",
    "objective": "1,000 trial sign-ups from social",
    "starts_on": "2026-03-01",
    "ends_on": "2026-03-31",
    "budget": {"amount_minor": 250000, "currency": "EUR"},
    "utm": {"source": "newsletter", "medium": "email"}
}))]
pub struct CreateCampaign {
    /// Display name, 1–100 characters.
    pub name: String,
    /// What it is for, up to 2,000 characters.
    pub objective: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub starts_on: NaiveDate,
    /// Last day (inclusive), not before `starts_on`.
    pub ends_on: NaiveDate,
    /// The budget, if any.
    pub budget: Option<Budget>,
    /// Default UTM values, each a single line of at most 100 characters.
    pub utm: Option<UtmDefaults>,
}

impl CreateCampaign {
    fn draft(&self) -> CampaignDraft {
        CampaignDraft {
            name: self.name.clone(),
            objective: self.objective.clone(),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            budget: self
                .budget
                .clone()
                .map(|budget| (budget.amount_minor, budget.currency)),
            utm: self.utm.clone().unwrap_or_default().into_draft(),
        }
    }
}

/// Changes to a campaign; absent fields stay as they are, `null` clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ends_on": "2026-04-15", "budget": {"amount_minor": 300000, "currency": "EUR"}}))]
pub struct UpdateCampaign {
    /// New display name (the UTM campaign value stays).
    pub name: Option<String>,
    /// New objective; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub objective: Option<Option<String>>,
    /// New first day.
    pub starts_on: Option<NaiveDate>,
    /// New last day.
    pub ends_on: Option<NaiveDate>,
    /// New budget; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Budget>)]
    pub budget: Option<Option<Budget>>,
    /// New UTM values, replacing all five (absent ones are cleared;
    /// `campaign` defaults to a slug of the name).
    pub utm: Option<UtmDefaults>,
    /// `true` archives the campaign, `false` brings it back.
    pub archived: Option<bool>,
}

impl UpdateCampaign {
    fn apply(self, mut draft: CampaignDraft) -> CampaignDraft {
        if let Some(name) = self.name {
            draft.name = name;
        }
        if let Some(objective) = self.objective {
            draft.objective = objective;
        }
        if let Some(starts_on) = self.starts_on {
            draft.starts_on = starts_on;
        }
        if let Some(ends_on) = self.ends_on {
            draft.ends_on = ends_on;
        }
        if let Some(budget) = self.budget {
            draft.budget = budget.map(|b| (b.amount_minor, b.currency));
        }
        if let Some(utm) = self.utm {
            draft.utm = utm.into_draft();
        }
        draft
    }
}

/// Filters and paging of `list_campaigns`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CampaignQuery {
    /// Only campaigns running on this day (`starts_on ≤ day ≤ ends_on`), `YYYY-MM-DD`.
    #[param(value_type = Option<NaiveDate>, example = "2026-03-15")]
    pub active_on: Option<String>,
    /// Only campaigns in this status (as of today, UTC).
    #[param(value_type = Option<CampaignStatus>)]
    pub status: Option<String>,
    /// How many items to return (1–200, default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; omit for the first page.
    pub cursor: Option<String>,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<CampaignRow> {
    CampaignRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("campaign"))
}

fn event_count(conn: &mut DbConn, id: &str) -> ApiResult<i64> {
    let counts = EventRow::count_by_campaign(conn, &[id.to_owned()])?;
    Ok(counts.get(id).copied().unwrap_or(0))
}

fn with_etag(row: CampaignRow, event_count: i64) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(Campaign::from_row(row, event_count, today())?))
}

/// Create a campaign.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "create_campaign",
    request_body = CreateCampaign,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Created", body = Campaign,
         headers(("Location" = String, description = "The new campaign"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<CreateCampaign>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::CampaignsManage)
        .await?;
    let body = body.0;
    let plan = body.draft().check().map_err(ApiError::violations)?;
    let path = format!("/v1/workspaces/{}/campaigns", access.workspace_id);
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let row = CampaignRow::new(
            CampaignId::new().to_string(),
            access.workspace_id.to_string(),
            access.user_id.to_string(),
            CampaignChanges::from_plan(plan, None),
            db::now(),
        );
        let row = state
            .db
            .write(move |conn| {
                row.insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        let tag = etag(row.version);
        Created::new(Campaign::from_row(row, 0, today())?, location)
            .map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// The workspace's campaigns, by start day.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "list_campaigns",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), CampaignQuery),
    responses(
        (status = 200, description = "A page of campaigns, by start day then creation", body = Paginated<Campaign>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: web::Query<CampaignQuery>,
) -> ApiResult<web::Json<Paginated<Campaign>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsRead)
        .await?;
    let query = query.into_inner();
    let mut errors = Vec::new();
    let active_on = query
        .active_on
        .as_deref()
        .map(parse_date)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("active_on", m)))
        .ok()
        .flatten();
    let status = query
        .status
        .as_deref()
        .map(CampaignStatus::parse)
        .transpose()
        .map_err(|m| errors.push(FieldError::new("status", m)))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let page = Page::from_params(PageParams {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after = page
        .after
        .as_deref()
        .map(|key| {
            CampaignRow::parse_cursor_key(key).ok_or_else(|| {
                ApiError::invalid_field("cursor", "is not a cursor this API returned")
            })
        })
        .transpose()?;
    let today = today();
    let filter = CampaignFilter {
        active_on,
        status,
        today,
    };
    let (ws, fetch) = (access.workspace_id.to_string(), page.fetch());
    let (rows, counts) = state
        .db
        .read(move |conn| {
            let rows = CampaignRow::list(conn, &ws, &filter, after, fetch)?;
            let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
            let counts = EventRow::count_by_campaign(conn, &ids)?;
            Ok::<_, ApiError>((rows, counts))
        })
        .await?;
    page.finish(rows, CampaignRow::cursor_key, |row| {
        let count = counts.get(&row.id).copied().unwrap_or(0);
        Campaign::from_row(row, count, today)
    })
    .map(web::Json)
}

/// One campaign.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "get_campaign",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("campaign_id" = CampaignId, Path, description = "Campaign id"),
    ),
    responses(
        (status = 200, description = "The campaign", body = Campaign,
         headers(("ETag" = String, description = "Send as If-Match to update"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/campaigns/{campaign_id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, CampaignId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, campaign_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), campaign_id.to_string());
    let (row, count) = state
        .db
        .read(move |conn| {
            let row = load(conn, &ws, &id)?;
            let count = event_count(conn, &id)?;
            Ok::<_, ApiError>((row, count))
        })
        .await?;
    with_etag(row, count)
}

/// Change a campaign: its dates, budget, UTM values, or archive it.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "update_campaign",
    request_body = UpdateCampaign,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("campaign_id" = CampaignId, Path, description = "Campaign id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "Updated (or unchanged, when nothing differs)", body = Campaign,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/campaigns/{campaign_id}")]
pub async fn update_campaign(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, CampaignId)>,
    if_match: IfMatch,
    body: Json<UpdateCampaign>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, campaign_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let patch = body.0;
    let (ws, id) = (access.workspace_id.to_string(), campaign_id.to_string());
    let (row, count) = state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            let archived_at = match patch.archived {
                Some(true) => current.archived_at.or_else(|| Some(db::now())),
                Some(false) => None,
                None => current.archived_at,
            };
            let plan = patch
                .apply(current.draft())
                .check()
                .map_err(ApiError::violations)?;
            let changes = CampaignChanges::from_plan(plan, archived_at);
            let row = if changes == current.changes() {
                current
            } else {
                CampaignRow::update(conn, &current.id, current.version, &changes)?
                    .ok_or(ApiError::PreconditionFailed)?
            };
            let count = event_count(conn, &id)?;
            Ok((row, count))
        })
        .await?;
    with_etag(row, count)
}

/// Delete a campaign. Its events stay, no longer part of a campaign.
#[utoipa::path(
    tag = "campaigns",
    operation_id = "delete_campaign",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("campaign_id" = CampaignId, Path, description = "Campaign id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; 412 if it changed since"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        ActionProblems,
        StaleProblem,
    )
)]
#[delete("/workspaces/{workspace_id}/campaigns/{campaign_id}")]
pub async fn delete_campaign(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, CampaignId)>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let (workspace_id, campaign_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::CampaignsManage)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), campaign_id.to_string());
    state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            CampaignRow::delete(conn, &ws, &id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
