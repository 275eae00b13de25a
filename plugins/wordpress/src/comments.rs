//! Reading comments from a cursor that never skips or repeats.
//!
//! WordPress offers no "comments after id N" filter, only a date filter
//! (`after`, strictly later, on the local `comment_date`) and ordering by
//! date, which WordPress breaks ties in by comment id in the same
//! direction. So a cursor is the `(date, id)` of the last comment handed
//! out: the next read asks for comments from that second on
//! (`after` = date − 1 s), in `(date, id)` order, and drops those at or
//! before the cursor. Comments are dated when they are written, so later
//! comments come after the cursor; a comment whose date was set into the
//! past by hand (an import, an editor changing it) is not seen.
//!
//! Held comments (`hold`) are read with approved ones (`status=all`), so
//! a comment waiting for moderation reaches the inbox, and approving it
//! later does not hide it behind the cursor. Spam and trash are left out.

use chrono::{NaiveDateTime, TimeDelta};
use plaza_sdk::{Author, Item, ItemKind, Page, PluginError};

use crate::api::{Api, Comment, MAX_PER_PAGE};
use crate::content::plain_text;

/// The form of WordPress's dates (site-local, no offset).
const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

/// How many pages one read goes through while comments at the cursor's
/// own second fill them.
const MAX_PAGES: u32 = 5;

/// A position in a comment stream: the last comment handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Its local date, `YYYY-MM-DDTHH:MM:SS`.
    pub date: String,
    /// Its id.
    pub id: u64,
}

impl Cursor {
    /// Parses `date~id`; anything else is `Invalid`.
    pub fn parse(cursor: &str) -> Result<Self, PluginError> {
        let invalid = || PluginError::Invalid(format!("not a WordPress comment cursor: {cursor}"));
        let (date, id) = cursor.split_once('~').ok_or_else(invalid)?;
        NaiveDateTime::parse_from_str(date, DATE_FORMAT).map_err(|_| invalid())?;
        Ok(Self {
            date: date.to_owned(),
            id: id.parse().map_err(|_| invalid())?,
        })
    }

    /// The cursor just past `comment`.
    pub fn after(comment: &Comment) -> Self {
        Self {
            date: comment.date.clone(),
            id: comment.id,
        }
    }

    /// Whether `comment` is at or before this position.
    fn covers(&self, comment: &Comment) -> bool {
        (comment.date.as_str(), comment.id) <= (self.date.as_str(), self.id)
    }

    /// The `after` filter that includes the cursor's whole second.
    fn after_filter(&self) -> Result<String, PluginError> {
        let date = NaiveDateTime::parse_from_str(&self.date, DATE_FORMAT).map_err(|_| {
            PluginError::Invalid(format!("not a WordPress comment cursor: {}", self.date))
        })?;
        Ok((date - TimeDelta::seconds(1))
            .format(DATE_FORMAT)
            .to_string())
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}~{}", self.date, self.id)
    }
}

/// Reads comments after `cursor` (from the first one without), on one post
/// or the whole site, leaving out the account's own (`me`).
pub fn read(
    api: &Api,
    post: Option<&str>,
    cursor: Option<&str>,
    limit: u32,
    me: u64,
    kind: ItemKind,
) -> Result<Page, PluginError> {
    let cursor = cursor.map(Cursor::parse).transpose()?;
    let per_page = limit.clamp(1, MAX_PER_PAGE);
    let wanted = usize::try_from(per_page).unwrap_or(usize::MAX);
    let mut query: Vec<(&str, String)> = vec![
        ("status", "all".into()),
        ("type", "comment".into()),
        ("orderby", "date".into()),
        ("order", "asc".into()),
        ("per_page", per_page.to_string()),
        ("author_exclude", me.to_string()),
    ];
    if let Some(post) = post {
        query.push(("post", post.to_owned()));
    }
    if let Some(cursor) = &cursor {
        query.push(("after", cursor.after_filter()?));
    }
    let mut fresh: Vec<Comment> = Vec::new();
    for page in 1..=MAX_PAGES {
        let mut paged = query.clone();
        paged.push(("page", page.to_string()));
        let batch = api.comments(&paged)?;
        let full = batch.len() >= wanted;
        for comment in batch {
            if cursor.as_ref().is_some_and(|c| c.covers(&comment))
                || fresh.iter().any(|seen| seen.id == comment.id)
            {
                continue;
            }
            fresh.push(comment);
        }
        if fresh.len() >= wanted || !full {
            break;
        }
    }
    fresh.truncate(wanted);
    let next = fresh
        .last()
        .map(Cursor::after)
        .or(cursor)
        .map(|c| c.to_string());
    Ok(Page {
        items: fresh.iter().map(|comment| item(comment, kind)).collect(),
        next_cursor: next,
    })
}

/// A comment as an inbox item: in the thread of its post, answering its
/// parent comment when it has one.
pub fn item(comment: &Comment, kind: ItemKind) -> Item {
    let author = if comment.author > 0 {
        Author::new(comment.author.to_string(), comment.author_name.clone())
    } else {
        // Visitors have no account: their name is all the site shows.
        Author::new(
            format!("guest:{}", comment.author_name),
            comment.author_name.clone(),
        )
    }
    .display_name(comment.author_name.clone());
    let text = match &comment.content.raw {
        Some(raw) => raw.trim().to_owned(),
        None => plain_text(&comment.content.rendered),
    };
    let utc = if comment.date_gmt.is_empty() {
        &comment.date
    } else {
        &comment.date_gmt
    };
    let mut item = Item::new(
        kind,
        comment.id.to_string(),
        author,
        text,
        format!("{utc}Z"),
    )
    .post_id(comment.post.to_string())
    .thread_id(comment.post.to_string());
    if comment.parent > 0 {
        item = item.parent_id(comment.parent.to_string());
    }
    if let Some(link) = &comment.link {
        item = item.url(link.clone());
    }
    item
}
