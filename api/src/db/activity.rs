//! The activity log: what changed in each workspace, numbered in commit
//! order per workspace (see [`crate::activity`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Text;

use super::DbConn;
use super::schema::activity_events;

/// An event as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = activity_events)]
pub struct ActivityRow {
    /// Position in the log; a stream resumes after it.
    pub seq: i64,
    /// `evt_…`, stable: the webhook message id.
    pub id: String,
    /// The workspace it happened in.
    pub workspace_id: String,
    /// A name from the catalogue (`post.published`, …).
    pub event_type: String,
    /// The thing it is about (a post's or channel's id).
    pub subject_id: Option<String>,
    /// The event's data (JSON object).
    pub data: String,
    /// When it happened.
    pub occurred_at: NaiveDateTime,
}

/// A new event; the database numbers it.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = activity_events)]
pub struct NewActivityRow<'a> {
    /// `evt_…`.
    pub id: &'a str,
    /// The workspace.
    pub workspace_id: &'a str,
    /// The catalogue name.
    pub event_type: &'a str,
    /// The subject.
    pub subject_id: Option<&'a str>,
    /// JSON object.
    pub data: &'a str,
    /// When.
    pub occurred_at: NaiveDateTime,
}

/// Serialises event writers per workspace on PostgreSQL until their
/// transaction ends, so that `seq` order is commit order within a workspace
/// and a reader resuming after `seq` never skips an event that committed late.
const LOCK_WORKSPACE_LOG: &str = "SELECT pg_advisory_xact_lock(1886152290, hashtext($1))";

impl NewActivityRow<'_> {
    /// Appends the event (inside the caller's transaction) and answers it
    /// as stored. On PostgreSQL it also sends `NOTIFY plaza_activity` with
    /// the workspace id, delivered when the transaction commits.
    pub fn append(&self, conn: &mut DbConn) -> QueryResult<ActivityRow> {
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query(LOCK_WORKSPACE_LOG)
                .bind::<Text, _>(self.workspace_id)
                .execute(pg)?;
            diesel::sql_query("SELECT pg_notify('plaza_activity', $1)")
                .bind::<Text, _>(self.workspace_id)
                .execute(pg)?;
        }
        diesel::insert_into(activity_events::table)
            .values(self)
            .execute(conn)?;
        activity_events::table
            .filter(activity_events::id.eq(self.id))
            .select(ActivityRow::as_select())
            .first(conn)
    }
}

/// Appends several events of one workspace (inside the caller's
/// transaction), taking the log's lock and sending the notification once,
/// and answers them as stored, in order.
pub fn append_many(
    conn: &mut DbConn,
    workspace_id: &str,
    events: &[NewActivityRow<'_>],
) -> QueryResult<Vec<ActivityRow>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    match conn {
        DbConn::Postgres(pg) => {
            diesel::sql_query(LOCK_WORKSPACE_LOG)
                .bind::<Text, _>(workspace_id)
                .execute(pg)?;
            diesel::sql_query("SELECT pg_notify('plaza_activity', $1)")
                .bind::<Text, _>(workspace_id)
                .execute(pg)?;
            for chunk in events.chunks(1000) {
                diesel::insert_into(activity_events::table)
                    .values(chunk)
                    .execute(pg)?;
            }
        }
        DbConn::Sqlite(lite) => {
            for event in events {
                diesel::insert_into(activity_events::table)
                    .values(event)
                    .execute(lite)?;
            }
        }
    }
    let mut stored = Vec::with_capacity(events.len());
    for chunk in events.chunks(500) {
        let ids: Vec<&str> = chunk.iter().map(|e| e.id).collect();
        stored.extend(
            activity_events::table
                .filter(activity_events::id.eq_any(ids))
                .select(ActivityRow::as_select())
                .order(activity_events::seq.asc())
                .load::<ActivityRow>(conn)?,
        );
    }
    Ok(stored)
}

impl ActivityRow {
    /// Up to `limit` events of a workspace after `seq`, oldest first.
    pub fn after(
        conn: &mut DbConn,
        workspace_id: &str,
        seq: i64,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        activity_events::table
            .filter(activity_events::workspace_id.eq(workspace_id))
            .filter(activity_events::seq.gt(seq))
            .order(activity_events::seq.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// The last position of a workspace's log (0 when empty).
    pub fn last_seq(conn: &mut DbConn, workspace_id: &str) -> QueryResult<i64> {
        activity_events::table
            .filter(activity_events::workspace_id.eq(workspace_id))
            .select(diesel::dsl::max(activity_events::seq))
            .first::<Option<i64>>(conn)
            .map(Option::unwrap_or_default)
    }

    /// The last position of the whole log (0 when empty).
    pub fn last_seq_overall(conn: &mut DbConn) -> QueryResult<i64> {
        activity_events::table
            .select(diesel::dsl::max(activity_events::seq))
            .first::<Option<i64>>(conn)
            .map(Option::unwrap_or_default)
    }

    /// The workspaces with events after `seq`, and the new last position.
    pub fn workspaces_after(conn: &mut DbConn, seq: i64) -> QueryResult<Vec<(String, i64)>> {
        activity_events::table
            .filter(activity_events::seq.gt(seq))
            .group_by(activity_events::workspace_id)
            .select((
                activity_events::workspace_id,
                diesel::dsl::max(activity_events::seq),
            ))
            .load::<(String, Option<i64>)>(conn)
            .map(|rows| {
                rows.into_iter()
                    .map(|(ws, seq)| (ws, seq.unwrap_or_default()))
                    .collect()
            })
    }

    /// Forgets events older than `before`; answers how many went.
    pub fn prune(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(activity_events::table.filter(activity_events::occurred_at.lt(before)))
            .execute(conn)
    }
}
