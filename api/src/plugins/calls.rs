//! Host-side calls for the rest of the contract: deleting posts, listening
//! (mentions, comments, messages, search), replying, moderating, post
//! metrics and platform webhooks. Each runs like every call (its own store,
//! the call pool, the circuit breaker, the output cap) and only when the
//! plugin declares the capability it needs; otherwise it answers
//! [`CallError::Unsupported`] without entering the plugin.

use super::bindings::{
    Capabilities, Item, Metric, Moderation, Page, PluginError, Post, Published, WebhookOutcome,
    WebhookRequest,
};
use super::error::CallError;
use super::manifest::PluginManifest;
use super::registry::{LoadedPlugin, PluginRegistry, contract, weigh_metrics, weigh_published};
use super::runtime::CallContext;

/// The capability a moderation action needs from the plugin `manifest`
/// describes. Reporting is flagging an item to the platform: an account's
/// own platform (a blog) flags it as spam by the means it hides with, so a
/// report is allowed to a plugin that blocks authors or, failing that, one
/// that hides items.
pub fn moderation_capability(
    action: Moderation,
    manifest: &PluginManifest,
) -> (Capabilities, &'static str) {
    match action {
        Moderation::Hide | Moderation::Unhide => (Capabilities::HIDE, "hide"),
        Moderation::Delete => (Capabilities::DELETE_COMMENT, "delete_comment"),
        Moderation::Report
            if !manifest.can(Capabilities::BLOCK_AUTHOR) && manifest.can(Capabilities::HIDE) =>
        {
            (Capabilities::HIDE, "hide")
        }
        Moderation::BlockAuthor | Moderation::MuteAuthor | Moderation::Report => {
            (Capabilities::BLOCK_AUTHOR, "block_author")
        }
    }
}

fn weigh_item(item: &Item) -> usize {
    item.remote_id.len()
        + item.text.len()
        + item.author.remote_id.len()
        + item.author.handle.len()
        + item.author.display_name.as_ref().map_or(0, String::len)
        + [
            &item.thread_id,
            &item.parent_id,
            &item.post_id,
            &item.url,
            &item.lang,
        ]
        .iter()
        .map(|field| field.as_ref().map_or(0, String::len))
        .sum::<usize>()
        + item.created_at.len()
}

fn weigh_page(value: &Result<Page, PluginError>) -> usize {
    match value {
        Ok(page) => {
            page.items.iter().map(weigh_item).sum::<usize>()
                + page.next_cursor.as_ref().map_or(0, String::len)
        }
        Err(_) => 0,
    }
}

fn weigh_outcome(value: &Result<WebhookOutcome, PluginError>) -> usize {
    match value {
        Ok(outcome) => {
            outcome.items.iter().map(weigh_item).sum::<usize>()
                + outcome.reply.as_ref().map_or(0, |r| r.body.len())
        }
        Err(_) => 0,
    }
}

fn weightless<T>(_: &T) -> usize {
    0
}

impl PluginRegistry {
    /// Deletes a published post on the platform.
    pub async fn delete_post(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        remote_id: String,
    ) -> Result<(), CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::DELETE_POST, "delete_post"),
            context,
            weightless,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_delete_post(store, &channel, &remote_id)
            },
        )
        .await
        .and_then(contract)
    }

    /// Mentions of the account after `cursor`.
    pub async fn fetch_mentions(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<Page, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::MENTIONS, "mentions"),
            context,
            weigh_page,
            move |p, store| {
                p.plaza_plugin_platform().call_fetch_mentions(
                    store,
                    &channel,
                    cursor.as_deref(),
                    limit,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Comments on one published post after `cursor`.
    pub async fn fetch_comments(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        post_id: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<Page, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::COMMENTS, "comments"),
            context,
            weigh_page,
            move |p, store| {
                p.plaza_plugin_platform().call_fetch_comments(
                    store,
                    &channel,
                    &post_id,
                    cursor.as_deref(),
                    limit,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Direct messages after `cursor`.
    pub async fn fetch_messages(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<Page, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::DIRECT_MESSAGES, "direct_messages"),
            context,
            weigh_page,
            move |p, store| {
                p.plaza_plugin_platform().call_fetch_messages(
                    store,
                    &channel,
                    cursor.as_deref(),
                    limit,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Listening: what the platform finds for `query` after `cursor`.
    pub async fn search(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        query: String,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<Page, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::SEARCH, "search"),
            context,
            weigh_page,
            move |p, store| {
                p.plaza_plugin_platform().call_search(
                    store,
                    &channel,
                    &query,
                    cursor.as_deref(),
                    limit,
                )
            },
        )
        .await
        .and_then(contract)
    }

    /// Answers an item on the platform.
    pub async fn reply(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        to: String,
        post: Post,
    ) -> Result<Published, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::REPLY, "reply"),
            context,
            weigh_published,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_reply(store, &channel, &to, &post)
            },
        )
        .await
        .and_then(contract)
    }

    /// Hides, deletes, blocks … on the platform.
    pub async fn moderate(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        remote_id: String,
        action: Moderation,
    ) -> Result<(), CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            moderation_capability(action, &plugin.manifest),
            context,
            weightless,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_moderate(store, &channel, &remote_id, action)
            },
        )
        .await
        .and_then(contract)
    }

    /// Metrics of published posts.
    pub async fn post_metrics(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        post_ids: Vec<String>,
    ) -> Result<Vec<Metric>, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::POST_METRICS, "post_metrics"),
            context,
            weigh_metrics,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_post_metrics(store, &channel, &post_ids)
            },
        )
        .await
        .and_then(contract)
    }

    /// Checks that a platform webhook is genuine (signature, secret token).
    pub async fn verify_webhook(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        request: WebhookRequest,
    ) -> Result<(), CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::WEBHOOKS, "webhooks"),
            context,
            weightless,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_verify_webhook(store, &channel, &request)
            },
        )
        .await
        .and_then(contract)
    }

    /// Reads a verified platform webhook into items (and the answer the
    /// platform wants, if any).
    pub async fn parse_webhook(
        &self,
        plugin: &LoadedPlugin,
        context: CallContext,
        request: WebhookRequest,
    ) -> Result<WebhookOutcome, CallError> {
        let channel = context.channel();
        self.call(
            plugin,
            (Capabilities::WEBHOOKS, "webhooks"),
            context,
            weigh_outcome,
            move |p, store| {
                p.plaza_plugin_platform()
                    .call_parse_webhook(store, &channel, &request)
            },
        )
        .await
        .and_then(contract)
    }
}
