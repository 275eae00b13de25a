//! Contacts (the community's people) and their identities on each platform.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{contact_identities, contacts};

/// A contact as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub struct ContactRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The name the team knows them by.
    pub display_name: String,
    /// The team's notes.
    pub notes: Option<String>,
    /// JSON array of tags.
    pub tags: String,
    /// JSON array of list names.
    pub lists: String,
    /// Marked as an advocate of the brand.
    pub advocate: bool,
    /// The largest audience among its identities.
    pub followers: Option<i64>,
    /// Reach × positive engagement over time ([`crate::domain::advocacy`]).
    pub advocacy_score: f64,
    /// Inbox items from them.
    pub interactions: i64,
    /// First item.
    pub first_seen_at: NaiveDateTime,
    /// Latest item.
    pub last_seen_at: NaiveDateTime,
    /// Bumped by every change a member makes: the ETag.
    pub version: i64,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Changes to a contact.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = contacts)]
pub struct ContactChanges {
    /// New name.
    pub display_name: Option<String>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New tags.
    pub tags: Option<String>,
    /// New lists.
    pub lists: Option<String>,
    /// Advocate or not.
    pub advocate: Option<bool>,
    /// Audience.
    pub followers: Option<Option<i64>>,
    /// Score.
    pub advocacy_score: Option<f64>,
    /// Items from them.
    pub interactions: Option<i64>,
    /// First item.
    pub first_seen_at: Option<NaiveDateTime>,
    /// Latest item.
    pub last_seen_at: Option<NaiveDateTime>,
    /// New version.
    pub version: Option<i64>,
    /// Time of the change.
    pub updated_at: Option<NaiveDateTime>,
}

/// Sort orders of the contact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactOrder {
    /// Oldest first, by id.
    Created,
    /// Highest advocacy score first.
    Advocacy,
}

impl ContactRow {
    /// Stores a new contact.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(contacts::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// Stores new contacts, a thousand to a statement.
    pub fn insert_many(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        insert_in_chunks!(conn, contacts::table, rows)
    }

    /// Counts new items from contacts (`(contact id, items)`) and moves
    /// their last-seen time: one statement for every contact with the same
    /// count (most write once per batch), and the count is added in the
    /// database, so two batches at once both count.
    pub fn count_interactions(
        conn: &mut DbConn,
        workspace_id: &str,
        counts: &[(String, i64)],
        seen_at: NaiveDateTime,
    ) -> QueryResult<()> {
        let mut by_count: std::collections::BTreeMap<i64, Vec<&str>> = Default::default();
        for (id, count) in counts {
            by_count.entry(*count).or_default().push(id);
        }
        for (count, ids) in by_count {
            for chunk in ids.chunks(1000) {
                diesel::update(
                    contacts::table
                        .filter(contacts::workspace_id.eq(workspace_id))
                        .filter(contacts::id.eq_any(chunk)),
                )
                .set((
                    contacts::interactions.eq(contacts::interactions + count),
                    contacts::last_seen_at.eq(seen_at),
                ))
                .execute(conn)?;
            }
        }
        Ok(())
    }

    /// Raises a contact's audience to `followers` if that is more than it
    /// had (its largest identity's).
    pub fn raise_followers(conn: &mut DbConn, id: &str, followers: i64) -> QueryResult<()> {
        diesel::update(
            contacts::table.find(id).filter(
                contacts::followers
                    .is_null()
                    .or(contacts::followers.lt(followers)),
            ),
        )
        .set(contacts::followers.eq(followers))
        .execute(conn)
        .map(drop)
    }

    /// One contact of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        contacts::table
            .filter(contacts::workspace_id.eq(workspace_id))
            .filter(contacts::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Contacts by id.
    pub fn find_many(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<Self>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(500) {
            found.extend(
                contacts::table
                    .filter(contacts::id.eq_any(chunk))
                    .select(Self::as_select())
                    .load::<Self>(conn)?,
            );
        }
        Ok(found)
    }

    /// A page of contacts. By advocacy the cursor is the offset into the
    /// ranking (scores move); by creation it is the last id.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        order: ContactOrder,
        list: Option<&str>,
        advocates_only: bool,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = contacts::table
            .filter(contacts::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(list) = list {
            query = query.filter(contacts::lists.like(format!("%\"{list}\"%")));
        }
        if advocates_only {
            query = query.filter(contacts::advocate.eq(true));
        }
        match order {
            ContactOrder::Created => {
                if let Some(after) = after {
                    query = query.filter(contacts::id.gt(after.to_owned()));
                }
                query.order(contacts::id.asc()).limit(limit).load(conn)
            }
            ContactOrder::Advocacy => {
                let offset = after.and_then(|a| a.parse::<i64>().ok()).unwrap_or(0);
                query
                    .order((contacts::advocacy_score.desc(), contacts::id.asc()))
                    .offset(offset)
                    .limit(limit)
                    .load(conn)
            }
        }
    }

    /// Applies changes, at `expected_version` when given.
    pub fn update(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        changes: &ContactChanges,
        expected_version: Option<i64>,
    ) -> QueryResult<Option<Self>> {
        let target = contacts::table
            .filter(contacts::workspace_id.eq(workspace_id))
            .filter(contacts::id.eq(id));
        let updated = match expected_version {
            Some(version) => diesel::update(target.filter(contacts::version.eq(version)))
                .set(changes)
                .execute(conn)?,
            None => diesel::update(target).set(changes).execute(conn)?,
        };
        if updated == 0 {
            return Ok(None);
        }
        Self::find(conn, workspace_id, id)
    }

    /// Deletes a contact (its identities go with it).
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            contacts::table
                .filter(contacts::workspace_id.eq(workspace_id))
                .filter(contacts::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n == 1)
    }
}

/// Stores a contact's freshly computed advocacy score (no new version: the
/// score is derived, not edited).
pub fn set_advocacy_score(conn: &mut DbConn, id: &str, score: f64) -> QueryResult<usize> {
    diesel::update(contacts::table.find(id))
        .set(contacts::advocacy_score.eq(score))
        .execute(conn)
}

/// An identity as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = contact_identities, treat_none_as_default_value = false)]
pub struct IdentityRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// Whose identity it is.
    pub contact_id: String,
    /// The plugin id of its platform.
    pub platform: String,
    /// The account's id on the platform.
    pub remote_id: String,
    /// Its handle.
    pub handle: String,
    /// Its display name.
    pub display_name: Option<String>,
    /// Its followers, as last seen.
    pub followers: Option<i64>,
    /// First seen.
    pub first_seen_at: NaiveDateTime,
    /// Last seen.
    pub last_seen_at: NaiveDateTime,
}

impl IdentityRow {
    /// Stores a new identity.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(contact_identities::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// Stores new identities, a thousand to a statement.
    pub fn insert_many(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        insert_in_chunks!(conn, contact_identities::table, rows)
    }

    /// The identities among `remote_ids` a workspace knows on a platform.
    pub fn find_remote(
        conn: &mut DbConn,
        workspace_id: &str,
        platform: &str,
        remote_ids: &[String],
    ) -> QueryResult<Vec<Self>> {
        let mut found = Vec::new();
        for chunk in remote_ids.chunks(500) {
            found.extend(
                contact_identities::table
                    .filter(contact_identities::workspace_id.eq(workspace_id))
                    .filter(contact_identities::platform.eq(platform))
                    .filter(contact_identities::remote_id.eq_any(chunk))
                    .select(Self::as_select())
                    .load::<Self>(conn)?,
            );
        }
        Ok(found)
    }

    /// The identities of contacts.
    pub fn of_contacts(conn: &mut DbConn, contact_ids: &[String]) -> QueryResult<Vec<Self>> {
        let mut found = Vec::new();
        for chunk in contact_ids.chunks(500) {
            found.extend(
                contact_identities::table
                    .filter(contact_identities::contact_id.eq_any(chunk))
                    .select(Self::as_select())
                    .order(contact_identities::id.asc())
                    .load::<Self>(conn)?,
            );
        }
        Ok(found)
    }

    /// One identity of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        contact_identities::table
            .filter(contact_identities::workspace_id.eq(workspace_id))
            .filter(contact_identities::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Records what an item said about the identity now.
    pub fn touch(
        conn: &mut DbConn,
        id: &str,
        handle: &str,
        display_name: Option<&str>,
        followers: Option<i64>,
        seen_at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(contact_identities::table.find(id))
            .set((
                contact_identities::handle.eq(handle),
                contact_identities::display_name.eq(display_name),
                contact_identities::followers.eq(followers),
                contact_identities::last_seen_at.eq(seen_at),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Moves identities to another contact.
    pub fn move_to(conn: &mut DbConn, ids: &[String], contact_id: &str) -> QueryResult<usize> {
        diesel::update(contact_identities::table.filter(contact_identities::id.eq_any(ids)))
            .set(contact_identities::contact_id.eq(contact_id))
            .execute(conn)
    }
}
