//! Plaza's webhook plugin: publishes a post as JSON to any URL — a Slack or
//! Microsoft Teams incoming webhook, a Zapier catch hook, an n8n webhook
//! node, an endpoint of your own — signed per Standard Webhooks when the
//! channel holds a `secret` credential.
//!
//! [`config`] is the channel configuration, [`payload`] the bodies sent,
//! [`signing`] the signature; this file maps the endpoint's answers onto the
//! contract:
//!
//! | answer | outcome |
//! | --- | --- |
//! | 2xx | published; the remote id is the body's `id` if it has one, else the idempotency key |
//! | 429 | rate limited, for `Retry-After` seconds when given |
//! | other 4xx | invalid, with the endpoint's reason |
//! | 5xx, no answer | transient: Plaza retries with the same `webhook-id` |

pub mod config;
pub mod payload;
pub mod signing;

use plaza_sdk::http::{Request, Response, retry_after_secs};
use plaza_sdk::{
    Author, Capabilities, Channel, Limits, Manifest, Plugin, PluginError, Post, Published, clock,
    credentials, log,
};
use serde_json::{Value, json};

use crate::config::Config;
use crate::signing::{SECRET, Signer};

/// Longest text sent: Slack advises at most 4,000 characters in a message's
/// `text` (it truncates past 40,000) and Teams refuses cards over 28 KB.
pub const MAX_TEXT_CHARS: u32 = 4_000;

/// Longest reason taken from an endpoint's answer, in characters.
const MAX_REASON_CHARS: usize = 300;

/// The webhook plugin.
#[derive(Debug)]
pub struct Webhook;

impl Plugin for Webhook {
    fn describe() -> Manifest {
        Manifest::builder("webhook", "Webhook")
            .version(env!("CARGO_PKG_VERSION"))
            .platform("Webhook (Slack, Microsoft Teams, Zapier, n8n)")
            .capabilities(Capabilities::PUBLISH | Capabilities::PUBLISH_MEDIA)
            .limits(Limits::new(MAX_TEXT_CHARS, 4).media_types([
                "image/png",
                "image/jpeg",
                "image/gif",
                "image/webp",
                "video/mp4",
            ]))
            .allowed_host("{config.url}")
            .config_schema(&Config::schema())
            .post_options_schema(&options_schema())
            .build()
    }

    fn validate_config(config: &str) -> Result<(), PluginError> {
        Config::parse(config).map(drop)
    }

    /// A webhook has no account to ask about; the check reads the
    /// configuration and the secret. The account is the URL, by a digest
    /// (the same URL cannot be connected twice) and its host: the rest of a
    /// webhook URL is a secret and is never shown.
    fn check_credentials(channel: &Channel) -> Result<Author, PluginError> {
        let config = Config::parse(&channel.config)?;
        if let Some(secret) = credentials::get(SECRET) {
            Signer::new(&secret)?;
        }
        let host = config.host();
        Ok(Author::new(config.fingerprint(), host))
    }

    fn publish(channel: &Channel, post: Post) -> Result<Published, PluginError> {
        let config = Config::parse(&channel.config)?;
        let body = serde_json::to_vec(&payload::body(config.format, channel, &post)?)
            .map_err(|err| PluginError::invalid(format!("cannot encode the body: {err}")))?;
        let now_ms = clock::now_ms();
        let id = if post.idempotency_key.is_empty() {
            format!("msg_{now_ms}")
        } else {
            post.idempotency_key
        };
        let mut request = Request::post(config.url.as_str())
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                concat!("Plaza-Webhook/", env!("CARGO_PKG_VERSION")),
            );
        if let Some(secret) = credentials::get(SECRET) {
            let timestamp = now_ms / 1000;
            let signature = Signer::new(&secret)?.sign(&id, timestamp, &body)?;
            request = request
                .header("webhook-id", id.as_str())
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature);
        }
        let response = request.bytes(body).send()?;
        let published = outcome(&response, &id)?;
        log::debug(format!(
            "webhook to {} answered {}",
            config.host(),
            response.status
        ));
        Ok(published)
    }
}

/// Per-post options: any JSON object, passed through in the `plaza`
/// envelope's `options` (the other formats ignore them).
fn options_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": "Sent as is in the plaza envelope's options; ignored by the slack and teams formats"
    })
}

/// What an endpoint's answer means.
pub fn outcome(response: &Response, id: &str) -> Result<Published, PluginError> {
    match response.status {
        200..=299 => Ok(published(response, id)),
        429 => Err(PluginError::RateLimited(
            response
                .header("retry-after")
                .and_then(|value| retry_after_secs(value, clock::now_ms())),
        )),
        400..=499 => Err(PluginError::Invalid(format!(
            "the webhook refused the post (HTTP {}): {}",
            response.status,
            reason(response)
        ))),
        status => Err(PluginError::Transient(format!(
            "the webhook failed (HTTP {status}): {}",
            reason(response)
        ))),
    }
}

/// The body's `id` (a string or a number) and `url` when it is JSON that
/// has them; otherwise the message id names the post.
fn published(response: &Response, id: &str) -> Published {
    let body = serde_json::from_slice::<Value>(&response.body).ok();
    let field = |name: &str| match body.as_ref().and_then(|b| b.get(name)) {
        Some(Value::String(text)) if !text.is_empty() => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let mut published = Published::new(field("id").unwrap_or_else(|| id.to_owned()));
    if let Some(url) = field("url").filter(|u| u.starts_with("https://")) {
        published = published.url(url);
    }
    published
}

fn reason(response: &Response) -> String {
    let text = response.text();
    let text = text.trim();
    if text.is_empty() {
        "no reason given".to_owned()
    } else {
        text.chars().take(MAX_REASON_CHARS).collect()
    }
}

plaza_sdk::export_plugin!(Webhook);

// The test host exists only natively: plugin tests never run inside wasm.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
