//! Events of a workspace.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::count_star;
use diesel::prelude::*;

use super::DbConn;
use super::schema::events;
use crate::domain::events::{EventDraft, EventPlan};

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = events)]
pub struct EventRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace it belongs to.
    pub workspace_id: String,
    /// The campaign it is part of, if any (same workspace).
    pub campaign_id: Option<String>,
    /// What it is called.
    pub title: String,
    /// What happens there.
    pub description: Option<String>,
    /// Start, UTC.
    pub starts_at: NaiveDateTime,
    /// End, UTC.
    pub ends_at: NaiveDateTime,
    /// IANA time zone name.
    pub time_zone: String,
    /// Where to join online.
    pub online_url: Option<String>,
    /// Where to go in person.
    pub place: Option<String>,
    /// Seats, if limited.
    pub capacity: Option<i32>,
    /// 1 if people may queue once it is full, else 0.
    pub waitlist: i32,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// The member who made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Everything about an event a member can change.
#[derive(Debug, Clone, PartialEq, Eq, AsChangeset)]
#[diesel(table_name = events, treat_none_as_null = true)]
pub struct EventChanges {
    /// The campaign it is part of.
    pub campaign_id: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Start, UTC.
    pub starts_at: NaiveDateTime,
    /// End, UTC.
    pub ends_at: NaiveDateTime,
    /// IANA time zone name.
    pub time_zone: String,
    /// Online URL.
    pub online_url: Option<String>,
    /// Place.
    pub place: Option<String>,
    /// Seats.
    pub capacity: Option<i32>,
    /// 1 for a waitlist, else 0.
    pub waitlist: i32,
}

impl EventChanges {
    /// The stored form of a checked event.
    pub fn from_plan(plan: EventPlan, campaign_id: Option<String>) -> Self {
        Self {
            campaign_id,
            title: plan.title,
            description: plan.description,
            starts_at: plan.starts_at.naive_utc(),
            ends_at: plan.ends_at.naive_utc(),
            time_zone: plan.time_zone.name().to_owned(),
            online_url: plan.online_url,
            place: plan.place,
            capacity: plan.capacity,
            waitlist: i32::from(plan.waitlist),
        }
    }
}

/// What an event list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events still running after this time (`ends_at > from`).
    pub from: Option<NaiveDateTime>,
    /// Only events starting before this time (`starts_at < to`).
    pub to: Option<NaiveDateTime>,
    /// Only events of this campaign.
    pub campaign_id: Option<String>,
}

impl EventRow {
    /// A new event at version 1.
    pub fn new(
        id: String,
        workspace_id: String,
        created_by: String,
        fields: EventChanges,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id,
            workspace_id,
            campaign_id: fields.campaign_id,
            title: fields.title,
            description: fields.description,
            starts_at: fields.starts_at,
            ends_at: fields.ends_at,
            time_zone: fields.time_zone,
            online_url: fields.online_url,
            place: fields.place,
            capacity: fields.capacity,
            waitlist: fields.waitlist,
            version: 1,
            created_by,
            created_at: now,
            updated_at: now,
        }
    }

    /// The event's current values, as a draft a change is applied to.
    pub fn draft(&self) -> EventDraft {
        EventDraft {
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at.and_utc(),
            ends_at: self.ends_at.and_utc(),
            time_zone: self.time_zone.clone(),
            online_url: self.online_url.clone(),
            place: self.place.clone(),
            capacity: self.capacity.map(i64::from),
            waitlist: self.waitlist != 0,
        }
    }

    /// The event's changeable fields as they are now.
    pub fn changes(&self) -> EventChanges {
        EventChanges {
            campaign_id: self.campaign_id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            time_zone: self.time_zone.clone(),
            online_url: self.online_url.clone(),
            place: self.place.clone(),
            capacity: self.capacity,
            waitlist: self.waitlist,
        }
    }

    /// The key lists are sorted and paged by: start (in microseconds), then id.
    pub fn cursor_key(&self) -> String {
        format!(
            "{}_{}",
            self.starts_at.and_utc().timestamp_micros(),
            self.id
        )
    }

    /// Reads a key made by [`Self::cursor_key`].
    pub fn parse_cursor_key(key: &str) -> Option<(NaiveDateTime, String)> {
        let (micros, id) = key.split_once('_')?;
        let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some((at.naive_utc(), id.to_owned()))
    }

    /// Inserts a new event.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(events::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// An event by id within a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        events::table
            .filter(events::workspace_id.eq(workspace_id))
            .filter(events::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Takes the event's row lock (PostgreSQL) so that registrations and
    /// capacity changes of one event run one at a time; SQLite has one writer
    /// anyway. Returns 0 when the workspace has no such event.
    pub fn lock(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::update(
            events::table
                .filter(events::workspace_id.eq(workspace_id))
                .filter(events::id.eq(id)),
        )
        .set(events::version.eq(events::version))
        .execute(conn)
    }

    /// A page of a workspace's events, by start then id, after `after`.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &EventFilter,
        after: Option<(NaiveDateTime, String)>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = events::table
            .filter(events::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order((events::starts_at.asc(), events::id.asc()))
            .limit(limit)
            .into_boxed();
        if let Some(from) = filter.from {
            query = query.filter(events::ends_at.gt(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(events::starts_at.lt(to));
        }
        if let Some(campaign_id) = &filter.campaign_id {
            query = query.filter(events::campaign_id.eq(campaign_id.clone()));
        }
        if let Some((at, id)) = after {
            query = query.filter(
                events::starts_at
                    .gt(at)
                    .or(events::starts_at.eq(at).and(events::id.gt(id))),
            );
        }
        query.load(conn)
    }

    /// Writes `changes` if the event is still at version `expected`.
    /// Returns the updated row, or `None` when the version moved on.
    pub fn update(
        conn: &mut DbConn,
        id: &str,
        expected: i64,
        changes: &EventChanges,
    ) -> QueryResult<Option<Self>> {
        let updated = diesel::update(
            events::table
                .filter(events::id.eq(id))
                .filter(events::version.eq(expected)),
        )
        .set((
            changes,
            events::version.eq(events::version + 1),
            events::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(None);
        }
        events::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Deletes an event and, by cascade, its registrations.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::delete(
            events::table
                .filter(events::workspace_id.eq(workspace_id))
                .filter(events::id.eq(id)),
        )
        .execute(conn)
    }

    /// How many events each of these campaigns has (absent: none).
    pub fn count_by_campaign(
        conn: &mut DbConn,
        campaign_ids: &[String],
    ) -> QueryResult<HashMap<String, i64>> {
        if campaign_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let counts: Vec<(Option<String>, i64)> = events::table
            .filter(events::campaign_id.eq_any(campaign_ids))
            .group_by(events::campaign_id)
            .select((events::campaign_id, count_star()))
            .load(conn)?;
        Ok(counts
            .into_iter()
            .filter_map(|(id, count)| id.map(|id| (id, count)))
            .collect())
    }
}
