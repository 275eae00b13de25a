//! A webhook endpoint's deliveries: the log (each attempt's status,
//! latency and answer), replays, and test deliveries.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Scope, load, scope};
use crate::auth::Principal;
use crate::db;
use crate::db::webhooks::{AttemptRow, DeliveryFilter, DeliveryRow, EndpointRow};
use crate::domain::activity::EventType;
use crate::domain::ids::{WebhookDeliveryId, WebhookId, WorkspaceId, parse_stored};
use crate::error::{ApiError, ApiResult, FieldError};
use crate::http::extract::{ListQuery, PageParams, Paginated};
use crate::http::problems::{ActionProblems, ReadProblems};
use crate::http::views::utc;
use crate::state::AppState;
use crate::webhooks::{self, DeliveryStatus};

/// One delivery of an event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// Delivery id.
    pub id: WebhookDeliveryId,
    /// The endpoint.
    pub webhook_id: WebhookId,
    /// The event's id: the `webhook-id` header, the same on every retry and
    /// replay, so receivers can drop duplicates.
    #[schema(example = "evt_0193c4d1a2b37c4e9f0a1b2c3d4e5f60")]
    pub event_id: String,
    /// The event's type.
    #[schema(value_type = EventType)]
    pub event_type: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made so far (at most 8).
    pub attempts: i32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer.
    pub last_status_code: Option<i32>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<WebhookDeliveryId>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it succeeded or was given up.
    pub finished_at: Option<DateTime<Utc>>,
    /// The body sent (the event as the live stream sends it).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl WebhookDelivery {
    fn from_row(row: DeliveryRow) -> ApiResult<Self> {
        Ok(Self {
            id: parse_stored(&row.id).map_err(ApiError::internal)?,
            webhook_id: parse_stored(&row.endpoint_id).map_err(ApiError::internal)?,
            replay_of: row
                .replay_of
                .as_deref()
                .map(parse_stored)
                .transpose()
                .map_err(ApiError::internal)?,
            status: DeliveryStatus::parse(&row.status).unwrap_or(DeliveryStatus::Failed),
            payload: serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null),
            event_id: row.event_id,
            event_type: row.event_type,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.map(utc),
            last_status_code: row.last_status_code,
            last_error: row.last_error,
            created_at: utc(row.created_at),
            finished_at: row.finished_at.map(utc),
        })
    }
}

/// One attempt to send a delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAttempt {
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When the request started.
    pub started_at: DateTime<Utc>,
    /// The HTTP status answered; `null` when no answer came.
    pub status_code: Option<i32>,
    /// Milliseconds from the request's start to the answer's end.
    pub latency_ms: i64,
    /// The first 1,000 characters of the answer's body.
    pub response_excerpt: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// A delivery with every attempt to send it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryDetail {
    /// The delivery.
    #[serde(flatten)]
    pub delivery: WebhookDelivery,
    /// Its attempts, first first.
    pub history: Vec<WebhookAttempt>,
}

/// Filters of `list_webhook_deliveries`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryQuery {
    /// Only deliveries in this status.
    #[param(value_type = Option<DeliveryStatus>)]
    pub status: Option<String>,
    /// Only deliveries of this event type.
    #[param(value_type = Option<EventType>)]
    pub event_type: Option<String>,
}

/// Send a `webhook.test` event to this endpoint alone, to check the
/// receiver and its signature verification. Answers the delivery at once;
/// follow it with `get_webhook_delivery`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "test_webhook",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
    ),
    responses(
        (status = 202, description = "The test delivery, queued", body = WebhookDelivery),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/webhooks/{webhook_id}/test")]
pub async fn test_webhook(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        user_id: requested_by,
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let delivery = state
        .db
        .write(move |conn| {
            let endpoint = load(conn, &ws, &id)?;
            refuse_disabled(&endpoint)?;
            let now = db::now();
            let event = crate::activity::ActivityEvent {
                id: format!("evt_{}", uuid::Uuid::now_v7().simple()),
                seq: 0,
                event_type: EventType::WebhookTest.as_str().to_owned(),
                timestamp: utc(now),
                workspace_id: ws.clone(),
                data: serde_json::json!({
                    "webhook_id": endpoint.id,
                    "requested_by": requested_by,
                    "message": "A test delivery from Plaza: verify its signature and answer 2xx.",
                }),
            };
            let body = serde_json::to_string(&event).map_err(ApiError::internal)?;
            let delivery = webhooks::enqueue_delivery(
                conn,
                &endpoint,
                &event.id,
                &event.event_type,
                body,
                None,
                now,
            )?;
            Ok::<_, ApiError>(delivery)
        })
        .await?;
    accepted(delivery)
}

fn refuse_disabled(endpoint: &EndpointRow) -> ApiResult<()> {
    if endpoint.disabled_at.is_some() {
        return Err(ApiError::conflict(
            "webhook_disabled",
            "the endpoint is disabled: enable it (PATCH enabled: true) first",
        ));
    }
    Ok(())
}

fn accepted(delivery: DeliveryRow) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::build(StatusCode::ACCEPTED).json(WebhookDelivery::from_row(delivery)?))
}

/// An endpoint's deliveries, newest first.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
        DeliveryQuery,
        PageParams,
    ),
    responses(
        (status = 200, description = "A page of deliveries, newest first", body = Paginated<WebhookDelivery>),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/webhooks/{webhook_id}/deliveries")]
pub async fn list_webhook_deliveries(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId)>,
    query: ListQuery<DeliveryQuery>,
) -> ApiResult<web::Json<Paginated<WebhookDelivery>>> {
    let (workspace_id, webhook_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let mut errors = Vec::new();
    if let Some(status) = &query.filters.status
        && DeliveryStatus::parse(status).is_none()
    {
        errors.push(FieldError::new(
            "status",
            "must be pending, succeeded or failed",
        ));
    }
    if let Some(name) = &query.filters.event_type
        && EventType::parse(name).is_none()
    {
        errors.push(FieldError::new("event_type", "is not in the catalogue"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let filter = DeliveryFilter {
        status: query.filters.status,
        event_type: query.filters.event_type,
    };
    let page = query.page;
    let (before, fetch) = (page.after.clone(), page.fetch());
    let rows = state
        .db
        .read(move |conn| {
            load(conn, &ws, &id)?;
            Ok::<_, ApiError>(DeliveryRow::list(
                conn,
                &id,
                &filter,
                before.as_deref(),
                fetch,
            )?)
        })
        .await?;
    page.finish(rows, |row| row.id.clone(), WebhookDelivery::from_row)
        .map(web::Json)
}

/// One delivery, with every attempt to send it: status, latency and the
/// start of each answer.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "get_webhook_delivery",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
        ("delivery_id" = WebhookDeliveryId, Path, description = "Delivery id"),
    ),
    responses(
        (status = 200, description = "The delivery and its attempts", body = WebhookDeliveryDetail),
        ReadProblems,
    )
)]
#[get("/workspaces/{workspace_id}/webhooks/{webhook_id}/deliveries/{delivery_id}")]
pub async fn get_webhook_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId, WebhookDeliveryId)>,
) -> ApiResult<web::Json<WebhookDeliveryDetail>> {
    let (workspace_id, webhook_id, delivery_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let delivery_id = delivery_id.to_string();
    let (delivery, attempts) = state
        .db
        .read(move |conn| {
            load(conn, &ws, &id)?;
            let delivery = DeliveryRow::find(conn, &id, &delivery_id)?
                .ok_or(ApiError::NotFound("webhook delivery"))?;
            let attempts = AttemptRow::of_delivery(conn, &delivery.id)?;
            Ok::<_, ApiError>((delivery, attempts))
        })
        .await?;
    Ok(web::Json(WebhookDeliveryDetail {
        delivery: WebhookDelivery::from_row(delivery)?,
        history: attempts
            .into_iter()
            .map(|a| WebhookAttempt {
                attempt: a.attempt,
                started_at: utc(a.started_at),
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                response_excerpt: a.response_excerpt,
                error: a.error,
            })
            .collect(),
    }))
}

/// Send a delivery's event again, as a new delivery with the same
/// `webhook-id` (receivers that already processed it can drop it).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "replay_webhook_delivery",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("webhook_id" = WebhookId, Path, description = "Endpoint id"),
        ("delivery_id" = WebhookDeliveryId, Path, description = "The delivery to replay"),
    ),
    responses(
        (status = 202, description = "The new delivery, queued", body = WebhookDelivery),
        ActionProblems,
    )
)]
#[post("/workspaces/{workspace_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")]
pub async fn replay_webhook_delivery(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, WebhookId, WebhookDeliveryId)>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, webhook_id, delivery_id) = path.into_inner();
    let Scope {
        workspace_id: ws,
        webhook_id: id,
        ..
    } = scope(&state, &principal, workspace_id, webhook_id).await?;
    let delivery_id = delivery_id.to_string();
    let delivery = state
        .db
        .write(move |conn| {
            let endpoint = load(conn, &ws, &id)?;
            let original = DeliveryRow::find(conn, &id, &delivery_id)?
                .ok_or(ApiError::NotFound("webhook delivery"))?;
            refuse_disabled(&endpoint)?;
            if original.status == DeliveryStatus::Pending.as_str() {
                return Err(ApiError::conflict(
                    "delivery_pending",
                    "the delivery is still being attempted; replay it once it has finished",
                ));
            }
            Ok(webhooks::enqueue_delivery(
                conn,
                &endpoint,
                &original.event_id,
                &original.event_type,
                original.payload.clone(),
                Some(original.id.clone()),
                db::now(),
            )?)
        })
        .await?;
    accepted(delivery)
}
