//! Objectives: a KPI, a target, a period and a scope per row (see
//! [`crate::domain::metrics::kpi`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::objectives;

/// An objective as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = objectives, treat_none_as_default_value = false)]
pub struct ObjectiveRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// What the team calls it.
    pub name: String,
    /// `metric:<name>` or a derived KPI's name.
    pub kpi: String,
    /// The number aimed at.
    pub target: f64,
    /// `at_least` or `at_most`.
    pub direction: String,
    /// First day (UTC).
    pub starts_on: NaiveDate,
    /// Last day (UTC), included.
    pub ends_on: NaiveDate,
    /// `workspace`, `channel` or `campaign`.
    pub scope: String,
    /// The channel's or campaign's id.
    pub scope_id: Option<String>,
    /// Who set it.
    pub created_by: String,
    /// Bumped by every change (the ETag).
    pub version: i64,
    /// When it was set.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

impl ObjectiveRow {
    /// Stores a new objective.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(objectives::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One objective of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        objectives::table
            .filter(objectives::workspace_id.eq(workspace_id))
            .filter(objectives::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's objectives after `after`, oldest first.
    pub fn page(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = objectives::table
            .filter(objectives::workspace_id.eq(workspace_id))
            .order(objectives::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(objectives::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// How many objectives a workspace has.
    pub fn count(conn: &mut DbConn, workspace_id: &str) -> QueryResult<i64> {
        objectives::table
            .filter(objectives::workspace_id.eq(workspace_id))
            .count()
            .get_result(conn)
    }

    /// Saves a changed objective if it is still at `version`; answers
    /// whether it was.
    pub fn save(&self, conn: &mut DbConn, version: i64) -> QueryResult<bool> {
        diesel::update(
            objectives::table
                .filter(objectives::id.eq(&self.id))
                .filter(objectives::version.eq(version)),
        )
        .set((
            objectives::name.eq(&self.name),
            objectives::kpi.eq(&self.kpi),
            objectives::target.eq(self.target),
            objectives::direction.eq(&self.direction),
            objectives::starts_on.eq(self.starts_on),
            objectives::ends_on.eq(self.ends_on),
            objectives::scope.eq(&self.scope),
            objectives::scope_id.eq(&self.scope_id),
            objectives::version.eq(self.version),
            objectives::updated_at.eq(self.updated_at),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Deletes an objective of a workspace; answers whether there was one.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            objectives::table
                .filter(objectives::workspace_id.eq(workspace_id))
                .filter(objectives::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n == 1)
    }
}
