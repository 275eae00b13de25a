//! Who belongs to which workspace, in which role.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{memberships, users};
use super::users::UserRow;

/// A membership as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    /// The workspace.
    pub workspace_id: String,
    /// The account.
    pub user_id: String,
    /// `owner`, `strategist`, `community_manager`, `moderator` or `analyst`.
    pub role: String,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// When the account joined.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// A membership with the member's account.
pub type MemberWithUser = (MembershipRow, UserRow);

impl MembershipRow {
    /// Inserts a new membership.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(memberships::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One account's membership of one workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, user_id: &str) -> QueryResult<Option<Self>> {
        memberships::table
            .find((workspace_id, user_id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// One member with their account.
    pub fn find_with_user(
        conn: &mut DbConn,
        workspace_id: &str,
        user_id: &str,
    ) -> QueryResult<Option<MemberWithUser>> {
        memberships::table
            .inner_join(users::table)
            .filter(memberships::workspace_id.eq(workspace_id))
            .filter(memberships::user_id.eq(user_id))
            .select((Self::as_select(), UserRow::as_select()))
            .first(conn)
            .optional()
    }

    /// A page of members, ordered by account id.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<MemberWithUser>> {
        let mut query = memberships::table
            .inner_join(users::table)
            .filter(memberships::workspace_id.eq(workspace_id))
            .select((Self::as_select(), UserRow::as_select()))
            .order(memberships::user_id.asc())
            .limit(limit)
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(memberships::user_id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// How many owners a workspace has.
    pub fn count_owners(conn: &mut DbConn, workspace_id: &str) -> QueryResult<i64> {
        memberships::table
            .filter(memberships::workspace_id.eq(workspace_id))
            .filter(memberships::role.eq("owner"))
            .count()
            .get_result(conn)
    }

    /// Changes a member's role if the version is still `expected` (when
    /// given). Returns how many rows changed.
    pub fn set_role(
        conn: &mut DbConn,
        workspace_id: &str,
        user_id: &str,
        role: &str,
        expected: Option<i64>,
    ) -> QueryResult<usize> {
        let target = memberships::table
            .filter(memberships::workspace_id.eq(workspace_id))
            .filter(memberships::user_id.eq(user_id));
        let changes = (
            memberships::role.eq(role),
            memberships::version.eq(memberships::version + 1),
            memberships::updated_at.eq(super::now()),
        );
        match expected {
            Some(version) => diesel::update(target.filter(memberships::version.eq(version)))
                .set(changes)
                .execute(conn),
            None => diesel::update(target).set(changes).execute(conn),
        }
    }

    /// Removes a member.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, user_id: &str) -> QueryResult<usize> {
        diesel::delete(memberships::table.find((workspace_id, user_id))).execute(conn)
    }

    /// The ids of members of a workspace whose (lowercase) email is among `emails`.
    pub fn emails_of(
        conn: &mut DbConn,
        workspace_id: &str,
        emails: &[String],
    ) -> QueryResult<Vec<String>> {
        memberships::table
            .inner_join(users::table)
            .filter(memberships::workspace_id.eq(workspace_id))
            .filter(users::email.eq_any(emails))
            .select(users::id)
            .order(users::id.asc())
            .load(conn)
    }
}
