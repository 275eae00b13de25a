//! Per-post options: what a blog article has beyond its text.

use plaza_sdk::{PluginError, Post};
use serde::Deserialize;
use serde_json::{Value, json};

/// Most categories one article may name. WordPress sets no limit; this
/// keeps a publish within the host's requests per call (each new term is
/// one request; see `lib.rs`).
pub const MAX_CATEGORIES: usize = 5;
/// Most tags one article may name (same reason).
pub const MAX_TAGS: usize = 10;
/// WordPress's `term.name` column is `varchar(200)`.
pub const MAX_TERM_NAME: usize = 200;

/// The article's status on the site (the REST API's `status` values a new
/// post may take).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Published now.
    #[default]
    Publish,
    /// Scheduled by WordPress for `date`.
    Future,
    /// Saved as a draft.
    Draft,
    /// Waiting for an editor's review.
    Pending,
    /// Published, visible to editors only.
    Private,
}

impl Status {
    /// The REST API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Future => "future",
            Self::Draft => "draft",
            Self::Pending => "pending",
            Self::Private => "private",
        }
    }
}

/// How the post's text is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CommonMark, rendered to HTML here (raw HTML in it is escaped).
    #[default]
    Markdown,
    /// HTML, sent as it is (WordPress filters it by the account's role).
    Html,
}

/// Whether visitors may comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    /// Comments allowed.
    Open,
    /// Comments closed.
    Closed,
}

impl CommentStatus {
    /// The REST API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// The options of one article, valid against [`schema`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostOptions {
    /// The title; without one, the text's first line is the title.
    pub title: Option<String>,
    /// The excerpt shown in lists and feeds; WordPress makes one from the
    /// text when this is absent.
    pub excerpt: Option<String>,
    /// Publish now, schedule, or save as draft, pending or private.
    #[serde(default)]
    pub status: Status,
    /// When a `future` post goes out (RFC 3339, with an offset).
    pub date: Option<String>,
    /// Category names, looked up on the site and created when missing.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Tag names, looked up and created like categories.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The URL slug; WordPress derives one from the title otherwise.
    pub slug: Option<String>,
    /// How the text is written.
    #[serde(default)]
    pub format: Format,
    /// Open or close comments; the site's default otherwise.
    pub comment_status: Option<CommentStatus>,
    /// Whether the first image becomes the featured image (else every
    /// image goes into the text).
    #[serde(default = "yes")]
    pub featured_image: bool,
}

fn yes() -> bool {
    true
}

impl PostOptions {
    /// The post's options, checked beyond their schema.
    pub fn of(post: &Post) -> Result<Self, PluginError> {
        let options: Self = post.parse_options()?;
        if options.status == Status::Future && options.date.is_none() {
            return Err(PluginError::Invalid(
                "a post with status future needs a date".into(),
            ));
        }
        if let Some(date) = &options.date
            && chrono::DateTime::parse_from_rfc3339(date).is_err()
        {
            return Err(PluginError::Invalid(format!(
                "date {date:?} is not an RFC 3339 date-time with an offset"
            )));
        }
        check_terms("categories", &options.categories, MAX_CATEGORIES)?;
        check_terms("tags", &options.tags, MAX_TAGS)?;
        Ok(options)
    }
}

fn check_terms(what: &str, names: &[String], max: usize) -> Result<(), PluginError> {
    if names.len() > max {
        return Err(PluginError::Invalid(format!(
            "at most {max} {what} per post"
        )));
    }
    for name in names {
        let length = name.trim().chars().count();
        if length == 0 || length > MAX_TERM_NAME {
            return Err(PluginError::Invalid(format!(
                "{what} names are 1 to {MAX_TERM_NAME} characters"
            )));
        }
    }
    Ok(())
}

/// The JSON Schema of [`PostOptions`].
pub fn schema() -> Value {
    let terms = |what: &str, max: usize| {
        json!({
            "type": "array",
            "maxItems": max,
            "uniqueItems": true,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_TERM_NAME },
            "title": what,
            "description": format!("{what} by name; missing ones are created on the site"),
        })
    };
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "title": {
                "type": "string", "minLength": 1, "title": "Title",
                "description": "The article's title; the text's first line when absent"
            },
            "excerpt": {
                "type": "string", "title": "Excerpt",
                "description": "Shown in lists and feeds; WordPress makes one from the text when absent"
            },
            "status": {
                "type": "string",
                "enum": ["publish", "future", "draft", "pending", "private"],
                "default": "publish",
                "title": "Status",
                "description": "publish now, future (WordPress publishes at date), draft, pending review, or private"
            },
            "date": {
                "type": "string", "format": "date-time", "title": "Publication date",
                "description": "When a future post goes out (RFC 3339 with an offset)"
            },
            "categories": terms("Categories", MAX_CATEGORIES),
            "tags": terms("Tags", MAX_TAGS),
            "slug": {
                "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 200,
                "title": "Slug", "description": "The URL slug; derived from the title when absent"
            },
            "format": {
                "type": "string", "enum": ["markdown", "html"], "default": "markdown",
                "title": "Text format",
                "description": "markdown is rendered to HTML; html is sent as it is"
            },
            "comment_status": {
                "type": "string", "enum": ["open", "closed"], "title": "Comments",
                "description": "Whether visitors may comment; the site's default when absent"
            },
            "featured_image": {
                "type": "boolean", "default": true, "title": "Featured image",
                "description": "The first image becomes the featured image (else every image goes into the text)"
            }
        },
        "if": { "properties": { "status": { "const": "future" } }, "required": ["status"] },
        "then": { "required": ["date"] },
        "additionalProperties": false
    })
}
