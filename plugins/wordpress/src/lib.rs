//! The WordPress plugin: a channel is one WordPress site, reached through
//! its REST API (`/wp-json/wp/v2`) as one account with an application
//! password (credentials `username` and `application_password`).
//!
//! - Posts are articles: a title (the `title` option, else the text's
//!   first line), the text as HTML (markdown rendered, or HTML as it is),
//!   an excerpt, categories and tags by name (looked up, created when
//!   missing), a status (publish, future with a date, draft, pending,
//!   private). The first image is uploaded to the media library and
//!   becomes the featured image; other media go into the text.
//! - Idempotency: WordPress has no idempotency key, and post meta a plugin
//!   has not registered is dropped by the REST API. So every article
//!   carries an invisible HTML comment with a hash of the key
//!   (`<!-- plaza-key-… -->`) in its content, which WordPress keeps and its
//!   search (`LIKE` over the content) finds in every status, the trash
//!   included. `publish` and `find_published` look for it before anything
//!   is made; the kv store remembers what was made for the common case.
//! - Comments (held and approved) are read from a `(date, id)` cursor
//!   ([`comments`]); mentions are new comments on any of the site's posts.
//!   Replies are approved comments under the comment answered.
//! - Moderation: `hide` holds a comment for moderation, `unhide` approves
//!   it, `delete` trashes it (or deletes it, `delete_mode: force`), and
//!   `report` marks it spam.
//! - Metrics: approved comments per post (`replies`); the site's published
//!   posts and its approved and held comments.

pub mod api;
pub mod comments;
pub mod config;
pub mod content;
pub mod options;

use std::collections::BTreeMap;

use plaza_sdk::{
    Author, Capabilities, Channel, ItemKind, Limits, Manifest, MediaRef, Metric, Moderation, Page,
    Plugin, PluginError, Post, Published, kv, log, media,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Api, WpPost};
use crate::config::Config;
use crate::content::{
    ascii_slug, attribute, body_html, decode_entities, key_marker, key_token, title_and_body,
    with_marker,
};
use crate::options::{PostOptions, Status};

/// Most posts `post_metrics` counts in one call: one request each, and
/// the host allows 16 requests per call (`max_requests_per_call`).
pub const MAX_METRIC_POSTS: usize = 16;

/// Most media per article. WordPress sets no limit; each file is one
/// upload request, and a publish must fit the host's 16 requests per call
/// with its term lookups and the post itself.
const MAX_MEDIA: u32 = 4;

/// Longest text. WordPress keeps content in a `LONGTEXT` column and sets
/// no limit of its own; 100,000 characters keeps the request well within
/// PHP's default `post_max_size` (8 MB) whatever the characters.
const MAX_TEXT_CHARS: u32 = 100_000;

/// What a publish made, remembered under its idempotency key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Made {
    id: u64,
    link: Option<String>,
}

/// The WordPress platform.
#[derive(Debug)]
pub struct WordPress;

impl Plugin for WordPress {
    fn describe() -> Manifest {
        Manifest::builder("wordpress", "WordPress")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("WordPress")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::REPLY
                    | Capabilities::HIDE
                    | Capabilities::DELETE_COMMENT
                    | Capabilities::POST_METRICS
                    | Capabilities::ACCOUNT_METRICS,
            )
            // WordPress's default upload types (`get_allowed_mime_types`)
            // that make sense in an article: images for the featured image
            // and the text, MP4 video for the text.
            .limits(Limits::new(MAX_TEXT_CHARS, MAX_MEDIA).media_types([
                "image/jpeg",
                "image/png",
                "image/gif",
                "image/webp",
                "video/mp4",
            ]))
            .allowed_host("{config.site_url}")
            .config_schema(&Config::schema())
            .post_options_schema(&options::schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// The account behind the application password; it must be allowed to
    /// publish posts.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let api = Api::connect(channel)?;
        let me = api.me()?;
        if !me.can("publish_posts") {
            return Err(PluginError::Unauthorized(format!(
                "the WordPress account {} may not publish posts (it needs the Author role or higher)",
                api.username()
            )));
        }
        if !me.can("moderate_comments") {
            log::warn(format!(
                "the WordPress account {} may not moderate comments: reading, answering and \
                 moderating comments need the Editor role or higher",
                api.username()
            ));
        }
        kv::set(&me_key(api.username()), me.id.to_string());
        let handle = me.username.clone().unwrap_or_else(|| me.slug.clone());
        Ok(Author::new(me.id.to_string(), handle).display_name(decode_entities(&me.name)))
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let options = PostOptions::of(&post)?;
        let key = post.idempotency_key.as_str();
        if !key.is_empty()
            && let Some(found) = lookup(&api, key)?
        {
            log::info(format!(
                "post {} was already made for this key",
                found.remote_id
            ));
            return Ok(found);
        }
        let (title, text) = title_and_body(options.title.as_deref(), &post.text);
        if title.is_empty() {
            return Err(PluginError::Invalid(
                "an article needs a title: set the title option or start the text with it".into(),
            ));
        }
        let categories = resolve_terms(&api, "categories", &options.categories, key)?;
        let tags = resolve_terms(&api, "tags", &options.tags, key)?;
        let (featured, inline) = upload_media(&api, &post.media, key, options.featured_image)?;
        let mut html = body_html(&text, options.format);
        for (attachment, url) in &inline {
            html.push('\n');
            html.push_str(&embed(attachment, url));
        }
        if !key.is_empty() {
            html = with_marker(&html, &key_marker(key));
        }
        let body = article(&options, &title, &html, &categories, &tags, featured)?;
        let created = api.create_post(&body)?;
        let made = Made {
            id: created.id,
            link: created.link.clone(),
        };
        if !key.is_empty() {
            kv::set_json(&post_key(key), &made)?;
        }
        log::debug(format!("created post {} ({})", created.id, created.status));
        Ok(published(&made))
    }

    /// The kv store first (written right after the post is made); then the
    /// site itself: a search for the key's marker in posts of every status
    /// a publish leaves, the trash included. An empty search answer is
    /// WordPress saying no post carries the marker.
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::Invalid(
                "a post sent without an idempotency key cannot be looked up".into(),
            ));
        }
        let api = Api::connect(channel)?;
        lookup(&api, idempotency_key)
    }

    /// Moves the article to the trash, or deletes it for good with
    /// `delete_mode: force`; uploaded media stay in the media library.
    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let id = numeric_id(remote_id, "post")?;
        api.delete_post(&id, api.config().force_delete())
    }

    /// New comments by others on any of the site's posts.
    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let me = my_id(&api)?;
        comments::read(&api, None, cursor, limit, me, ItemKind::Comment)
    }

    /// New comments by others on one post.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let post = numeric_id(post_id, "post")?;
        let me = my_id(&api)?;
        comments::read(&api, Some(&post), cursor, limit, me, ItemKind::Comment)
    }

    /// An approved comment under the comment `to`, on its post. The text
    /// goes as it is: WordPress formats comments itself (`wpautop`).
    /// Idempotent by key through the kv store, and by WordPress's own
    /// duplicate check: a repeated reply answers the comment already made.
    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let key = post.idempotency_key.as_str();
        if !key.is_empty()
            && let Some(made) = kv::get_json::<Made>(&reply_key(key))?
        {
            return Ok(published(&made));
        }
        let parent_id = numeric_id(to, "comment")?;
        let parent = api.comment(&parent_id)?;
        let text = post.text.trim();
        if text.is_empty() {
            return Err(PluginError::Invalid("a reply needs text".into()));
        }
        let body = json!({
            "post": parent.post,
            "parent": parent.id,
            "content": text,
            "status": "approved",
        });
        let comment = match api.create_comment(&body)? {
            Some(comment) => comment,
            None => existing_reply(&api, &parent_id, text)?,
        };
        let made = Made {
            id: comment.id,
            link: comment.link,
        };
        if !key.is_empty() {
            kv::set_json(&reply_key(key), &made)?;
        }
        Ok(published(&made))
    }

    /// | Plaza | WordPress comment status |
    /// | --- | --- |
    /// | `hide` | `hold` (unapproved, off the site) |
    /// | `unhide` | `approved` |
    /// | `delete` | trash, or deleted with `delete_mode: force` |
    /// | `report` | `spam` (the host sends reports to a plugin that hides when it blocks no one) |
    ///
    /// WordPress cannot block or mute a commenter through its REST API
    /// (the disallowed-keys list is not exposed there).
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        let api = Api::connect(channel)?;
        let id = numeric_id(remote_id, "comment")?;
        match action {
            Moderation::Hide => api.set_comment_status(&id, "hold"),
            Moderation::Unhide => api.set_comment_status(&id, "approved"),
            Moderation::Report => api.set_comment_status(&id, "spam"),
            Moderation::Delete => api.delete_comment(&id, api.config().force_delete()),
            Moderation::BlockAuthor | Moderation::MuteAuthor => Err(PluginError::Unsupported),
        }
    }

    /// Approved comments per post (`replies`), from `X-WP-Total`: the
    /// count the site shows.
    fn post_metrics(channel: &Channel, post_ids: &[String]) -> Result<Vec<Metric>, PluginError> {
        if post_ids.len() > MAX_METRIC_POSTS {
            return Err(PluginError::Invalid(format!(
                "at most {MAX_METRIC_POSTS} posts per call"
            )));
        }
        let api = Api::connect(channel)?;
        let mut metrics = Vec::with_capacity(post_ids.len());
        for post_id in post_ids {
            let id = numeric_id(post_id, "post")?;
            let count = api.total("/comments", &[("post", id)])?;
            metrics.push(Metric::post(post_id, "replies", count as f64));
        }
        Ok(metrics)
    }

    /// The site's published posts (`posts`), its approved comments
    /// (`replies`) and those waiting for moderation (`x_comments_pending`).
    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let api = Api::connect(channel)?;
        let posts = api.total("/posts", &[("status", "publish".into())])?;
        let approved = api.total("/comments", &[])?;
        let held = api.total("/comments", &[("status", "hold".into())])?;
        Ok(vec![
            Metric::account("posts", posts as f64),
            Metric::account("replies", approved as f64),
            Metric::account("x_comments_pending", held as f64),
        ])
    }
}

/// Where a published article is recorded: key → [`Made`].
fn post_key(idempotency_key: &str) -> String {
    format!("post:{idempotency_key}")
}

/// Where a reply is recorded: key → [`Made`].
fn reply_key(idempotency_key: &str) -> String {
    format!("reply:{idempotency_key}")
}

/// Where the account's user id is kept, per user name.
fn me_key(username: &str) -> String {
    format!("me:{username}")
}

/// Where a publish's resolved terms are kept: key and taxonomy → name → id.
fn terms_key(idempotency_key: &str, taxonomy: &str) -> String {
    format!("terms:{idempotency_key}:{taxonomy}")
}

/// Where a publish's uploaded file is kept: key and position → [`Uploaded`].
fn media_key(idempotency_key: &str, n: usize) -> String {
    format!("media:{idempotency_key}:{n}")
}

fn published(made: &Made) -> Published {
    let published = Published::new(made.id.to_string());
    match &made.link {
        Some(link) => published.url(link.clone()),
        None => published,
    }
}

/// `id` if it is a WordPress id (a positive integer).
fn numeric_id(id: &str, what: &str) -> Result<String, PluginError> {
    match id.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n.to_string()),
        _ => Err(PluginError::Invalid(format!(
            "{id:?} is not a WordPress {what} id"
        ))),
    }
}

/// The article made under `key`, if any: the kv store, else the marker
/// search on the site.
fn lookup(api: &Api, key: &str) -> Result<Option<Published>, PluginError> {
    if let Some(made) = kv::get_json::<Made>(&post_key(key))? {
        return Ok(Some(published(&made)));
    }
    let found: Option<WpPost> = api.posts_with(&key_token(key))?.into_iter().next();
    Ok(found.map(|post| {
        let made = Made {
            id: post.id,
            link: post.link,
        };
        published(&made)
    }))
}

/// The account's user id, from the kv store or `users/me`.
fn my_id(api: &Api) -> Result<u64, PluginError> {
    let key = me_key(api.username());
    if let Some(id) = kv::get_string(&key).and_then(|id| id.parse().ok()) {
        return Ok(id);
    }
    let me = api.me()?;
    kv::set(&key, me.id.to_string());
    Ok(me.id)
}

/// The ids of the terms named `names` in `taxonomy`, created when missing.
///
/// One request finds existing terms by the slug WordPress would give the
/// name; names it misses are created, and WordPress answers `term_exists`
/// with the id for a name it already has. Resolved ids are kept under the
/// idempotency key, so a publish retried after running out of requests
/// goes on where it stopped.
fn resolve_terms(
    api: &Api,
    taxonomy: &str,
    names: &[String],
    key: &str,
) -> Result<Vec<u64>, PluginError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let store = (!key.is_empty()).then(|| terms_key(key, taxonomy));
    let mut known: BTreeMap<String, u64> = match &store {
        Some(store) => kv::get_json(store)?.unwrap_or_default(),
        None => BTreeMap::new(),
    };
    let names: Vec<&str> = names.iter().map(|name| name.trim()).collect();
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !known.contains_key(*name))
        .collect();
    let slugs: Vec<String> = missing.iter().filter_map(|name| ascii_slug(name)).collect();
    if !slugs.is_empty() {
        for term in api.terms_by_slug(taxonomy, &slugs)? {
            let name = decode_entities(&term.name);
            for wanted in &missing {
                if ascii_slug(wanted).as_deref() == Some(term.slug.as_str())
                    || wanted.eq_ignore_ascii_case(&name)
                {
                    known.insert((*wanted).to_owned(), term.id);
                }
            }
        }
    }
    for name in &missing {
        if known.contains_key(*name) {
            continue;
        }
        let id = api.create_term(taxonomy, name)?;
        known.insert((*name).to_owned(), id);
        if let Some(store) = &store {
            kv::set_json(store, &known)?;
        }
    }
    if let Some(store) = &store {
        kv::set_json(store, &known)?;
    }
    let mut ids: Vec<u64> = Vec::with_capacity(names.len());
    for name in names {
        if let Some(id) = known.get(name)
            && !ids.contains(id)
        {
            ids.push(*id);
        }
    }
    Ok(ids)
}

/// An uploaded file, remembered under the key and its position.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Uploaded {
    id: u64,
    url: String,
}

/// The post's uploaded media: the featured image's id, and the files that
/// go into the text with their URLs.
type UploadedMedia<'a> = (Option<u64>, Vec<(&'a MediaRef, String)>);

/// Uploads the post's media; answers the featured image's id (the first
/// image, when `featured` is on) and the other files with their URLs.
fn upload_media<'a>(
    api: &Api,
    attachments: &'a [MediaRef],
    key: &str,
    featured: bool,
) -> Result<UploadedMedia<'a>, PluginError> {
    let featured_at = featured
        .then(|| {
            attachments
                .iter()
                .position(|m| m.mime.starts_with("image/"))
        })
        .flatten();
    let mut featured_id = None;
    let mut inline = Vec::new();
    for (n, attachment) in attachments.iter().enumerate() {
        let uploaded = upload_one(api, attachment, key, n)?;
        if Some(n) == featured_at {
            featured_id = Some(uploaded.id);
        } else {
            inline.push((attachment, uploaded.url));
        }
    }
    Ok((featured_id, inline))
}

fn upload_one(
    api: &Api,
    attachment: &MediaRef,
    key: &str,
    n: usize,
) -> Result<Uploaded, PluginError> {
    let store = (!key.is_empty()).then(|| media_key(key, n));
    if let Some(store) = &store
        && let Some(uploaded) = kv::get_json::<Uploaded>(store)?
    {
        return Ok(uploaded);
    }
    let extension = match attachment.mime.as_str() {
        "image/jpeg" => "jpg",
        other => other.rsplit('/').next().unwrap_or("bin"),
    };
    let filename = format!("plaza-{}-{}.{extension}", file_stem(&attachment.id), n + 1);
    let bytes = media::read_all(attachment)?;
    let media = api.upload(
        bytes,
        &attachment.mime,
        &filename,
        attachment.alt_text.as_deref(),
    )?;
    let uploaded = Uploaded {
        id: media.id,
        url: media.source_url,
    };
    if let Some(store) = &store {
        kv::set_json(store, &uploaded)?;
    }
    Ok(uploaded)
}

/// A file name part from Plaza's media id: its safe characters.
fn file_stem(media_id: &str) -> String {
    let stem: String = media_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect();
    if stem.is_empty() {
        "media".into()
    } else {
        stem
    }
}

/// The HTML that shows an uploaded file in the text.
fn embed(attachment: &MediaRef, url: &str) -> String {
    let url = attribute(url);
    if attachment.mime.starts_with("video/") {
        format!("<figure class=\"wp-block-video\"><video controls src=\"{url}\"></video></figure>")
    } else {
        let alt = attribute(attachment.alt_text.as_deref().unwrap_or_default());
        format!("<figure class=\"wp-block-image\"><img src=\"{url}\" alt=\"{alt}\"/></figure>")
    }
}

/// The `POST /posts` body.
fn article(
    options: &PostOptions,
    title: &str,
    html: &str,
    categories: &[u64],
    tags: &[u64],
    featured: Option<u64>,
) -> Result<Value, PluginError> {
    let mut body = json!({
        "title": title,
        "content": html,
        "status": options.status.as_str(),
    });
    let set = |body: &mut Value, name: &str, value: Value| {
        if let Some(object) = body.as_object_mut() {
            object.insert(name.to_owned(), value);
        }
    };
    if let Some(excerpt) = &options.excerpt {
        set(&mut body, "excerpt", json!(excerpt));
    }
    if let Some(date) = &options.date {
        // Sent in UTC: `date` would be read in the site's time zone.
        let utc = chrono::DateTime::parse_from_rfc3339(date)
            .map_err(|_| PluginError::Invalid(format!("date {date:?} is not RFC 3339")))?
            .naive_utc()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string();
        set(&mut body, "date_gmt", json!(utc));
    }
    if !categories.is_empty() {
        set(&mut body, "categories", json!(categories));
    }
    if !tags.is_empty() {
        set(&mut body, "tags", json!(tags));
    }
    if let Some(id) = featured {
        set(&mut body, "featured_media", json!(id));
    }
    if let Some(slug) = &options.slug {
        set(&mut body, "slug", json!(slug));
    }
    if let Some(comments) = options.comment_status {
        set(&mut body, "comment_status", json!(comments.as_str()));
    }
    if options.status == Status::Future {
        log::debug("WordPress schedules this post itself (status future)");
    }
    Ok(body)
}

/// The account's reply to `parent` with this text, after WordPress
/// refused a new one as a duplicate.
fn existing_reply(api: &Api, parent: &str, text: &str) -> Result<api::Comment, PluginError> {
    let me = my_id(api)?;
    let query = [
        ("parent", parent.to_owned()),
        ("author", me.to_string()),
        ("status", "all".to_owned()),
        ("orderby", "date".to_owned()),
        ("order", "desc".to_owned()),
        ("per_page", "20".to_owned()),
    ];
    api.comments(&query)?
        .into_iter()
        .find(|comment| comment.content.raw.as_deref().map(str::trim) == Some(text))
        .ok_or_else(|| {
            PluginError::Invalid(
                "WordPress refused the reply as a duplicate, and the earlier one was not found"
                    .into(),
            )
        })
}

plaza_sdk::export_plugin!(WordPress);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
