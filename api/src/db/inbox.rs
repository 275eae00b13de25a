//! Inbox items, the replies sent to them, where each channel's streams were
//! read up to, and the platform webhooks already taken.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    assignment_rotations, inbox_cursors, inbox_items, inbox_replies, webhook_receipts,
};

diesel::define_sql_function! {
    /// SQL `lower()`: full Unicode on PostgreSQL, ASCII letters on SQLite.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// An inbox item as stored.
/// (`None` is NULL, not DEFAULT: one cached statement, and one multi-row
/// statement per batch on SQLite too.)
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbox_items, treat_none_as_default_value = false)]
pub struct InboxItemRow {
    /// UUIDv7: items sort by arrival.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The channel it came through.
    pub channel_id: String,
    /// The channel's plugin id.
    pub platform: String,
    /// `mention`, `comment`, ... ([`crate::domain::inbox::ItemKind`]).
    pub kind: String,
    /// The platform's id.
    pub remote_id: String,
    /// The conversation it belongs to.
    pub thread_remote_id: String,
    /// What it answers, on the platform.
    pub parent_remote_id: Option<String>,
    /// The brand's post it is about, on the platform.
    pub post_remote_id: Option<String>,
    /// The brand's post it is about, in Plaza.
    pub post_id: Option<String>,
    /// The listening query that found it.
    pub listening_query_id: Option<String>,
    /// The contact behind its author.
    pub contact_id: Option<String>,
    /// The author's platform id.
    pub author_remote_id: String,
    /// The author's handle.
    pub author_handle: String,
    /// The author's display name.
    pub author_name: Option<String>,
    /// The author's followers when it arrived.
    pub author_followers: Option<i64>,
    /// The text.
    pub body: String,
    /// Where it is on the platform.
    pub url: Option<String>,
    /// ISO 639-1 language.
    pub lang: Option<String>,
    /// Compound sentiment, -1..1.
    pub sentiment_score: Option<f64>,
    /// `negative`, `neutral` or `positive`.
    pub sentiment_label: Option<String>,
    /// [`crate::domain::inbox::ItemStatus`].
    pub status: String,
    /// [`crate::domain::inbox::Priority`].
    pub priority: String,
    /// The member working on it.
    pub assignee_id: Option<String>,
    /// JSON array of tags.
    pub tags: String,
    /// `poll`, `webhook` or `listening`.
    pub source: String,
    /// When it was written on the platform.
    pub remote_created_at: NaiveDateTime,
    /// When Plaza took it in.
    pub received_at: NaiveDateTime,
    /// When the first answer is due under the workspace's SLA.
    pub first_response_due_at: Option<NaiveDateTime>,
    /// When the team first answered (or resolved) it.
    pub first_response_at: Option<NaiveDateTime>,
    /// When it should be resolved under the SLA.
    pub resolution_due_at: Option<NaiveDateTime>,
    /// When it was resolved.
    pub resolved_at: Option<NaiveDateTime>,
    /// Bumped by every change: the ETag.
    pub version: i64,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Changes to an item; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = inbox_items)]
pub struct InboxItemChanges {
    /// New status.
    pub status: Option<String>,
    /// New priority.
    pub priority: Option<String>,
    /// New assignee (`Some(None)` unassigns).
    pub assignee_id: Option<Option<String>>,
    /// New tags (JSON array).
    pub tags: Option<String>,
    /// New contact (merges and splits).
    pub contact_id: Option<Option<String>>,
    /// First answer.
    pub first_response_at: Option<Option<NaiveDateTime>>,
    /// Resolution.
    pub resolved_at: Option<Option<NaiveDateTime>>,
    /// New version.
    pub version: Option<i64>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// What a list of items is narrowed to; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    /// Any of these statuses.
    pub statuses: Vec<String>,
    /// Any of these kinds.
    pub kinds: Vec<String>,
    /// Any of these priorities.
    pub priorities: Vec<String>,
    /// Only from this channel.
    pub channel_id: Option<String>,
    /// Only from this platform.
    pub platform: Option<String>,
    /// Assigned to this member; `Some(None)` means unassigned.
    pub assignee_id: Option<Option<String>>,
    /// Carrying this tag (tags are `[a-z0-9_:-]`, so a quoted LIKE is exact).
    pub tag: Option<String>,
    /// From this contact.
    pub contact_id: Option<String>,
    /// In this conversation.
    pub thread_remote_id: Option<String>,
    /// With this sentiment label.
    pub sentiment: Option<String>,
    /// In this language.
    pub lang: Option<String>,
    /// Found by this listening query.
    pub listening_query_id: Option<String>,
    /// About this Plaza post.
    pub post_id: Option<String>,
    /// Whose text contains this (case-insensitive).
    pub text: Option<String>,
    /// Received at or after.
    pub received_from: Option<NaiveDateTime>,
    /// Received before.
    pub received_until: Option<NaiveDateTime>,
    /// Unanswered past its first-response due time, as of this instant.
    pub overdue_at: Option<NaiveDateTime>,
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Makes ingestion into one workspace one batch at a time on PostgreSQL,
/// until the transaction ends. Two batches at once (two channels, or a poll
/// and a webhook) would otherwise update the same contacts and round-robin
/// turns in different orders and deadlock. (SQLite has one writer anyway.)
/// Only ingestion takes this lock, and it takes it first. Also plans the
/// transaction's statements afresh (below).
pub fn lock_ingestion(conn: &mut DbConn, workspace_id: &str) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(1886152291, hashtext($1))")
            .bind::<diesel::sql_types::Text, _>(workspace_id)
            .execute(pg)?;
        // A batch looks hundreds of ids up at once. A cached generic plan
        // made while the inbox was small (a new workspace, statistics not
        // yet gathered) scans the whole table for them; planning each
        // statement with its values uses the indexes.
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(pg)?;
    }
    Ok(())
}

impl InboxItemRow {
    /// Stores new items, skipping any whose (channel, remote id) is already
    /// stored; answers the ids of those stored now.
    pub fn insert_new(conn: &mut DbConn, rows: &[Self]) -> QueryResult<Vec<String>> {
        if let DbConn::Postgres(pg) = conn {
            // Binary COPY, several times faster than a multi-row INSERT of
            // the same rows. It cannot skip a clash: ingestion checked the
            // batch against what is stored under its workspace's lock (and
            // analysis dropped repeats within it), so a clash means a
            // writer that did not look first; then the copy is undone (a
            // savepoint) and the INSERT below skips the clashes.
            let copied = pg.transaction(|pg| {
                diesel::copy_from(inbox_items::table)
                    .from_insertable(rows)
                    .execute(pg)
            });
            match copied {
                Ok(_) => return Ok(rows.iter().map(|row| row.id.clone()).collect()),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => {}
                Err(err) => return Err(err),
            }
        }
        // 37 columns × 400 rows stays under PostgreSQL's 65,535 parameters
        // and SQLite's 32,766.
        let mut stored = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(400) {
            stored.extend(on_engine!(conn, |c| diesel::insert_into(
                inbox_items::table
            )
            .values(chunk)
            .on_conflict((inbox_items::channel_id, inbox_items::remote_id))
            .do_nothing()
            .returning(inbox_items::id)
            .get_results::<String>(c))?);
        }
        Ok(stored)
    }

    /// Which of `remote_ids` a channel already holds.
    pub fn known_remote_ids(
        conn: &mut DbConn,
        channel_id: &str,
        remote_ids: &[String],
    ) -> QueryResult<Vec<String>> {
        let mut known = Vec::new();
        for chunk in remote_ids.chunks(500) {
            known.extend(
                inbox_items::table
                    .filter(inbox_items::channel_id.eq(channel_id))
                    .filter(inbox_items::remote_id.eq_any(chunk))
                    .select(inbox_items::remote_id)
                    .load::<String>(conn)?,
            );
        }
        Ok(known)
    }

    /// Tags an item with the listening query that found it, unless one did before.
    pub fn mark_listened(
        conn: &mut DbConn,
        channel_id: &str,
        remote_id: &str,
        query_id: &str,
    ) -> QueryResult<usize> {
        diesel::update(
            inbox_items::table
                .filter(inbox_items::channel_id.eq(channel_id))
                .filter(inbox_items::remote_id.eq(remote_id))
                .filter(inbox_items::listening_query_id.is_null()),
        )
        .set(inbox_items::listening_query_id.eq(query_id))
        .execute(conn)
    }

    /// One item of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .filter(inbox_items::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Items of a workspace by id (those that exist).
    pub fn find_many(
        conn: &mut DbConn,
        workspace_id: &str,
        ids: &[String],
    ) -> QueryResult<Vec<Self>> {
        inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .filter(inbox_items::id.eq_any(ids))
            .select(Self::as_select())
            .order(inbox_items::id.desc())
            .load(conn)
    }

    /// A page of items, newest first, before the cursor `before`.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &InboxFilter,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(inbox_items::id.lt(before.to_owned()));
        }
        if !filter.statuses.is_empty() {
            query = query.filter(inbox_items::status.eq_any(filter.statuses.clone()));
        }
        if !filter.kinds.is_empty() {
            query = query.filter(inbox_items::kind.eq_any(filter.kinds.clone()));
        }
        if !filter.priorities.is_empty() {
            query = query.filter(inbox_items::priority.eq_any(filter.priorities.clone()));
        }
        if let Some(channel) = &filter.channel_id {
            query = query.filter(inbox_items::channel_id.eq(channel.clone()));
        }
        if let Some(platform) = &filter.platform {
            query = query.filter(inbox_items::platform.eq(platform.clone()));
        }
        match &filter.assignee_id {
            Some(Some(assignee)) => {
                query = query.filter(inbox_items::assignee_id.eq(assignee.clone()));
            }
            Some(None) => query = query.filter(inbox_items::assignee_id.is_null()),
            None => {}
        }
        if let Some(tag) = &filter.tag {
            query = query.filter(inbox_items::tags.like(format!("%\"{tag}\"%")));
        }
        if let Some(contact) = &filter.contact_id {
            query = query.filter(inbox_items::contact_id.eq(contact.clone()));
        }
        if let Some(thread) = &filter.thread_remote_id {
            query = query.filter(inbox_items::thread_remote_id.eq(thread.clone()));
        }
        if let Some(label) = &filter.sentiment {
            query = query.filter(inbox_items::sentiment_label.eq(label.clone()));
        }
        if let Some(lang) = &filter.lang {
            query = query.filter(inbox_items::lang.eq(lang.clone()));
        }
        if let Some(q) = &filter.listening_query_id {
            query = query.filter(inbox_items::listening_query_id.eq(q.clone()));
        }
        if let Some(post) = &filter.post_id {
            query = query.filter(inbox_items::post_id.eq(post.clone()));
        }
        if let Some(text) = &filter.text {
            let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
            query = query.filter(lower(inbox_items::body).like(pattern).escape('\\'));
        }
        if let Some(from) = filter.received_from {
            query = query.filter(inbox_items::received_at.ge(from));
        }
        if let Some(until) = filter.received_until {
            query = query.filter(inbox_items::received_at.lt(until));
        }
        if let Some(now) = filter.overdue_at {
            query = query
                .filter(inbox_items::first_response_at.is_null())
                .filter(inbox_items::first_response_due_at.lt(now))
                .filter(inbox_items::status.ne_all(["resolved", "spam", "hidden"]));
        }
        query.order(inbox_items::id.desc()).limit(limit).load(conn)
    }

    /// The last `limit` items of a workspace, newest first (rule dry runs).
    pub fn latest(conn: &mut DbConn, workspace_id: &str, limit: i64) -> QueryResult<Vec<Self>> {
        inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(inbox_items::id.desc())
            .limit(limit)
            .load(conn)
    }

    /// Applies `changes` to an item, only at `expected_version` when given;
    /// answers the item as it is now, or `None` when it is gone or moved on.
    pub fn update(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        changes: &InboxItemChanges,
        expected_version: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let target = inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .filter(inbox_items::id.eq(id));
        let updated = match expected_version {
            Some(version) => diesel::update(target.filter(inbox_items::version.eq(version)))
                .set(changes)
                .execute(conn)?,
            None => diesel::update(target).set(changes).execute(conn)?,
        };
        if updated == 0 {
            return Ok(None);
        }
        Self::find(conn, workspace_id, id)
    }

    /// Moves every item of contact `from` to contact `to`.
    pub fn move_contact(conn: &mut DbConn, from: &str, to: &str) -> QueryResult<usize> {
        diesel::update(inbox_items::table.filter(inbox_items::contact_id.eq(from)))
            .set(inbox_items::contact_id.eq(to))
            .execute(conn)
    }

    /// Moves the items a contact's identity wrote (on a platform) to another contact.
    pub fn move_identity(
        conn: &mut DbConn,
        workspace_id: &str,
        platform: &str,
        author_remote_id: &str,
        to: &str,
    ) -> QueryResult<usize> {
        diesel::update(
            inbox_items::table
                .filter(inbox_items::workspace_id.eq(workspace_id))
                .filter(inbox_items::platform.eq(platform))
                .filter(inbox_items::author_remote_id.eq(author_remote_id)),
        )
        .set(inbox_items::contact_id.eq(to))
        .execute(conn)
    }

    /// Negative items received per hour in `[from, until)`, as
    /// (received_at, id) pairs for the spike detector to bucket.
    pub fn negative_since(
        conn: &mut DbConn,
        workspace_id: &str,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<(NaiveDateTime, String)>> {
        inbox_items::table
            .filter(inbox_items::workspace_id.eq(workspace_id))
            .filter(inbox_items::sentiment_label.eq("negative"))
            .filter(inbox_items::received_at.ge(from))
            .filter(inbox_items::received_at.lt(until))
            .select((inbox_items::received_at, inbox_items::id))
            .order(inbox_items::received_at.asc())
            .load(conn)
    }

    /// Workspaces that received items in `[from, until)`.
    pub fn active_workspaces(
        conn: &mut DbConn,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<String>> {
        inbox_items::table
            .filter(inbox_items::received_at.ge(from))
            .filter(inbox_items::received_at.lt(until))
            .select(inbox_items::workspace_id)
            .distinct()
            .load(conn)
    }
}

/// A reply as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbox_replies)]
pub struct InboxReplyRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The item it answers.
    pub item_id: String,
    /// The text sent.
    pub body: String,
    /// The saved reply it was written from.
    pub saved_reply_id: Option<String>,
    /// [`crate::inbox::replies::ReplyStatus`].
    pub status: String,
    /// Passed to the plugin so a retried send cannot answer twice.
    pub idempotency_key: String,
    /// The reply's id on the platform.
    pub remote_id: Option<String>,
    /// Where it is on the platform.
    pub remote_url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Sends tried.
    pub attempts: i32,
    /// The member who wrote it.
    pub created_by: String,
    /// The member who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// When the platform took it.
    pub sent_at: Option<NaiveDateTime>,
}

/// Changes to a reply.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = inbox_replies)]
pub struct InboxReplyChanges {
    /// New status.
    pub status: Option<String>,
    /// Platform id.
    pub remote_id: Option<Option<String>>,
    /// Platform URL.
    pub remote_url: Option<Option<String>>,
    /// Failure.
    pub error: Option<Option<String>>,
    /// Sends tried.
    pub attempts: Option<i32>,
    /// Approver.
    pub approved_by: Option<Option<String>>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
    /// When it went out.
    pub sent_at: Option<Option<NaiveDateTime>>,
}

impl InboxReplyRow {
    /// Stores a new reply.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(inbox_replies::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One reply by id alone (the sending job's view).
    pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        inbox_replies::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// One reply of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        inbox_replies::table
            .filter(inbox_replies::workspace_id.eq(workspace_id))
            .filter(inbox_replies::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// An item's replies, oldest first.
    pub fn for_item(conn: &mut DbConn, item_id: &str) -> QueryResult<Vec<Self>> {
        inbox_replies::table
            .filter(inbox_replies::item_id.eq(item_id))
            .select(Self::as_select())
            .order(inbox_replies::id.asc())
            .load(conn)
    }

    /// Applies changes; answers the reply as it is now.
    pub fn update(
        conn: &mut DbConn,
        id: &str,
        changes: &InboxReplyChanges,
    ) -> QueryResult<Option<Self>> {
        diesel::update(inbox_replies::table.find(id))
            .set(changes)
            .execute(conn)?;
        Self::find_by_id(conn, id)
    }
}

/// The stream name that records when a channel's inbox was last polled.
pub const POLL_MARKER: &str = "_poll";

/// Where one stream of a channel was read up to.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = inbox_cursors)]
#[diesel(treat_none_as_null = true)]
pub struct InboxCursorRow {
    /// The channel.
    pub channel_id: String,
    /// `mentions`, `messages`, `comments:<remote post id>`, `search:<query id>`.
    pub stream: String,
    /// The plugin's cursor.
    pub cursor: Option<String>,
    /// The last read.
    pub polled_at: NaiveDateTime,
    /// What went wrong at the last read.
    pub error: Option<String>,
}

impl InboxCursorRow {
    /// A channel's stream position.
    pub fn find(conn: &mut DbConn, channel_id: &str, stream: &str) -> QueryResult<Option<Self>> {
        inbox_cursors::table
            .filter(inbox_cursors::channel_id.eq(channel_id))
            .filter(inbox_cursors::stream.eq(stream))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every stream of a channel.
    pub fn for_channel(conn: &mut DbConn, channel_id: &str) -> QueryResult<Vec<Self>> {
        inbox_cursors::table
            .filter(inbox_cursors::channel_id.eq(channel_id))
            .select(Self::as_select())
            .order(inbox_cursors::stream.asc())
            .load(conn)
    }

    /// Saves the position.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        let updated = diesel::update(
            inbox_cursors::table
                .filter(inbox_cursors::channel_id.eq(&self.channel_id))
                .filter(inbox_cursors::stream.eq(&self.stream)),
        )
        .set(self)
        .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(inbox_cursors::table)
                .values(self)
                .execute(conn)?;
        }
        Ok(())
    }
}

/// Records a platform webhook's digest; answers `false` when it was
/// already taken (a replay).
pub fn take_webhook_receipt(
    conn: &mut DbConn,
    channel_id: &str,
    digest: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let row = (
        webhook_receipts::channel_id.eq(channel_id),
        webhook_receipts::digest.eq(digest),
        webhook_receipts::received_at.eq(now),
    );
    let inserted = match conn {
        DbConn::Postgres(pg) => diesel::insert_into(webhook_receipts::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(pg)?,
        DbConn::Sqlite(lite) => diesel::insert_into(webhook_receipts::table)
            .values(row)
            .on_conflict_do_nothing()
            .execute(lite)?,
    };
    Ok(inserted == 1)
}

/// Forgets webhook receipts older than `before`.
pub fn prune_webhook_receipts(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(webhook_receipts::table.filter(webhook_receipts::received_at.lt(before)))
        .execute(conn)
}

/// Takes the next turn of a round-robin pool: answers a position that grows
/// by one at every call (the caller takes it modulo the pool's size). One
/// statement bumps and reads it, so replicas never share a turn.
pub fn next_rotation(conn: &mut DbConn, workspace_id: &str, pool: &str) -> QueryResult<i64> {
    let target = assignment_rotations::table
        .filter(assignment_rotations::workspace_id.eq(workspace_id))
        .filter(assignment_rotations::pool.eq(pool));
    let bump = diesel::update(target)
        .set(assignment_rotations::position.eq(assignment_rotations::position + 1_i64))
        .returning(assignment_rotations::position);
    let bumped: Option<i64> = match conn {
        DbConn::Postgres(pg) => bump.get_result(pg).optional()?,
        DbConn::Sqlite(lite) => bump.get_result(lite).optional()?,
    };
    if let Some(position) = bumped {
        return Ok(position - 1);
    }
    diesel::insert_into(assignment_rotations::table)
        .values((
            assignment_rotations::workspace_id.eq(workspace_id),
            assignment_rotations::pool.eq(pool),
            assignment_rotations::position.eq(1_i64),
        ))
        .execute(conn)?;
    Ok(0)
}
