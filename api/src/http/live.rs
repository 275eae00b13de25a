//! Live events: the workspace's activity log as Server-Sent Events, and the
//! catalogue of event types (shared with webhooks).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::ToSchema;

use crate::activity::{ActivityEvent, EVERY_WORKSPACE};
use crate::auth::Principal;
use crate::db::activity::ActivityRow;
use crate::domain::activity::EventType;
use crate::domain::ids::WorkspaceId;
use crate::domain::roles::Permission;
use crate::error::{ApiError, ApiResult};
use crate::http::problems::ReadProblems;
use crate::state::AppState;

/// Events read from the log per query.
const BATCH: i64 = 200;
/// A quiet stream sends a comment this often, so proxies keep it open and
/// a dead client is noticed.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// What a client waits before reconnecting (the SSE `retry` field), in ms.
const RECONNECT_MS: u32 = 2_000;

/// Where a stream starts and what it carries.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Resume after this event (`seq`); the `Last-Event-ID` header, which
    /// browsers send on reconnecting, takes precedence. Without either the
    /// stream starts with the next event.
    pub after: Option<i64>,
    /// Only these event types, comma-separated (`post.published,post.failed`).
    pub types: Option<String>,
}

/// An event type and what it means.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeInfo {
    /// The name, as sent in `type`.
    pub name: EventType,
    /// What it reports.
    pub description: String,
}

/// The event catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeList {
    /// Every event type, in catalogue order.
    pub items: Vec<EventTypeInfo>,
}

/// List the event types the live stream sends and webhooks subscribe to.
#[utoipa::path(
    tag = "live",
    operation_id = "list_event_types",
    responses((status = 200, description = "The catalogue", body = EventTypeList), ReadProblems)
)]
#[get("/event-types")]
pub async fn list_event_types(_principal: Principal) -> web::Json<EventTypeList> {
    let items = EventType::ALL
        .iter()
        .map(|&name| EventTypeInfo {
            name,
            description: name.description().to_owned(),
        })
        .collect();
    web::Json(EventTypeList { items })
}

/// Stream what changes in a workspace as Server-Sent Events.
///
/// Each message has `id` (the event's `seq`), `event` (its type) and `data`
/// (the event as JSON). After a dropped connection, send the last `id`
/// received as `Last-Event-ID` (browsers do it for you) and the stream
/// resumes with the next event, missing none. A comment line comes every 15
/// seconds while nothing happens.
#[utoipa::path(
    tag = "live",
    operation_id = "stream_events",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event"),
        StreamQuery
    ),
    responses(
        (status = 200, description = "A stream of events; each `data` line is one event",
            content_type = "text/event-stream", body = ActivityEvent),
        ReadProblems
    )
)]
#[get("/workspaces/{workspace_id}/events")]
pub async fn stream_events(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    query: web::Query<StreamQuery>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::WorkspaceRead)
        .await?;
    let query = query.into_inner();
    let types = parse_types(query.types.as_deref())?;
    let resume = match request.headers().get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_last_event_id",
                        "Last-Event-ID must be an event's seq (a non-negative integer)",
                    )
                })?,
        ),
        None => query.after,
    };
    let ws = access.workspace_id.to_string();
    // Subscribe before reading where to start, so nothing falls in between.
    let wake = state.feed.subscribe();
    let after = match resume {
        Some(seq) => seq,
        None => {
            let ws = ws.clone();
            state
                .db
                .read(move |conn| ActivityRow::last_seq(conn, &ws).map_err(ApiError::from))
                .await?
        }
    };
    let stream = Stream {
        state: state.get_ref().clone(),
        workspace_id: ws,
        after,
        types,
        wake,
        ready: VecDeque::from([Bytes::from(format!(
            "retry: {RECONNECT_MS}\n: streaming events after {after}\n\n"
        ))]),
    };
    let body = futures_util::stream::unfold(stream, |mut stream| async move {
        let chunk = stream.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(chunk), stream))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

fn parse_types(raw: Option<&str>) -> ApiResult<Option<HashSet<&'static str>>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let mut types = HashSet::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let known = EventType::parse(name).ok_or_else(|| {
            ApiError::invalid_field(
                "types",
                format!("{name:?} is not an event type (GET /v1/event-types lists them)"),
            )
        })?;
        types.insert(known.as_str());
    }
    Ok(Some(types))
}

/// One client's stream.
struct Stream {
    state: AppState,
    workspace_id: String,
    after: i64,
    types: Option<HashSet<&'static str>>,
    wake: broadcast::Receiver<Arc<str>>,
    ready: VecDeque<Bytes>,
}

impl Stream {
    /// The next piece to send; `None` ends the stream (the server stops).
    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.ready.pop_front() {
                return Some(chunk);
            }
            match self.read_more().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(error = %err, "live stream could not read the activity log");
                }
            }
            if !self.wait().await {
                return Some(Bytes::from_static(b": keep-alive\n\n"));
            }
        }
    }

    /// Reads the events after the cursor into `ready`; whether any were
    /// read (even if the type filter then dropped them all).
    async fn read_more(&mut self) -> ApiResult<bool> {
        let (ws, after) = (self.workspace_id.clone(), self.after);
        let rows = self
            .state
            .db
            .read(move |conn| ActivityRow::after(conn, &ws, after, BATCH).map_err(ApiError::from))
            .await?;
        let read = !rows.is_empty();
        for row in rows {
            self.after = row.seq;
            let wanted = self
                .types
                .as_ref()
                .is_none_or(|types| types.contains(row.event_type.as_str()));
            if wanted {
                self.ready.push_back(message(&ActivityEvent::from_row(row)));
            }
        }
        Ok(read)
    }

    /// Waits until this workspace's log may have grown; false when the
    /// keep-alive time passed first.
    async fn wait(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + KEEP_ALIVE;
        loop {
            let heard = tokio::time::timeout_at(deadline, self.wake.recv()).await;
            match heard {
                Err(_elapsed) => return false,
                Ok(Ok(ws)) if *ws == *self.workspace_id || &*ws == EVERY_WORKSPACE => {
                    return true;
                }
                Ok(Ok(_other_workspace)) => {}
                // Missed some wake-ups: look at the log to be sure.
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => return true,
                // The feed is gone; fall back to looking at every keep-alive.
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    tokio::time::sleep_until(deadline).await;
                    return false;
                }
            }
        }
    }
}

/// An event as one SSE message.
fn message(event: &ActivityEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.seq, event.event_type
    ))
}
