//! The Bluesky plugin: a channel is one AT Protocol account, signed in with
//! an app password (`identifier` + `app_password`) on its service
//! (`https://bsky.social` unless the configuration names a PDS).
//!
//! - Posts are `app.bsky.feed.post` records: text with rich-text facets
//!   (links, mentions resolved to DIDs, hashtags) as UTF-8 byte ranges,
//!   up to four images (`app.bsky.embed.images`, with alt text), languages.
//! - A post's record key is a TID derived from Plaza's idempotency key and
//!   written with `putRecord` only if the key is free, so a resend finds
//!   the first post instead of making a second, and `find_published` is a
//!   `getRecord`.
//! - Follow-up parts and replies carry reply references (root + parent;
//!   the parent record is read to find the root).
//! - Mentions, replies and quotes come from notifications; comments from
//!   the post's thread; counts from `getPosts` and `getProfile`.
//! - Moderation: mute (`muteActor`), block (an `app.bsky.graph.block`
//!   record), report (`createReport`), hide replies in the account's own
//!   threads (the thread gate's `hiddenReplies`).

pub mod api;
pub mod config;
pub mod inbox;
pub mod moderation;
pub mod records;
pub mod richtext;
pub mod tid;

use plaza_sdk::{
    Author, Capabilities, Channel, Limits, Manifest, Metric, Moderation, Page, Plugin, PluginError,
    Post, Published, log, metric,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::api::{Api, check, error_name};
use crate::config::{Config, checked_langs, langs_schema};
use crate::inbox::{INBOX_REASONS, Notifications};
use crate::records::{AtUri, IMAGE_TYPES, MAX_GRAPHEMES, MAX_IMAGES, POST, get_record};

/// Most notifications asked for in one page (`listNotifications`: `limit`
/// 1–100).
const MAX_PAGE: u32 = 100;

/// Most posts per `getPosts` call (`uris`: `maxLength: 25`).
const MAX_POSTS_PER_CALL: usize = 25;

/// The Bluesky platform.
#[derive(Debug)]
pub struct Bluesky;

/// Per-post options.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PostOptions {
    /// Languages of this post, instead of the channel's.
    #[serde(default)]
    langs: Option<Vec<String>>,
}

impl Plugin for Bluesky {
    fn describe() -> Manifest {
        Manifest::builder("bluesky", "Bluesky")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Bluesky")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::REPLY
                    | Capabilities::HIDE
                    | Capabilities::BLOCK_AUTHOR
                    | Capabilities::POST_METRICS
                    | Capabilities::ACCOUNT_METRICS,
            )
            // `app.bsky.feed.post` text: `maxGraphemes: 300`; images:
            // `app.bsky.embed.images`, at most 4 (see `records`). Plaza
            // counts characters, never fewer than graphemes, so 300 is safe.
            .limits(Limits::new(MAX_GRAPHEMES as u32, MAX_IMAGES as u32).media_types(IMAGE_TYPES))
            .allowed_host("bsky.social")
            .allowed_host("{config.service}")
            .config_schema(&Config::schema())
            .post_options_schema(&json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "langs": langs_schema("Languages of this post, instead of the channel's")
                },
                "additionalProperties": false
            }))
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// Signs in (or reuses the session), checks the token with
    /// `getSession`, and reads the profile for the display name and the
    /// follower count. A profile the AppView cannot serve right now leaves
    /// those out rather than failing a check the credentials passed.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        #[derive(Deserialize)]
        struct SessionInfo {
            did: String,
            handle: String,
        }
        let mut api = Api::connect(channel)?;
        let me: SessionInfo = check(api.get("com.atproto.server.getSession", &[])?)?.json()?;
        let mut author = Author::new(me.did.clone(), me.handle);
        match profile(&mut api, &me.did) {
            Ok(profile) => {
                author.display_name = profile.display_name.filter(|name| !name.is_empty());
                author.followers = profile.followers;
            }
            Err(error @ (PluginError::Transient(_) | PluginError::Unsupported)) => {
                log::warn(format!("the profile could not be read: {error}"));
            }
            Err(error) => return Err(error),
        }
        Ok(author)
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let mut api = Api::connect(channel)?;
        create_post(&mut api, &post, post.reply_to.as_deref())
    }

    /// One `getRecord` at the key the idempotency key names: the platform
    /// says for certain whether the post is there.
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::Invalid(
                "a post sent without an idempotency key cannot be looked up".into(),
            ));
        }
        let mut api = Api::connect(channel)?;
        let uri = AtUri::new(api.did(), POST, &tid::for_key(idempotency_key));
        Ok(get_record(&mut api, &uri)?.map(|record| published(&record.uri)))
    }

    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let mut api = Api::connect(channel)?;
        let uri = own_record(&api, remote_id)?;
        let body = json!({ "repo": api.did(), "collection": uri.collection, "rkey": uri.rkey });
        check(api.post("com.atproto.repo.deleteRecord", &body)?)?;
        Ok(())
    }

    /// Mentions, replies and quotes from the notifications, newest first.
    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let mut api = Api::connect(channel)?;
        let limit = limit.clamp(1, MAX_PAGE).to_string();
        let mut query = vec![("limit", limit.as_str())];
        query.extend(INBOX_REASONS.iter().map(|reason| ("reasons", *reason)));
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor));
        }
        let page: Notifications =
            check(api.get("app.bsky.notification.listNotifications", &query)?)?.json()?;
        Ok(inbox::notification_page(page))
    }

    /// Everyone else's replies in the post's thread, newest first. The
    /// thread comes whole; the cursor is an offset into it.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        AtUri::parse(post_id)?;
        let mut api = Api::connect(channel)?;
        let response = api.get(
            "app.bsky.feed.getPostThread",
            &[("uri", post_id), ("depth", "1000"), ("parentHeight", "0")],
        )?;
        let answer: Value = check(response)?.json()?;
        let thread = answer.get("thread").cloned().unwrap_or_default();
        let all = inbox::thread_replies(&thread, post_id, api.did());
        let offset = match cursor {
            Some(cursor) => cursor.parse::<usize>().map_err(|_| {
                PluginError::Invalid(format!("{cursor:?} is not a comments cursor"))
            })?,
            None => 0,
        };
        let limit = limit.clamp(1, MAX_PAGE) as usize;
        let end = offset.saturating_add(limit).min(all.len());
        let items = all.get(offset.min(end)..end).unwrap_or_default().to_vec();
        let next_cursor = (end < all.len()).then(|| end.to_string());
        Ok(Page { items, next_cursor })
    }

    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let mut api = Api::connect(channel)?;
        create_post(&mut api, &post, Some(to))
    }

    /// `remote_id` is a post (`at://…`), a DID or a handle. Muting and
    /// blocking act on the author; reporting reports the post, or the
    /// account when given one; hiding and showing act on a reply in one of
    /// the account's threads. Bluesky cannot delete another account's post.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        if action == Moderation::Delete {
            return Err(PluginError::Unsupported);
        }
        let mut api = Api::connect(channel)?;
        match action {
            Moderation::MuteAuthor => moderation::mute(&mut api, remote_id),
            Moderation::BlockAuthor => {
                let did = moderation::author_did(&mut api, remote_id)?;
                moderation::block(&mut api, &did)
            }
            Moderation::Report => moderation::report(&mut api, remote_id),
            Moderation::Hide => moderation::set_hidden(&mut api, remote_id, true),
            Moderation::Unhide => moderation::set_hidden(&mut api, remote_id, false),
            Moderation::Delete => Err(PluginError::Unsupported),
        }
    }

    /// Likes, reposts, replies and quotes of each post, from `getPosts`
    /// (25 per call). Posts the AppView no longer has are left out.
    fn post_metrics(channel: &Channel, post_ids: &[String]) -> Result<Vec<Metric>, PluginError> {
        let mut api = Api::connect(channel)?;
        let mut metrics = Vec::new();
        for chunk in post_ids.chunks(MAX_POSTS_PER_CALL) {
            let query: Vec<(&str, &str)> = chunk.iter().map(|id| ("uris", id.as_str())).collect();
            let answer: Value = check(api.get("app.bsky.feed.getPosts", &query)?)?.json()?;
            let posts = answer.get("posts").and_then(Value::as_array);
            for post in posts.into_iter().flatten() {
                let Some(uri) = post.get("uri").and_then(Value::as_str) else {
                    continue;
                };
                for (name, field) in [
                    (metric::LIKES, "likeCount"),
                    (metric::REPOSTS, "repostCount"),
                    (metric::REPLIES, "replyCount"),
                    (metric::QUOTES, "quoteCount"),
                ] {
                    let value = post.get(field).and_then(Value::as_u64).unwrap_or(0);
                    metrics.push(Metric::post(uri, name, value as f64));
                }
            }
        }
        Ok(metrics)
    }

    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let mut api = Api::connect(channel)?;
        let did = api.did().to_owned();
        let profile = profile(&mut api, &did)?;
        let mut metrics = Vec::new();
        for (name, value) in [
            (metric::FOLLOWERS, profile.followers),
            (metric::FOLLOWING, profile.follows),
            (metric::POSTS, profile.posts),
        ] {
            if let Some(value) = value {
                metrics.push(Metric::account(name, value as f64));
            }
        }
        Ok(metrics)
    }
}

/// What the plugin reads of `app.bsky.actor.getProfile`.
#[derive(Debug, Deserialize)]
struct Profile {
    #[serde(default, rename = "displayName")]
    display_name: Option<String>,
    #[serde(default, rename = "followersCount")]
    followers: Option<u64>,
    #[serde(default, rename = "followsCount")]
    follows: Option<u64>,
    #[serde(default, rename = "postsCount")]
    posts: Option<u64>,
}

fn profile(api: &mut Api, actor: &str) -> Result<Profile, PluginError> {
    check(api.get("app.bsky.actor.getProfile", &[("actor", actor)])?)?.json()
}

/// Publishes `post` (answering the post `reply_to` when set) under the key
/// its idempotency key names.
///
/// A post already at that key was made by an earlier attempt: it is
/// answered as is: nothing is read, resolved or uploaded again. The write itself is a
/// `putRecord` with `swapRecord: null`, which the PDS performs only if the
/// key is still free (else `InvalidSwap`): two racing attempts make one
/// post. A post without an idempotency key gets a key from the server.
fn create_post(
    api: &mut Api,
    post: &Post,
    reply_to: Option<&str>,
) -> Result<Published, PluginError> {
    records::check_text(&post.text, !post.media.is_empty())?;
    records::check_media(&post.media)?;
    let options: PostOptions = post.parse_options()?;
    let langs = match options.langs {
        Some(langs) => checked_langs(langs)?,
        None => api.config().langs.clone(),
    };
    if let Some(parent) = reply_to {
        AtUri::parse(parent)?;
    }
    let rkey = (!post.idempotency_key.is_empty()).then(|| tid::for_key(&post.idempotency_key));
    if let Some(rkey) = &rkey {
        let uri = AtUri::new(api.did(), POST, rkey);
        if let Some(existing) = get_record(api, &uri)? {
            log::info(format!("{} was already published", existing.uri));
            return Ok(published(&existing.uri));
        }
    }

    let reply = match reply_to {
        Some(parent) => Some(records::reply_ref(api, parent)?),
        None => None,
    };
    let mut record = Map::new();
    record.insert("$type".into(), POST.into());
    record.insert("text".into(), post.text.clone().into());
    record.insert("createdAt".into(), records::now_datetime().into());
    let facets = records::facets(api, &post.text)?;
    if !facets.is_empty() {
        record.insert("facets".into(), Value::Array(facets));
    }
    if !langs.is_empty() {
        record.insert("langs".into(), json!(langs));
    }
    if let Some(embed) = records::images_embed(api, &post.media)? {
        record.insert("embed".into(), embed);
    }
    if let Some(reply) = reply {
        record.insert("reply".into(), reply);
    }

    let did = api.did().to_owned();
    let Some(rkey) = rkey else {
        let body = json!({ "repo": did, "collection": POST, "record": record });
        let created: Created = check(api.post("com.atproto.repo.createRecord", &body)?)?.json()?;
        return Ok(published(&created.uri));
    };
    let body = json!({
        "repo": did,
        "collection": POST,
        "rkey": rkey,
        "record": record,
        "swapRecord": null,
    });
    let response = api.post("com.atproto.repo.putRecord", &body)?;
    if error_name(&response).as_deref() == Some("InvalidSwap") {
        // Another attempt with the same key got there first.
        let uri = AtUri::new(&did, POST, &rkey);
        let existing = get_record(api, &uri)?.ok_or_else(|| {
            PluginError::transient("the post's key was taken, yet no post is there")
        })?;
        return Ok(published(&existing.uri));
    }
    let created: Created = check(response)?.json()?;
    Ok(published(&created.uri))
}

/// What `createRecord` and `putRecord` answer.
#[derive(Debug, Deserialize)]
struct Created {
    uri: String,
}

/// A post's AT URI and its link in the Bluesky app.
fn published(uri: &str) -> Published {
    let published = Published::new(uri);
    match AtUri::parse(uri) {
        Ok(parsed) => published.url(parsed.web_url()),
        Err(_) => published,
    }
}

/// `remote_id` as a record of the signed-in account; another account's
/// record cannot be deleted.
fn own_record(api: &Api, remote_id: &str) -> Result<AtUri, PluginError> {
    let uri = AtUri::parse(remote_id)?;
    if uri.repo != api.did() && !uri.repo.eq_ignore_ascii_case(api.handle()) {
        return Err(PluginError::Invalid(format!(
            "{remote_id} belongs to another account"
        )));
    }
    Ok(uri)
}

plaza_sdk::export_plugin!(Bluesky);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
