//! Outgoing webhook endpoints of a workspace (the rules are in
//! [`crate::webhooks`]); [`deliveries`] holds their delivery log, replays
//! and test deliveries.

pub mod deliveries;

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::sealing;
use crate::db::webhooks::{DeliveryRow, EndpointChanges, EndpointRow};
use crate::db::{self, DbConn};
use crate::domain::ids::{UserId, WebhookId, WorkspaceId, parse_stored};
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{
    IdempotencyKey, IfMatch, Json, Page, PageParams, Paginated, etag, present,
};
use crate::http::idempotency::{self, Created};
use crate::http::problems::{ActionProblems, ReadProblems, StaleProblem, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;
use crate::webhooks::{
    self, PREVIOUS_SECRET_GRACE, address, previous_secret_binding, secret_binding, signing,
};

/// A webhook endpoint. Its signing secret is write-only: never shown.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "019a5b8e-6c2e-7d7a-9c1e-2f4b3a5d6e7f",
    "url": "https://hooks.example.com/plaza",
    "description": "Post status to the team's chat",
    "event_types": ["post.published", "post.failed"],
    "enabled": true,
    "disabled_at": null,
    "disabled_reason": null,
    "failing_since": null,
    "consecutive_failures": 0,
    "last_success_at": "2026-03-01T10:00:02Z",
    "previous_secret_expires_at": null,
    "created_by": "019a5b8e-0000-7d7a-9c1e-2f4b3a5d6e7f",
    "created_at": "2026-02-01T10:00:00Z",
    "updated_at": "2026-03-01T10:00:02Z"
}))]
pub struct WebhookEndpoint {
    /// Endpoint id.
    pub id: WebhookId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What it is for.
    pub description: Option<String>,
    /// Catalogue names it receives (`GET /v1/event-types`); `*` is every type.
    pub event_types: Vec<String>,
    /// Whether deliveries are made to it.
    pub enabled: bool,
    /// When it was disabled, by hand or after sustained failure.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// Since when every attempt failed; `null` while it is healthy.
    pub failing_since: Option<DateTime<Utc>>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// The last successful delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// While set, deliveries are also signed with the secret replaced last
    /// (a second `v1,` signature), until this time.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The member who registered it.
    pub created_by: UserId,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    fn from_row(row: EndpointRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            event_types: webhooks::subscriptions(&row),
            enabled: row.disabled_at.is_none(),
            url: row.url,
            description: row.description,
            disabled_at: row.disabled_at.map(utc),
            disabled_reason: row.disabled_reason,
            failing_since: row.failing_since.map(utc),
            consecutive_failures: row.consecutive_failures,
            last_success_at: row.last_success_at.map(utc),
            previous_secret_expires_at: row
                .previous_secret_expires_at
                .filter(|until| *until > db::now())
                .map(utc),
            created_by: parse_stored(&row.created_by).map_err(ApiError::internal)?,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// A new endpoint.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://hooks.example.com/plaza",
    "description": "Post status to the team's chat",
    "event_types": ["post.published", "post.failed"],
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8G"
}))]
pub struct CreateWebhook {
    /// An `https://` URL on a public address (the operator may allow
    /// internal hosts). Redirects are not followed.
    pub url: String,
    /// What it is for, up to 500 characters.
    pub description: Option<String>,
    /// Catalogue names to receive, or `["*"]` for every type.
    pub event_types: Vec<String>,
    /// The signing secret: `whsec_` and 24 to 64 random bytes in base64
    /// (`echo whsec_$(openssl rand -base64 32)`). Write-only.
    #[schema(write_only)]
    pub secret: String,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"event_types": ["*"], "enabled": true}))]
pub struct UpdateWebhook {
    /// New URL.
    pub url: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New subscriptions, replacing the old ones.
    pub event_types: Option<Vec<String>>,
    /// `false` disables the endpoint (pending deliveries are given up);
    /// `true` enables it again and forgets its failing streak.
    pub enabled: Option<bool>,
}

/// A new signing secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oDC2FVsBQI"}))]
pub struct RotateWebhookSecret {
    /// `whsec_` and 24 to 64 random bytes in base64. Write-only. The
    /// replaced secret keeps signing (as a second signature) for 24 hours.
    #[schema(write_only)]
    pub secret: String,
}

/// The ids a webhook handler works with, once the caller may manage the
/// workspace's webhooks.
struct Scope {
    workspace_id: String,
    webhook_id: String,
    user_id: String,
}

async fn scope(
    state: &AppState,
    principal: &Principal,
    workspace_id: WorkspaceId,
    webhook_id: WebhookId,
) -> ApiResult<Scope> {
    let access = principal
        .access(state, workspace_id, Permission::WebhooksManage)
        .await?;
    Ok(Scope {
        workspace_id: access.workspace_id.to_string(),
        webhook_id: webhook_id.to_string(),
        user_id: access.user_id.to_string(),
    })
}

fn load(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<EndpointRow> {
    EndpointRow::find(conn, workspace_id, id)?.ok_or(ApiError::NotFound("webhook"))
}

fn check_description(description: Option<&str>, errors: &mut Vec<FieldError>) {
    if description.is_some_and(|d| d.chars().count() > 500) {
        errors.push(FieldError::new(
            "description",
            "must be at most 500 characters",
        ));
    }
}

/// Register a webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = CreateWebhook,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: the same key and body answer the first response again"),
    ),
    responses(
        (status = 201, description = "Registered; matching events are delivered from now on", body = WebhookEndpoint,
         headers(("Location" = String, description = "The new endpoint"), ("ETag" = String, description = "Its version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    key: IdempotencyKey,
    body: Json<CreateWebhook>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WebhooksManage)
        .await?;
    let body = body.0;
    let mut errors = Vec::new();
    let url = check_url(&state, &body.url)
        .await
        .map_err(|m| errors.push(FieldError::new("url", m)))
        .ok();
    let event_types = webhooks::check_subscriptions(&body.event_types)
        .map_err(|m| errors.push(FieldError::new("event_types", m)))
        .ok();
    if let Err(m) = signing::check_secret(&body.secret) {
        errors.push(FieldError::new("secret", m));
    }
    check_description(body.description.as_deref(), &mut errors);
    let (Some(url), Some(event_types), true) = (url, event_types, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let path = format!("/v1/workspaces/{}/webhooks", access.workspace_id);
    let fingerprint = ("POST", &path, &body);
    idempotency::once(&state, principal.key(), key, fingerprint, || async {
        let id = WebhookId::new().to_string();
        let now = db::now();
        let row = EndpointRow {
            secret: sealing::seal(&state.keys, secret_binding(&id), body.secret.as_bytes()),
            id,
            workspace_id: access.workspace_id.to_string(),
            url,
            description: body.description.clone(),
            version: 1,
            event_types: serde_json::to_string(&event_types).map_err(ApiError::internal)?,
            previous_secret: None,
            previous_secret_expires_at: None,
            disabled_at: None,
            disabled_reason: None,
            failing_since: None,
            consecutive_failures: 0,
            last_success_at: None,
            created_by: access.user_id.to_string(),
            created_at: now,
            updated_at: now,
        };
        let row = state
            .db
            .write(move |conn| {
                row.insert(conn)?;
                Ok::<_, ApiError>(row)
            })
            .await?;
        let location = format!("{path}/{}", row.id);
        let tag = etag(row.version);
        Created::new(WebhookEndpoint::from_row(row)?, location)
            .map(|c| c.header(&header::ETAG, tag))
    })
    .await
}

/// Checks an endpoint URL, resolving its name when it has one.
async fn check_url(state: &AppState, raw: &str) -> Result<String, String> {
    let allowed = &state.config.webhook_allowed_hosts;
    let url = address::check_url(raw, allowed)?;
    // A name that does not resolve yet may later; one that resolves to an
    // internal address is refused now (and again before every attempt).
    if let Err(address::Unreachable::Refused(reason)) = address::resolve(&url, allowed).await {
        return Err(reason);
    }
    Ok(url.to_string())
}

/// The workspace's webhook endpoints, oldest first.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), PageParams),
    responses(
        (status = 200, description = "A page of endpoints", body = Paginated<WebhookEndpoint>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: web::Query<PageParams>,
) -> ApiResult<web::Json<Paginated<WebhookEndpoint>>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WebhooksManage)
        .await?;
    let page = Page::from_params(query.into_inner())?;
    let (ws, after, fetch) = (
        access.workspace_id.to_string(),
        page.after.clone(),
        page.fetch(),
    );
    let rows = state
        .db
        .read(move |conn| {
            EndpointRow::list(conn, &ws, after.as_deref(), fetch).map_err(ApiError::from)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), WebhookEndpoint::from_row)
        .map(web::Json)
}

/// One webhook endpoint.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
    ),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint,
         headers(("ETag" = String, description = "Its version, for If-Match"))),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/webhooks/{webhook_id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let row = state.db.read(move |conn| load(conn, &ws, &id)).await?;
    with_etag(row)
}

fn with_etag(row: EndpointRow) -> ApiResult<HttpResponse> {
    let tag = etag(row.version);
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(WebhookEndpoint::from_row(row)?))
}

/// Change an endpoint: its URL, description, subscriptions, or whether it
/// is enabled.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook",
    request_body = UpdateWebhook,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update fails with 412 if it changed since"),
    ),
    responses(
        (status = 200, description = "The endpoint as it now is", body = WebhookEndpoint,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
        StaleProblem,
    )
)]
#[patch("/workspaces/{workspace_id}/webhooks/{webhook_id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
    if_match: IfMatch,
    body: Json<UpdateWebhook>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let body = body.0;
    let mut errors = Vec::new();
    let now = db::now();
    let mut changes = EndpointChanges {
        updated_at: Some(now),
        ..EndpointChanges::default()
    };
    if let Some(url) = &body.url {
        match check_url(&state, url).await {
            Ok(url) => changes.url = Some(url),
            Err(m) => errors.push(FieldError::new("url", m)),
        }
    }
    if let Some(names) = &body.event_types {
        match webhooks::check_subscriptions(names) {
            Ok(names) => {
                changes.event_types =
                    Some(serde_json::to_string(&names).map_err(ApiError::internal)?);
            }
            Err(m) => errors.push(FieldError::new("event_types", m)),
        }
    }
    if let Some(description) = &body.description {
        check_description(description.as_deref(), &mut errors);
        changes.description = Some(description.clone());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let enabled = body.enabled;
    let row = state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            if !if_match.allows(&etag(current.version)) {
                return Err(ApiError::PreconditionFailed);
            }
            changes.version = Some(current.version + 1);
            match (enabled, current.disabled_at.is_some()) {
                (Some(true), true) => {
                    changes.disabled_at = Some(None);
                    changes.disabled_reason = Some(None);
                    changes.failing_since = Some(None);
                    changes.consecutive_failures = Some(0);
                }
                (Some(false), false) => {
                    changes.disabled_at = Some(Some(now));
                    changes.disabled_reason = Some(Some("disabled by a member".to_owned()));
                    DeliveryRow::fail_pending(
                        conn,
                        &id,
                        "not sent: the endpoint was disabled by a member",
                        now,
                    )?;
                }
                _ => {}
            }
            Ok::<_, ApiError>(EndpointRow::update(conn, &id, &changes)?)
        })
        .await?;
    with_etag(row)
}

/// Remove an endpoint with its delivery log; nothing more is sent to it.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
    ),
    responses((status = 204, description = "Removed"), ActionProblems)
)]
#[delete("/workspaces/{workspace_id}/webhooks/{webhook_id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let deleted = state
        .db
        .write(move |conn| EndpointRow::delete(conn, &ws, &id).map_err(ApiError::from))
        .await?;
    if !deleted {
        return Err(ApiError::NotFound("webhook"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Replace an endpoint's signing secret. For 24 hours deliveries carry a
/// signature under each secret, so the receiver can switch without losing
/// any.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    request_body = RotateWebhookSecret,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
    ),
    responses(
        (status = 200, description = "The endpoint, signing with the new secret", body = WebhookEndpoint,
         headers(("ETag" = String, description = "The new version"))),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/webhooks/{webhook_id}/secret")]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
    body: Json<RotateWebhookSecret>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    signing::check_secret(&body.0.secret).map_err(|m| ApiError::invalid_field("secret", m))?;
    let keys = state.keys.clone();
    let secret = body.0.secret;
    let row = state
        .db
        .write(move |conn| {
            let current = load(conn, &ws, &id)?;
            let old = sealing::open(&keys, secret_binding(&id), &current.secret)
                .map_err(ApiError::internal)?;
            let now = db::now();
            let changes = EndpointChanges {
                secret: Some(sealing::seal(&keys, secret_binding(&id), secret.as_bytes())),
                previous_secret: Some(Some(sealing::seal(
                    &keys,
                    previous_secret_binding(&id),
                    &old,
                ))),
                previous_secret_expires_at: Some(Some(now + PREVIOUS_SECRET_GRACE)),
                version: Some(current.version + 1),
                updated_at: Some(now),
                ..EndpointChanges::default()
            };
            Ok::<_, ApiError>(EndpointRow::update(conn, &id, &changes)?)
        })
        .await?;
    with_etag(row)
}
