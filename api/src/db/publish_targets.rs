//! Publish targets: one per (post, channel) the publisher sends.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{jobs, publish_targets};

/// A target as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = publish_targets)]
pub struct PublishTargetRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The post.
    pub post_id: String,
    /// The channel.
    pub channel_id: String,
    /// `pending`, `sending`, `published`, `failed` or `needs_review`.
    pub status: String,
    /// Sent to the platform with the post; stable across retries.
    pub idempotency_key: String,
    /// The platform's id of the published post.
    pub remote_id: Option<String>,
    /// Where people see it.
    pub remote_url: Option<String>,
    /// Remote ids of the follow-up parts sent so far (JSON array).
    pub follow_up_ids: String,
    /// Why it failed or needs review.
    pub error: Option<String>,
    /// Platform calls made for it.
    pub attempts: i32,
    /// When it went out.
    pub published_at: Option<NaiveDateTime>,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// The follow-up part whose platform call is under way (or was, when
    /// a worker died).
    pub follow_up_sending: Option<i32>,
}

/// Changes to a target; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = publish_targets)]
pub struct TargetChanges {
    /// New status.
    pub status: Option<String>,
    /// Remote id.
    pub remote_id: Option<Option<String>>,
    /// Remote URL.
    pub remote_url: Option<Option<String>>,
    /// Follow-up ids.
    pub follow_up_ids: Option<String>,
    /// Error.
    pub error: Option<Option<String>>,
    /// Attempts.
    pub attempts: Option<i32>,
    /// Published time.
    pub published_at: Option<Option<NaiveDateTime>>,
    /// Follow-up in flight.
    pub follow_up_sending: Option<Option<i32>>,
}

impl PublishTargetRow {
    /// Inserts a target.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(publish_targets::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// The targets of some posts, by post then id.
    pub fn for_posts(conn: &mut DbConn, post_ids: &[String]) -> QueryResult<Vec<Self>> {
        publish_targets::table
            .filter(publish_targets::post_id.eq_any(post_ids))
            .order((publish_targets::post_id.asc(), publish_targets::id.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// The Plaza posts behind remote ids published on a channel, as
    /// (remote id, post id).
    pub fn posts_by_remote_id(
        conn: &mut DbConn,
        channel_id: &str,
        remote_ids: &[String],
    ) -> QueryResult<Vec<(String, String)>> {
        publish_targets::table
            .filter(publish_targets::channel_id.eq(channel_id))
            .filter(publish_targets::remote_id.eq_any(remote_ids))
            .select((
                publish_targets::remote_id.assume_not_null(),
                publish_targets::post_id,
            ))
            .load(conn)
    }

    /// The remote ids of posts published on a channel since `since`, newest
    /// first: whose comments the inbox reads.
    pub fn published_since(
        conn: &mut DbConn,
        channel_id: &str,
        since: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<String>> {
        publish_targets::table
            .filter(publish_targets::channel_id.eq(channel_id))
            .filter(publish_targets::status.eq("published"))
            .filter(publish_targets::published_at.ge(since))
            .filter(publish_targets::remote_id.is_not_null())
            .select(publish_targets::remote_id.assume_not_null())
            .order(publish_targets::published_at.desc())
            .limit(limit)
            .load(conn)
    }

    /// Applies changes and stamps the time.
    pub fn update(conn: &mut DbConn, id: &str, changes: &TargetChanges) -> QueryResult<usize> {
        diesel::update(publish_targets::table.find(id))
            .set((changes, publish_targets::updated_at.eq(super::now())))
            .execute(conn)
    }
}

/// Drops a job still waiting in the queue under `key` (a post taken off the
/// schedule); a running one is left to see the post's new state itself.
pub fn discard_queued_job(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::delete(
        jobs::table
            .filter(jobs::unique_key.eq(key))
            .filter(jobs::status.eq("queued")),
    )
    .execute(conn)
}
