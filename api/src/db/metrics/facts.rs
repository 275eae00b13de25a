//! The facts ready reports and objectives count besides metric series:
//! publications, inbox items, listening hits and the members' names.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::dsl::sum;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{inbox_items, memberships, metric_series, posts, publish_targets, users};

/// A workspace's publications in `[from, to)`: (target id, published at),
/// at most `limit`, newest first.
pub fn published_between(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    publish_targets::table
        .filter(publish_targets::workspace_id.eq(workspace_id))
        .filter(publish_targets::published_at.ge(from))
        .filter(publish_targets::published_at.lt(to))
        .filter(publish_targets::remote_id.is_not_null())
        .order(publish_targets::published_at.desc())
        .limit(limit)
        .select((
            publish_targets::id,
            publish_targets::published_at.assume_not_null(),
        ))
        .load(conn)
}

/// The latest values of `metrics` summed per publication, for these
/// publish targets (those never read are absent).
pub fn latest_per_target(
    conn: &mut DbConn,
    target_ids: &[String],
    metrics: &[String],
) -> QueryResult<HashMap<String, f64>> {
    let mut sums = HashMap::with_capacity(target_ids.len());
    for chunk in target_ids.chunks(1000) {
        let rows = metric_series::table
            .filter(metric_series::subject.eq_any(chunk))
            .filter(metric_series::metric.eq_any(metrics))
            .group_by(metric_series::subject)
            .select((metric_series::subject, sum(metric_series::last_value)))
            .load::<(String, Option<f64>)>(conn)?;
        sums.extend(rows.into_iter().map(|(id, v)| (id, v.unwrap_or_default())));
    }
    Ok(sums)
}

/// How many publications went out in `[from, to)`, optionally only on one
/// channel or of one campaign's posts.
pub fn count_published(
    conn: &mut DbConn,
    workspace_id: &str,
    (from, to): (NaiveDateTime, NaiveDateTime),
    channel_id: Option<&str>,
    campaign_id: Option<&str>,
) -> QueryResult<i64> {
    let mut query = publish_targets::table
        .inner_join(posts::table.on(posts::id.eq(publish_targets::post_id)))
        .filter(publish_targets::workspace_id.eq(workspace_id))
        .filter(publish_targets::published_at.ge(from))
        .filter(publish_targets::published_at.lt(to))
        .filter(publish_targets::remote_id.is_not_null())
        .into_boxed();
    if let Some(channel) = channel_id {
        query = query.filter(publish_targets::channel_id.eq(channel));
    }
    if let Some(campaign) = campaign_id {
        query = query.filter(posts::campaign_id.eq(campaign));
    }
    query.count().get_result(conn)
}

/// An inbox item as the inbox report reads it.
#[derive(Debug, Clone, Queryable)]
pub struct InboxFacts {
    /// Its channel.
    pub channel_id: String,
    /// Mention, comment, …
    pub kind: String,
    /// Who it is assigned to.
    pub assignee_id: Option<String>,
    /// When it arrived.
    pub received_at: NaiveDateTime,
    /// When the team first answered.
    pub first_response_at: Option<NaiveDateTime>,
    /// When an answer was due.
    pub first_response_due_at: Option<NaiveDateTime>,
    /// When it was resolved.
    pub resolved_at: Option<NaiveDateTime>,
    /// When resolution was due.
    pub resolution_due_at: Option<NaiveDateTime>,
    /// `positive`, `neutral` or `negative`.
    pub sentiment_label: Option<String>,
}

/// A workspace's inbox items received in `[from, to)`, at most `limit`.
pub fn inbox_facts(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<InboxFacts>> {
    inbox_items::table
        .filter(inbox_items::workspace_id.eq(workspace_id))
        .filter(inbox_items::received_at.ge(from))
        .filter(inbox_items::received_at.lt(to))
        .order(inbox_items::received_at.asc())
        .limit(limit)
        .select((
            inbox_items::channel_id,
            inbox_items::kind,
            inbox_items::assignee_id,
            inbox_items::received_at,
            inbox_items::first_response_at,
            inbox_items::first_response_due_at,
            inbox_items::resolved_at,
            inbox_items::resolution_due_at,
            inbox_items::sentiment_label,
        ))
        .load(conn)
}

/// A workspace's listening hits received in `[from, to)`: (query id,
/// received at, sentiment label), at most `limit`.
pub fn listening_hits(
    conn: &mut DbConn,
    workspace_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<(String, NaiveDateTime, Option<String>)>> {
    inbox_items::table
        .filter(inbox_items::workspace_id.eq(workspace_id))
        .filter(inbox_items::received_at.ge(from))
        .filter(inbox_items::received_at.lt(to))
        .filter(inbox_items::listening_query_id.is_not_null())
        .limit(limit)
        .select((
            inbox_items::listening_query_id.assume_not_null(),
            inbox_items::received_at,
            inbox_items::sentiment_label,
        ))
        .load(conn)
}

/// Names of a workspace's members, by user id.
pub fn member_names(conn: &mut DbConn, workspace_id: &str) -> QueryResult<HashMap<String, String>> {
    Ok(memberships::table
        .inner_join(users::table)
        .filter(memberships::workspace_id.eq(workspace_id))
        .select((users::id, users::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
