//! Connecting a channel through the platform's OAuth2 authorization-code
//! flow with PKCE: `start` answers the URL to send the person to; the
//! frontend that receives the redirect posts `code` and `state` back to
//! `callback`, and Plaza exchanges the code through the plugin.

use actix_web::http::header;
use actix_web::{HttpResponse, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::auth::sealing;
use crate::auth::tokens;
use crate::db;
use crate::db::channels::ChannelAuthorizationRow;
use crate::domain::ids::{ChannelId, WorkspaceId};
use crate::domain::roles::Permission;
use crate::domain::text::Name;
use crate::error::{ApiError, ApiResult};
use crate::http::channels::{
    Channel, NewChannel, check_config, enabled_plugin, identify, insert_channel,
};
use crate::http::extract::{Json, etag};
use crate::http::problems::WriteProblems;
use crate::plugins::bindings::Capabilities;
use crate::plugins::channels::{self as calls, seal_credentials, verifier_binding};
use crate::state::AppState;

/// How long a started authorization waits for its callback.
pub const AUTHORIZATION_TTL_MINUTES: i64 = 15;

/// An OAuth2 connection to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "plugin_id": "mastodon",
    "config": {"instance": "https://mastodon.social"},
    "redirect_uri": "https://app.example.com/oauth/return"
}))]
pub struct StartOauth {
    /// A plugin that declares OAuth2.
    pub plugin_id: String,
    /// A name for people; defaults to the account's handle.
    pub name: Option<String>,
    /// Channel configuration.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Where the platform sends the person back (your frontend), http(s).
    pub redirect_uri: String,
}

/// Where to send the person.
#[derive(Debug, Serialize, ToSchema)]
pub struct OauthStarted {
    /// Open this in the person's browser.
    pub authorization_url: String,
    /// Comes back with the redirect; post it to the callback with the code.
    pub state: String,
    /// The callback must come before this.
    pub expires_at: DateTime<Utc>,
}

/// What the platform's redirect carried.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"state": "k3…", "code": "Qx…"}))]
pub struct CompleteOauth {
    /// The `state` from the redirect.
    pub state: String,
    /// The `code` from the redirect.
    pub code: String,
}

fn random_b64(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The PKCE S256 challenge of a verifier (RFC 7636).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn check_redirect(raw: &str) -> ApiResult<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| ApiError::invalid_field("redirect_uri", "must be an absolute URL"))?;
    if !matches!(url.scheme(), "https" | "http") || url.fragment().is_some() {
        return Err(ApiError::invalid_field(
            "redirect_uri",
            "must be an http(s) URL without a fragment",
        ));
    }
    Ok(url.to_string())
}

/// Start connecting a channel through OAuth2 (authorization code + PKCE).
#[utoipa::path(
    tag = "channels",
    operation_id = "start_channel_oauth",
    request_body = StartOauth,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 200, description = "Send the person to `authorization_url`", body = OauthStarted),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/oauth/start")]
pub async fn start_channel_oauth(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<StartOauth>,
) -> ApiResult<web::Json<OauthStarted>> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ChannelsManage)
        .await?;
    let body = body.0;
    let name = body
        .name
        .as_deref()
        .map(|n| Name::parse(n).map_err(|m| ApiError::invalid_field("name", m)))
        .transpose()?;
    let redirect_uri = check_redirect(&body.redirect_uri)?;
    let plugin = enabled_plugin(&state, &body.plugin_id)?;
    if !plugin.manifest.can(Capabilities::OAUTH2) {
        return Err(ApiError::invalid_field(
            "plugin_id",
            "this plugin does not connect through OAuth2",
        ));
    }
    check_config(&state, &plugin, &body.config).await?;
    let channel_id = ChannelId::new().to_string();
    let oauth_state = random_b64(32);
    let verifier = random_b64(48);
    let url = state
        .plugins
        .oauth_authorize_url(
            &plugin,
            calls::context(&channel_id, body.config.clone(), Default::default()),
            oauth_state.clone(),
            pkce_challenge(&verifier),
            redirect_uri.clone(),
        )
        .await
        .map_err(|err| ApiError::platform(&err))?;
    let state_hash = tokens::digest(&oauth_state);
    let now = db::now();
    let expires = now + Duration::minutes(AUTHORIZATION_TTL_MINUTES);
    let row = ChannelAuthorizationRow {
        pkce_verifier: sealing::seal(
            &state.keys,
            verifier_binding(&state_hash),
            verifier.as_bytes(),
        ),
        state_hash,
        workspace_id: access.workspace_id.to_string(),
        channel_id,
        plugin_id: plugin.manifest.id.clone(),
        name: name.map(Name::into_string).unwrap_or_default(),
        config: body.config.to_string(),
        redirect_uri,
        created_by: access.user_id.to_string(),
        expires_at: expires,
        created_at: now,
    };
    state
        .db
        .write(move |conn| {
            ChannelAuthorizationRow::purge_expired(conn, now)?;
            row.insert(conn)?;
            Ok::<_, ApiError>(())
        })
        .await?;
    Ok(web::Json(OauthStarted {
        authorization_url: url,
        state: oauth_state,
        expires_at: crate::http::views::utc(expires),
    }))
}

/// Finish an OAuth2 connection: Plaza exchanges the code (with the PKCE
/// verifier it kept) through the plugin, checks the account and stores the
/// tokens sealed. A `state` works once.
#[utoipa::path(
    tag = "channels",
    operation_id = "complete_channel_oauth",
    request_body = CompleteOauth,
    params(("workspace_id" = WorkspaceId, Path, description = "Workspace id")),
    responses(
        (status = 201, description = "Connected", body = Channel,
         headers(("Location" = String, description = "The channel"))),
        (status = 502, description = "The plugin failed", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The platform is down or rate-limiting", body = crate::error::Problem, content_type = "application/problem+json"),
        WriteProblems,
    )
)]
#[post("/workspaces/{workspace_id}/channels/oauth/callback")]
pub async fn complete_channel_oauth(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<WorkspaceId>,
    body: Json<CompleteOauth>,
) -> ApiResult<HttpResponse> {
    let access = principal
        .access(&state, path.into_inner(), Permission::ChannelsManage)
        .await?;
    let body = body.0;
    let state_hash = tokens::digest(body.state.trim());
    let ws = access.workspace_id.to_string();
    let pending = {
        let (ws, hash) = (ws.clone(), state_hash.clone());
        state
            .db
            .write(move |conn| {
                ChannelAuthorizationRow::take(conn, &ws, &hash).map_err(ApiError::from)
            })
            .await?
    };
    let Some(pending) = pending.filter(|p| p.expires_at > db::now()) else {
        return Err(ApiError::invalid_field(
            "state",
            "is unknown, used or expired; start again",
        ));
    };
    let verifier = sealing::open(
        &state.keys,
        verifier_binding(&state_hash),
        &pending.pkce_verifier,
    )
    .map_err(|err| ApiError::internal(anyhow::anyhow!("authorization verifier: {err}")))?;
    let verifier = String::from_utf8(verifier).map_err(ApiError::internal)?;
    let plugin = enabled_plugin(&state, &pending.plugin_id)?;
    let config: serde_json::Value =
        serde_json::from_str(&pending.config).map_err(ApiError::internal)?;
    let tokens = state
        .plugins
        .oauth_exchange(
            &plugin,
            calls::context(&pending.channel_id, config.clone(), Default::default()),
            body.code,
            verifier,
            pending.redirect_uri.clone(),
        )
        .await
        .map_err(|err| ApiError::platform(&err))?;
    let credentials = calls::token_credentials(&tokens, None);
    let author = identify(&state, &plugin, &pending.channel_id, &config, &credentials).await?;
    let (sealed, kid) = seal_credentials(&state.keys, &pending.channel_id, &credentials)?;
    let row = NewChannel {
        id: pending.channel_id.clone(),
        workspace_id: ws.clone(),
        created_by: access.user_id.to_string(),
        plugin_id: pending.plugin_id,
        name: Some(pending.name).filter(|n| !n.is_empty()),
        config: pending.config,
        sealed: Some((sealed, kid)),
        token_expires_at: calls::expiry(db::now(), &tokens),
    }
    .into_row(author);
    let row = state
        .db
        .write(move |conn| insert_channel(conn, &row).map(|()| row))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/workspaces/{ws}/channels/{}", row.id),
        ))
        .insert_header((header::ETAG, etag(row.version)))
        .json(Channel::from_row(row)?))
}
