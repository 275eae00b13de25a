//! Posts, their per-channel variants, workflow history, approvals and revisions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::metrics::groups::{self, Membership};
use super::schema::{post_approvals, post_revisions, post_transitions, post_variants, posts};

/// A post as stored. Lists (`tags`, `media_ids`) are JSON arrays.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = posts)]
pub struct PostRow {
    /// UUIDv7.
    pub id: String,
    /// Its workspace.
    pub workspace_id: String,
    /// Who wrote it.
    pub author_id: String,
    /// The message.
    pub body: String,
    /// JSON array of tags.
    pub tags: String,
    /// JSON array of media ids.
    pub media_ids: String,
    /// The campaign it belongs to.
    pub campaign_id: Option<String>,
    /// The event it promotes.
    pub event_id: Option<String>,
    /// JSON object of UTM parameters for every channel.
    pub utm: Option<String>,
    /// Workflow status.
    pub status: String,
    /// When it goes out.
    pub scheduled_at: Option<NaiveDateTime>,
    /// When it went out.
    pub published_at: Option<NaiveDateTime>,
    /// Bumped on each submission; approvals count per round.
    pub review_round: i32,
    /// Approvals this round needs.
    pub approvals_required: i32,
    /// Bumped on every change; the `ETag`.
    pub version: i64,
    /// When it was made.
    pub created_at: NaiveDateTime,
    /// Last change.
    pub updated_at: NaiveDateTime,
}

/// Changes to a post's row; `None` leaves a column as it is.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = posts)]
pub struct PostChanges {
    /// New body.
    pub body: Option<String>,
    /// New tags.
    pub tags: Option<String>,
    /// New media.
    pub media_ids: Option<String>,
    /// New campaign.
    pub campaign_id: Option<Option<String>>,
    /// New event.
    pub event_id: Option<Option<String>>,
    /// New UTM parameters.
    pub utm: Option<Option<String>>,
    /// New status.
    pub status: Option<String>,
    /// New time.
    pub scheduled_at: Option<Option<NaiveDateTime>>,
    /// When it went out.
    pub published_at: Option<Option<NaiveDateTime>>,
    /// New review round.
    pub review_round: Option<i32>,
    /// Approvals needed.
    pub approvals_required: Option<i32>,
}

/// Which posts a list or calendar wants.
#[derive(Debug, Default, Clone)]
pub struct PostFilter {
    /// Only in this status.
    pub status: Option<String>,
    /// Only of this campaign.
    pub campaign_id: Option<String>,
    /// Only of this event.
    pub event_id: Option<String>,
    /// Only with a variant for this channel.
    pub channel_id: Option<String>,
    /// Only with this tag.
    pub tag: Option<String>,
}

type PostQuery<'a> = posts::BoxedQuery<'a, <DbConn as Connection>::Backend>;

impl PostFilter {
    /// Narrows a query of a workspace's posts to those the filter wants.
    fn apply<'a>(&self, mut query: PostQuery<'a>) -> PostQuery<'a> {
        if let Some(status) = &self.status {
            query = query.filter(posts::status.eq(status.clone()));
        }
        if let Some(campaign) = &self.campaign_id {
            query = query.filter(posts::campaign_id.eq(campaign.clone()));
        }
        if let Some(event) = &self.event_id {
            query = query.filter(posts::event_id.eq(event.clone()));
        }
        if let Some(channel) = &self.channel_id {
            query = query.filter(
                posts::id.eq_any(
                    post_variants::table
                        .filter(post_variants::channel_id.eq(channel.clone()))
                        .select(post_variants::post_id),
                ),
            );
        }
        if let Some(tag) = &self.tag {
            query = query.filter(posts::tags.like(tag_pattern(tag)));
        }
        query
    }
}

impl PostRow {
    /// Inserts a new post.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(posts::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A post of a workspace.
    pub fn find(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<Option<Self>> {
        posts::table
            .filter(posts::workspace_id.eq(workspace_id))
            .filter(posts::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A post by id in whatever workspace (the publisher, which has no caller).
    pub fn find_any(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        posts::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// A page of a workspace's posts by id.
    pub fn list(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &PostFilter,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = filter.apply(
            posts::table
                .filter(posts::workspace_id.eq(workspace_id.to_owned()))
                .into_boxed(),
        );
        if let Some(after) = after {
            query = query.filter(posts::id.gt(after.to_owned()));
        }
        query
            .select(Self::as_select())
            .order(posts::id.asc())
            .limit(limit)
            .load(conn)
    }

    /// Posts scheduled or published between `from` and `to`, by time.
    pub fn in_range(
        conn: &mut DbConn,
        workspace_id: &str,
        filter: &PostFilter,
        from: NaiveDateTime,
        to: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let scheduled = posts::scheduled_at.ge(from).and(posts::scheduled_at.lt(to));
        let published = posts::published_at.ge(from).and(posts::published_at.lt(to));
        filter
            .apply(
                posts::table
                    .filter(posts::workspace_id.eq(workspace_id.to_owned()))
                    .filter(scheduled.or(published))
                    .into_boxed(),
            )
            .select(Self::as_select())
            .order((posts::scheduled_at.asc(), posts::id.asc()))
            .limit(limit)
            .load(conn)
    }

    /// Scheduled posts with a variant for `channel_id` from `from` on, by time.
    pub fn queue(
        conn: &mut DbConn,
        workspace_id: &str,
        channel_id: &str,
        from: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        posts::table
            .filter(posts::workspace_id.eq(workspace_id))
            .filter(posts::status.eq("scheduled"))
            .filter(posts::scheduled_at.ge(from))
            .filter(
                posts::id.eq_any(
                    post_variants::table
                        .filter(post_variants::channel_id.eq(channel_id))
                        .select(post_variants::post_id),
                ),
            )
            .select(Self::as_select())
            .order((posts::scheduled_at.asc(), posts::id.asc()))
            .limit(limit)
            .load(conn)
    }

    /// Posts scheduled or publishing that target a channel.
    pub fn count_targeting(
        conn: &mut DbConn,
        workspace_id: &str,
        channel_id: &str,
    ) -> QueryResult<i64> {
        posts::table
            .filter(posts::workspace_id.eq(workspace_id))
            .filter(posts::status.eq_any(["scheduled", "publishing"]))
            .filter(
                posts::id.eq_any(
                    post_variants::table
                        .filter(post_variants::channel_id.eq(channel_id))
                        .select(post_variants::post_id),
                ),
            )
            .count()
            .get_result(conn)
    }

    /// Applies changes if the version is still `expected`; answers the new
    /// row, or `None` when it moved on.
    pub fn update(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
        changes: &PostChanges,
        expected: i64,
    ) -> QueryResult<Option<Self>> {
        // Metric roll-ups per campaign and tag follow the post.
        let regroups = changes.tags.is_some() || changes.campaign_id.is_some();
        let before = if regroups {
            Self::membership(conn, workspace_id, id)?
        } else {
            None
        };
        let updated = diesel::update(
            posts::table
                .filter(posts::workspace_id.eq(workspace_id))
                .filter(posts::id.eq(id))
                .filter(posts::version.eq(expected)),
        )
        .set((
            changes,
            posts::version.eq(posts::version + 1),
            posts::updated_at.eq(super::now()),
        ))
        .execute(conn)?;
        if updated == 0 {
            return Ok(None);
        }
        let row = Self::find(conn, workspace_id, id)?;
        if let (Some(before), Some(row)) = (before, &row) {
            let after = Membership::of_post(row.campaign_id.clone(), &row.tags);
            groups::move_post(conn, workspace_id, id, &before, &after)?;
        }
        Ok(row)
    }

    /// The campaign and tags a post's metrics are grouped under.
    fn membership(
        conn: &mut DbConn,
        workspace_id: &str,
        id: &str,
    ) -> QueryResult<Option<Membership>> {
        Ok(groups::memberships(conn, workspace_id, &[id])?.remove(id))
    }

    /// Removes a post and, by cascade, its variants and history. Its
    /// metrics stay, with no campaign and no tags from now on.
    pub fn delete(conn: &mut DbConn, workspace_id: &str, id: &str) -> QueryResult<usize> {
        if let Some(before) = Self::membership(conn, workspace_id, id)? {
            groups::move_post(conn, workspace_id, id, &before, &Membership::default())?;
        }
        diesel::delete(
            posts::table
                .filter(posts::workspace_id.eq(workspace_id))
                .filter(posts::id.eq(id)),
        )
        .execute(conn)
    }
}

/// `%"tag"%` with LIKE's wildcards escaped, to find a tag in a JSON array.
fn tag_pattern(tag: &str) -> String {
    let quoted = serde_json::to_string(tag).unwrap_or_default();
    format!("%{quoted}%")
}

/// A post's variant for one channel, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_variants)]
pub struct PostVariantRow {
    /// The post.
    pub post_id: String,
    /// The channel.
    pub channel_id: String,
    /// The workspace (for scoping).
    pub workspace_id: String,
    /// Order within the post.
    pub position: i32,
    /// Text override; `None` uses the post's body.
    pub text: Option<String>,
    /// Media override (JSON array); `None` uses the post's media.
    pub media_ids: Option<String>,
    /// Platform options (JSON object).
    pub options: String,
    /// Thread parts and first comment (JSON array).
    pub follow_ups: String,
    /// UTM overrides for this channel (JSON object).
    pub utm: Option<String>,
}

impl PostVariantRow {
    /// The variants of some posts, in post and position order.
    pub fn for_posts(conn: &mut DbConn, post_ids: &[String]) -> QueryResult<Vec<Self>> {
        post_variants::table
            .filter(post_variants::post_id.eq_any(post_ids))
            .order((post_variants::post_id.asc(), post_variants::position.asc()))
            .select(Self::as_select())
            .load(conn)
    }

    /// Removes a channel from every post that targets it.
    pub fn remove_channel(conn: &mut DbConn, channel_id: &str) -> QueryResult<usize> {
        diesel::delete(post_variants::table.filter(post_variants::channel_id.eq(channel_id)))
            .execute(conn)
    }

    /// Replaces a post's variants.
    pub fn replace(conn: &mut DbConn, post_id: &str, rows: &[Self]) -> QueryResult<()> {
        diesel::delete(post_variants::table.filter(post_variants::post_id.eq(post_id)))
            .execute(conn)?;
        // One statement per row: the two-backend connection has no batch insert.
        for row in rows {
            diesel::insert_into(post_variants::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(())
    }
}

/// One step of a post's workflow.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_transitions)]
pub struct PostTransitionRow {
    /// UUIDv7.
    pub id: String,
    /// The post.
    pub post_id: String,
    /// The workspace.
    pub workspace_id: String,
    /// What was done (`submit`, `approve`...).
    pub action: String,
    /// Status before.
    pub from_status: String,
    /// Status after.
    pub to_status: String,
    /// Who did it; `None` for the system.
    pub actor_id: Option<String>,
    /// Why, when given.
    pub reason: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
}

impl PostTransitionRow {
    /// Records a step.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(post_transitions::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A page of a post's history, oldest first.
    pub fn list(
        conn: &mut DbConn,
        post_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = post_transitions::table
            .filter(post_transitions::post_id.eq(post_id.to_owned()))
            .order(post_transitions::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(post_transitions::id.gt(after.to_owned()));
        }
        query.load(conn)
    }
}

/// Records an approval; answers the distinct approvals of the round
/// (an approval given twice counts once).
pub fn approve(conn: &mut DbConn, post_id: &str, round: i32, user_id: &str) -> QueryResult<i64> {
    let already = post_approvals::table
        .filter(post_approvals::post_id.eq(post_id))
        .filter(post_approvals::review_round.eq(round))
        .filter(post_approvals::user_id.eq(user_id))
        .count()
        .get_result::<i64>(conn)?;
    if already == 0 {
        diesel::insert_into(post_approvals::table)
            .values((
                post_approvals::post_id.eq(post_id),
                post_approvals::review_round.eq(round),
                post_approvals::user_id.eq(user_id),
                post_approvals::created_at.eq(super::now()),
            ))
            .execute(conn)?;
    }
    post_approvals::table
        .filter(post_approvals::post_id.eq(post_id))
        .filter(post_approvals::review_round.eq(round))
        .count()
        .get_result(conn)
}

/// Who approved a post in a round.
pub fn approvers(conn: &mut DbConn, post_id: &str, round: i32) -> QueryResult<Vec<String>> {
    post_approvals::table
        .filter(post_approvals::post_id.eq(post_id))
        .filter(post_approvals::review_round.eq(round))
        .order(post_approvals::created_at.asc())
        .select(post_approvals::user_id)
        .load(conn)
}

/// Who approved each of some posts in its current round, in one query.
pub fn approvers_of(
    conn: &mut DbConn,
    posts: &[PostRow],
) -> QueryResult<std::collections::HashMap<String, Vec<String>>> {
    let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    let rows: Vec<(String, i32, String)> = post_approvals::table
        .filter(post_approvals::post_id.eq_any(ids))
        .order(post_approvals::created_at.asc())
        .select((
            post_approvals::post_id,
            post_approvals::review_round,
            post_approvals::user_id,
        ))
        .load(conn)?;
    let mut by_post = std::collections::HashMap::<String, Vec<String>>::new();
    for (post_id, round, user_id) in rows {
        if posts
            .iter()
            .any(|p| p.id == post_id && p.review_round == round)
        {
            by_post.entry(post_id).or_default().push(user_id);
        }
    }
    Ok(by_post)
}

/// A post's content as it was after one version.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_revisions)]
pub struct PostRevisionRow {
    /// UUIDv7.
    pub id: String,
    /// The post.
    pub post_id: String,
    /// The workspace.
    pub workspace_id: String,
    /// The post's version this content had.
    pub version: i64,
    /// The content (JSON, the same shape as a post update).
    pub content: String,
    /// Who saved it.
    pub author_id: Option<String>,
    /// When.
    pub created_at: NaiveDateTime,
}

impl PostRevisionRow {
    /// Records a revision.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(post_revisions::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A page of a post's revisions, newest first.
    pub fn list(
        conn: &mut DbConn,
        post_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = post_revisions::table
            .filter(post_revisions::post_id.eq(post_id.to_owned()))
            .order(post_revisions::id.desc())
            .limit(limit)
            .select(Self::as_select())
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(post_revisions::id.lt(before.to_owned()));
        }
        query.load(conn)
    }

    /// One revision of a post.
    pub fn find(conn: &mut DbConn, post_id: &str, id: &str) -> QueryResult<Option<Self>> {
        post_revisions::table
            .filter(post_revisions::post_id.eq(post_id))
            .filter(post_revisions::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }
}
