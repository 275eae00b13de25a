//! The WordPress REST API (`wp/v2`, WordPress 5.6+ for application
//! passwords) as this plugin uses it: one method per endpoint, and what
//! WordPress errors mean for Plaza.
//!
//! | endpoint | use |
//! | --- | --- |
//! | `GET /wp/v2/users/me?context=edit` | the account behind the credentials, its capabilities |
//! | `GET /wp/v2/posts?search=…&status=…` | find an article by its idempotency marker |
//! | `POST /wp/v2/posts`, `DELETE /wp/v2/posts/{id}` | publish, trash or delete an article |
//! | `GET`, `POST /wp/v2/categories`, `/wp/v2/tags` | look terms up by slug, create missing ones |
//! | `POST /wp/v2/media` | upload a file (raw body, `Content-Disposition`) |
//! | `GET /wp/v2/comments`, `GET /wp/v2/comments/{id}` | read comments |
//! | `POST /wp/v2/comments`, `POST`, `DELETE /wp/v2/comments/{id}` | reply, moderate, delete |
//!
//! Every call carries HTTP Basic auth with the account's user name and an
//! application password (Users → Profile → Application Passwords), which
//! WordPress accepts only over https (or on a site whose environment type
//! is `local`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use plaza_sdk::http::{Request, Response, encode_component, retry_after_secs};
use plaza_sdk::{Channel, PluginError, clock, credentials};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::Config;
use crate::content::decode_entities;

/// The credential holding the account's user name (or e-mail address).
pub const USERNAME: &str = "username";
/// The credential holding one of the account's application passwords.
pub const APPLICATION_PASSWORD: &str = "application_password";

/// The largest `per_page` WordPress accepts on collections.
pub const MAX_PER_PAGE: u32 = 100;

/// The post statuses an idempotency lookup searches: every status a
/// publish can leave a post in, and the trash (a post moved there after
/// it was published was still published). `any` would leave the trash out.
const LOOKUP_STATUSES: &str = "publish,future,draft,pending,private,trash";

/// The account behind the credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// The user id.
    pub id: u64,
    /// The login name (`context=edit` only).
    #[serde(default)]
    pub username: Option<String>,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The URL-friendly name.
    #[serde(default)]
    pub slug: String,
    /// What the account may do (`context=edit` only).
    #[serde(default)]
    pub capabilities: Map<String, Value>,
}

impl Me {
    /// Whether the account holds a capability (`publish_posts`…).
    pub fn can(&self, capability: &str) -> bool {
        self.capabilities.get(capability) == Some(&Value::Bool(true))
    }
}

/// A field WordPress serves as `{raw, rendered}` (`raw` with `context=edit`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Rendered {
    /// As stored.
    #[serde(default)]
    pub raw: Option<String>,
    /// As shown on the site.
    #[serde(default)]
    pub rendered: String,
}

/// An article, with the fields this plugin asks for.
#[derive(Debug, Clone, Deserialize)]
pub struct WpPost {
    /// The post id.
    pub id: u64,
    /// Its permalink (a `?p=` preview link for drafts).
    #[serde(default)]
    pub link: Option<String>,
    /// `publish`, `future`, `draft`, `trash`…
    #[serde(default)]
    pub status: String,
    /// Its content (for the marker check).
    #[serde(default)]
    pub content: Rendered,
}

/// A category or tag.
#[derive(Debug, Clone, Deserialize)]
pub struct Term {
    /// The term id.
    pub id: u64,
    /// The name, HTML-escaped (`Food &amp; Drink`).
    #[serde(default)]
    pub name: String,
    /// The slug.
    #[serde(default)]
    pub slug: String,
}

/// An uploaded media file.
#[derive(Debug, Clone, Deserialize)]
pub struct Media {
    /// The attachment id.
    pub id: u64,
    /// The file's public URL.
    #[serde(default)]
    pub source_url: String,
}

/// A comment, as served with `context=edit`.
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    /// The comment id.
    pub id: u64,
    /// The post it is on.
    pub post: u64,
    /// The comment it answers, 0 for none.
    #[serde(default)]
    pub parent: u64,
    /// The user id of a registered author, 0 for a visitor.
    #[serde(default)]
    pub author: u64,
    /// The name the author gave.
    #[serde(default)]
    pub author_name: String,
    /// Local site time, `YYYY-MM-DDTHH:MM:SS`.
    pub date: String,
    /// UTC, same form.
    #[serde(default)]
    pub date_gmt: String,
    /// The text.
    #[serde(default)]
    pub content: Rendered,
    /// Its link on the site.
    #[serde(default)]
    pub link: Option<String>,
    /// `approved`, `hold`, `spam`, `trash`.
    #[serde(default)]
    pub status: String,
}

/// A client for one channel: its configuration and its credentials.
#[derive(Debug)]
pub struct Api {
    config: Config,
    authorization: String,
    username: String,
}

impl Api {
    /// A client for the channel; missing credentials are `Unauthorized`.
    pub fn connect(channel: &Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let username = credentials::require(USERNAME)?.trim().to_owned();
        let password = credentials::require(APPLICATION_PASSWORD)?;
        // WordPress shows application passwords in groups of four
        // (`abcd efgh …`) and ignores the spaces; so do we.
        let password: String = password.split_whitespace().collect();
        let basic = STANDARD.encode(format!("{username}:{password}"));
        Ok(Self {
            config,
            authorization: format!("Basic {basic}"),
            username,
        })
    }

    /// The channel's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The user name the credentials carry.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// `GET /users/me?context=edit`.
    pub fn me(&self) -> Result<Me, PluginError> {
        let request = Request::get(self.config.route("/users/me")).query("context", "edit");
        self.send(request)?.json()
    }

    /// Articles whose content holds `token` (the idempotency marker), in
    /// any status a publish leaves.
    pub fn posts_with(&self, token: &str) -> Result<Vec<WpPost>, PluginError> {
        let request = Request::get(self.config.route("/posts"))
            .query("search", token)
            .query("status", LOOKUP_STATUSES)
            .query("context", "edit")
            .query("_fields", "id,link,status,content")
            .query("per_page", 10);
        let posts: Vec<WpPost> = self.send(request)?.json()?;
        Ok(posts
            .into_iter()
            .filter(|post| {
                post.content
                    .raw
                    .as_deref()
                    .is_some_and(|raw| raw.contains(token))
            })
            .collect())
    }

    /// `POST /posts`.
    pub fn create_post(&self, body: &Value) -> Result<WpPost, PluginError> {
        let request = Request::post(self.config.route("/posts"))
            .query("_fields", "id,link,status")
            .json(body)?;
        self.send(request)?.json()
    }

    /// `DELETE /posts/{id}`: to the trash, or for good with `force`.
    /// Trashing a post already in the trash is done already.
    pub fn delete_post(&self, id: &str, force: bool) -> Result<(), PluginError> {
        self.delete(&format!("/posts/{}", encode_component(id)), force)
    }

    /// Terms of a taxonomy (`categories`, `tags`) with these slugs.
    pub fn terms_by_slug(
        &self,
        taxonomy: &str,
        slugs: &[String],
    ) -> Result<Vec<Term>, PluginError> {
        let request = Request::get(self.config.route(&format!("/{taxonomy}")))
            .query("slug", slugs.join(","))
            .query("per_page", MAX_PER_PAGE)
            .query("_fields", "id,name,slug");
        self.send(request)?.json()
    }

    /// Creates a term; answers its id, or the id of the term that already
    /// has this name (WordPress's `term_exists` error carries it).
    pub fn create_term(&self, taxonomy: &str, name: &str) -> Result<u64, PluginError> {
        let request = Request::post(self.config.route(&format!("/{taxonomy}")))
            .query("_fields", "id")
            .json(&json!({ "name": name }))?;
        let response = self.authorized(request).send()?;
        if response.is_success() {
            return Ok(response.json::<Term>()?.id);
        }
        let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        if body.get("code").and_then(Value::as_str) == Some("term_exists")
            && let Some(id) = body.pointer("/data/term_id").and_then(Value::as_u64)
        {
            return Ok(id);
        }
        Err(wp_error(&response))
    }

    /// `POST /media` with the file as the raw body.
    pub fn upload(
        &self,
        bytes: Vec<u8>,
        mime: &str,
        filename: &str,
        alt_text: Option<&str>,
    ) -> Result<Media, PluginError> {
        let mut request =
            Request::post(self.config.route("/media")).query("_fields", "id,source_url");
        if let Some(alt) = alt_text {
            request = request.query("alt_text", alt);
        }
        let request = request
            .header("Content-Type", mime)
            .header(
                "Content-Disposition",
                format!("attachment; filename=\"{filename}\""),
            )
            .bytes(bytes);
        self.send(request)?.json()
    }

    /// `GET /comments/{id}`.
    pub fn comment(&self, id: &str) -> Result<Comment, PluginError> {
        let request = Request::get(
            self.config
                .route(&format!("/comments/{}", encode_component(id))),
        )
        .query("context", "edit");
        self.send(request)?.json()
    }

    /// A page of `GET /comments` with these query parameters.
    pub fn comments(&self, query: &[(&str, String)]) -> Result<Vec<Comment>, PluginError> {
        let mut request = Request::get(self.config.route("/comments")).query("context", "edit");
        for (name, value) in query {
            request = request.query(name, value);
        }
        self.send(request)?.json()
    }

    /// `POST /comments`; `None` when WordPress refuses it as a duplicate
    /// of a comment the account already made (`comment_duplicate`, 409).
    pub fn create_comment(&self, body: &Value) -> Result<Option<Comment>, PluginError> {
        let request = Request::post(self.config.route("/comments"))
            .query("context", "edit")
            .json(body)?;
        let response = self.authorized(request).send()?;
        if response.is_success() {
            return response.json().map(Some);
        }
        if wp_code(&response).as_deref() == Some("comment_duplicate") {
            return Ok(None);
        }
        Err(wp_error(&response))
    }

    /// `POST /comments/{id}` with a new `status` (`approved`, `hold`, `spam`).
    pub fn set_comment_status(&self, id: &str, status: &str) -> Result<(), PluginError> {
        let request = Request::post(
            self.config
                .route(&format!("/comments/{}", encode_component(id))),
        )
        .query("_fields", "id,status")
        .json(&json!({ "status": status }))?;
        self.send(request)?;
        Ok(())
    }

    /// `DELETE /comments/{id}`: to the trash, or for good with `force`.
    pub fn delete_comment(&self, id: &str, force: bool) -> Result<(), PluginError> {
        self.delete(&format!("/comments/{}", encode_component(id)), force)
    }

    /// How many items a collection holds: its `X-WP-Total` header, asked
    /// for with one item per page.
    pub fn total(&self, path: &str, query: &[(&str, String)]) -> Result<u64, PluginError> {
        let mut request = Request::get(self.config.route(path))
            .query("per_page", 1)
            .query("_fields", "id");
        for (name, value) in query {
            request = request.query(name, value);
        }
        let response = self.send(request)?;
        response
            .header("x-wp-total")
            .and_then(|total| total.trim().parse().ok())
            .ok_or_else(|| {
                PluginError::Transient(format!("the site answered {path} without X-WP-Total"))
            })
    }

    fn delete(&self, path: &str, force: bool) -> Result<(), PluginError> {
        let mut request = Request::delete(self.config.route(path)).query("_fields", "id");
        if force {
            request = request.query("force", "true");
        }
        let response = self.authorized(request).send()?;
        if response.is_success()
            || (!force && wp_code(&response).as_deref() == Some("rest_already_trashed"))
        {
            Ok(())
        } else {
            Err(wp_error(&response))
        }
    }

    fn authorized(&self, request: Request) -> Request {
        request
            .header("Authorization", &self.authorization)
            .header("Accept", "application/json")
    }

    fn send(&self, request: Request) -> Result<Response, PluginError> {
        let response = self.authorized(request).send()?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(wp_error(&response))
        }
    }
}

/// The `code` of a WordPress error body.
fn wp_code(response: &Response) -> Option<String> {
    let body: Value = serde_json::from_slice(&response.body).ok()?;
    body.get("code")?.as_str().map(str::to_owned)
}

/// What a WordPress error response means for Plaza. The REST API answers
/// `{"code": "…", "message": "…", "data": {"status": N, "params": {…}}}`
/// (a `WP_Error`); the code decides where it is telling, the status
/// otherwise.
///
/// | code / status | error |
/// | --- | --- |
/// | 429, `comment_flood` | `RateLimited` (`Retry-After` when sent: WordPress itself never limits, hosts and security plugins do) |
/// | 401, 403 (`rest_not_logged_in`, `incorrect_password`, `rest_cannot_*`, `rest_forbidden*`) | `Unauthorized`: the credentials are wrong, revoked, or the account's role may not do this |
/// | `rest_no_route` (404) | `Invalid`: no REST API at this address (wrong `site_url`, the API disabled) |
/// | other 404, 410 (`rest_post_invalid_id`, `rest_comment_invalid_id`, `rest_already_trashed`) | `NotFound` |
/// | 400 `rest_invalid_param`, `rest_missing_callback_param` | `Invalid`, naming each parameter and why |
/// | other 4xx (`comment_duplicate` 409, `rest_upload_*`) | `Invalid` with the message |
/// | 5xx, anything else | `Transient` |
pub fn wp_error(response: &Response) -> PluginError {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let code = body.get("code").and_then(Value::as_str).unwrap_or_default();
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(decode_entities)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            let text = response.text();
            let text = text.trim();
            if text.is_empty() || text.starts_with('<') {
                format!("HTTP {}", response.status)
            } else {
                text.chars().take(300).collect()
            }
        });
    let mut reason = if code.is_empty() {
        message
    } else {
        format!("{code}: {message}")
    };
    if let Some(params) = body.pointer("/data/params").and_then(Value::as_object) {
        let details: Vec<String> = params
            .iter()
            .map(|(name, why)| match why.as_str() {
                Some(why) => format!("{name}: {}", decode_entities(why)),
                None => name.clone(),
            })
            .collect();
        if !details.is_empty() {
            reason = format!("{reason} ({})", details.join("; "));
        }
    }
    let reason: String = reason.chars().take(500).collect();
    match (code, response.status) {
        ("comment_flood", _) | (_, 429) => PluginError::RateLimited(
            response
                .header("retry-after")
                .and_then(|value| retry_after_secs(value, clock::now_ms())),
        ),
        (_, 401 | 403) => PluginError::Unauthorized(reason),
        ("rest_no_route", _) => PluginError::Invalid(format!(
            "{reason} (is site_url the WordPress address, with its REST API enabled?)"
        )),
        (_, 404 | 410) => PluginError::NotFound,
        (_, 400..=499) => PluginError::Invalid(reason),
        (_, status) => PluginError::Transient(format!("HTTP {status}: {reason}")),
    }
}
