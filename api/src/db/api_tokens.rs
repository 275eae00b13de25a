//! Workspace-scoped API tokens for servers and scripts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::api_tokens;

/// An API token as stored (by digest).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    /// UUIDv7.
    pub id: String,
    /// The one workspace it works in.
    pub workspace_id: String,
    /// The member who made it; it never does more than they may.
    pub created_by: String,
    /// What it is for.
    pub name: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// JSON array of permission names.
    pub permissions: String,
    /// After this it is refused.
    pub expires_at: Option<NaiveDateTime>,
    /// Last time it authenticated a request (to the minute).
    pub last_used_at: Option<NaiveDateTime>,
    /// When it was revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// When it was made.
    pub created_at: NaiveDateTime,
}

impl ApiTokenRow {
    /// Inserts a new token.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(api_tokens::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A live (unrevoked) token by digest.
    pub fn find_live_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        api_tokens::table
            .filter(api_tokens::token_hash.eq(hash))
            .filter(api_tokens::revoked_at.is_null())
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A token by id within a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        api_tokens::table
            .filter(api_tokens::workspace_id.eq(workspace_id))
            .filter(api_tokens::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's tokens, ordered by id.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = api_tokens::table
            .filter(api_tokens::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(api_tokens::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(api_tokens::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Records use, at most once a minute per token so reads stay reads.
    pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
        let stale = now - chrono::Duration::minutes(1);
        diesel::update(
            api_tokens::table.filter(api_tokens::id.eq(id)).filter(
                api_tokens::last_used_at
                    .is_null()
                    .or(api_tokens::last_used_at.lt(stale)),
            ),
        )
        .set(api_tokens::last_used_at.eq(now))
        .execute(conn)
    }

    /// Revokes a token; 0 if it was already revoked or is not in the workspace.
    pub fn revoke(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::update(
            api_tokens::table
                .filter(api_tokens::workspace_id.eq(workspace_id))
                .filter(api_tokens::id.eq(id))
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(super::now()))
        .execute(conn)
    }
}
