//! Webhook endpoints, their deliveries and every attempt to send one (see
//! [`crate::webhooks`] for the rules).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};

/// An endpoint as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace whose events it receives.
    pub workspace_id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// What it is for, in the team's words.
    pub description: Option<String>,
    /// Bumped by every change a member makes, and by disabling: the ETag.
    pub version: i64,
    /// JSON array of catalogue names it subscribes to.
    pub event_types: String,
    /// The signing secret (`whsec_…`), sealed.
    pub secret: String,
    /// The secret before the last rotation, sealed; it keeps signing until
    /// `previous_secret_expires_at`.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing.
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    /// When it was disabled (by hand or after sustained failure).
    pub disabled_at: Option<NaiveDateTime>,
    /// Why.
    pub disabled_reason: Option<String>,
    /// Since when every attempt failed; `None` after a success.
    pub failing_since: Option<NaiveDateTime>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// The last successful delivery.
    pub last_success_at: Option<NaiveDateTime>,
    /// The member who registered it.
    pub created_by: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Changes to an endpoint; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    /// New URL.
    pub url: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New version.
    pub version: Option<i64>,
    /// New subscriptions (JSON array).
    pub event_types: Option<String>,
    /// New sealed secret.
    pub secret: Option<String>,
    /// New sealed previous secret.
    pub previous_secret: Option<Option<String>>,
    /// When the previous secret stops signing.
    pub previous_secret_expires_at: Option<Option<NaiveDateTime>>,
    /// Disabled (`Some(Some(_))`) or enabled (`Some(None)`).
    pub disabled_at: Option<Option<NaiveDateTime>>,
    /// Why it was disabled.
    pub disabled_reason: Option<Option<String>>,
    /// Start of the current failing streak.
    pub failing_since: Option<Option<NaiveDateTime>>,
    /// Failed attempts in a row.
    pub consecutive_failures: Option<i32>,
    /// Last success.
    pub last_success_at: Option<Option<NaiveDateTime>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

impl EndpointRow {
    /// Stores a new endpoint.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(webhook_endpoints::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One endpoint of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        webhook_endpoints::table
            .filter(webhook_endpoints::workspace_id.eq(workspace_id))
            .filter(webhook_endpoints::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// One endpoint by id alone (the delivery worker's view).
    pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        webhook_endpoints::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's endpoints, oldest first, after `after`.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = webhook_endpoints::table
            .filter(webhook_endpoints::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(webhook_endpoints::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(webhook_endpoints::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// The enabled endpoints of a workspace (fan-out filters them by type).
    pub fn enabled(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<Self>> {
        webhook_endpoints::table
            .filter(webhook_endpoints::workspace_id.eq(workspace_id))
            .filter(webhook_endpoints::disabled_at.is_null())
            .select(Self::as_select())
            .load(conn)
    }

    /// Every endpoint (to re-seal secrets under a new key).
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        webhook_endpoints::table
            .select(Self::as_select())
            .load(conn)
    }

    /// Applies `changes`; answers the endpoint as it now is.
    pub fn update(conn: &mut DbConn, id: &str, changes: &EndpointChanges) -> QueryResult<Self> {
        diesel::update(webhook_endpoints::table.find(id))
            .set(changes)
            .execute(conn)?;
        webhook_endpoints::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    /// Removes an endpoint with its deliveries; answers whether it existed.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            webhook_endpoints::table
                .filter(webhook_endpoints::workspace_id.eq(workspace_id))
                .filter(webhook_endpoints::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n > 0)
    }
}

/// A delivery as stored: one event for one endpoint.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    /// UUIDv7.
    pub id: String,
    /// Where it goes.
    pub endpoint_id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The event's `evt_…` id (`webhook-id`).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The exact body sent.
    pub payload: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The last answer's HTTP status.
    pub last_status_code: Option<i32>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The delivery this one replays.
    pub replay_of: Option<String>,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// When it succeeded or gave up.
    pub finished_at: Option<NaiveDateTime>,
}

/// Changes to a delivery; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryChanges {
    /// New status.
    pub status: Option<String>,
    /// Attempts made.
    pub attempts: Option<i32>,
    /// Next attempt.
    pub next_attempt_at: Option<Option<NaiveDateTime>>,
    /// Last HTTP status.
    pub last_status_code: Option<Option<i32>>,
    /// Last error.
    pub last_error: Option<Option<String>>,
    /// Finished.
    pub finished_at: Option<Option<NaiveDateTime>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Filters of a delivery list.
#[derive(Debug, Default, Clone)]
pub struct DeliveryFilter {
    /// Only deliveries in this status.
    pub status: Option<String>,
    /// Only deliveries of this event type.
    pub event_type: Option<String>,
}

impl DeliveryRow {
    /// Stores a new delivery.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(webhook_deliveries::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One delivery of an endpoint.
    pub fn find(conn: &mut DbConn, endpoint_id: &str, id: &str) -> QueryResult<Option<Self>> {
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .filter(webhook_deliveries::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// One delivery by id alone (the delivery worker's view).
    pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        webhook_deliveries::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of an endpoint's deliveries, newest first, before `before`.
    pub fn list(
        conn: &mut DbConn,
        endpoint_id: &str,
        filter: &DeliveryFilter,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
            .select(Self::as_select())
            .order(webhook_deliveries::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(webhook_deliveries::id.lt(before.to_owned()));
        }
        if let Some(status) = &filter.status {
            query = query.filter(webhook_deliveries::status.eq(status.clone()));
        }
        if let Some(event_type) = &filter.event_type {
            query = query.filter(webhook_deliveries::event_type.eq(event_type.clone()));
        }
        query.load(conn)
    }

    /// Applies `changes`; answers the delivery as it now is.
    pub fn update(conn: &mut DbConn, id: &str, changes: &DeliveryChanges) -> QueryResult<Self> {
        diesel::update(webhook_deliveries::table.find(id))
            .set(changes)
            .execute(conn)?;
        webhook_deliveries::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    /// Gives up the pending deliveries of an endpoint that was disabled.
    pub fn fail_pending(
        conn: &mut DbConn,
        endpoint_id: &str,
        reason: &str,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
                .filter(webhook_deliveries::status.eq("pending")),
        )
        .set((
            webhook_deliveries::status.eq("failed"),
            webhook_deliveries::last_error.eq(reason),
            webhook_deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
            webhook_deliveries::finished_at.eq(now),
            webhook_deliveries::updated_at.eq(now),
        ))
        .execute(conn)
    }

    /// Forgets finished deliveries (with their attempts) older than `before`.
    pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::finished_at.lt(before)))
            .execute(conn)
    }
}

/// One attempt to send a delivery.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    /// UUIDv7.
    pub id: String,
    /// The delivery.
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// When the request started.
    pub started_at: NaiveDateTime,
    /// The HTTP status answered, if any answer came.
    pub status_code: Option<i32>,
    /// From the request's start to the answer's end (or the failure).
    pub latency_ms: i64,
    /// The start of the answer's body.
    pub response_excerpt: Option<String>,
    /// Why it failed without an answer (or why the answer is a failure).
    pub error: Option<String>,
}

impl AttemptRow {
    /// Stores an attempt.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(webhook_attempts::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A delivery's attempts, first first.
    pub fn of_delivery(conn: &mut DbConn, delivery_id: &str) -> QueryResult<Vec<Self>> {
        webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq(delivery_id))
            .order((webhook_attempts::attempt.asc(), webhook_attempts::id.asc()))
            .select(Self::as_select())
            .load(conn)
    }
}
