//! Stored responses of requests sent with an `Idempotency-Key`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::idempotency_keys;

/// One remembered request and, once it finished, its response.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    /// Who sent it (user or API token id): keys are per caller.
    pub principal: String,
    /// The client's key.
    pub idempotency_key: String,
    /// SHA-256 of method, path and body.
    pub request_hash: String,
    /// `None` while the first request is still running.
    pub status_code: Option<i32>,
    /// The JSON body answered.
    pub response_body: Option<String>,
    /// JSON object of the headers to replay (`Location`, `ETag`).
    pub response_headers: Option<String>,
    /// When the key was first seen.
    pub created_at: NaiveDateTime,
}

impl IdempotencyRow {
    /// Claims a key; fails with a unique violation when it is already taken.
    pub fn claim(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(idempotency_keys::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A remembered request.
    pub fn find(conn: &mut DbConn, principal: &str, key: &str) -> QueryResult<Option<Self>> {
        idempotency_keys::table
            .find((principal, key))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Stores the response of a claimed key.
    pub fn complete(
        conn: &mut DbConn,
        principal: &str,
        key: &str,
        status: i32,
        body: &str,
        headers: &str,
    ) -> QueryResult<usize> {
        diesel::update(idempotency_keys::table.find((principal, key)))
            .set((
                idempotency_keys::status_code.eq(status),
                idempotency_keys::response_body.eq(body),
                idempotency_keys::response_headers.eq(headers),
            ))
            .execute(conn)
    }

    /// Forgets a claimed key whose request failed, so the client may retry.
    pub fn release(conn: &mut DbConn, principal: &str, key: &str) -> QueryResult<usize> {
        diesel::delete(idempotency_keys::table.find((principal, key))).execute(conn)
    }

    /// Forgets keys older than `before` (kept 24 hours).
    pub fn purge_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before)))
            .execute(conn)
    }
}
