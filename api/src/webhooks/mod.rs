//! Outgoing webhooks: a workspace registers endpoints, each subscribed to
//! event types from the catalogue ([`EventType`]), and every event of the
//! activity log that matches becomes a delivery to it.
//!
//! - **Fan-out in the same transaction.** [`fan_out`] runs inside
//!   [`crate::activity::record`]: the delivery rows and their jobs exist
//!   exactly when the event does, so a rolled-back change sends nothing and
//!   a committed one cannot be missed by a crash.
//! - **Signed** per Standard Webhooks ([`signing`]); the body is the event
//!   envelope the live stream sends, and `webhook-id` is the event's id, the
//!   same on retries and replays, so receivers can drop duplicates.
//! - **Retried** on any answer but 2xx (and on no answer) on a fixed
//!   schedule ([`RETRY_SCHEDULE`]: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h;
//!   a `Retry-After` asking for longer is honoured), then given up.
//! - **Logged**: every attempt keeps its status, latency and the start of
//!   the answer; a delivery can be replayed by hand.
//! - **Disabled** after sustained failure: when a delivery gives up and the
//!   endpoint has failed every attempt for `webhook_disable_after_hours`;
//!   at once on `410 Gone`, the receiver's way of saying "stop".
//! - **SSRF-safe** ([`address`]): public https addresses only, checked again
//!   before every attempt, redirects not followed.
//!
//! Deliveries are independent: receivers must not rely on their order
//! (`seq` in the body gives the order within the workspace).

pub mod address;
pub mod delivery;
pub mod signing;

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::QueryResult;

use crate::auth::KeyRing;
use crate::auth::sealing::{self, Binding};
use crate::db::DbConn;
use crate::db::activity::ActivityRow;
use crate::db::webhooks::{DeliveryRow, EndpointChanges, EndpointRow};
use crate::domain::activity::EventType;
use crate::jobs::{self, NewJob};

pub use delivery::DELIVER_WEBHOOK;

/// What an endpoint subscribes to when it wants every event, including
/// types added to the catalogue later.
pub const ALL_EVENTS: &str = "*";

/// Waits before the 2nd, 3rd, … attempt: Standard Webhooks' suggested
/// schedule. A delivery makes at most `RETRY_SCHEDULE.len() + 1` attempts
/// over about 28 hours.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts one delivery may make.
pub const MAX_ATTEMPTS: i32 = RETRY_SCHEDULE.len() as i32 + 1;

/// How long a rotated-out secret keeps signing.
pub const PREVIOUS_SECRET_GRACE: TimeDelta = TimeDelta::hours(24);

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Given up: out of attempts, `410 Gone`, or the endpoint was disabled.
    Failed,
}

impl DeliveryStatus {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Reads a stored or queried value.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// The binding of an endpoint's sealed secret: it opens only on its row.
pub fn secret_binding(endpoint_id: &str) -> Binding<'_> {
    Binding {
        kind: "webhook-secret",
        row: endpoint_id,
    }
}

/// The binding of an endpoint's rotated-out secret.
pub fn previous_secret_binding(endpoint_id: &str) -> Binding<'_> {
    Binding {
        kind: "webhook-previous-secret",
        row: endpoint_id,
    }
}

/// The subscribed names of an endpoint.
pub fn subscriptions(endpoint: &EndpointRow) -> Vec<String> {
    serde_json::from_str(&endpoint.event_types).unwrap_or_default()
}

/// Whether an endpoint wants events of `event_type`.
pub fn subscribes(endpoint: &EndpointRow, event_type: &str) -> bool {
    subscriptions(endpoint)
        .iter()
        .any(|name| name == ALL_EVENTS || name == event_type)
}

/// Checks a subscription list: known names (or `*`), at least one, no
/// duplicates kept. Answers the list to store.
pub fn check_subscriptions(names: &[String]) -> Result<Vec<String>, String> {
    if names.is_empty() {
        return Err("must name at least one event type (or \"*\" for all)".into());
    }
    if names.len() > EventType::ALL.len() + 1 {
        return Err("names more event types than the catalogue has".into());
    }
    let mut kept: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if name != ALL_EVENTS && EventType::parse(name).is_none() {
            return Err(format!(
                "{name:?} is not in the catalogue (GET /v1/event-types lists it)"
            ));
        }
        if !kept.contains(name) {
            kept.push(name.clone());
        }
    }
    Ok(kept)
}

/// Makes a pending delivery of `payload` to `endpoint` and enqueues its
/// job, inside the caller's transaction.
pub fn enqueue_delivery(
    conn: &mut DbConn,
    endpoint: &EndpointRow,
    event_id: &str,
    event_type: &str,
    payload: String,
    replay_of: Option<String>,
    now: NaiveDateTime,
) -> QueryResult<DeliveryRow> {
    let delivery = DeliveryRow {
        id: uuid::Uuid::now_v7().to_string(),
        endpoint_id: endpoint.id.clone(),
        workspace_id: endpoint.workspace_id.clone(),
        event_id: event_id.to_owned(),
        event_type: event_type.to_owned(),
        payload,
        status: DeliveryStatus::Pending.as_str().to_owned(),
        attempts: 0,
        next_attempt_at: Some(now),
        last_status_code: None,
        last_error: None,
        replay_of,
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    delivery.insert(conn)?;
    let job = NewJob::new(
        DELIVER_WEBHOOK,
        &serde_json::json!({ "delivery_id": delivery.id }),
    )
    .in_workspace(endpoint.workspace_id.clone())
    .unique_key(format!("webhook-delivery:{}", delivery.id))
    .max_attempts(MAX_ATTEMPTS)
    .run_at(now);
    jobs::enqueue(conn, &job, now)?;
    Ok(delivery)
}

/// Makes a delivery of a just-recorded event to every enabled endpoint of
/// its workspace that subscribes to its type (inside the recording
/// transaction).
pub fn fan_out(conn: &mut DbConn, event: &ActivityRow) -> QueryResult<usize> {
    fan_out_many(conn, &event.workspace_id, std::slice::from_ref(event))
}

/// [`fan_out`] for several events of one workspace, reading its endpoints once.
pub fn fan_out_many(
    conn: &mut DbConn,
    workspace_id: &str,
    events: &[ActivityRow],
) -> QueryResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let endpoints = EndpointRow::enabled(conn, workspace_id)?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let mut queued = 0;
    for event in events {
        let wanting: Vec<&EndpointRow> = endpoints
            .iter()
            .filter(|endpoint| subscribes(endpoint, &event.event_type))
            .collect();
        if wanting.is_empty() {
            continue;
        }
        let body = serde_json::to_string(&crate::activity::ActivityEvent::from_row(event.clone()))
            .unwrap_or_default();
        for endpoint in wanting {
            enqueue_delivery(
                conn,
                endpoint,
                &event.id,
                &event.event_type,
                body.clone(),
                None,
                event.occurred_at,
            )?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The secrets an endpoint signs with at `now`: its own, then the one it
/// replaced while that is still in its grace period.
pub fn signing_secrets(
    ring: &KeyRing,
    endpoint: &EndpointRow,
    now: NaiveDateTime,
) -> Result<Vec<String>, String> {
    let open = |binding: Binding<'_>, sealed: &str| {
        sealing::open(ring, binding, sealed)
            .map_err(|e| format!("the endpoint's signing secret does not open: {e}"))
            .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()))
    };
    let mut secrets = vec![open(secret_binding(&endpoint.id), &endpoint.secret)?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret,
        endpoint.previous_secret_expires_at,
    ) && until > now
    {
        secrets.push(open(previous_secret_binding(&endpoint.id), previous)?);
    }
    Ok(secrets)
}

/// Re-seals every endpoint secret not yet under the ring's active key;
/// answers how many endpoints changed.
pub fn reseal_all(conn: &mut DbConn, ring: &KeyRing) -> anyhow::Result<usize> {
    let active = ring.active_encryption().kid.clone();
    let mut done = 0;
    for endpoint in EndpointRow::all(conn)? {
        let current_ok = sealing::key_id(&endpoint.secret) == Some(active.as_str());
        let previous_ok = endpoint
            .previous_secret
            .as_deref()
            .is_none_or(|sealed| sealing::key_id(sealed) == Some(active.as_str()));
        if current_ok && previous_ok {
            continue;
        }
        let reseal = |binding: Binding<'_>, sealed: &str| -> anyhow::Result<String> {
            let plaintext = sealing::open(ring, binding, sealed)
                .map_err(|err| anyhow::anyhow!("webhook endpoint {}: {err}", endpoint.id))?;
            Ok(sealing::seal(ring, binding, &plaintext))
        };
        let changes = EndpointChanges {
            secret: Some(reseal(secret_binding(&endpoint.id), &endpoint.secret)?),
            previous_secret: endpoint
                .previous_secret
                .as_deref()
                .map(|sealed| reseal(previous_secret_binding(&endpoint.id), sealed))
                .transpose()?
                .map(Some),
            ..EndpointChanges::default()
        };
        EndpointRow::update(conn, &endpoint.id, &changes)?;
        done += 1;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_take_catalogue_names_or_everything() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check_subscriptions(&names(&["post.published", "post.failed", "post.published"])),
            Ok(names(&["post.published", "post.failed"]))
        );
        assert_eq!(check_subscriptions(&names(&["*"])), Ok(names(&["*"])));
        assert!(check_subscriptions(&[]).is_err());
        assert!(check_subscriptions(&names(&["post.exploded"])).is_err());
    }

    #[test]
    fn the_schedule_spans_about_a_day() {
        let total: Duration = RETRY_SCHEDULE.iter().sum();
        assert!(total > Duration::from_secs(24 * 3600));
        assert_eq!(MAX_ATTEMPTS, 8);
    }
}
