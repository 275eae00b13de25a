//! The content calendar: scheduled and published posts, and events, in a
//! time range, shown in the workspace's time zone.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::db::posts::{PostRow, PostVariantRow};
use crate::db::workspaces::WorkspaceRow;
use crate::domain::ids::{ChannelId, WorkspaceId};
use crate::domain::roles::Permission;
use crate::domain::text::excerpt;
use crate::domain::workflow::PostStatus;
use crate::error::{ApiError, ApiResult};
use crate::http::posts::{PostFilters, stored_status};
use crate::http::problems::ReadProblems;
use crate::http::views::utc;
use crate::state::AppState;

/// Longest range one calendar request covers, in days.
pub const MAX_RANGE_DAYS: i64 = 100;
/// Most entries one calendar answer holds.
pub const MAX_ENTRIES: i64 = 2_000;

/// The range and filters of a calendar.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// Start of the range (RFC 3339), inclusive. Required.
    #[param(required = true)]
    pub from: Option<DateTime<Utc>>,
    /// End of the range (RFC 3339), exclusive; at most 100 days after `from`. Required.
    #[param(required = true)]
    pub to: Option<DateTime<Utc>>,
    /// Only posts in this status (events have none, so they are left out).
    pub status: Option<PostStatus>,
    /// Only posts and events of this campaign.
    pub campaign_id: Option<String>,
    /// Only posts with a variant for this channel (events are left out).
    pub channel_id: Option<ChannelId>,
    /// Only posts with this tag (events are left out).
    pub tag: Option<String>,
}

struct Range {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// What a calendar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarEntryKind {
    /// A post: scheduled, or already out.
    Post,
    /// An event.
    Event,
}

/// One thing on the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarEntry {
    /// Post or event.
    pub kind: CalendarEntryKind,
    /// Its id.
    pub id: String,
    /// The post's opening words, or the event's title.
    pub title: String,
    /// A post's status (events have none).
    pub status: Option<PostStatus>,
    /// When it happens (UTC): scheduled or published time, or the event's start.
    pub starts_at: DateTime<Utc>,
    /// When an event ends.
    pub ends_at: Option<DateTime<Utc>>,
    /// `starts_at` in the workspace's time zone.
    pub local_starts_at: String,
    /// The local date, `YYYY-MM-DD`, for day cells.
    pub local_date: String,
    /// A post's channels.
    pub channel_ids: Vec<ChannelId>,
    /// The campaign it belongs to.
    pub campaign_id: Option<String>,
    /// A post's tags.
    pub tags: Vec<String>,
}

/// The calendar for a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct Calendar {
    /// The workspace's IANA time zone, used for every `local_` field.
    pub time_zone: String,
    /// Start of the range.
    pub from: DateTime<Utc>,
    /// End of the range.
    pub to: DateTime<Utc>,
    /// Entries by time.
    pub entries: Vec<CalendarEntry>,
}

/// Posts scheduled or published, and events, between `from` and `to`,
/// filterable by channel, campaign, tag and status. Times carry their
/// local form in the workspace's time zone.
#[utoipa::path(
    tag = "calendar",
    operation_id = "get_calendar",
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id"), CalendarQuery),
    responses((status = 200, description = "The calendar", body = Calendar), ReadProblems)
)]
#[get("/workspaces/{workspace_id}/calendar")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    range: web::Query<CalendarQuery>,
) -> ApiResult<web::Json<Calendar>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::PostsRead)
        .await?;
    let range = range.into_inner();
    let (Some(from), Some(to)) = (range.from, range.to) else {
        return Err(ApiError::invalid_field(
            if range.from.is_none() { "from" } else { "to" },
            "is required",
        ));
    };
    let filters = PostFilters {
        status: range.status,
        campaign_id: range.campaign_id,
        channel_id: range.channel_id,
        tag: range.tag,
        event_id: None,
    };
    let range = Range { from, to };
    if range.to <= range.from {
        return Err(ApiError::invalid_field("to", "must be after from"));
    }
    if range.to - range.from > chrono::Duration::days(MAX_RANGE_DAYS) {
        return Err(ApiError::invalid_field(
            "to",
            "must be at most 100 days after from",
        ));
    }
    let filter = filters.to_filter();
    let with_events =
        filter.status.is_none() && filter.channel_id.is_none() && filter.tag.is_none();
    let ws = access.workspace_id.to_string();
    let (from, to) = (range.from.naive_utc(), range.to.naive_utc());
    let calendar = state
        .db
        .read(move |conn| {
            let workspace =
                WorkspaceRow::find(conn, &ws)?.ok_or(ApiError::NotFound("workspace"))?;
            let tz = workspace.time_zone();
            let posts = PostRow::in_range(conn, &ws, &filter, from, to, MAX_ENTRIES)?;
            let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
            let variants = PostVariantRow::for_posts(conn, &ids)?;
            let mut entries = Vec::new();
            for post in posts {
                let at = match (post.published_at, post.scheduled_at) {
                    (Some(at), _) | (None, Some(at)) => utc(at),
                    (None, None) => continue,
                };
                let local = at.with_timezone(&tz);
                entries.push(CalendarEntry {
                    kind: CalendarEntryKind::Post,
                    title: excerpt(&post.body, 80),
                    status: Some(stored_status(&post.status)?),
                    starts_at: at,
                    ends_at: None,
                    local_starts_at: local.to_rfc3339(),
                    local_date: local.date_naive().to_string(),
                    channel_ids: variants
                        .iter()
                        .filter(|v| v.post_id == post.id)
                        .map(|v| v.channel_id.parse().map_err(ApiError::internal))
                        .collect::<ApiResult<_>>()?,
                    campaign_id: post.campaign_id,
                    tags: serde_json::from_str(&post.tags).map_err(ApiError::internal)?,
                    id: post.id,
                });
            }
            if with_events {
                for event in crate::http::posts::lookups::events_in_range(
                    conn,
                    &ws,
                    filter.campaign_id.as_deref(),
                    from,
                    to,
                )? {
                    let local = event.starts_at.with_timezone(&tz);
                    entries.push(CalendarEntry {
                        kind: CalendarEntryKind::Event,
                        id: event.id,
                        title: event.title,
                        status: None,
                        starts_at: event.starts_at,
                        ends_at: Some(event.ends_at),
                        local_starts_at: local.to_rfc3339(),
                        local_date: local.date_naive().to_string(),
                        channel_ids: Vec::new(),
                        campaign_id: event.campaign_id,
                        tags: Vec::new(),
                    });
                }
            }
            entries.sort_by(|a, b| a.starts_at.cmp(&b.starts_at).then(a.id.cmp(&b.id)));
            Ok::<_, ApiError>(Calendar {
                time_zone: workspace.time_zone,
                from: range.from,
                to: range.to,
                entries,
            })
        })
        .await?;
    Ok(web::Json(calendar))
}
