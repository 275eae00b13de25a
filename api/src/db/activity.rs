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

/// A new event; the database numbers it. (`None` is NULL, not DEFAULT: the
/// insert is then one prepared statement, cached, and batches go in as one
/// multi-row statement on SQLite too.)
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = activity_events, treat_none_as_default_value = false)]
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
        on_engine!(conn, |c| diesel::insert_into(activity_events::table)
            .values(self)
            .returning(ActivityRow::as_returning())
            .get_result(c))
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
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query(LOCK_WORKSPACE_LOG)
            .bind::<Text, _>(workspace_id)
            .execute(pg)?;
        diesel::sql_query("SELECT pg_notify('plaza_activity', $1)")
            .bind::<Text, _>(workspace_id)
            .execute(pg)?;
    }
    // Six columns × 1,000 rows stays under both engines' parameter limits.
    let mut stored = Vec::with_capacity(events.len());
    for chunk in events.chunks(1000) {
        stored.extend(on_engine!(conn, |c| diesel::insert_into(
            activity_events::table
        )
        .values(chunk)
        .returning(ActivityRow::as_returning())
        .get_results::<ActivityRow>(c))?);
    }
    // RETURNING promises no order; the log's order is `seq`.
    stored.sort_by_key(|row| row.seq);
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
