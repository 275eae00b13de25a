//! Calling a plugin for a stored channel: opening its sealed credentials,
//! refreshing OAuth2 tokens before they expire, and recording when the
//! platform stops accepting them.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};

use super::bindings::Tokens;
use super::error::{CallError, PluginFault};
use super::registry::LoadedPlugin;
use super::runtime::CallContext;
use crate::activity;
use crate::auth::KeyRing;
use crate::auth::sealing::{self, Binding};
use crate::db::channels::{ChannelChanges, ChannelRow};
use crate::domain::activity::EventType;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Tokens this close to expiry are refreshed before a call.
pub const REFRESH_MARGIN_SECS: i64 = 300;

/// What sealed channel credentials are bound to.
pub fn credentials_binding(channel_id: &str) -> Binding<'_> {
    Binding {
        kind: "channel-credentials",
        row: channel_id,
    }
}

/// What a pending OAuth2 authorization's sealed PKCE verifier is bound to.
pub fn verifier_binding(state_hash: &str) -> Binding<'_> {
    Binding {
        kind: "oauth-verifier",
        row: state_hash,
    }
}

/// Seals a channel's credentials for its row.
pub fn seal_credentials(
    ring: &KeyRing,
    channel_id: &str,
    credentials: &HashMap<String, String>,
) -> ApiResult<(String, String)> {
    let plaintext = serde_json::to_vec(credentials).map_err(ApiError::internal)?;
    let sealed = sealing::seal(ring, credentials_binding(channel_id), &plaintext);
    Ok((sealed, ring.active_encryption().kid.clone()))
}

/// Opens a channel's credentials.
pub fn open_credentials(ring: &KeyRing, row: &ChannelRow) -> ApiResult<HashMap<String, String>> {
    let Some(sealed) = &row.credentials else {
        return Ok(HashMap::new());
    };
    let plaintext = sealing::open(ring, credentials_binding(&row.id), sealed)
        .map_err(|err| ApiError::internal(anyhow::anyhow!("channel {}: {err}", row.id)))?;
    serde_json::from_slice(&plaintext).map_err(ApiError::internal)
}

/// The call context for a configuration and credentials.
pub fn context(
    channel_id: &str,
    config: serde_json::Value,
    credentials: HashMap<String, String>,
) -> CallContext {
    CallContext {
        channel_id: Some(channel_id.to_owned()),
        config,
        credentials,
        media: None,
    }
}

/// The credentials OAuth2 tokens become; an old refresh token is kept when
/// the platform did not send a new one.
pub fn token_credentials(
    tokens: &Tokens,
    previous: Option<&HashMap<String, String>>,
) -> HashMap<String, String> {
    let mut credentials = HashMap::new();
    credentials.insert("access_token".to_owned(), tokens.access.clone());
    let refresh = tokens
        .refresh
        .clone()
        .or_else(|| previous.and_then(|p| p.get("refresh_token").cloned()));
    if let Some(refresh) = refresh {
        credentials.insert("refresh_token".to_owned(), refresh);
    }
    if let Some(scope) = &tokens.scope {
        credentials.insert("scope".to_owned(), scope.clone());
    }
    credentials
}

/// When tokens that live `expires_in` seconds from `now` expire.
pub fn expiry(now: NaiveDateTime, tokens: &Tokens) -> Option<NaiveDateTime> {
    tokens
        .expires_in
        .map(|secs| now + Duration::seconds(i64::from(secs)))
}

/// The plugin serving a channel, if loaded and enabled.
pub fn plugin_for(state: &AppState, row: &ChannelRow) -> ApiResult<Arc<LoadedPlugin>> {
    state
        .plugins
        .get(&row.plugin_id)
        .filter(|p| p.enabled())
        .ok_or_else(|| ApiError::Platform {
            status: actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            code: "plugin_unavailable",
            detail: format!("the {} plugin is not loaded or is disabled", row.plugin_id),
            retry_after: None,
        })
}

/// The context to call the plugin with for a stored channel, refreshing its
/// OAuth2 tokens first when they are about to expire. Answers the channel
/// as it is after any refresh.
pub async fn fresh_context(
    state: &AppState,
    plugin: &LoadedPlugin,
    row: ChannelRow,
) -> ApiResult<(CallContext, ChannelRow)> {
    let config: serde_json::Value =
        serde_json::from_str(&row.config).map_err(ApiError::internal)?;
    let credentials = open_credentials(&state.keys, &row)?;
    let now = crate::db::now();
    let expiring = row
        .token_expires_at
        .is_some_and(|at| at - Duration::seconds(REFRESH_MARGIN_SECS) <= now);
    if !expiring || !credentials.contains_key("refresh_token") {
        return Ok((context(&row.id, config, credentials), row));
    }
    let refreshed = state
        .plugins
        .oauth_refresh(
            plugin,
            context(&row.id, config.clone(), credentials.clone()),
        )
        .await;
    match refreshed {
        Ok(tokens) => {
            let fresh = token_credentials(&tokens, Some(&credentials));
            let (sealed, kid) = seal_credentials(&state.keys, &row.id, &fresh)?;
            let changes = ChannelChanges {
                credentials: Some(Some(sealed)),
                credentials_key_id: Some(Some(kid)),
                token_expires_at: Some(expiry(now, &tokens)),
                status: (row.status == "needs_reconnect").then(|| "connected".to_owned()),
                ..ChannelChanges::default()
            };
            let row = save(state, &row, changes).await?;
            Ok((context(&row.id, config, fresh), row))
        }
        Err(err) => {
            note_failure(state, &row, &err).await?;
            Err(ApiError::platform(&err))
        }
    }
}

/// Records what a failed call says about the channel's health: rejected
/// credentials mean the account must reconnect.
pub async fn note_failure(state: &AppState, row: &ChannelRow, err: &CallError) -> ApiResult<()> {
    if let CallError::Plugin(PluginFault::Unauthorized(reason)) = err {
        let changes = ChannelChanges {
            status: Some("needs_reconnect".to_owned()),
            status_reason: Some(Some(reason.chars().take(500).collect())),
            ..ChannelChanges::default()
        };
        save(state, row, changes).await?;
    }
    Ok(())
}

async fn save(
    state: &AppState,
    row: &ChannelRow,
    changes: ChannelChanges,
) -> ApiResult<ChannelRow> {
    let (ws, id) = (row.workspace_id.clone(), row.id.clone());
    let before = row.status.clone();
    state
        .db
        .write(move |conn| {
            let row = ChannelRow::update(conn, &ws, &id, &changes, None)?
                .ok_or(ApiError::NotFound("channel"))?;
            record_status_change(conn, &before, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await
}

/// Reports a channel's change of health on the activity log (inside the
/// caller's transaction); nothing when its status stayed.
pub fn record_status_change(
    conn: &mut crate::db::DbConn,
    before: &str,
    after: &ChannelRow,
) -> ApiResult<()> {
    let event = match (before, after.status.as_str()) {
        (was, now) if was == now => return Ok(()),
        (_, "needs_reconnect") => EventType::ChannelNeedsReconnect,
        (_, "paused") => EventType::ChannelPaused,
        ("paused", _) => EventType::ChannelResumed,
        (_, "connected") => EventType::ChannelConnected,
        _ => return Ok(()),
    };
    let data = serde_json::json!({
        "channel_id": after.id,
        "plugin_id": after.plugin_id,
        "status": after.status,
        "previous_status": before,
        "reason": after.status_reason,
    });
    activity::record(conn, &after.workspace_id, event, Some(&after.id), &data)?;
    Ok(())
}

/// How many sealed secrets a key rotation re-sealed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    /// Channel credentials.
    pub channels: usize,
    /// Pending OAuth2 verifiers.
    pub authorizations: usize,
    /// Webhook endpoints' signing secrets.
    pub webhooks: usize,
}

/// Re-seals every channel's credentials, every pending OAuth2 verifier and
/// every webhook signing secret that is not yet under the ring's active key.
pub fn reseal_all(conn: &mut crate::db::DbConn, ring: &KeyRing) -> anyhow::Result<Resealed> {
    use crate::db::channels::ChannelAuthorizationRow;
    let active = ring.active_encryption().kid.clone();
    let mut done = Resealed::default();
    let mut after = String::new();
    loop {
        let page = ChannelRow::with_credentials(conn, &after, 200)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for row in page {
            let Some(sealed) = &row.credentials else {
                continue;
            };
            if sealing::key_id(sealed) == Some(active.as_str()) {
                continue;
            }
            let plaintext = sealing::open(ring, credentials_binding(&row.id), sealed)
                .map_err(|err| anyhow::anyhow!("channel {}: {err}", row.id))?;
            let changes = ChannelChanges {
                credentials: Some(Some(sealing::seal(
                    ring,
                    credentials_binding(&row.id),
                    &plaintext,
                ))),
                credentials_key_id: Some(Some(active.clone())),
                ..ChannelChanges::default()
            };
            ChannelRow::update(conn, &row.workspace_id, &row.id, &changes, None)?;
            done.channels += 1;
        }
    }
    for row in ChannelAuthorizationRow::all(conn)? {
        if sealing::key_id(&row.pkce_verifier) == Some(active.as_str()) {
            continue;
        }
        let binding = verifier_binding(&row.state_hash);
        let plaintext = sealing::open(ring, binding, &row.pkce_verifier)
            .map_err(|err| anyhow::anyhow!("authorization: {err}"))?;
        ChannelAuthorizationRow::reseal(
            conn,
            &row.state_hash,
            &sealing::seal(ring, binding, &plaintext),
        )?;
        done.authorizations += 1;
    }
    done.webhooks = crate::webhooks::reseal_all(conn, ring)?;
    Ok(done)
}
