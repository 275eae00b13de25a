//! The Mastodon plugin: a channel is one account on a Mastodon (or
//! Mastodon-API) instance, reached with its access token (`access_token`),
//! pasted or obtained through OAuth2 with a client the plugin registers
//! with the instance ([`oauth`]).
//!
//! - Posts are statuses: media uploaded first (`POST /api/v2/media`), the
//!   content warning, visibility, sensitivity and language from the post
//!   options, Plaza's idempotency key as `Idempotency-Key`.
//! - Follow-up parts answer the part before them (`in_reply_to_id`), which
//!   is how Mastodon threads.
//! - Mentions are `mention` notifications, read forward from a `min_id`
//!   cursor; comments are the replies under a status (its context's
//!   `descendants`) from other accounts.
//! - Replies mention the author they answer, as Mastodon clients do, so the
//!   author is notified.
//! - Moderation: block and mute the author of a status, report it. Mastodon
//!   lets an account delete only its own statuses and has no hiding, so
//!   `hide` and `delete-comment` are not declared.

pub mod api;
pub mod config;
pub mod html;
pub mod oauth;
pub mod publish;
pub mod upload;

use plaza_sdk::{
    Author, Capabilities, Channel, Item, ItemKind, Limits, Manifest, Metric, Moderation, OAuth2,
    Page, Plugin, PluginError, Post, Published, Tokens, credentials, kv, metric,
};

use crate::api::{Api, NewStatus, Status, id_newer};
use crate::config::{Config, PostOptions, Visibility};

/// Most notifications asked for in one page (the endpoint's maximum is 80).
const MAX_PAGE: u32 = 80;

/// Most statuses `GET /api/v1/statuses?id[]=` takes at once.
const STATUSES_PER_REQUEST: usize = 20;

/// Characters in a status (docs: `POST /api/v1/statuses`; the default of
/// `configuration.statuses.max_characters`). Instances may allow more, but
/// limits are per plugin, not per channel, so the default it is.
const MAX_CHARS: u32 = publish::MAX_CHARS as u32;

/// The Mastodon platform.
#[derive(Debug)]
pub struct Mastodon;

impl Plugin for Mastodon {
    fn describe() -> Manifest {
        Manifest::builder("mastodon", "Mastodon")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Mastodon")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::COMMENTS
                    | Capabilities::REPLY
                    | Capabilities::BLOCK_AUTHOR
                    | Capabilities::POST_METRICS
                    | Capabilities::ACCOUNT_METRICS,
            )
            .limits(
                Limits::new(MAX_CHARS, publish::MAX_MEDIA as u32).media_types(publish::MEDIA_TYPES),
            )
            .allowed_host("{config.instance}")
            .config_schema(&Config::schema())
            .post_options_schema(&PostOptions::schema())
            .oauth2(
                OAuth2::new(
                    "{config.instance}/oauth/authorize",
                    "{config.instance}/oauth/token",
                )
                .scopes(oauth::SCOPES.split_whitespace()),
            )
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let api = Api::connect(channel)?;
        let account = api.verify_credentials()?;
        kv::set(&account_key(&api), account.id.as_bytes());
        let mut author = Author::from(account);
        // `acct` is the bare username for the instance's own accounts.
        if !author.handle.contains('@') {
            author.handle = format!("{}@{}", author.handle, host(&api.config().instance));
        }
        Ok(author)
    }

    fn oauth_authorize_url(
        channel: &Channel,
        state: &str,
        pkce_challenge: &str,
        redirect_uri: &str,
    ) -> Result<String, PluginError> {
        let config = Config::parse(&channel.config)?;
        let client = oauth::client_for(&config, redirect_uri)?;
        Ok(oauth::authorize_url(
            &config,
            &client,
            state,
            pkce_challenge,
        ))
    }

    fn oauth_exchange(
        channel: &Channel,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, PluginError> {
        let config = Config::parse(&channel.config)?;
        let client = oauth::stored_client(&config)?;
        oauth::token(
            &config,
            &client,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", pkce_verifier),
                ("scope", oauth::SCOPES),
            ],
        )
    }

    /// Mastodon's tokens do not expire and it issues no refresh tokens;
    /// servers that do (Doorkeeper with refresh enabled) are refreshed
    /// with the registered client.
    fn oauth_refresh(channel: &Channel) -> Result<Tokens, PluginError> {
        let config = Config::parse(&channel.config)?;
        let refresh = credentials::require("refresh_token")?;
        let client = oauth::stored_client(&config)?;
        oauth::token(
            &config,
            &client,
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        )
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        publish::publish(&Api::connect(channel)?, &post)
    }

    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        publish::find_published(&Api::connect(channel)?, idempotency_key)
    }

    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        Api::connect(channel)?.delete_status(remote_id)
    }

    /// Newest mentions first. Without a cursor: the newest page; with one
    /// (a notification id): the mentions right after it. The next cursor is
    /// the newest notification seen, kept as it is when nothing is new.
    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let page = api.mentions(cursor, limit.clamp(1, MAX_PAGE))?;
        let newest = page
            .notifications
            .iter()
            .map(|notification| notification.id.as_str())
            .chain(page.prev_min_id.as_deref())
            .chain(cursor)
            .reduce(|a, b| if id_newer(b, a) { b } else { a })
            .map(str::to_owned);
        let items = page
            .notifications
            .into_iter()
            .filter(|notification| notification.kind == "mention")
            .filter_map(|notification| notification.status)
            .map(|status| item(ItemKind::Mention, status, None))
            .collect();
        Ok(Page {
            items,
            next_cursor: newest,
        })
    }

    /// Replies under `post_id` from other accounts, oldest first, after the
    /// cursor (the newest reply id already read). Mastodon answers a whole
    /// thread at once; the cursor keeps pages small and polls cheap.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let api = Api::connect(channel)?;
        let context = api.context(post_id)?;
        let me = own_account_id(&api)?;
        let mut replies: Vec<Status> = context
            .descendants
            .into_iter()
            .filter(|status| status.account.id != me)
            .filter(|status| cursor.is_none_or(|after| id_newer(&status.id, after)))
            .collect();
        replies.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        replies.truncate(usize::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1));
        let next_cursor = replies
            .last()
            .map(|status| status.id.clone())
            .or_else(|| cursor.map(str::to_owned));
        let items = replies
            .into_iter()
            .map(|status| item(ItemKind::Comment, status, Some(post_id)))
            .collect();
        Ok(Page { items, next_cursor })
    }

    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let options = PostOptions::parse(&post.options)?;
        let parent = api.status(to)?;
        let me = own_account_id(&api)?;
        let text = if parent.account.id == me {
            post.text.clone()
        } else {
            with_mention(&post.text, &parent.account.acct)
        };
        publish::check_length(&text, options.content_warning.as_deref())?;
        // Never widen the audience of the conversation: a reply to a
        // followers-only or direct status stays as narrow as its parent.
        let visibility = options.visibility.or(match parent.visibility.as_deref() {
            Some("private") => Some(Visibility::Private),
            Some("direct") => Some(Visibility::Direct),
            _ => None,
        });
        let status = api.create_status(
            &NewStatus {
                status: &text,
                in_reply_to_id: Some(to),
                spoiler_text: options.content_warning.as_deref(),
                sensitive: options.sensitive,
                visibility,
                language: options.language.as_deref(),
                ..NewStatus::default()
            },
            &post.idempotency_key,
        )?;
        Ok(Published {
            url: status.link(),
            remote_id: status.id,
        })
    }

    /// `remote_id` is a status (an inbox item): block or mute its author,
    /// or report it with its author.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        let verb = match action {
            Moderation::BlockAuthor => "block",
            Moderation::MuteAuthor => "mute",
            Moderation::Report => "report",
            Moderation::Hide | Moderation::Unhide | Moderation::Delete => {
                return Err(PluginError::Unsupported);
            }
        };
        let api = Api::connect(channel)?;
        let status = api.status(remote_id)?;
        if verb == "report" {
            api.report(&status.account.id, &status.id)
        } else {
            api.account_action(&status.account.id, verb)
        }
    }

    /// Favourites, boosts, replies (and quotes, on 4.5+) of each status.
    /// Statuses that are gone are left out.
    fn post_metrics(channel: &Channel, post_ids: &[String]) -> Result<Vec<Metric>, PluginError> {
        let api = Api::connect(channel)?;
        let mut statuses = Vec::with_capacity(post_ids.len());
        for chunk in post_ids.chunks(STATUSES_PER_REQUEST) {
            match api.statuses(chunk) {
                Ok(found) => statuses.extend(found),
                // Before 4.3 there is no multi-get: one by one.
                Err(PluginError::NotFound) => {
                    for id in chunk {
                        match api.status(id) {
                            Ok(status) => statuses.push(status),
                            Err(PluginError::NotFound) => {}
                            Err(err) => return Err(err),
                        }
                    }
                }
                Err(err) => return Err(err),
            }
        }
        Ok(statuses.iter().flat_map(status_metrics).collect())
    }

    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let account = Api::connect(channel)?.verify_credentials()?;
        let counts = [
            (metric::FOLLOWERS, account.followers_count),
            (metric::FOLLOWING, account.following_count),
            (metric::POSTS, account.statuses_count),
        ];
        Ok(counts
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| Metric::account(name, v as f64)))
            .collect())
    }
}

fn status_metrics(status: &Status) -> Vec<Metric> {
    let id = status.id.as_str();
    let mut metrics = vec![
        Metric::post(id, metric::LIKES, status.favourites_count as f64),
        Metric::post(id, metric::REPOSTS, status.reblogs_count as f64),
        Metric::post(id, metric::REPLIES, status.replies_count as f64),
    ];
    if let Some(quotes) = status.quotes_count {
        metrics.push(Metric::post(id, metric::QUOTES, quotes as f64));
    }
    metrics
}

/// An inbox item from a status; the content warning, when there is one,
/// comes first, as Mastodon shows it.
fn item(kind: ItemKind, status: Status, post_id: Option<&str>) -> Item {
    let body = html::to_text(&status.content);
    let text = if status.spoiler_text.is_empty() {
        body
    } else {
        format!("CW: {}\n\n{body}", status.spoiler_text)
    };
    Item {
        url: status.link(),
        remote_id: status.id,
        kind,
        thread_id: post_id.map(str::to_owned),
        parent_id: status.in_reply_to_id,
        post_id: post_id.map(str::to_owned),
        author: status.account.into(),
        text,
        lang: status.language,
        created_at: status.created_at,
    }
}

/// The reply's text starting with `@acct` unless it already mentions the
/// author, or the mention would push it past the length limit.
fn with_mention(text: &str, acct: &str) -> String {
    let mention = format!("@{acct}");
    let lower = text.to_lowercase();
    let already = lower
        .split_whitespace()
        .any(|word| word.trim_end_matches([',', '.', ':', '!', '?']) == mention.to_lowercase());
    let fits = publish::counted_length(&format!("{mention} {text}")) <= publish::MAX_CHARS;
    if already || !fits {
        text.to_owned()
    } else {
        format!("{mention} {text}")
    }
}

/// The kv key caching the account id behind the current token.
fn account_key(api: &Api) -> String {
    // FNV-1a: a stable, short key that does not store the token itself.
    let hash = api
        .token()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("account/{hash:016x}")
}

/// The id of the account behind the token, from the kv store or
/// `verify_credentials`.
pub fn own_account_id(api: &Api) -> Result<String, PluginError> {
    let key = account_key(api);
    if let Some(id) = kv::get_string(&key) {
        return Ok(id);
    }
    let id = api.verify_credentials()?.id;
    kv::set(&key, id.as_bytes());
    Ok(id)
}

/// The host (and port) of the instance URL.
fn host(instance: &str) -> &str {
    instance
        .split_once("://")
        .map_or(instance, |(_, rest)| rest)
}

plaza_sdk::export_plugin!(Mastodon);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
