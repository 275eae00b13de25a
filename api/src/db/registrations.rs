//! Registrations for events.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConn;
use super::schema::event_registrations as registrations;
use crate::domain::registrations::{RegistrationCounts, RegistrationStatus, seats_to_fill};

/// A registration as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = registrations)]
pub struct RegistrationRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace of the event.
    pub workspace_id: String,
    /// The event.
    pub event_id: String,
    /// The person's name.
    pub name: String,
    /// Their email, normalised; one registration per email per event.
    pub email: String,
    /// Anything they or the team noted.
    pub note: Option<String>,
    /// A [`RegistrationStatus`] name.
    pub status: String,
    /// When they registered.
    pub created_at: NaiveDateTime,
    /// Last change of status.
    pub updated_at: NaiveDateTime,
}

fn stored_status(raw: &str) -> QueryResult<RegistrationStatus> {
    RegistrationStatus::parse(raw).ok_or_else(|| {
        diesel::result::Error::DeserializationError(
            format!("stored registration status {raw:?}").into(),
        )
    })
}

impl RegistrationRow {
    /// Inserts a new registration; a second one for the same email and event
    /// is a unique violation.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(registrations::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A registration by id within a workspace's event.
    pub fn find(
        conn: &mut DbConn,
        workspace_id: &str,
        event_id: &str,
        id: &str,
    ) -> QueryResult<Option<Self>> {
        registrations::table
            .filter(registrations::workspace_id.eq(workspace_id))
            .filter(registrations::event_id.eq(event_id))
            .filter(registrations::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// An event's registration for an email (normalised), if any.
    pub fn find_by_email(
        conn: &mut DbConn,
        event_id: &str,
        email: &str,
    ) -> QueryResult<Option<Self>> {
        registrations::table
            .filter(registrations::event_id.eq(event_id))
            .filter(registrations::email.eq(email))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of an event's registrations, oldest first, after `after`.
    pub fn list(
        conn: &mut DbConn,
        event_id: &str,
        status: Option<RegistrationStatus>,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = registrations::table
            .filter(registrations::event_id.eq(event_id))
            .select(Self::as_select())
            .order(registrations::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(status) = status {
            query = query.filter(registrations::status.eq(status.as_str()));
        }
        if let Some(after) = after {
            query = query.filter(registrations::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Every registration of an event, oldest first (for exports).
    pub fn all(conn: &mut DbConn, event_id: &str) -> QueryResult<Vec<Self>> {
        registrations::table
            .filter(registrations::event_id.eq(event_id))
            .select(Self::as_select())
            .order(registrations::id.asc())
            .load(conn)
    }

    /// How many registrations of one event are in each status.
    pub fn counts(conn: &mut DbConn, event_id: &str) -> QueryResult<RegistrationCounts> {
        let rows: Vec<(String, i64)> = registrations::table
            .filter(registrations::event_id.eq(event_id))
            .group_by(registrations::status)
            .select((registrations::status, count_star()))
            .load(conn)?;
        let mut counts = RegistrationCounts::default();
        for (status, count) in rows {
            counts.add(stored_status(&status)?, count);
        }
        Ok(counts)
    }

    /// Registration counts of several events (absent: no registrations).
    pub fn counts_for(
        conn: &mut DbConn,
        event_ids: &[String],
    ) -> QueryResult<HashMap<String, RegistrationCounts>> {
        if event_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, String, i64)> = registrations::table
            .filter(registrations::event_id.eq_any(event_ids))
            .group_by((registrations::event_id, registrations::status))
            .select((registrations::event_id, registrations::status, count_star()))
            .load(conn)?;
        let mut counts: HashMap<String, RegistrationCounts> = HashMap::new();
        for (event_id, status, count) in rows {
            let status = stored_status(&status)?;
            counts.entry(event_id).or_default().add(status, count);
        }
        Ok(counts)
    }

    /// Moves a registration to `status`; returns it as it is now.
    pub fn set_status(
        conn: &mut DbConn,
        id: &str,
        status: RegistrationStatus,
    ) -> QueryResult<Self> {
        diesel::update(registrations::table.find(id))
            .set((
                registrations::status.eq(status.as_str()),
                registrations::updated_at.eq(super::now()),
            ))
            .execute(conn)?;
        registrations::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
    }

    /// Deletes a registration.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(registrations::table.find(id)).execute(conn)
    }

    /// Gives free seats to the people who have waited longest; returns the
    /// ids promoted. Run with the event locked ([`super::events::EventRow::lock`]).
    pub fn fill_free_seats(
        conn: &mut DbConn,
        event_id: &str,
        capacity: Option<i32>,
    ) -> QueryResult<Vec<String>> {
        let counts = Self::counts(conn, event_id)?;
        let seats = seats_to_fill(capacity, counts.seats_taken(), counts.waitlisted);
        if seats <= 0 {
            return Ok(Vec::new());
        }
        let waiting: Vec<String> = registrations::table
            .filter(registrations::event_id.eq(event_id))
            .filter(registrations::status.eq(RegistrationStatus::Waitlisted.as_str()))
            .order((registrations::created_at.asc(), registrations::id.asc()))
            .limit(seats)
            .select(registrations::id)
            .load(conn)?;
        for id in &waiting {
            Self::set_status(conn, id, RegistrationStatus::Registered)?;
        }
        Ok(waiting)
    }
}
