//! The media library: one row per file per workspace; the bytes live in the
//! media store under their SHA-256 and may be shared by several rows.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::Integer;

use super::DbConn;
use super::schema::media;

/// A media file as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace whose library holds it.
    pub workspace_id: String,
    /// SHA-256 of the bytes, lower-case hex: the key in the media store.
    pub sha256: String,
    /// The type sniffed from the bytes.
    pub mime_type: String,
    /// Length of the bytes.
    pub size_bytes: i64,
    /// Width in pixels (images).
    pub width: Option<i32>,
    /// Height in pixels (images).
    pub height: Option<i32>,
    /// The uploader's file name, sanitised; informational only.
    pub original_filename: Option<String>,
    /// A description for people who cannot see the image.
    pub alt_text: Option<String>,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// The account that uploaded it (`None` once that account is gone).
    pub created_by: Option<String>,
    /// When it was uploaded.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

impl MediaRow {
    /// Inserts a new media row.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(media::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A media file by id within a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        media::table
            .filter(media::workspace_id.eq(workspace_id))
            .filter(media::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The workspace's media file with these bytes, if it has one.
    pub fn find_by_sha256(
        conn: &mut DbConn,
        workspace_id: &str,
        sha256: &str,
    ) -> QueryResult<Option<Self>> {
        media::table
            .filter(media::workspace_id.eq(workspace_id))
            .filter(media::sha256.eq(sha256))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The rows of `ids` that belong to the workspace, ordered by id; ids
    /// that do not exist there are simply absent.
    pub fn find_many(
        conn: &mut DbConn,
        workspace_id: &str,
        ids: &[String],
    ) -> QueryResult<Vec<Self>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        media::table
            .filter(media::workspace_id.eq(workspace_id))
            .filter(media::id.eq_any(ids))
            .select(Self::as_select())
            .order(media::id.asc())
            .load(conn)
    }

    /// A page of a workspace's media, ordered by id, optionally only those
    /// whose type starts with `mime_prefix` (which holds no `%` or `_`).
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        mime_prefix: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = media::table
            .filter(media::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(media::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(prefix) = mime_prefix {
            query = query.filter(media::mime_type.like(format!("{prefix}%")));
        }
        if let Some(after) = after {
            query = query.filter(media::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Sets the alt text if the version is still `expected` (when given).
    /// Returns the updated row, or `None` when the version no longer matches.
    pub fn set_alt_text(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        alt_text: Option<&str>,
        expected: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let target = media::table
            .filter(media::workspace_id.eq(workspace_id))
            .filter(media::id.eq(id));
        let changes = (
            media::alt_text.eq(alt_text),
            media::version.eq(media::version + 1),
            media::updated_at.eq(super::now()),
        );
        let updated = match expected {
            Some(version) => diesel::update(target.filter(media::version.eq(version)))
                .set(changes)
                .execute(conn)?,
            None => diesel::update(target).set(changes).execute(conn)?,
        };
        if updated == 0 {
            return Ok(None);
        }
        Self::find(conn, workspace_id, id)
    }

    /// Deletes a media row; 0 if it is not in the workspace.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::delete(
            media::table
                .filter(media::workspace_id.eq(workspace_id))
                .filter(media::id.eq(id)),
        )
        .execute(conn)
    }

    /// How many rows, in any workspace, name these bytes.
    pub fn count_by_sha256(conn: &mut DbConn, sha256: &str) -> QueryResult<i64> {
        media::table
            .filter(media::sha256.eq(sha256))
            .count()
            .get_result(conn)
    }

    /// The distinct digests a workspace's library names.
    pub fn sha256s_of_workspace(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<String>> {
        media::table
            .filter(media::workspace_id.eq(workspace_id))
            .select(media::sha256)
            .distinct()
            .load(conn)
    }
}

/// First half of the advisory lock key: "media" among Plaza's locks.
const CONTENT_LOCK_SPACE: i32 = 0x6d65_6469;

/// Serialises, until the transaction ends, the transactions that add or drop
/// references to the stored file `sha256`, so that a file is never removed
/// while another transaction is adding a row that names it.
///
/// PostgreSQL takes a transaction-level advisory lock; on SQLite every write
/// transaction already runs alone.
pub fn lock_content(conn: &mut DbConn, sha256: &str) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(pg) => {
            let key = sha256.bytes().fold(0u32, |acc, byte| {
                acc.wrapping_mul(31).wrapping_add(u32::from(byte))
            });
            diesel::sql_query("SELECT pg_advisory_xact_lock($1, $2)")
                .bind::<Integer, _>(CONTENT_LOCK_SPACE)
                .bind::<Integer, _>(i32::from_ne_bytes(key.to_ne_bytes()))
                .execute(pg)
                .map(drop)
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}
