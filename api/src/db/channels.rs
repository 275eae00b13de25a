//! Channels: connected platform accounts, and OAuth2 authorizations in progress.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{channel_authorizations, channels, inbox_cursors};

/// A channel as stored. `credentials` is sealed (see `auth::sealing`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = channels)]
pub struct ChannelRow {
    /// UUIDv7.
    pub id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// The plugin that serves it.
    pub plugin_id: String,
    /// Name people gave it.
    pub name: String,
    /// Configuration (JSON), valid against the plugin's config schema.
    pub config: String,
    /// `connected`, `needs_reconnect` or `paused`.
    pub status: String,
    /// Why it needs reconnecting, when it does.
    pub status_reason: Option<String>,
    /// The account's id on the platform.
    pub account_id: String,
    /// The account's handle.
    pub account_handle: String,
    /// The account's display name.
    pub account_name: Option<String>,
    /// Followers when last checked.
    pub account_followers: Option<i64>,
    /// Sealed JSON object of credentials.
    pub credentials: Option<String>,
    /// The key `credentials` is sealed under.
    pub credentials_key_id: Option<String>,
    /// When the OAuth2 access token expires.
    pub token_expires_at: Option<NaiveDateTime>,
    /// JSON array of weekly posting slots.
    pub posting_slots: String,
    /// Last credentials check.
    pub checked_at: Option<NaiveDateTime>,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// Who connected it.
    pub created_by: String,
    /// When it was connected.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Changes to a channel; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = channels)]
pub struct ChannelChanges {
    /// New name.
    pub name: Option<String>,
    /// New configuration.
    pub config: Option<String>,
    /// New status.
    pub status: Option<String>,
    /// New reason (`Some(None)` clears it).
    pub status_reason: Option<Option<String>>,
    /// Account facts from a credentials check.
    pub account_id: Option<String>,
    /// Account handle.
    pub account_handle: Option<String>,
    /// Account display name.
    pub account_name: Option<Option<String>>,
    /// Follower count.
    pub account_followers: Option<Option<i64>>,
    /// New sealed credentials.
    pub credentials: Option<Option<String>>,
    /// Key of the new credentials.
    pub credentials_key_id: Option<Option<String>>,
    /// New token expiry.
    pub token_expires_at: Option<Option<NaiveDateTime>>,
    /// New posting slots.
    pub posting_slots: Option<String>,
    /// When credentials were last checked.
    pub checked_at: Option<Option<NaiveDateTime>>,
}

impl ChannelRow {
    /// Inserts a new channel.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(channels::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A channel in a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        channels::table
            .filter(channels::workspace_id.eq(workspace_id))
            .filter(channels::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Several channels of a workspace by id (those that exist).
    pub fn find_many(
        conn: &mut DbConn,
        workspace_id: &str,
        ids: &[String],
    ) -> QueryResult<Vec<Self>> {
        channels::table
            .filter(channels::workspace_id.eq(workspace_id))
            .filter(channels::id.eq_any(ids))
            .select(Self::as_select())
            .load(conn)
    }

    /// A page of a workspace's channels by id, optionally of one plugin or status.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        plugin_id: Option<&str>,
        status: Option<&str>,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = channels::table
            .filter(channels::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(channels::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(plugin_id) = plugin_id {
            query = query.filter(channels::plugin_id.eq(plugin_id.to_owned()));
        }
        if let Some(status) = status {
            query = query.filter(channels::status.eq(status.to_owned()));
        }
        if let Some(after) = after {
            query = query.filter(channels::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Channels whose OAuth2 token expires before `before` and that are not
    /// paused, soonest first.
    pub fn expiring(
        conn: &mut DbConn,
        before: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        channels::table
            .filter(channels::token_expires_at.le(before))
            .filter(channels::credentials.is_not_null())
            .filter(channels::status.ne("paused"))
            .order(channels::token_expires_at.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Connected channels whose inbox was last polled before `before` (or
    /// never), as (id, workspace id).
    pub fn due_for_inbox_poll(
        conn: &mut DbConn,
        before: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<(String, String)>> {
        let polled_since = inbox_cursors::table
            .filter(inbox_cursors::channel_id.eq(channels::id))
            .filter(inbox_cursors::stream.eq(super::inbox::POLL_MARKER))
            .filter(inbox_cursors::polled_at.ge(before));
        channels::table
            .filter(channels::status.eq("connected"))
            .filter(diesel::dsl::not(diesel::dsl::exists(polled_since)))
            .order(channels::id.asc())
            .limit(limit)
            .select((channels::id, channels::workspace_id))
            .load(conn)
    }

    /// A channel by id in whatever workspace (background work).
    pub fn find_any(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        channels::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every channel with credentials (for key rotation), a page at a time.
    pub fn with_credentials(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<Self>> {
        channels::table
            .filter(channels::credentials.is_not_null())
            .filter(channels::id.gt(after.to_owned()))
            .order(channels::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }

    /// Applies changes if the version is still `expected` (when given) and
    /// returns the new row; `None` when the version moved on or it is gone.
    pub fn update(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        changes: &ChannelChanges,
        expected: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let target = channels::table
            .filter(channels::workspace_id.eq(workspace_id))
            .filter(channels::id.eq(id));
        let bump = (
            channels::version.eq(channels::version + 1),
            channels::updated_at.eq(super::now()),
        );
        let updated = match expected {
            Some(version) => diesel::update(target.filter(channels::version.eq(version)))
                .set((changes, bump))
                .execute(conn)?,
            None => diesel::update(target).set((changes, bump)).execute(conn)?,
        };
        if updated == 0 {
            return Ok(None);
        }
        Self::find(conn, workspace_id, id)
    }

    /// Deletes a channel.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        diesel::delete(
            channels::table
                .filter(channels::workspace_id.eq(workspace_id))
                .filter(channels::id.eq(id)),
        )
        .execute(conn)
    }
}

/// An OAuth2 authorization between `start` and the callback.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = channel_authorizations)]
pub struct ChannelAuthorizationRow {
    /// SHA-256 of the `state` sent to the platform.
    pub state_hash: String,
    /// The workspace that started it.
    pub workspace_id: String,
    /// The id the channel will get.
    pub channel_id: String,
    /// The plugin.
    pub plugin_id: String,
    /// The channel's name.
    pub name: String,
    /// The channel's configuration (JSON).
    pub config: String,
    /// Where the platform sends the person back.
    pub redirect_uri: String,
    /// The sealed PKCE verifier.
    pub pkce_verifier: String,
    /// Who started it.
    pub created_by: String,
    /// After this the callback is refused.
    pub expires_at: NaiveDateTime,
    /// When it started.
    pub created_at: NaiveDateTime,
}

impl ChannelAuthorizationRow {
    /// Records a new authorization.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(channel_authorizations::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// Takes (reads and deletes) an authorization of a workspace: a state works once.
    pub fn take(
        conn: &mut DbConn,
        workspace_id: &str,
        state_hash: &str,
    ) -> QueryResult<Option<Self>> {
        let target = channel_authorizations::table
            .filter(channel_authorizations::workspace_id.eq(workspace_id))
            .filter(channel_authorizations::state_hash.eq(state_hash));
        let row = target.select(Self::as_select()).first(conn).optional()?;
        if row.is_some() {
            diesel::delete(target).execute(conn)?;
        }
        Ok(row)
    }

    /// Forgets authorizations that expired before `now`.
    pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
        diesel::delete(
            channel_authorizations::table.filter(channel_authorizations::expires_at.lt(now)),
        )
        .execute(conn)
    }

    /// Every authorization (for key rotation).
    pub fn all(conn: &mut DbConn) -> QueryResult<Vec<Self>> {
        channel_authorizations::table
            .select(Self::as_select())
            .load(conn)
    }

    /// Replaces the sealed verifier (key rotation).
    pub fn reseal(conn: &mut DbConn, state_hash: &str, sealed: &str) -> QueryResult<usize> {
        diesel::update(channel_authorizations::table.find(state_hash))
            .set(channel_authorizations::pkce_verifier.eq(sealed))
            .execute(conn)
    }
}
