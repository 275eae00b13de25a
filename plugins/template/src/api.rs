//! The platform's JSON API: its wire types and one method per endpoint.
//!
//! | endpoint | answer |
//! | --- | --- |
//! | `GET /api/me` | `{"id", "handle", "name"?, "followers_count"?}` |
//! | `POST /api/posts` `{"text", "reply_to"?}` + `Idempotency-Key` | `{"id", "url"?}`; the same key again answers the same post |
//! | `GET /api/posts?idempotency_key=` | `{"id", "url"?}` of the post that key created, `404` when none |
//! | `DELETE /api/posts/{id}` | `204` |
//! | `GET /api/mentions?cursor=&limit=` | `{"items": [mention], "next_cursor"?}` |
//! | `POST /api/media` (the file's bytes, its `Content-Type`) | `{"id"}` |
//! | `POST /oauth/token` (form: `grant_type`, `code`, `code_verifier`...) | `{"access_token", "refresh_token"?, "expires_in"?, "scope"?}` |
//!
//! Every `/api` call carries `Authorization: Bearer <access_token>`.

use plaza_sdk::http::{Request, Response, encode_component};
use plaza_sdk::{
    Author, Channel, Item, ItemKind, MediaRef, Page, PluginError, Published, Tokens, credentials,
    media,
};
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// The credential holding the API's bearer token.
pub const ACCESS_TOKEN: &str = "access_token";

/// The connected account, as `GET /api/me` returns it.
#[derive(Debug, Deserialize)]
pub struct Account {
    /// The platform's id of the account.
    pub id: String,
    /// The handle people type.
    pub handle: String,
    /// The display name.
    pub name: Option<String>,
    /// Follower count.
    pub followers_count: Option<u64>,
}

impl From<Account> for Author {
    fn from(account: Account) -> Self {
        Author {
            remote_id: account.id,
            handle: account.handle,
            display_name: account.name,
            followers: account.followers_count,
        }
    }
}

/// A post to create: text, attachments already uploaded, and the options
/// the post-options schema allows.
#[derive(Debug, Default, Serialize)]
pub struct NewPost<'a> {
    /// The text.
    pub text: &'a str,
    /// The post it answers (threads and replies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<&'a str>,
    /// Ids from `POST /api/media`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    /// `public`, `unlisted` or `private`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// Shown before the text, which is folded away.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_warning: Option<String>,
}

#[derive(Debug, Deserialize)]
struct UploadedMedia {
    id: String,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u32>,
    scope: Option<String>,
}

impl From<TokenAnswer> for Tokens {
    fn from(answer: TokenAnswer) -> Self {
        Tokens {
            access: answer.access_token,
            refresh: answer.refresh_token,
            expires_in: answer.expires_in,
            scope: answer.scope,
        }
    }
}

/// The platform's OAuth2 token endpoint, which needs no bearer token.
/// An `invalid_grant` (RFC 6749 §5.2: the code or refresh token is invalid,
/// expired or revoked) means the account must connect again.
pub fn token(config: &Config, fields: &[(&str, &str)]) -> Result<Tokens, PluginError> {
    let response = Request::post(config.url("/oauth/token"))
        .header("Accept", "application/json")
        .form(fields)
        .send()?;
    if response.status == 400 && response.text().contains("invalid_grant") {
        return Err(PluginError::Unauthorized(
            "the platform refused the grant (invalid_grant); connect the account again".into(),
        ));
    }
    let answer: TokenAnswer = response.error_for_status()?.json()?;
    Ok(answer.into())
}

#[derive(Debug, Deserialize)]
struct CreatedPost {
    id: String,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Mention {
    id: String,
    author: Account,
    text: String,
    created_at: String,
    thread_id: Option<String>,
    in_reply_to: Option<String>,
    post_id: Option<String>,
    lang: Option<String>,
    url: Option<String>,
}

impl From<Mention> for Item {
    fn from(mention: Mention) -> Self {
        Item {
            remote_id: mention.id,
            kind: ItemKind::Mention,
            thread_id: mention.thread_id,
            parent_id: mention.in_reply_to,
            post_id: mention.post_id,
            author: mention.author.into(),
            text: mention.text,
            lang: mention.lang,
            created_at: mention.created_at,
            url: mention.url,
        }
    }
}

#[derive(Debug, Deserialize)]
struct Mentions {
    items: Vec<Mention>,
    next_cursor: Option<String>,
}

/// A post's counts, as `GET /api/posts/{id}/stats` answers them.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PostStats {
    /// Likes.
    #[serde(default)]
    pub likes: u64,
    /// Shares (reposts).
    #[serde(default)]
    pub shares: u64,
    /// Comments (replies).
    #[serde(default)]
    pub comments: u64,
    /// Times shown, when the platform counts them.
    #[serde(default)]
    pub views: Option<u64>,
}

/// A client for one channel: its configuration and its token.
#[derive(Debug)]
pub struct Api {
    config: Config,
    token: String,
}

impl Api {
    /// A client for the channel; a missing token is `Unauthorized`.
    pub fn connect(channel: &Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let token = credentials::require(ACCESS_TOKEN)?;
        Ok(Self { config, token })
    }

    /// `GET /api/me`.
    pub fn me(&self) -> Result<Account, PluginError> {
        self.send(Request::get(self.config.url("/api/me")))?.json()
    }

    /// `POST /api/posts`, sending the idempotency key so a retried publish
    /// does not post twice.
    pub fn create_post(
        &self,
        post: &NewPost<'_>,
        idempotency_key: &str,
    ) -> Result<Published, PluginError> {
        let mut request = Request::post(self.config.url("/api/posts")).json(post)?;
        if !idempotency_key.is_empty() {
            request = request.header("Idempotency-Key", idempotency_key);
        }
        let created: CreatedPost = self.send(request)?.json()?;
        Ok(Published {
            remote_id: created.id,
            url: created.url,
        })
    }

    /// `GET /api/posts?idempotency_key=`: the post a create with this key
    /// made, `None` when the platform has none (`404`). Any other failure is
    /// an error: "cannot tell" must never pass for "not there".
    pub fn find_post(&self, idempotency_key: &str) -> Result<Option<Published>, PluginError> {
        let request =
            Request::get(self.config.url("/api/posts")).query("idempotency_key", idempotency_key);
        match self.send(request) {
            Ok(response) => {
                let found: CreatedPost = response.json()?;
                Ok(Some(Published {
                    remote_id: found.id,
                    url: found.url,
                }))
            }
            Err(PluginError::NotFound) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `POST /api/media`: uploads one attachment and answers its id.
    pub fn upload(&self, attachment: &MediaRef) -> Result<String, PluginError> {
        let bytes = media::read_all(attachment)?;
        let request = Request::post(self.config.url("/api/media"))
            .header("Content-Type", attachment.mime.as_str())
            .bytes(bytes);
        let uploaded: UploadedMedia = self.send(request)?.json()?;
        Ok(uploaded.id)
    }

    /// `DELETE /api/posts/{id}`.
    pub fn delete_post(&self, remote_id: &str) -> Result<(), PluginError> {
        let path = format!("/api/posts/{}", encode_component(remote_id));
        self.send(Request::delete(self.config.url(&path)))?;
        Ok(())
    }

    /// `GET /api/posts/{id}/stats`: a post's counts; `None` when the
    /// platform has no such post any more (`404`).
    pub fn post_stats(&self, remote_id: &str) -> Result<Option<PostStats>, PluginError> {
        let path = format!("/api/posts/{}/stats", encode_component(remote_id));
        match self.send(Request::get(self.config.url(&path))) {
            Ok(response) => response.json().map(Some),
            Err(PluginError::NotFound) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `GET /api/mentions`, newest first.
    pub fn mentions(&self, cursor: Option<&str>, limit: u32) -> Result<Page, PluginError> {
        let mut request = Request::get(self.config.url("/api/mentions"));
        if let Some(cursor) = cursor {
            request = request.query("cursor", cursor);
        }
        let page: Mentions = self.send(request.query("limit", limit))?.json()?;
        Ok(Page {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })
    }

    fn send(&self, request: Request) -> Result<Response, PluginError> {
        let response = request
            .bearer(&self.token)
            .header("Accept", "application/json")
            .send()?;
        response.error_for_status()
    }
}
