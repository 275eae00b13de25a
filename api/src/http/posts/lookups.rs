//! What posts look up in neighbouring parts of the content model: media,
//! campaigns and events.

use std::collections::HashMap;

use crate::db::DbConn;
use crate::db::campaigns::CampaignRow;
use crate::db::events::{EventFilter, EventRow};
use crate::db::media::MediaRow;
use crate::domain::post_content::MediaFact;
use crate::domain::utm::UtmParams;
use crate::error::ApiResult;

/// The media items of a workspace among `ids`, by id.
pub fn media_facts(
    conn: &mut DbConn,
    workspace_id: &str,
    ids: &[String],
) -> ApiResult<HashMap<String, MediaFact>> {
    Ok(MediaRow::find_many(conn, workspace_id, ids)?
        .into_iter()
        .map(|row| {
            let fact = MediaFact {
                id: row.id.clone(),
                mime: row.mime_type,
            };
            (row.id, fact)
        })
        .collect())
}

/// A campaign's default UTM parameters: `None` if there is no such
/// campaign in the workspace, `Some(None)` if it has none.
pub fn campaign_utm(
    conn: &mut DbConn,
    workspace_id: &str,
    id: &str,
) -> ApiResult<Option<Option<UtmParams>>> {
    Ok(CampaignRow::find(conn, workspace_id, id)?.map(|c| {
        let utm = UtmParams {
            source: c.utm_source,
            medium: c.utm_medium,
            campaign: Some(c.utm_campaign),
            term: c.utm_term,
            content: c.utm_content,
        };
        Some(utm)
    }))
}

/// Whether an event exists in the workspace.
pub fn event_exists(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<bool> {
    Ok(EventRow::find(conn, workspace_id, id)?.is_some())
}

/// An event as the calendar shows it.
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Event id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Start.
    pub starts_at: chrono::DateTime<chrono::Utc>,
    /// End.
    pub ends_at: chrono::DateTime<chrono::Utc>,
    /// Campaign.
    pub campaign_id: Option<String>,
}

/// Events of a workspace overlapping `[from, to)`.
pub fn events_in_range(
    conn: &mut DbConn,
    workspace_id: &str,
    campaign_id: Option<&str>,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> ApiResult<Vec<CalendarEvent>> {
    let filter = EventFilter {
        from: Some(from),
        to: Some(to),
        campaign_id: campaign_id.map(str::to_owned),
    };
    Ok(
        EventRow::list(conn, workspace_id, &filter, None, MAX_EVENTS)?
            .into_iter()
            .map(|e| CalendarEvent {
                id: e.id,
                title: e.title,
                starts_at: crate::http::views::utc(e.starts_at),
                ends_at: crate::http::views::utc(e.ends_at),
                campaign_id: e.campaign_id,
            })
            .collect(),
    )
}

/// Most events one calendar shows.
const MAX_EVENTS: i64 = 1_000;
