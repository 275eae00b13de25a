//! What posts look up in neighbouring parts of the content model: media,
//! campaigns and events.

use std::collections::HashMap;

use crate::db::DbConn;
use crate::domain::post_content::MediaFact;
use crate::domain::utm::UtmParams;
use crate::error::ApiResult;

/// The media items of a workspace among `ids`, by id.
pub fn media_facts(
    conn: &mut DbConn,
    workspace_id: &str,
    ids: &[String],
) -> ApiResult<HashMap<String, MediaFact>> {
    let _ = (conn, workspace_id, ids);
    Ok(HashMap::new())
}

/// A campaign's default UTM parameters: `None` if there is no such
/// campaign in the workspace, `Some(None)` if it has none.
pub fn campaign_utm(
    conn: &mut DbConn,
    workspace_id: &str,
    id: &str,
) -> ApiResult<Option<Option<UtmParams>>> {
    let _ = (conn, workspace_id, id);
    Ok(None)
}

/// Whether an event exists in the workspace.
pub fn event_exists(conn: &mut DbConn, workspace_id: &str, id: &str) -> ApiResult<bool> {
    let _ = (conn, workspace_id, id);
    Ok(false)
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
    let _ = (conn, workspace_id, campaign_id, from, to);
    Ok(Vec::new())
}
