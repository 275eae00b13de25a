//! The records that flow through plugin calls: channels, posts, what was
//! published, inbox items and their authors, pages, tokens.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::PluginError;

/// The channel a call acts for. Credentials are not here: read them with
/// [`crate::credentials`], for this call's channel only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Plaza's id of the channel.
    pub id: String,
    /// JSON, valid against the manifest's config schema.
    pub config: String,
}

impl Channel {
    /// A channel with its configuration as JSON text.
    pub fn new(id: impl Into<String>, config: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            config: config.into(),
        }
    }

    /// A channel whose configuration is the JSON value `config`.
    pub fn with_config(id: impl Into<String>, config: &Value) -> Self {
        Self::new(id, config.to_string())
    }

    /// Parses the configuration; a mismatch is [`PluginError::Invalid`].
    pub fn parse_config<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        parse_config(&self.config)
    }
}

/// Parses channel configuration JSON; a mismatch is [`PluginError::Invalid`].
pub fn parse_config<T: DeserializeOwned>(config: &str) -> Result<T, PluginError> {
    serde_json::from_str(config)
        .map_err(|error| PluginError::Invalid(format!("invalid channel configuration: {error}")))
}

/// A media file attached to a post; read its bytes with [`crate::media::read`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    /// Plaza's id of the media file.
    pub id: String,
    /// MIME type, e.g. `image/jpeg`.
    pub mime: String,
    /// Size in bytes.
    pub size: u64,
    /// Text alternative for people who cannot see it.
    pub alt_text: Option<String>,
}

impl MediaRef {
    /// A media file with no alt text.
    pub fn new(id: impl Into<String>, mime: impl Into<String>, size: u64) -> Self {
        Self {
            id: id.into(),
            mime: mime.into(),
            size,
            alt_text: None,
        }
    }

    /// Sets the alt text.
    #[must_use]
    pub fn alt_text(mut self, alt_text: impl Into<String>) -> Self {
        self.alt_text = Some(alt_text.into());
        self
    }
}

/// Something to publish: a post, a part of a thread, a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    /// The text, already within the manifest's limits.
    pub text: String,
    /// Attached media, in order.
    pub media: Vec<MediaRef>,
    /// The remote id this post answers (threads, replies).
    pub reply_to: Option<String>,
    /// JSON, validated by the host against the post-options schema.
    pub options: String,
    /// Stable per publish target; send it to the platform where it takes one.
    pub idempotency_key: String,
}

impl Post {
    /// A text post with no media, no options (`{}`) and an empty idempotency key.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            media: Vec::new(),
            reply_to: None,
            options: "{}".to_owned(),
            idempotency_key: String::new(),
        }
    }

    /// Sets the idempotency key.
    #[must_use]
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = key.into();
        self
    }

    /// Sets the remote id this post answers.
    #[must_use]
    pub fn reply_to(mut self, remote_id: impl Into<String>) -> Self {
        self.reply_to = Some(remote_id.into());
        self
    }

    /// Adds a media attachment.
    #[must_use]
    pub fn media(mut self, media: MediaRef) -> Self {
        self.media.push(media);
        self
    }

    /// Sets the per-post options as JSON text.
    #[must_use]
    pub fn options(mut self, options: impl Into<String>) -> Self {
        self.options = options.into();
        self
    }

    /// Parses the per-post options; a mismatch is [`PluginError::Invalid`].
    pub fn parse_options<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_str(&self.options)
            .map_err(|error| PluginError::Invalid(format!("invalid post options: {error}")))
    }
}

/// Where a post landed on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The platform's id of the post.
    pub remote_id: String,
    /// A link people can open.
    pub url: Option<String>,
}

impl Published {
    /// A published post without a link.
    pub fn new(remote_id: impl Into<String>) -> Self {
        Self {
            remote_id: remote_id.into(),
            url: None,
        }
    }

    /// Sets the link to the post.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}

/// A person or account on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// The platform's id of the account.
    pub remote_id: String,
    /// The handle people type: `ada` or `ada@example.social`.
    pub handle: String,
    /// The name shown next to the handle.
    pub display_name: Option<String>,
    /// Follower count, when known.
    pub followers: Option<u64>,
}

impl Author {
    /// An author known by id and handle only.
    pub fn new(remote_id: impl Into<String>, handle: impl Into<String>) -> Self {
        Self {
            remote_id: remote_id.into(),
            handle: handle.into(),
            display_name: None,
            followers: None,
        }
    }

    /// Sets the display name.
    #[must_use]
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets the follower count.
    #[must_use]
    pub fn followers(mut self, followers: u64) -> Self {
        self.followers = Some(followers);
        self
    }
}

/// What kind of inbox item this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// Someone mentioned the account.
    Mention,
    /// A comment under one of the account's posts.
    Comment,
    /// A private message.
    DirectMessage,
    /// A review of the brand.
    Review,
    /// A hit from a listening search.
    SearchHit,
}

/// Something for the inbox: a mention, comment, message, review or search hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The platform's id of the item.
    pub remote_id: String,
    /// What kind of item it is.
    pub kind: ItemKind,
    /// The conversation it belongs to.
    pub thread_id: Option<String>,
    /// The item it answers.
    pub parent_id: Option<String>,
    /// The account's post it is about.
    pub post_id: Option<String>,
    /// Who wrote it.
    pub author: Author,
    /// Its text.
    pub text: String,
    /// Language tag, e.g. `en`.
    pub lang: Option<String>,
    /// When it was written, RFC 3339.
    pub created_at: String,
    /// A link people can open.
    pub url: Option<String>,
}

impl Item {
    /// An item with the required fields; `created_at` is RFC 3339.
    pub fn new(
        kind: ItemKind,
        remote_id: impl Into<String>,
        author: Author,
        text: impl Into<String>,
        created_at: impl Into<String>,
    ) -> Self {
        Self {
            remote_id: remote_id.into(),
            kind,
            thread_id: None,
            parent_id: None,
            post_id: None,
            author,
            text: text.into(),
            lang: None,
            created_at: created_at.into(),
            url: None,
        }
    }

    /// Sets the conversation id.
    #[must_use]
    pub fn thread_id(mut self, id: impl Into<String>) -> Self {
        self.thread_id = Some(id.into());
        self
    }

    /// Sets the id of the item this one answers.
    #[must_use]
    pub fn parent_id(mut self, id: impl Into<String>) -> Self {
        self.parent_id = Some(id.into());
        self
    }

    /// Sets the id of the account's post this item is about.
    #[must_use]
    pub fn post_id(mut self, id: impl Into<String>) -> Self {
        self.post_id = Some(id.into());
        self
    }

    /// Sets the language tag.
    #[must_use]
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = Some(lang.into());
        self
    }

    /// Sets the link to the item.
    #[must_use]
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }
}

/// One page of items and the cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The items, newest first where the platform orders them so.
    pub items: Vec<Item>,
    /// Pass back as `cursor` to read on; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl Page {
    /// A page with these items and no next page.
    pub fn new(items: Vec<Item>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }

    /// Sets the cursor of the next page.
    #[must_use]
    pub fn next_cursor(mut self, cursor: impl Into<String>) -> Self {
        self.next_cursor = Some(cursor.into());
        self
    }
}

/// What to do to an item or its author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Moderation {
    /// Hide the item from the public.
    Hide,
    /// Show a hidden item again.
    Unhide,
    /// Delete the item.
    Delete,
    /// Block its author.
    BlockAuthor,
    /// Mute its author.
    MuteAuthor,
    /// Report it to the platform (on a platform the account runs, such as
    /// a blog, mark it as spam).
    Report,
}

/// Tokens from an OAuth2 exchange or refresh; the host stores them as
/// credentials `access_token` and `refresh_token`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    /// The access token.
    pub access: String,
    /// The refresh token, when the platform issues one.
    pub refresh: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: Option<u32>,
    /// The scopes granted, space-separated.
    pub scope: Option<String>,
}

impl Tokens {
    /// An access token alone.
    pub fn new(access: impl Into<String>) -> Self {
        Self {
            access: access.into(),
            refresh: None,
            expires_in: None,
            scope: None,
        }
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn refresh(mut self, refresh: impl Into<String>) -> Self {
        self.refresh = Some(refresh.into());
        self
    }

    /// Sets the lifetime of the access token, in seconds.
    #[must_use]
    pub fn expires_in(mut self, secs: u32) -> Self {
        self.expires_in = Some(secs);
        self
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Config {
        base_url: String,
    }

    #[test]
    fn channel_config_parses_or_is_invalid() {
        let channel = Channel::with_config("ch", &json!({ "base_url": "https://a.example" }));
        let config: Config = channel.parse_config().unwrap();
        assert_eq!(config.base_url, "https://a.example");

        let broken = Channel::new("ch", "{}");
        let error = broken.parse_config::<Config>().unwrap_err();
        assert!(matches!(error, PluginError::Invalid(m) if m.contains("base_url")));
    }

    #[test]
    fn builders_set_optional_fields() {
        let item = Item::new(
            ItemKind::Mention,
            "m1",
            Author::new("u1", "ada").display_name("Ada").followers(3),
            "hi",
            "2024-01-01T00:00:00Z",
        )
        .thread_id("t1")
        .url("https://a.example/m1");
        assert_eq!(item.author.followers, Some(3));
        assert_eq!(item.thread_id.as_deref(), Some("t1"));

        let page = Page::new(vec![item]).next_cursor("c2");
        assert_eq!(page.next_cursor.as_deref(), Some("c2"));

        let post = Post::new("hello").idempotency_key("k1").reply_to("r1");
        assert_eq!(post.options, "{}");
        assert_eq!(post.reply_to.as_deref(), Some("r1"));
    }
}
