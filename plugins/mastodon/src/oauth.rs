//! OAuth2 with a Mastodon instance (docs: methods/apps, methods/oauth).
//!
//! Every instance is its own authorization server, and a client must be
//! registered with each one (`POST /api/v1/apps`) before it can send anyone
//! to `/oauth/authorize`. Plaza knows nothing of per-instance clients: it
//! calls `oauth_authorize_url` with the new channel's id and configuration
//! and no credentials, then `oauth_exchange` for the same channel id. So the
//! plugin registers a client the first time a channel starts connecting,
//! keeps `client_id` and `client_secret` in the channel's kv store (private
//! to this plugin and channel), and reads them back to exchange the code
//! and, later, to refresh.
//!
//! Mastodon supports PKCE (`S256`) since 4.3; older instances ignore the
//! challenge and still authenticate the client by its secret.

use plaza_sdk::http::{Request, encode_component};
use plaza_sdk::{PluginError, Tokens, kv};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api::mastodon_error;
use crate::config::Config;

/// Scopes asked for: the granular ones covering what the plugin calls
/// (docs: "OAuth scopes").
pub const SCOPES: &str = "read:accounts read:statuses read:notifications write:statuses \
                          write:media write:blocks write:mutes write:reports";

/// The kv key of the registered client.
const CLIENT_KEY: &str = "oauth_client";

/// The name the client is registered under, shown to people on the
/// instance's consent page and in their authorized apps.
const CLIENT_NAME: &str = "Plaza";

/// A client registered with the instance for this channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    /// The instance the client belongs to.
    pub instance: String,
    /// The redirect URI it was registered with; the code exchange must repeat it.
    pub redirect_uri: String,
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
}

#[derive(Debug, Deserialize)]
struct RegisteredApp {
    client_id: String,
    client_secret: String,
}

/// The channel's client for `redirect_uri`, registering one with the
/// instance first when there is none yet (or it was for another instance or
/// redirect URI).
pub fn client_for(config: &Config, redirect_uri: &str) -> Result<Client, PluginError> {
    if let Some(client) = kv::get_json::<Client>(CLIENT_KEY)?
        && client.instance == config.instance
        && client.redirect_uri == redirect_uri
    {
        return Ok(client);
    }
    let body = json!({
        "client_name": CLIENT_NAME,
        "redirect_uris": redirect_uri,
        "scopes": SCOPES,
    });
    let response = Request::post(config.url("/api/v1/apps"))
        .header("Accept", "application/json")
        .json(&body)?
        .send()?;
    if !response.is_success() {
        return Err(mastodon_error(&response));
    }
    let app: RegisteredApp = response.json()?;
    let client = Client {
        instance: config.instance.clone(),
        redirect_uri: redirect_uri.to_owned(),
        client_id: app.client_id,
        client_secret: app.client_secret,
    };
    kv::set_json(CLIENT_KEY, &client)?;
    Ok(client)
}

/// The client registered when the connection started; without one the
/// connection cannot be finished and must be started again.
pub fn stored_client(config: &Config) -> Result<Client, PluginError> {
    kv::get_json::<Client>(CLIENT_KEY)?
        .filter(|client| client.instance == config.instance)
        .ok_or_else(|| {
            PluginError::Invalid(
                "no OAuth client is registered with this instance for the channel; \
                 start connecting again"
                    .into(),
            )
        })
}

/// The consent page URL (authorization code with PKCE `S256`).
pub fn authorize_url(
    config: &Config,
    client: &Client,
    state: &str,
    pkce_challenge: &str,
) -> String {
    let query = [
        ("response_type", "code"),
        ("client_id", client.client_id.as_str()),
        ("redirect_uri", client.redirect_uri.as_str()),
        ("scope", SCOPES),
        ("state", state),
        ("code_challenge", pkce_challenge),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", encode_component(value)))
    .collect::<Vec<_>>()
    .join("&");
    format!("{}?{query}", config.url("/oauth/authorize"))
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u32>,
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /oauth/token` with the client's credentials and `fields`. An
/// `invalid_grant` (RFC 6749 §5.2: the code or refresh token is invalid,
/// expired or revoked) means the account must connect again; an
/// `invalid_client` that the client must be registered again.
pub fn token(
    config: &Config,
    client: &Client,
    fields: &[(&str, &str)],
) -> Result<Tokens, PluginError> {
    let mut form = vec![
        ("client_id", client.client_id.as_str()),
        ("client_secret", client.client_secret.as_str()),
    ];
    form.extend_from_slice(fields);
    let response = Request::post(config.url("/oauth/token"))
        .header("Accept", "application/json")
        .form(&form)
        .send()?;
    if matches!(response.status, 400 | 401) {
        let text = response.text();
        if text.contains("invalid_client") {
            // The instance forgot the client: the next connection registers anew.
            kv::delete(CLIENT_KEY);
        }
        if text.contains("invalid_grant") || text.contains("invalid_client") {
            return Err(PluginError::Unauthorized(
                "the instance refused the authorization (invalid grant or client); \
                 connect the account again"
                    .into(),
            ));
        }
    }
    if !response.is_success() {
        return Err(mastodon_error(&response));
    }
    let answer: TokenAnswer = response.json()?;
    Ok(Tokens {
        access: answer.access_token,
        refresh: answer.refresh_token,
        expires_in: answer.expires_in,
        scope: answer.scope,
    })
}
