//! The posting queue: each channel's weekly slots, "add to queue" into the
//! next free one, the queue in order, and reordering it.

use std::collections::BTreeSet;

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::channels::ChannelRow;
use crate::db::posts::{PostChanges, PostRow, PostVariantRow};
use crate::db::workspaces::WorkspaceRow;
use crate::domain::ids::{ChannelId, PostId, WorkspaceId, parse_stored};
use crate::domain::posting_slots::{self, PostingSlot};
use crate::domain::roles::Permission;
use crate::domain::text::excerpt;
use crate::domain::workflow::{PostAction, PostStatus};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json;
use crate::http::posts::workflow::schedule_at;
use crate::http::posts::{load_row, record_transition, with_etag};
use crate::http::problems::{ReadProblems, WriteProblems};
use crate::http::views::utc;
use crate::state::AppState;

/// Which channel's slots to use.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channel_id": "01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f"}))]
pub struct QueueRequest {
    /// One of the post's channels; by default its first.
    pub channel_id: Option<ChannelId>,
}

/// A post waiting in a channel's queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    /// The post.
    pub post_id: PostId,
    /// When it goes out (UTC).
    pub scheduled_at: DateTime<Utc>,
    /// The same moment in the workspace's time zone.
    pub local_scheduled_at: String,
    /// The start of its text.
    pub excerpt: String,
}

/// A channel's queue, soonest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelQueue {
    /// The workspace's time zone.
    pub time_zone: String,
    /// The channel's weekly slots.
    pub posting_slots: Vec<PostingSlot>,
    /// Scheduled posts from now on (at most 200).
    pub data: Vec<QueueEntry>,
}

/// A new order for a channel's queue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"post_ids": ["01936b2e-7d4c-7c1a-9f4e-3b2a1c0d9e8f", "01936b2e-8a1b-7c1a-9f4e-3b2a1c0d9e8f"]}))]
pub struct QueueOrder {
    /// Every post now in the queue, in the order they should go out.
    pub post_ids: Vec<PostId>,
}

const QUEUE_LIMIT: i64 = 200;

/// Put an approved post in the next free posting slot of one of its
/// channels (in the workspace's time zone) and schedule it then.
#[utoipa::path(
    tag = "queue",
    operation_id = "queue_post",
    request_body = QueueRequest,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("post_id" = PostId, Path, description = "Post id"),
    ),
    responses(
        (status = 200, description = "Scheduled in the next free slot", body = crate::http::posts::Post),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/posts/{post_id}/queue")]
pub async fn queue_post(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, PostId)>,
    body: Json<QueueRequest>,
) -> ApiResult<HttpResponse> {
    let (workspace_id, post_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsSchedule)
        .await?;
    let (ws, id) = (access.workspace_id.to_string(), post_id.to_string());
    let wanted = body.0.channel_id.map(|c| c.to_string());
    let slot = state
        .db
        .read(move |conn| {
            let post = load_row(conn, &ws, &id)?;
            let variants = PostVariantRow::for_posts(conn, std::slice::from_ref(&post.id))?;
            let channel_id = match wanted {
                Some(wanted) if variants.iter().any(|v| v.channel_id == wanted) => wanted,
                Some(_) => {
                    return Err(ApiError::invalid_field(
                        "channel_id",
                        "is not one of the post's channels",
                    ));
                }
                None => variants
                    .first()
                    .map(|v| v.channel_id.clone())
                    .ok_or_else(|| {
                        ApiError::invalid_field("channel_id", "the post has no channels")
                    })?,
            };
            let channel =
                ChannelRow::find(conn, &ws, &channel_id)?.ok_or(ApiError::NotFound("channel"))?;
            let slots: Vec<PostingSlot> =
                serde_json::from_str(&channel.posting_slots).map_err(ApiError::internal)?;
            let tz = WorkspaceRow::find(conn, &ws)?
                .ok_or(ApiError::NotFound("workspace"))?
                .time_zone();
            let now = Utc::now() + chrono::Duration::minutes(1);
            let taken: BTreeSet<DateTime<Utc>> =
                PostRow::queue(conn, &ws, &channel_id, now.naive_utc(), i64::MAX)?
                    .into_iter()
                    .filter(|p| p.id != id)
                    .filter_map(|p| p.scheduled_at.map(utc))
                    .collect();
            posting_slots::next_free(&slots, tz, now, &taken).ok_or_else(|| {
                ApiError::conflict(
                    "no_free_slot",
                    "the channel has no free posting slot in the next year; set its posting_slots",
                )
            })
        })
        .await?;
    let post = schedule_at(&state, access, post_id.to_string(), slot).await?;
    Ok(with_etag(post))
}

/// A channel's queue: its scheduled posts from now on, soonest first.
#[utoipa::path(
    tag = "queue",
    operation_id = "get_channel_queue",
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses((status = 200, description = "The queue", body = ChannelQueue), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/channels/{channel_id}/queue")]
pub async fn get_channel_queue(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
) -> ApiResult<web::Json<ChannelQueue>> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsRead)
        .await?;
    read_queue(&state, access.workspace_id, channel_id)
        .await
        .map(web::Json)
}

async fn read_queue(
    state: &AppState,
    workspace_id: WorkspaceId,
    channel_id: ChannelId,
) -> ApiResult<ChannelQueue> {
    let (ws, id) = (workspace_id.to_string(), channel_id.to_string());
    state
        .db
        .read(move |conn| {
            let channel = ChannelRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("channel"))?;
            let workspace =
                WorkspaceRow::find(conn, &ws)?.ok_or(ApiError::NotFound("workspace"))?;
            let tz = workspace.time_zone();
            let rows = PostRow::queue(conn, &ws, &id, crate::db::now(), QUEUE_LIMIT)?;
            let data = rows
                .into_iter()
                .filter_map(|row| row.scheduled_at.map(|at| (row.id, row.body, utc(at))))
                .map(|(post_id, body, at)| {
                    Ok(QueueEntry {
                        post_id: parse_stored(&post_id).map_err(ApiError::internal)?,
                        scheduled_at: at,
                        local_scheduled_at: at.with_timezone(&tz).to_rfc3339(),
                        excerpt: excerpt(&body, 80),
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?;
            Ok::<_, ApiError>(ChannelQueue {
                time_zone: workspace.time_zone,
                posting_slots: serde_json::from_str(&channel.posting_slots)
                    .map_err(ApiError::internal)?,
                data,
            })
        })
        .await
}

/// Reorder a channel's queue: the queued posts keep the same set of times,
/// handed out in the new order. `post_ids` must name exactly the posts now
/// in the queue.
#[utoipa::path(
    tag = "queue",
    operation_id = "reorder_channel_queue",
    request_body = QueueOrder,
    params(
        ("workspace_id" = WorkspaceId, Path, description = "Workspace id"),
        ("channel_id" = ChannelId, Path, description = "Channel id"),
    ),
    responses((status = 200, description = "The queue in its new order", body = ChannelQueue), WriteProblems)
)]
#[put("/workspaces/{workspace_id}/channels/{channel_id}/queue")]
pub async fn reorder_channel_queue(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<(WorkspaceId, ChannelId)>,
    body: Json<QueueOrder>,
) -> ApiResult<web::Json<ChannelQueue>> {
    let (workspace_id, channel_id) = path.into_inner();
    let access = principal
        .access(&state, workspace_id, Permission::PostsSchedule)
        .await?;
    let order: Vec<String> = body.0.post_ids.iter().map(ToString::to_string).collect();
    let workspace_id = access.workspace_id;
    let (ws, id) = (workspace_id.to_string(), channel_id.to_string());
    let actor = access.user_id;
    state
        .db
        .write(move |conn| {
            ChannelRow::find(conn, &ws, &id)?.ok_or(ApiError::NotFound("channel"))?;
            let queued = PostRow::queue(conn, &ws, &id, crate::db::now(), QUEUE_LIMIT)?;
            let mut current: Vec<&str> = queued.iter().map(|p| p.id.as_str()).collect();
            let mut wanted: Vec<&str> = order.iter().map(String::as_str).collect();
            current.sort_unstable();
            wanted.sort_unstable();
            if current != wanted {
                return Err(ApiError::invalid_field(
                    "post_ids",
                    "must name exactly the posts now in this channel's queue",
                ));
            }
            let mut times: Vec<_> = queued.iter().filter_map(|p| p.scheduled_at).collect();
            times.sort_unstable();
            for (post_id, at) in order.iter().zip(times) {
                let Some(row) = queued.iter().find(|p| &p.id == post_id) else {
                    continue;
                };
                if row.scheduled_at == Some(at) {
                    continue;
                }
                let changes = PostChanges {
                    scheduled_at: Some(Some(at)),
                    ..PostChanges::default()
                };
                PostRow::update(conn, &ws, post_id, &changes, row.version)?.ok_or_else(|| {
                    ApiError::conflict(
                        "concurrent_change",
                        "a queued post changed meanwhile; retry",
                    )
                })?;
                record_transition(
                    conn,
                    row,
                    PostAction::Schedule,
                    PostStatus::Scheduled,
                    Some(&actor),
                    Some("queue reordered".to_owned()),
                )?;
            }
            Ok::<_, ApiError>(())
        })
        .await?;
    read_queue(&state, workspace_id, channel_id)
        .await
        .map(web::Json)
}
