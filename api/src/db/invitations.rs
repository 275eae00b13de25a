//! Invitations to join a workspace.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::invitations;

/// An invitation as stored. The token itself is never stored, only its digest.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct InvitationRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace to join.
    pub workspace_id: String,
    /// Whom it is for (normalised).
    pub email: String,
    /// The role the invitee will hold.
    pub role: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Who invited.
    pub invited_by: String,
    /// After this it cannot be accepted.
    pub expires_at: NaiveDateTime,
    /// When it was accepted.
    pub accepted_at: Option<NaiveDateTime>,
    /// By which account.
    pub accepted_by: Option<String>,
    /// When it was withdrawn.
    pub revoked_at: Option<NaiveDateTime>,
    /// When it was made.
    pub created_at: NaiveDateTime,
}

impl InvitationRow {
    /// Inserts a new invitation.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(invitations::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// An invitation by id within a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        invitations::table
            .filter(invitations::workspace_id.eq(workspace_id))
            .filter(invitations::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// An invitation by the digest of its token.
    pub fn find_by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        invitations::table
            .filter(invitations::token_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's invitations, ordered by id.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = invitations::table
            .filter(invitations::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(invitations::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(invitations::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Marks an open invitation accepted; returns 0 if someone else got there first.
    pub fn mark_accepted(conn: &mut DbConn, id: &str, user_id: &str) -> QueryResult<usize> {
        diesel::update(
            invitations::table
                .filter(invitations::id.eq(id))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null()),
        )
        .set((
            invitations::accepted_at.eq(super::now()),
            invitations::accepted_by.eq(user_id),
        ))
        .execute(conn)
    }

    /// Withdraws an open invitation; returns 0 if it was not open.
    pub fn revoke(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::update(
            invitations::table
                .filter(invitations::workspace_id.eq(workspace_id))
                .filter(invitations::id.eq(id))
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::revoked_at.is_null()),
        )
        .set(invitations::revoked_at.eq(super::now()))
        .execute(conn)
    }
}
