//! Internal comments on posts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::post_comments;

/// A comment as stored; `mentions` is a JSON array of user ids.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_comments)]
pub struct PostCommentRow {
    /// UUIDv7.
    pub id: String,
    /// The post.
    pub post_id: String,
    /// The workspace.
    pub workspace_id: String,
    /// Who wrote it.
    pub author_id: String,
    /// The text.
    pub body: String,
    /// Members mentioned with `@`.
    pub mentions: String,
    /// When.
    pub created_at: NaiveDateTime,
}

impl PostCommentRow {
    /// Inserts a comment.
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(post_comments::table)
            .values(self)
            .execute(conn)
            .map(drop)
    }

    /// A page of a post's comments, oldest first.
    pub fn list(
        conn: &mut DbConn,
        post_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        let mut query = post_comments::table
            .filter(post_comments::post_id.eq(post_id.to_owned()))
            .order(post_comments::id.asc())
            .limit(limit)
            .select(Self::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(post_comments::id.gt(after.to_owned()));
        }
        query.load(conn)
    }

    /// One comment of a post.
    pub fn find(conn: &mut DbConn, post_id: &str, id: &str) -> QueryResult<Option<Self>> {
        post_comments::table
            .filter(post_comments::post_id.eq(post_id))
            .filter(post_comments::id.eq(id))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Deletes a comment.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(post_comments::table.find(id)).execute(conn)
    }
}
