//! What a plugin says about itself: the manifest returned by `describe`.

use serde_json::{Value, json};

use crate::CONTRACT_VERSION;

bitflags::bitflags! {
    /// What a plugin can do. The host calls only what is declared.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Capabilities: u16 {
        /// Publish text posts (`publish`, `find_published`).
        const PUBLISH = 1 << 0;
        /// Attach media to posts (`media::read` during `publish`).
        const PUBLISH_MEDIA = 1 << 1;
        /// Threads and first comments: follow-up parts of a post (`reply_to`).
        const THREADS = 1 << 2;
        /// Delete a published post (`delete_post`).
        const DELETE_POST = 1 << 3;
        /// Read mentions of the account (`fetch_mentions`).
        const MENTIONS = 1 << 4;
        /// Read comments under a post (`fetch_comments`).
        const COMMENTS = 1 << 5;
        /// Read direct messages (`fetch_messages`).
        const DIRECT_MESSAGES = 1 << 6;
        /// Listening: search by query (`search`).
        const SEARCH = 1 << 7;
        /// Answer an item (`reply`).
        const REPLY = 1 << 8;
        /// Hide or unhide an item (`moderate` with `Hide` / `Unhide`; also
        /// `Report` for a plugin that does not declare `BLOCK_AUTHOR`).
        const HIDE = 1 << 9;
        /// Delete someone else's comment (`moderate` with `Delete`).
        const DELETE_COMMENT = 1 << 10;
        /// Block or mute an author, report an item (`moderate` with
        /// `BlockAuthor` / `MuteAuthor` / `Report`).
        const BLOCK_AUTHOR = 1 << 11;
        /// Per-post numbers (`post_metrics`).
        const POST_METRICS = 1 << 12;
        /// Account numbers (`account_metrics`).
        const ACCOUNT_METRICS = 1 << 13;
        /// Receive platform webhooks (`verify_webhook`, `parse_webhook`).
        const WEBHOOKS = 1 << 14;
        /// Connect through OAuth2 (`oauth_authorize_url`, `oauth_exchange`, `oauth_refresh`).
        const OAUTH2 = 1 << 15;
    }
}

/// What one post may carry on this platform.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// Longest text, in characters.
    pub max_text_chars: u32,
    /// Most media attachments per post.
    pub max_media: u32,
    /// MIME types accepted, e.g. `image/png`; empty means none.
    pub media_types: Vec<String>,
}

impl Limits {
    /// Text up to `max_text_chars` characters and up to `max_media` attachments.
    pub fn new(max_text_chars: u32, max_media: u32) -> Self {
        Self {
            max_text_chars,
            max_media,
            media_types: Vec::new(),
        }
    }

    /// Sets the MIME types accepted for media.
    #[must_use]
    pub fn media_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.media_types = types.into_iter().map(Into::into).collect();
        self
    }
}

/// OAuth2 authorization-code flow (with PKCE) where the platform uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2 {
    /// May reference the channel configuration: `https://{config.instance}/oauth/authorize`.
    pub authorize_url: String,
    /// Where codes and refresh tokens are exchanged; a template like `authorize_url`.
    pub token_url: String,
    /// Scopes to ask for.
    pub scopes: Vec<String>,
}

impl OAuth2 {
    /// An OAuth2 flow with no scopes yet.
    pub fn new(authorize_url: impl Into<String>, token_url: impl Into<String>) -> Self {
        Self {
            authorize_url: authorize_url.into(),
            token_url: token_url.into(),
            scopes: Vec::new(),
        }
    }

    /// Sets the scopes to ask for.
    #[must_use]
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// A plugin's description of itself, returned by `describe`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Stable, lowercase, e.g. `mastodon`.
    pub id: String,
    /// The plugin's own semver.
    pub version: String,
    /// The contract version it was built against; the SDK fills it in.
    pub contract: String,
    /// The platform's name: `Mastodon`.
    pub platform: String,
    /// The plugin's name as shown to people.
    pub display_name: String,
    /// What the plugin can do.
    pub capabilities: Capabilities,
    /// What one post may carry.
    pub limits: Limits,
    /// Hosts the plugin needs, as templates over the channel configuration.
    pub allowed_hosts: Vec<String>,
    /// JSON Schema of the channel configuration.
    pub config_schema: String,
    /// JSON Schema of per-post options.
    pub post_options_schema: String,
    /// The OAuth2 flow, when the platform connects that way.
    pub oauth2: Option<OAuth2>,
}

impl Manifest {
    /// Starts a manifest for the plugin `id` shown as `display_name`.
    pub fn builder(id: impl Into<String>, display_name: impl Into<String>) -> ManifestBuilder {
        let display_name = display_name.into();
        ManifestBuilder {
            manifest: Manifest {
                id: id.into(),
                version: "0.0.0".to_owned(),
                contract: CONTRACT_VERSION.to_owned(),
                platform: display_name.clone(),
                display_name,
                capabilities: Capabilities::empty(),
                limits: Limits::default(),
                allowed_hosts: Vec::new(),
                config_schema: json!({ "type": "object" }).to_string(),
                post_options_schema: json!({ "type": "object", "additionalProperties": false })
                    .to_string(),
                oauth2: None,
            },
        }
    }
}

/// Builds a [`Manifest`]; start with [`Manifest::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ManifestBuilder {
    manifest: Manifest,
}

impl ManifestBuilder {
    /// The plugin's own version; pass `env!("CARGO_PKG_VERSION")`. Defaults to `0.0.0`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.manifest.version = version.into();
        self
    }

    /// The platform's name, when it differs from the display name.
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.manifest.platform = platform.into();
        self
    }

    /// What the plugin can do; replaces any earlier value.
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.manifest.capabilities = capabilities;
        self
    }

    /// What one post may carry.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.manifest.limits = limits;
        self
    }

    /// Adds a host the plugin may call: `bsky.social`, `{config.instance}` or
    /// `{config.base_url}` (a URL in the configuration counts by its host).
    pub fn allowed_host(mut self, template: impl Into<String>) -> Self {
        self.manifest.allowed_hosts.push(template.into());
        self
    }

    /// JSON Schema of the channel configuration. Defaults to any object.
    pub fn config_schema(mut self, schema: &Value) -> Self {
        self.manifest.config_schema = schema.to_string();
        self
    }

    /// JSON Schema of per-post options. Defaults to an object with no properties.
    pub fn post_options_schema(mut self, schema: &Value) -> Self {
        self.manifest.post_options_schema = schema.to_string();
        self
    }

    /// The OAuth2 flow; also declares [`Capabilities::OAUTH2`].
    pub fn oauth2(mut self, oauth2: OAuth2) -> Self {
        self.manifest.oauth2 = Some(oauth2);
        self.manifest.capabilities |= Capabilities::OAUTH2;
        self
    }

    /// The finished manifest.
    pub fn build(self) -> Manifest {
        self.manifest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_fills_the_contract_and_defaults() {
        let manifest = Manifest::builder("example", "Example")
            .version("1.2.3")
            .capabilities(Capabilities::PUBLISH | Capabilities::REPLY)
            .limits(Limits::new(500, 4).media_types(["image/png"]))
            .allowed_host("{config.base_url}")
            .config_schema(&json!({ "type": "object", "required": ["base_url"] }))
            .build();

        assert_eq!(manifest.contract, CONTRACT_VERSION);
        assert_eq!(manifest.platform, "Example");
        assert_eq!(manifest.allowed_hosts, ["{config.base_url}"]);
        assert!(manifest.capabilities.contains(Capabilities::REPLY));
        assert_eq!(manifest.limits.media_types, ["image/png"]);
        let schema: Value = serde_json::from_str(&manifest.config_schema).unwrap();
        assert_eq!(schema["required"][0], "base_url");
        assert!(manifest.oauth2.is_none());
    }

    #[test]
    fn oauth2_declares_the_capability() {
        let manifest = Manifest::builder("example", "Example")
            .oauth2(OAuth2::new("https://a/authorize", "https://a/token").scopes(["read"]))
            .build();
        assert!(manifest.capabilities.contains(Capabilities::OAUTH2));
    }
}
