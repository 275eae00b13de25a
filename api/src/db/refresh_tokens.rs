//! Refresh tokens: one row per issued token, grouped into families that
//! start at a sign-in; rotating marks the old row used.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::refresh_tokens;

/// A refresh token as stored (by digest).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    /// UUIDv7.
    pub id: String,
    /// Whose token.
    pub user_id: String,
    /// The sign-in this token descends from.
    pub family_id: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// After this it is refused.
    pub expires_at: NaiveDateTime,
    /// When it was exchanged for a successor; using it again is reuse.
    pub used_at: Option<NaiveDateTime>,
    /// When its family was revoked.
    pub revoked_at: Option<NaiveDateTime>,
    /// When it was issued.
    pub created_at: NaiveDateTime,
}

impl RefreshTokenRow {
    /// Inserts a new token.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(refresh_tokens::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A token by digest.
    pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Self>> {
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(hash))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Marks a token used if it is still unused; 0 means it was raced or reused.
    pub fn mark_used(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::id.eq(id))
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(super::now()))
        .execute(conn)
    }

    /// Revokes every token of a family.
    pub fn revoke_family(conn: &mut DbConn, family_id: &str) -> QueryResult<usize> {
        diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::family_id.eq(family_id))
                .filter(refresh_tokens::revoked_at.is_null()),
        )
        .set(refresh_tokens::revoked_at.eq(super::now()))
        .execute(conn)
    }
}
