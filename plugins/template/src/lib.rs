//! The Plaza plugin template: a small but real platform plugin for a JSON
//! HTTP API at `{config.base_url}` with a bearer token (`access_token`).
//!
//! Copy this crate to start a plugin of your own; `sdk/README.md` walks
//! through it. [`api`] holds the wire format, [`config`] the channel
//! configuration, and this file maps the platform onto the contract.

pub mod api;
pub mod config;

use plaza_sdk::{
    Author, Capabilities, Channel, Limits, Manifest, Metric, OAuth2, Page, Plugin, PluginError,
    Post, Published, Tokens, log, metric,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::{Api, NewPost};
use crate::config::Config;

/// Most items asked for in one page, whatever the host asks.
const MAX_PAGE: u32 = 100;

/// The template platform.
#[derive(Debug)]
pub struct Template;

impl Plugin for Template {
    fn describe() -> Manifest {
        Manifest::builder("template", "Template")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Example JSON API")
            .capabilities(
                Capabilities::PUBLISH
                    | Capabilities::PUBLISH_MEDIA
                    | Capabilities::OAUTH2
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::REPLY
                    | Capabilities::POST_METRICS
                    | Capabilities::ACCOUNT_METRICS,
            )
            .limits(Limits::new(500, 4).media_types(["image/png", "image/jpeg", "image/gif"]))
            .allowed_host("{config.base_url}")
            .config_schema(&Config::schema())
            .post_options_schema(&PostOptions::schema())
            .oauth2(
                OAuth2::new(
                    "{config.base_url}/oauth/authorize",
                    "{config.base_url}/oauth/token",
                )
                .scopes(["read", "write"]),
            )
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        Ok(Api::connect(channel)?.me()?.into())
    }

    fn oauth_authorize_url(
        channel: &Channel,
        state: &str,
        pkce_challenge: &str,
        redirect_uri: &str,
    ) -> Result<String, PluginError> {
        let config = Config::parse(&channel.config)?;
        let client_id = oauth_client(&config)?;
        let query = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("scope", SCOPES),
            ("state", state),
            ("code_challenge", pkce_challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", plaza_sdk::http::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&");
        Ok(format!("{}?{query}", config.url("/oauth/authorize")))
    }

    fn oauth_exchange(
        channel: &Channel,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, PluginError> {
        let config = Config::parse(&channel.config)?;
        let client_id = oauth_client(&config)?;
        api::token(
            &config,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
                ("client_id", client_id),
                ("code_verifier", pkce_verifier),
            ],
        )
    }

    fn oauth_refresh(channel: &Channel) -> Result<Tokens, PluginError> {
        let config = Config::parse(&channel.config)?;
        let client_id = oauth_client(&config)?;
        let refresh = plaza_sdk::credentials::require("refresh_token")?;
        api::token(
            &config,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", client_id),
            ],
        )
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let api = Api::connect(channel)?;
        let options = PostOptions::parse(&post.options)?;
        let media_ids = post
            .media
            .iter()
            .map(|attachment| api.upload(attachment))
            .collect::<Result<Vec<_>, _>>()?;
        let published = api.create_post(
            &NewPost {
                text: &post.text,
                reply_to: post.reply_to.as_deref(),
                media_ids,
                visibility: options.visibility,
                content_warning: options.content_warning,
            },
            &post.idempotency_key,
        )?;
        log::debug(format!("published post {}", published.remote_id));
        Ok(published)
    }

    /// Looks the key up: after a crash between the platform call and its
    /// recorded outcome, Plaza asks this before sending again. Without a key
    /// nothing can be found, and "not found" would mean "send again".
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        if idempotency_key.is_empty() {
            return Err(PluginError::Invalid(
                "a post sent without an idempotency key cannot be looked up".into(),
            ));
        }
        Api::connect(channel)?.find_post(idempotency_key)
    }

    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        Api::connect(channel)?.delete_post(remote_id)
    }

    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        Api::connect(channel)?.mentions(cursor, limit.clamp(1, MAX_PAGE))
    }

    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let reply = NewPost {
            text: &post.text,
            reply_to: Some(to),
            ..NewPost::default()
        };
        Api::connect(channel)?.create_post(&reply, &post.idempotency_key)
    }

    /// One call per post (this platform has no batch endpoint); a post
    /// deleted on the platform is left out, not an error.
    fn post_metrics(channel: &Channel, post_ids: &[String]) -> Result<Vec<Metric>, PluginError> {
        let api = Api::connect(channel)?;
        let mut metrics = Vec::with_capacity(post_ids.len() * 4);
        for id in post_ids {
            let Some(stats) = api.post_stats(id)? else {
                continue;
            };
            metrics.extend([
                Metric::post(id, metric::LIKES, stats.likes as f64),
                Metric::post(id, metric::REPOSTS, stats.shares as f64),
                Metric::post(id, metric::REPLIES, stats.comments as f64),
            ]);
            if let Some(views) = stats.views {
                metrics.push(Metric::post(id, metric::IMPRESSIONS, views as f64));
            }
        }
        Ok(metrics)
    }

    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let account = Api::connect(channel)?.me()?;
        Ok(account
            .followers_count
            .map(Metric::followers)
            .into_iter()
            .collect())
    }
}

/// Scopes asked for through OAuth2.
const SCOPES: &str = "read write";

fn oauth_client(config: &Config) -> Result<&str, PluginError> {
    config
        .client_id
        .as_deref()
        .ok_or_else(|| PluginError::Invalid("OAuth2 needs client_id in the configuration".into()))
}

/// Per-post options, as the post-options schema describes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostOptions {
    /// `public` (default), `unlisted` or `private`.
    pub visibility: Option<String>,
    /// A content warning shown before the text.
    pub content_warning: Option<String>,
}

impl PostOptions {
    /// The JSON Schema the host validates options against before publishing.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "visibility": {"enum": ["public", "unlisted", "private"]},
                "content_warning": {"type": "string", "minLength": 1, "maxLength": 100}
            },
            "additionalProperties": false
        })
    }

    /// Reads options the host already validated; empty means defaults.
    pub fn parse(raw: &str) -> Result<Self, PluginError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(raw)
            .map_err(|err| PluginError::Invalid(format!("post options: {err}")))
    }
}

plaza_sdk::export_plugin!(Template);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
