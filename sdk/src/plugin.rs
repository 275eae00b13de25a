//! The trait a platform plugin implements, one method per `platform` function.

use crate::{
    Author, Channel, Manifest, Metric, Moderation, Page, PluginError, Post, Published, Tokens,
    WebhookOutcome, WebhookRequest,
};

/// A social platform, as Plaza sees it. Implement `describe` and what the
/// manifest's capabilities promise; everything else answers
/// [`PluginError::Unsupported`]. Wire the type to the component's exports
/// with [`crate::export_plugin!`].
///
/// Every call is independent: keep nothing in statics between calls (the
/// host may use a fresh instance for each); use [`crate::kv`] instead.
pub trait Plugin {
    /// The manifest: id, capabilities, limits, allowed hosts, schemas.
    fn describe() -> Manifest;

    /// Checks a channel configuration beyond its JSON Schema (which the host
    /// has already applied). `Unsupported` means "nothing more to check".
    fn validate_config(config: &str) -> Result<(), PluginError> {
        let _ = config;
        Err(PluginError::Unsupported)
    }

    /// Checks the channel's credentials and answers the connected account.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let _ = channel;
        Err(PluginError::Unsupported)
    }

    /// The URL to send a person to for OAuth2 consent.
    fn oauth_authorize_url(
        channel: &Channel,
        state: &str,
        pkce_challenge: &str,
        redirect_uri: &str,
    ) -> Result<String, PluginError> {
        let _ = (channel, state, pkce_challenge, redirect_uri);
        Err(PluginError::Unsupported)
    }

    /// Exchanges an OAuth2 authorization code for tokens.
    fn oauth_exchange(
        channel: &Channel,
        code: &str,
        pkce_verifier: &str,
        redirect_uri: &str,
    ) -> Result<Tokens, PluginError> {
        let _ = (channel, code, pkce_verifier, redirect_uri);
        Err(PluginError::Unsupported)
    }

    /// Refreshes the channel's OAuth2 tokens (the refresh token is the
    /// `refresh_token` credential).
    fn oauth_refresh(channel: &Channel) -> Result<Tokens, PluginError> {
        let _ = channel;
        Err(PluginError::Unsupported)
    }

    /// Publishes a post.
    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let _ = (channel, post);
        Err(PluginError::Unsupported)
    }

    /// After a crash: did a publish with this idempotency key reach the platform?
    fn find_published(
        channel: &Channel,
        idempotency_key: &str,
    ) -> Result<Option<Published>, PluginError> {
        let _ = (channel, idempotency_key);
        Err(PluginError::Unsupported)
    }

    /// Deletes one of the account's posts.
    fn delete_post(channel: &Channel, remote_id: &str) -> Result<(), PluginError> {
        let _ = (channel, remote_id);
        Err(PluginError::Unsupported)
    }

    /// Reads mentions of the account, newest first.
    fn fetch_mentions(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let _ = (channel, cursor, limit);
        Err(PluginError::Unsupported)
    }

    /// Reads comments under one of the account's posts.
    fn fetch_comments(
        channel: &Channel,
        post_id: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let _ = (channel, post_id, cursor, limit);
        Err(PluginError::Unsupported)
    }

    /// Reads direct messages.
    fn fetch_messages(
        channel: &Channel,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let _ = (channel, cursor, limit);
        Err(PluginError::Unsupported)
    }

    /// Searches the platform (listening).
    fn search(
        channel: &Channel,
        query: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page, PluginError> {
        let _ = (channel, query, cursor, limit);
        Err(PluginError::Unsupported)
    }

    /// Answers the item `to` with a post.
    fn reply(channel: &Channel, to: &str, post: Post) -> Result<Published, PluginError> {
        let _ = (channel, to, post);
        Err(PluginError::Unsupported)
    }

    /// Hides, deletes, blocks or reports.
    fn moderate(channel: &Channel, remote_id: &str, action: Moderation) -> Result<(), PluginError> {
        let _ = (channel, remote_id, action);
        Err(PluginError::Unsupported)
    }

    /// Numbers of the given posts.
    fn post_metrics(channel: &Channel, post_ids: &[String]) -> Result<Vec<Metric>, PluginError> {
        let _ = (channel, post_ids);
        Err(PluginError::Unsupported)
    }

    /// Numbers of the account.
    fn account_metrics(channel: &Channel) -> Result<Vec<Metric>, PluginError> {
        let _ = channel;
        Err(PluginError::Unsupported)
    }

    /// Checks that a webhook request really comes from the platform.
    fn verify_webhook(channel: &Channel, request: &WebhookRequest) -> Result<(), PluginError> {
        let _ = (channel, request);
        Err(PluginError::Unsupported)
    }

    /// Turns a verified webhook request into inbox items and, if the
    /// platform wants one, a particular answer.
    fn parse_webhook(
        channel: &Channel,
        request: &WebhookRequest,
    ) -> Result<WebhookOutcome, PluginError> {
        let _ = (channel, request);
        Err(PluginError::Unsupported)
    }
}
