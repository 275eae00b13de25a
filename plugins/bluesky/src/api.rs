//! XRPC as this plugin speaks it: an app-password session kept in the kv
//! store, renewed when the platform says it expired, and what XRPC errors
//! mean for Plaza.
//!
//! | method | use |
//! | --- | --- |
//! | `com.atproto.server.createSession` | sign in with `identifier` + `app_password` |
//! | `com.atproto.server.refreshSession` | new tokens from the refresh token |
//! | `com.atproto.server.getSession` | is the session still good? |
//! | `com.atproto.repo.putRecord` (`swapRecord: null`) | create a post under a chosen key, only if the key is free |
//! | `com.atproto.repo.createRecord`, `getRecord`, `deleteRecord` | records |
//! | `com.atproto.repo.uploadBlob` | images |
//! | `com.atproto.identity.resolveHandle` | mentions |
//! | `app.bsky.*` | views served by the AppView (through the PDS) |
//!
//! Access tokens live minutes, refresh tokens weeks. Signing in is rate
//! limited hard (30 per 5 minutes per account on bsky.social), so the
//! session is kept and renewed, never made per call.

use plaza_sdk::http::{Request, Response, retry_after_secs};
use plaza_sdk::{Channel, PluginError, clock, credentials, kv, log};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use crate::config::Config;

/// The credential holding the handle, DID or email the account signs in with.
pub const IDENTIFIER: &str = "identifier";
/// The credential holding an app password (Settings → Privacy and security
/// → App passwords).
pub const APP_PASSWORD: &str = "app_password";

/// Where the session is kept in the kv store.
const SESSION_KEY: &str = "session";

/// A signed-in session, as kept in the kv store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The account's DID: the repository posts go to.
    pub did: String,
    /// The account's handle when the session was made.
    pub handle: String,
    /// Short-lived token for every call.
    #[serde(rename = "accessJwt")]
    pub access_jwt: String,
    /// Longer-lived token to get new ones.
    #[serde(rename = "refreshJwt")]
    pub refresh_jwt: String,
    /// A fingerprint of the credentials it was made with: other
    /// credentials (another account, a new app password) need a new one.
    #[serde(default)]
    pub credentials: String,
}

/// An XRPC error body: `{"error": "Name", "message": "…"}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    message: String,
}

/// The XRPC error name of an unsuccessful response, if it has one.
pub fn error_name(response: &Response) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(&response.body)
        .ok()
        .map(|body| body.error)
        .filter(|name| !name.is_empty())
}

/// A client for one channel: its configuration and its session.
#[derive(Debug)]
pub struct Api {
    config: Config,
    identifier: String,
    password: String,
    fingerprint: String,
    session: Session,
}

impl Api {
    /// A signed-in client for the channel: the kept session when there is
    /// one for these credentials, else a new one. Missing credentials are
    /// `Unauthorized`.
    pub fn connect(channel: &Channel) -> Result<Self, PluginError> {
        let config = Config::parse(&channel.config)?;
        let identifier = credentials::require(IDENTIFIER)?.trim().to_owned();
        let password = credentials::require(APP_PASSWORD)?;
        let fingerprint = fingerprint(&identifier, &password);
        let kept = kv::get_json::<Session>(SESSION_KEY)
            .unwrap_or(None)
            .filter(|session| session.credentials == fingerprint);
        let session = match kept {
            Some(session) => session,
            None => create_session(&config, &identifier, &password, &fingerprint)?,
        };
        Ok(Self {
            config,
            identifier,
            password,
            fingerprint,
            session,
        })
    }

    /// The signed-in account's DID.
    pub fn did(&self) -> &str {
        &self.session.did
    }

    /// The signed-in account's handle.
    pub fn handle(&self) -> &str {
        &self.session.handle
    }

    /// The channel configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `GET /xrpc/{nsid}` with query parameters.
    pub fn get(&mut self, nsid: &str, query: &[(&str, &str)]) -> Result<Response, PluginError> {
        let mut request = Request::get(self.config.xrpc(nsid));
        for (name, value) in query {
            request = request.query(name, value);
        }
        self.send(&request)
    }

    /// `POST /xrpc/{nsid}` with a JSON body.
    pub fn post(&mut self, nsid: &str, body: &Value) -> Result<Response, PluginError> {
        let request = Request::post(self.config.xrpc(nsid)).json(body)?;
        self.send(&request)
    }

    /// Sends `request` with the session's access token; once more after
    /// renewing the session if the token expired or was refused. Answers
    /// the response, successful or not: see [`check`].
    pub fn send(&mut self, request: &Request) -> Result<Response, PluginError> {
        let response = authorized(request, &self.session.access_jwt)?;
        if !needs_new_session(&response) {
            return Ok(response);
        }
        self.renew()?;
        authorized(request, &self.session.access_jwt)
    }

    /// New tokens: from the refresh token, or by signing in again when that
    /// is refused too.
    fn renew(&mut self) -> Result<(), PluginError> {
        let response = Request::post(self.config.xrpc("com.atproto.server.refreshSession"))
            .bearer(&self.session.refresh_jwt)
            .header("Accept", "application/json")
            .send()?;
        self.session = if response.is_success() {
            let mut session: Session = response.json()?;
            session.credentials.clone_from(&self.fingerprint);
            kv::set_json(SESSION_KEY, &session)?;
            log::debug("refreshed the Bluesky session");
            session
        } else if needs_new_session(&response) || response.status == 401 {
            log::debug("the refresh token was refused: signing in again");
            create_session(
                &self.config,
                &self.identifier,
                &self.password,
                &self.fingerprint,
            )?
        } else {
            return Err(xrpc_error(&response));
        };
        Ok(())
    }
}

/// `com.atproto.server.createSession` with the app password; the session
/// is kept in the kv store.
fn create_session(
    config: &Config,
    identifier: &str,
    password: &str,
    fingerprint: &str,
) -> Result<Session, PluginError> {
    let response = Request::post(config.xrpc("com.atproto.server.createSession"))
        .header("Accept", "application/json")
        .json(&json!({ "identifier": identifier, "password": password }))?
        .send()?;
    if !response.is_success() {
        return Err(match xrpc_error(&response) {
            // Wrong identifier or password is a 401 `AuthenticationRequired`;
            // every refusal here means the account must be connected again.
            PluginError::Invalid(reason) => PluginError::Unauthorized(reason),
            other => other,
        });
    }
    let mut session: Session = response.json()?;
    session.credentials = fingerprint.to_owned();
    kv::set_json(SESSION_KEY, &session)?;
    log::debug("signed in to Bluesky");
    Ok(session)
}

/// What identifies a pair of credentials in the kv store without keeping
/// the password there: a SHA-256 of both, hex.
pub fn fingerprint(identifier: &str, password: &str) -> String {
    let digest = Sha256::digest(format!("{identifier}\n{password}").as_bytes());
    digest.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn authorized(request: &Request, token: &str) -> Result<Response, PluginError> {
    let response = request
        .clone()
        .bearer(token)
        .header("Accept", "application/json")
        .send()?;
    if let Some(remaining) = response.header("ratelimit-remaining")
        && remaining.trim() == "0"
    {
        log::warn(format!(
            "Bluesky rate limit reached for {} (resets at {})",
            request.url(),
            response.header("ratelimit-reset").unwrap_or("?")
        ));
    }
    Ok(response)
}

/// Whether the platform refused the token in a way a new session fixes:
/// `ExpiredToken` (the access token's minutes are up) or `InvalidToken`.
fn needs_new_session(response: &Response) -> bool {
    !response.is_success()
        && matches!(
            error_name(response).as_deref(),
            Some("ExpiredToken" | "InvalidToken")
        )
}

/// The response itself when 2xx, else the [`PluginError`] it means.
pub fn check(response: Response) -> Result<Response, PluginError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(xrpc_error(&response))
    }
}

/// What an XRPC error response means for Plaza. The body is
/// `{"error": "Name", "message": "…"}` (atproto spec "HTTP API (XRPC)");
/// the name decides, the HTTP status is the fallback.
///
/// | error | `PluginError` |
/// | --- | --- |
/// | 429, `RateLimitExceeded` | `RateLimited`: seconds until `ratelimit-reset` (Unix seconds), else `Retry-After` |
/// | `ExpiredToken`, `InvalidToken`, `AuthenticationRequired`, `AuthMissing`, `AuthFactorTokenRequired`, `AccountTakedown`, `AccountDeactivated`, 401, 403 | `Unauthorized`: connect the account again |
/// | `RecordNotFound`, `NotFound`, `HandleNotFound`, `ProfileNotFound`, `RepoNotFound`, `BlobNotFound`, 404 | `NotFound` |
/// | `MethodNotImplemented`, 501 | `Unsupported`: the service does not offer it |
/// | `UpstreamFailure`, `UpstreamTimeout`, `NotEnoughResources`, `InternalServerError`, 5xx | `Transient` |
/// | other 4xx (`InvalidRequest`, `BlockedActor`, …) | `Invalid` with the platform's message |
pub fn xrpc_error(response: &Response) -> PluginError {
    let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
    let message: String = if body.message.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        body.message.chars().take(300).collect()
    };
    let reason = if body.error.is_empty() {
        message
    } else {
        format!("{}: {message}", body.error)
    };
    match (body.error.as_str(), response.status) {
        ("RateLimitExceeded", _) | (_, 429) => PluginError::RateLimited(rate_limit_wait(response)),
        (
            "ExpiredToken"
            | "InvalidToken"
            | "AuthenticationRequired"
            | "AuthMissing"
            | "AuthFactorTokenRequired"
            | "AccountTakedown"
            | "AccountDeactivated",
            _,
        )
        | (_, 401 | 403) => PluginError::Unauthorized(reason),
        (
            "RecordNotFound" | "NotFound" | "HandleNotFound" | "ProfileNotFound" | "RepoNotFound"
            | "BlobNotFound",
            _,
        )
        | (_, 404 | 410) => PluginError::NotFound,
        ("MethodNotImplemented", _) | (_, 501) => PluginError::Unsupported,
        (
            "UpstreamFailure" | "UpstreamTimeout" | "NotEnoughResources" | "InternalServerError",
            _,
        ) => PluginError::Transient(reason),
        (_, 400..=499) => PluginError::Invalid(reason),
        (_, status) => PluginError::Transient(format!("HTTP {status}: {reason}")),
    }
}

/// Seconds until the rate limit resets: `ratelimit-reset` is a Unix time in
/// seconds (Bluesky's "Rate Limits" docs); `Retry-After` where a proxy set
/// it. The longer of the two wins.
pub fn rate_limit_wait(response: &Response) -> Option<u32> {
    let now_ms = clock::now_ms();
    let from_reset = response
        .header("ratelimit-reset")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(|reset| u32::try_from(reset.saturating_sub(now_ms / 1000)).unwrap_or(u32::MAX));
    let from_retry_after = response
        .header("retry-after")
        .and_then(|value| retry_after_secs(value, now_ms));
    from_reset.max(from_retry_after)
}
