//! What collection keeps: which posts were read when, and how collection
//! goes per channel.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConn;
use crate::db::schema::{channels, metric_collections, post_metric_checks, publish_targets};

/// A published post as collection sees it.
#[derive(Debug, Clone, Queryable)]
pub struct PublishedTarget {
    /// The publish target.
    pub target_id: String,
    /// Plaza's post.
    pub post_id: String,
    /// The platform's id of the post.
    pub remote_id: String,
    /// When it was published.
    pub published_at: NaiveDateTime,
    /// When its metrics were last read.
    pub checked_at: Option<NaiveDateTime>,
}

/// A channel's posts published since `since`, with when each was last read.
pub fn published_since(
    conn: &mut DbConn,
    channel_id: &str,
    since: NaiveDateTime,
) -> QueryResult<Vec<PublishedTarget>> {
    publish_targets::table
        .left_join(post_metric_checks::table)
        .filter(publish_targets::channel_id.eq(channel_id))
        .filter(publish_targets::published_at.ge(since))
        .filter(publish_targets::remote_id.is_not_null())
        .order(publish_targets::published_at.desc())
        .select((
            publish_targets::id,
            publish_targets::post_id,
            publish_targets::remote_id.assume_not_null(),
            publish_targets::published_at.assume_not_null(),
            post_metric_checks::checked_at.nullable(),
        ))
        .load(conn)
}

/// Notes that these targets' metrics were read at `at`.
pub fn mark_checked(
    conn: &mut DbConn,
    target_ids: &[String],
    at: NaiveDateTime,
) -> QueryResult<()> {
    for chunk in target_ids.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|id| {
                (
                    post_metric_checks::target_id.eq(id),
                    post_metric_checks::checked_at.eq(at),
                )
            })
            .collect();
        on_engine!(conn, |c| diesel::insert_into(post_metric_checks::table)
            .values(&rows)
            .on_conflict(post_metric_checks::target_id)
            .do_update()
            .set(post_metric_checks::checked_at.eq(at))
            .execute(c))?;
    }
    Ok(())
}

/// How collection goes for one channel.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = metric_collections, treat_none_as_default_value = false)]
pub struct CollectionRow {
    /// The channel.
    pub channel_id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// The last attempt.
    pub attempted_at: NaiveDateTime,
    /// The last attempt that read everything it tried.
    pub succeeded_at: Option<NaiveDateTime>,
    /// When the account's metrics were last read.
    pub account_collected_at: Option<NaiveDateTime>,
    /// What went wrong last time, if it did.
    pub error: Option<String>,
    /// Failed attempts in a row.
    pub failures: i32,
}

impl CollectionRow {
    /// A channel's collection state.
    pub fn find(conn: &mut DbConn, channel_id: &str) -> QueryResult<Option<Self>> {
        metric_collections::table
            .find(channel_id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every channel's of a workspace.
    pub fn all(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<Self>> {
        metric_collections::table
            .filter(metric_collections::workspace_id.eq(workspace_id))
            .order(metric_collections::channel_id)
            .select(Self::as_select())
            .load(conn)
    }

    /// Stores it (insert or replace).
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        on_engine!(conn, |c| diesel::insert_into(metric_collections::table)
            .values(self)
            .on_conflict(metric_collections::channel_id)
            .do_update()
            .set((
                metric_collections::attempted_at.eq(excluded(metric_collections::attempted_at)),
                metric_collections::succeeded_at.eq(excluded(metric_collections::succeeded_at)),
                metric_collections::account_collected_at
                    .eq(excluded(metric_collections::account_collected_at)),
                metric_collections::error.eq(excluded(metric_collections::error)),
                metric_collections::failures.eq(excluded(metric_collections::failures)),
            ))
            .execute(c))
        .map(drop)
    }
}

/// Connected channels whose collection was not attempted since `before`
/// (channel id, workspace id), at most `limit`.
pub fn due_channels(
    conn: &mut DbConn,
    before: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    let attempted_since = metric_collections::table
        .filter(metric_collections::channel_id.eq(channels::id))
        .filter(metric_collections::attempted_at.ge(before));
    channels::table
        .filter(channels::status.eq("connected"))
        .filter(diesel::dsl::not(diesel::dsl::exists(attempted_since)))
        .order(channels::id.asc())
        .limit(limit)
        .select((channels::id, channels::workspace_id))
        .load(conn)
}
