//! A plugin's manifest as the API shows it, checked when the plugin loads.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::bindings::{Capabilities, Manifest};

/// The contract version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Capability names, in the order of the contract's `capabilities` flags.
const CAPABILITIES: [(Capabilities, &str); 16] = [
    (Capabilities::PUBLISH, "publish"),
    (Capabilities::PUBLISH_MEDIA, "publish_media"),
    (Capabilities::THREADS, "threads"),
    (Capabilities::DELETE_POST, "delete_post"),
    (Capabilities::MENTIONS, "mentions"),
    (Capabilities::COMMENTS, "comments"),
    (Capabilities::DIRECT_MESSAGES, "direct_messages"),
    (Capabilities::SEARCH, "search"),
    (Capabilities::REPLY, "reply"),
    (Capabilities::HIDE, "hide"),
    (Capabilities::DELETE_COMMENT, "delete_comment"),
    (Capabilities::BLOCK_AUTHOR, "block_author"),
    (Capabilities::POST_METRICS, "post_metrics"),
    (Capabilities::ACCOUNT_METRICS, "account_metrics"),
    (Capabilities::WEBHOOKS, "webhooks"),
    (Capabilities::OAUTH2, "oauth2"),
];

/// What one post may carry on the platform.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginLimits {
    /// Longest text, in characters.
    pub max_text_chars: u32,
    /// Most media attachments.
    pub max_media: u32,
    /// Accepted media types.
    pub media_types: Vec<String>,
}

/// How the platform's OAuth2 flow is reached.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginOauth2 {
    /// Authorization endpoint (may reference the channel configuration).
    pub authorize_url: String,
    /// Token endpoint.
    pub token_url: String,
    /// Scopes requested.
    pub scopes: Vec<String>,
}

/// A plugin's self-description, as checked at load.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PluginManifest {
    /// Stable id (`mastodon`).
    pub id: String,
    /// The plugin's version.
    pub version: String,
    /// Contract version it was built for.
    pub contract: String,
    /// The platform (`Mastodon`).
    pub platform: String,
    /// Name to show.
    pub display_name: String,
    /// What it can do.
    pub capabilities: Vec<String>,
    /// What a post may carry.
    pub limits: PluginLimits,
    /// Hosts it needs, as templates over the channel configuration.
    pub allowed_hosts: Vec<String>,
    /// JSON Schema of a channel's configuration.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    /// JSON Schema of per-post options.
    #[schema(value_type = Object)]
    pub post_options_schema: serde_json::Value,
    /// OAuth2 endpoints, where the platform uses OAuth2.
    pub oauth2: Option<PluginOauth2>,
    #[serde(skip)]
    flags: Capabilities,
    #[serde(skip)]
    config_validator: Validator,
    #[serde(skip)]
    options_validator: Validator,
}

/// A compiled JSON Schema (kept beside the manifest so each request does not compile it).
#[derive(Clone)]
struct Validator(Arc<jsonschema::Validator>);

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Validator")
    }
}

/// One way a JSON document breaks a plugin's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer into the document (`/visibility`), empty for the root.
    pub pointer: String,
    /// What is wrong, for people.
    pub message: String,
}

impl Validator {
    fn compile(schema: &serde_json::Value, what: &'static str) -> Result<Self, ManifestError> {
        jsonschema::validator_for(schema)
            .map(|v| Self(Arc::new(v)))
            .map_err(|e| ManifestError::Schema(what, e.to_string()))
    }

    fn violations(&self, document: &serde_json::Value) -> Vec<SchemaViolation> {
        self.0
            .iter_errors(document)
            .take(20)
            .map(|err| SchemaViolation {
                pointer: err.instance_path.to_string(),
                message: err.to_string(),
            })
            .collect()
    }
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The id is not a short lowercase name.
    #[error("plugin id {0:?} must be 1-64 characters of a-z, 0-9, - and _")]
    BadId(String),
    /// Built for another contract.
    #[error("plugin speaks contract {0}, this server speaks {CONTRACT_VERSION}")]
    Contract(String),
    /// A schema is not JSON, or not a JSON Schema.
    #[error("the {0} schema is not a valid JSON Schema: {1}")]
    Schema(&'static str, String),
    /// Too large to be a manifest.
    #[error("the manifest is larger than 256 KiB")]
    TooLarge,
}

fn schema(raw: &str, what: &'static str) -> Result<serde_json::Value, ManifestError> {
    if raw.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_str(raw).map_err(|e| ManifestError::Schema(what, e.to_string()))
}

impl PluginManifest {
    /// Checks a manifest a plugin returned from `describe`.
    pub fn parse(raw: Manifest) -> Result<Self, ManifestError> {
        let size = raw.config_schema.len()
            + raw.post_options_schema.len()
            + raw.allowed_hosts.iter().map(String::len).sum::<usize>();
        if size > 256 * 1024 {
            return Err(ManifestError::TooLarge);
        }
        let id_ok = (1..=64).contains(&raw.id.len())
            && raw
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok {
            return Err(ManifestError::BadId(raw.id));
        }
        if raw.contract != CONTRACT_VERSION {
            return Err(ManifestError::Contract(raw.contract));
        }
        let config_schema = schema(&raw.config_schema, "config")?;
        let post_options_schema = schema(&raw.post_options_schema, "post options")?;
        Ok(Self {
            config_validator: Validator::compile(&config_schema, "config")?,
            options_validator: Validator::compile(&post_options_schema, "post options")?,
            config_schema,
            post_options_schema,
            capabilities: CAPABILITIES
                .iter()
                .filter(|(flag, _)| raw.capabilities.contains(*flag))
                .map(|(_, name)| (*name).to_owned())
                .collect(),
            flags: raw.capabilities,
            id: raw.id,
            version: raw.version,
            contract: raw.contract,
            platform: raw.platform,
            display_name: raw.display_name,
            limits: PluginLimits {
                max_text_chars: raw.limits.max_text_chars,
                max_media: raw.limits.max_media,
                media_types: raw.limits.media_types,
            },
            allowed_hosts: raw.allowed_hosts,
            oauth2: raw.oauth2.map(|o| PluginOauth2 {
                authorize_url: o.authorize_url,
                token_url: o.token_url,
                scopes: o.scopes,
            }),
        })
    }

    /// Whether the plugin declares a capability.
    pub fn can(&self, capability: Capabilities) -> bool {
        self.flags.contains(capability)
    }

    /// How a channel configuration breaks the config schema (empty if it fits).
    pub fn config_violations(&self, config: &serde_json::Value) -> Vec<SchemaViolation> {
        self.config_validator.violations(config)
    }

    /// How a variant's options break the post-options schema (empty if they fit).
    pub fn options_violations(&self, options: &serde_json::Value) -> Vec<SchemaViolation> {
        self.options_validator.violations(options)
    }
}
