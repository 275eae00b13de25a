//! Workspaces: one per brand or client.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{memberships, workspaces};
use crate::domain::settings::{ApprovalPolicy, TimeZone};

/// A workspace as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = workspaces)]
pub struct WorkspaceRow {
    /// UUIDv7.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// The account that made it.
    pub created_by: String,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
    /// IANA time zone of its calendar.
    pub time_zone: String,
    /// JSON array of roles whose posts need approval.
    pub approval_roles: String,
    /// Distinct approvals a post needs.
    pub approvals_required: i32,
}

/// Changes to a workspace's settings; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = workspaces)]
pub struct WorkspaceChanges {
    /// New name.
    pub name: Option<String>,
    /// New time zone.
    pub time_zone: Option<String>,
    /// New approval roles (JSON array).
    pub approval_roles: Option<String>,
    /// New approval count.
    pub approvals_required: Option<i32>,
}

/// A workspace together with the caller's role in it.
#[derive(Debug, Clone, Queryable)]
pub struct WorkspaceWithRole {
    /// The workspace.
    pub workspace: WorkspaceRow,
    /// The caller's role there.
    pub role: String,
}

impl WorkspaceRow {
    /// The stored approval policy.
    pub fn approval_policy(&self) -> anyhow::Result<ApprovalPolicy> {
        Ok(ApprovalPolicy {
            roles: serde_json::from_str(&self.approval_roles)?,
            approvals_required: u32::try_from(self.approvals_required)?,
        })
    }

    /// The stored time zone (UTC if it no longer parses).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        TimeZone::parse(&self.time_zone).map_or(chrono_tz::UTC, TimeZone::tz)
    }

    /// Inserts a new workspace.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(workspaces::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A workspace by id.
    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        workspaces::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// The workspaces an account belongs to, by id, after `after`.
    pub fn list_for_user(
        conn: &mut DbConn,
        user_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<WorkspaceWithRole>> {
        let mut query = workspaces::table
            .inner_join(memberships::table)
            .filter(memberships::user_id.eq(user_id))
            .select((Self::as_select(), memberships::role))
            .order(workspaces::id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(workspaces::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// Changes a workspace if its version is still `expected` (when given).
    /// Returns the updated row, or `None` when the version no longer matches.
    pub fn update(
        conn: &mut DbConn,
        id: &str,
        changes: &WorkspaceChanges,
        expected: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let target = workspaces::table.filter(workspaces::id.eq(id));
        let changes = (
            changes,
            workspaces::version.eq(workspaces::version + 1),
            workspaces::updated_at.eq(super::now()),
        );
        let updated = match expected {
            Some(version) => diesel::update(target.filter(workspaces::version.eq(version)))
                .set(changes)
                .execute(conn)?,
            None => diesel::update(target).set(changes).execute(conn)?,
        };
        if updated == 0 {
            return Ok(None);
        }
        Self::find(conn, id)
    }

    /// Takes the workspace's row lock (PostgreSQL) so that membership
    /// changes in one workspace run one at a time; SQLite has one writer anyway.
    pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::update(workspaces::table.find(id))
            .set(workspaces::updated_at.eq(workspaces::updated_at))
            .execute(conn)
    }

    /// Deletes a workspace and, by cascade, everything in it.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(workspaces::table.find(id)).execute(conn)
    }
}

/// A workspace's inbox settings (JSON; `{}` until someone sets them).
pub fn inbox_settings(conn: &mut DbConn, workspace_id: &str) -> QueryResult<String> {
    workspaces::table
        .find(workspace_id)
        .select(workspaces::inbox_settings)
        .first(conn)
}

/// Replaces a workspace's inbox settings.
pub fn set_inbox_settings(conn: &mut DbConn, workspace_id: &str, json: &str) -> QueryResult<usize> {
    diesel::update(workspaces::table.find(workspace_id))
        .set(workspaces::inbox_settings.eq(json))
        .execute(conn)
}
