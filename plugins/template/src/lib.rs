//! The Plaza plugin template: a small but real platform plugin for a JSON
//! HTTP API at `{config.base_url}` with a bearer token (`access_token`).
//!
//! Copy this crate to start a plugin of your own; `sdk/README.md` walks
//! through it. [`api`] holds the wire format, [`config`] the channel
//! configuration, and this file maps the platform onto the contract.

pub mod api;
pub mod config;

use plaza_sdk::{
    Author, Capabilities, Channel, Limits, Manifest, Metric, Page, Plugin, PluginError, Post,
    Published, log,
};

use crate::api::Api;
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
                    | Capabilities::THREADS
                    | Capabilities::DELETE_POST
                    | Capabilities::MENTIONS
                    | Capabilities::REPLY
                    | Capabilities::ACCOUNT_METRICS,
            )
            .limits(Limits::new(500, 0))
            .allowed_host("{config.base_url}")
            .config_schema(&Config::schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        Ok(Api::connect(channel)?.me()?.into())
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let published = Api::connect(channel)?.create_post(
            &post.text,
            post.reply_to.as_deref(),
            &post.idempotency_key,
        )?;
        log::debug(format!("published post {}", published.remote_id));
        Ok(published)
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
        Api::connect(channel)?.create_post(&post.text, Some(to), &post.idempotency_key)
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

plaza_sdk::export_plugin!(Template);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
