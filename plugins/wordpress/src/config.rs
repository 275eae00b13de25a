//! The channel configuration: one WordPress site, and what deleting means
//! there.

use plaza_sdk::{PluginError, parse_config};
use serde::Deserialize;
use serde_json::{Value, json};

/// What deleting a post or a comment does on the site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeleteMode {
    /// Move it to the trash, where an editor can restore it for 30 days
    /// (`EMPTY_TRASH_DAYS`): WordPress's own default.
    #[default]
    Trash,
    /// Delete it for good (`force=true`).
    Force,
}

/// A parsed, checked channel configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The site's address, `https://blog.example.com` or with a path for a
    /// WordPress in a subfolder, kept without a trailing slash. The REST API
    /// lives under `{site_url}/wp-json/`.
    pub site_url: String,
    /// What `delete` does to posts and comments.
    #[serde(default)]
    pub delete_mode: DeleteMode,
}

impl Config {
    /// Parses and checks configuration JSON; any problem is
    /// [`PluginError::Invalid`] with a reason for people.
    pub fn parse(config: &str) -> Result<Self, PluginError> {
        let Config {
            site_url,
            delete_mode,
        } = parse_config(config)?;
        Ok(Self {
            site_url: checked_site_url(&site_url)?,
            delete_mode,
        })
    }

    /// The URL of a `wp/v2` route (`path` starts with `/`).
    pub fn route(&self, path: &str) -> String {
        format!("{}/wp-json/wp/v2{path}", self.site_url)
    }

    /// Whether deletes skip the trash.
    pub fn force_delete(&self) -> bool {
        self.delete_mode == DeleteMode::Force
    }

    /// The JSON Schema the manifest declares for this configuration.
    pub fn schema() -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["site_url"],
            "properties": {
                "site_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "title": "Site address",
                    "description": "The WordPress site's address (Settings, General: WordPress Address); its REST API is under /wp-json/",
                    "examples": ["https://blog.example.com"]
                },
                "delete_mode": {
                    "type": "string",
                    "enum": ["trash", "force"],
                    "default": "trash",
                    "title": "Deleting",
                    "description": "trash: posts and comments deleted from Plaza go to the site's trash; force: they are deleted for good"
                }
            },
            "additionalProperties": false
        })
    }
}

/// The site URL without surrounding spaces or trailing slashes, if it is a
/// plain http(s) URL. Plain `http://` passes here; the host refuses it
/// unless its operator marked the host as a local server.
fn checked_site_url(url: &str) -> Result<String, PluginError> {
    let invalid = |reason: &str| Err(PluginError::Invalid(format!("site_url {reason}")));
    let trimmed = url.trim();
    let (scheme, rest) = if let Some(rest) = trimmed.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = trimmed.strip_prefix("http://") {
        ("http", rest)
    } else {
        return invalid("must start with https://");
    };
    let rest = rest.trim_end_matches('/');
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return invalid("has no host");
    }
    if authority.contains('@') {
        return invalid(
            "must not carry a user name or password (they are the channel's credentials)",
        );
    }
    if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
        return invalid("must be a plain URL without query, fragment or spaces");
    }
    if rest.ends_with("/wp-json") || rest.contains("/wp-json/") {
        return invalid("is the site's address, without /wp-json");
    }
    Ok(format!("{scheme}://{rest}"))
}
