//! Inbox rules with every version kept, saved replies, listening queries,
//! the moderation log and crisis alerts: what the inbox's people and its
//! rules work with.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    inbox_alerts, inbox_rule_versions, inbox_rules, listening_queries, moderation_log,
    saved_replies,
};

/// A rule as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbox_rules)]
pub struct RuleRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// What the team calls it.
    pub name: String,
    /// Evaluation order, from 0.
    pub position: i32,
    /// Whether it runs.
    pub enabled: bool,
    /// Starts at 1; every change adds one and keeps the old version.
    pub version: i32,
    /// JSON of [`crate::domain::rules::RuleDefinition`].
    pub definition: String,
    /// The member who made it.
    pub created_by: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// One kept version of a rule.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbox_rule_versions)]
pub struct RuleVersionRow {
    /// The rule.
    pub rule_id: String,
    /// Its version.
    pub version: i32,
    /// Its name then.
    pub name: String,
    /// Whether it ran then.
    pub enabled: bool,
    /// Its definition then.
    pub definition: String,
    /// Who made this version.
    pub changed_by: String,
    /// When.
    pub changed_at: NaiveDateTime,
}

impl RuleRow {
    /// Stores a rule and its first version.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(inbox_rules::table)
            .values(self)
            .execute(conn)?;
        self.keep_version(conn, &self.created_by, self.created_at)
    }

    /// Keeps the rule as it is now in its history.
    pub fn keep_version(
        &self,
        conn: &mut DbConn,
        changed_by: &str,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::insert_into(inbox_rule_versions::table)
            .values(RuleVersionRow {
                rule_id: self.id.clone(),
                version: self.version,
                name: self.name.clone(),
                enabled: self.enabled,
                definition: self.definition.clone(),
                changed_by: changed_by.to_owned(),
                changed_at: at,
            })
            .execute(conn)
            .map(drop)
    }

    /// Replaces a rule by its next version (the caller bumped `version`).
    pub fn save(&self, conn: &mut DbConn, changed_by: &str) -> QueryResult<()> {
        diesel::update(inbox_rules::table.find(&self.id))
            .set((
                inbox_rules::name.eq(&self.name),
                inbox_rules::position.eq(self.position),
                inbox_rules::enabled.eq(self.enabled),
                inbox_rules::version.eq(self.version),
                inbox_rules::definition.eq(&self.definition),
                inbox_rules::updated_at.eq(self.updated_at),
            ))
            .execute(conn)?;
        self.keep_version(conn, changed_by, self.updated_at)
    }

    /// One rule of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        inbox_rules::table
            .filter(inbox_rules::workspace_id.eq(workspace_id))
            .filter(inbox_rules::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every rule of a workspace in evaluation order.
    pub fn all(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<Self>> {
        inbox_rules::table
            .filter(inbox_rules::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order((inbox_rules::position.asc(), inbox_rules::id.asc()))
            .load(conn)
    }

    /// A stamp that changes whenever any rule of the workspace does (added,
    /// removed, edited, moved, turned on or off): a hash of every rule's id,
    /// version, place and switch, with their number.
    pub fn stamp(conn: &mut DbConn, workspace_id: &str) -> QueryResult<(i64, i64)> {
        use std::hash::{Hash, Hasher};
        let rules: Vec<(String, i32, i32, bool)> = inbox_rules::table
            .filter(inbox_rules::workspace_id.eq(workspace_id))
            .select((
                inbox_rules::id,
                inbox_rules::version,
                inbox_rules::position,
                inbox_rules::enabled,
            ))
            .order(inbox_rules::id.asc())
            .load(conn)?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        rules.hash(&mut hasher);
        let count = i64::try_from(rules.len()).unwrap_or(i64::MAX);
        Ok((count, i64::from_ne_bytes(hasher.finish().to_ne_bytes())))
    }

    /// Deletes a rule and its history.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            inbox_rules::table
                .filter(inbox_rules::workspace_id.eq(workspace_id))
                .filter(inbox_rules::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n == 1)
    }
}

/// Moves a rule in the evaluation order (no new version: order is not part
/// of what a rule does).
pub fn set_rule_position(conn: &mut DbConn, id: &str, position: i32) -> QueryResult<usize> {
    diesel::update(inbox_rules::table.find(id))
        .set(inbox_rules::position.eq(position))
        .execute(conn)
}

impl RuleVersionRow {
    /// A rule's versions, newest first.
    pub fn of_rule(conn: &mut DbConn, rule_id: &str) -> QueryResult<Vec<Self>> {
        inbox_rule_versions::table
            .filter(inbox_rule_versions::rule_id.eq(rule_id))
            .select(Self::as_select())
            .order(inbox_rule_versions::version.desc())
            .load(conn)
    }
}

/// A saved reply as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = saved_replies)]
pub struct SavedReplyRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// What the team calls it.
    pub name: String,
    /// The text, with `{{variables}}`.
    pub body: String,
    /// ETag.
    pub version: i64,
    /// Who wrote it.
    pub created_by: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

impl SavedReplyRow {
    /// Stores it.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(saved_replies::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        saved_replies::table
            .filter(saved_replies::workspace_id.eq(workspace_id))
            .filter(saved_replies::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page, oldest first.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = saved_replies::table
            .filter(saved_replies::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(saved_replies::id.gt(after.to_owned()));
        }
        query.order(saved_replies::id.asc()).limit(limit).load(conn)
    }

    /// Replaces name and body, at `expected_version` when given.
    pub fn save(&self, conn: &mut DbConn, expected_version: Option<i64>) -> QueryResult<bool> {
        let target = saved_replies::table
            .filter(saved_replies::workspace_id.eq(&self.workspace_id))
            .filter(saved_replies::id.eq(&self.id));
        let changes = (
            saved_replies::name.eq(&self.name),
            saved_replies::body.eq(&self.body),
            saved_replies::version.eq(self.version),
            saved_replies::updated_at.eq(self.updated_at),
        );
        let updated = match expected_version {
            Some(v) => diesel::update(target.filter(saved_replies::version.eq(v)))
                .set(changes)
                .execute(conn)?,
            None => diesel::update(target).set(changes).execute(conn)?,
        };
        Ok(updated == 1)
    }

    /// Deletes it.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            saved_replies::table
                .filter(saved_replies::workspace_id.eq(workspace_id))
                .filter(saved_replies::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n == 1)
    }
}

/// A listening query as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = listening_queries)]
pub struct ListeningQueryRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The channel whose plugin searches.
    pub channel_id: String,
    /// What the team calls it.
    pub name: String,
    /// The search, in the platform's syntax.
    pub query: String,
    /// `brand`, `competitor` or `topic`.
    pub subject: String,
    /// Whether it runs.
    pub enabled: bool,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

impl ListeningQueryRow {
    /// Stores it.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(listening_queries::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// One of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        listening_queries::table
            .filter(listening_queries::workspace_id.eq(workspace_id))
            .filter(listening_queries::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Every query of a workspace, oldest first.
    pub fn all(conn: &mut DbConn, workspace_id: &str) -> QueryResult<Vec<Self>> {
        listening_queries::table
            .filter(listening_queries::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .order(listening_queries::id.asc())
            .load(conn)
    }

    /// The enabled queries a channel runs.
    pub fn enabled_for_channel(conn: &mut DbConn, channel_id: &str) -> QueryResult<Vec<Self>> {
        listening_queries::table
            .filter(listening_queries::channel_id.eq(channel_id))
            .filter(listening_queries::enabled.eq(true))
            .select(Self::as_select())
            .order(listening_queries::id.asc())
            .load(conn)
    }

    /// Saves name, query, subject and enabled.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::update(listening_queries::table.find(&self.id))
            .set((
                listening_queries::name.eq(&self.name),
                listening_queries::query.eq(&self.query),
                listening_queries::subject.eq(&self.subject),
                listening_queries::enabled.eq(self.enabled),
                listening_queries::updated_at.eq(self.updated_at),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Deletes it.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<bool> {
        diesel::delete(
            listening_queries::table
                .filter(listening_queries::workspace_id.eq(workspace_id))
                .filter(listening_queries::id.eq(id)),
        )
        .execute(conn)
        .map(|n| n == 1)
    }
}

/// One entry of the moderation log.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = moderation_log, treat_none_as_default_value = false)]
pub struct ModerationLogRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The item acted on.
    pub item_id: Option<String>,
    /// The contact acted on.
    pub contact_id: Option<String>,
    /// `member`, `rule` or `system`.
    pub actor_kind: String,
    /// The member's or the rule's id.
    pub actor_id: Option<String>,
    /// The rule's version, for a rule.
    pub rule_version: Option<i32>,
    /// What was done (`status.set`, `reply.sent`, `platform.hide`, ...).
    pub action: String,
    /// JSON details.
    pub detail: String,
    /// Why, in the actor's words.
    pub reason: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
}

/// What the log is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// About this item.
    pub item_id: Option<String>,
    /// About this contact.
    pub contact_id: Option<String>,
    /// By this member or rule.
    pub actor_id: Option<String>,
    /// This action.
    pub action: Option<String>,
}

impl ModerationLogRow {
    /// Appends entries.
    pub fn append(conn: &mut DbConn, rows: &[Self]) -> QueryResult<()> {
        insert_in_chunks!(conn, moderation_log::table, rows)
    }

    /// A page of the log, newest first, before `before`.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &LogFilter,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = moderation_log::table
            .filter(moderation_log::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(moderation_log::id.lt(before.to_owned()));
        }
        if let Some(item) = &filter.item_id {
            query = query.filter(moderation_log::item_id.eq(item.clone()));
        }
        if let Some(contact) = &filter.contact_id {
            query = query.filter(moderation_log::contact_id.eq(contact.clone()));
        }
        if let Some(actor) = &filter.actor_id {
            query = query.filter(moderation_log::actor_id.eq(actor.clone()));
        }
        if let Some(action) = &filter.action {
            query = query.filter(moderation_log::action.eq(action.clone()));
        }
        query
            .order(moderation_log::id.desc())
            .limit(limit)
            .load(conn)
    }
}

/// A crisis alert as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = inbox_alerts)]
pub struct AlertRow {
    /// UUIDv7.
    pub id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The hour that spiked (UTC, on the hour).
    pub hour_start: NaiveDateTime,
    /// Negative items in that hour.
    pub observed: i64,
    /// What the baseline expected.
    pub expected: f64,
    /// How many deviations above it.
    pub z_score: f64,
    /// JSON array of the items that drove it.
    pub item_ids: String,
    /// When it was raised.
    pub created_at: NaiveDateTime,
    /// When someone took note of it.
    pub acknowledged_at: Option<NaiveDateTime>,
    /// Who.
    pub acknowledged_by: Option<String>,
}

impl AlertRow {
    /// Stores an alert unless one exists for its hour; answers whether it was new.
    pub fn insert_new(&self, conn: &mut DbConn) -> QueryResult<bool> {
        let inserted = match conn {
            DbConn::Postgres(pg) => diesel::insert_into(inbox_alerts::table)
                .values(self)
                .on_conflict_do_nothing()
                .execute(pg)?,
            DbConn::Sqlite(lite) => diesel::insert_into(inbox_alerts::table)
                .values(self)
                .on_conflict_do_nothing()
                .execute(lite)?,
        };
        Ok(inserted == 1)
    }

    /// A page of a workspace's alerts, newest first.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = inbox_alerts::table
            .filter(inbox_alerts::workspace_id.eq(workspace_id))
            .select(Self::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(inbox_alerts::id.lt(before.to_owned()));
        }
        query.order(inbox_alerts::id.desc()).limit(limit).load(conn)
    }

    /// Marks an alert as seen.
    pub fn acknowledge(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        by: &str,
        at: NaiveDateTime,
    ) -> QueryResult<Option<Self>> {
        diesel::update(
            inbox_alerts::table
                .filter(inbox_alerts::workspace_id.eq(workspace_id))
                .filter(inbox_alerts::id.eq(id)),
        )
        .set((
            inbox_alerts::acknowledged_at.eq(at),
            inbox_alerts::acknowledged_by.eq(by),
        ))
        .execute(conn)?;
        inbox_alerts::table
            .filter(inbox_alerts::workspace_id.eq(workspace_id))
            .filter(inbox_alerts::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }
}
